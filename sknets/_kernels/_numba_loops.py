"""The compiled CPU kernels' loops, as plain Python for numba to compile.

Nothing here imports numba at compile time of the package: :mod:`._numba`
compiles these functions (lazily, per dtype, cached on disk). Each loop does
the reference's arithmetic (:mod:`._reference`) element by element in the
same order, so results are bit-identical to it; scalars arrive already cast
to the arrays' dtype, so float32 stays float32 throughout. Arrays are
C-contiguous and channels-last; loops index flat views.

``prange`` marks the loop over samples (or elements) that a parallel build
may split between threads (a serial build runs it as ``range``). ``C``,
``KH`` and ``KW`` are the channel count and window size when :mod:`._numba`
compiled a loop for them (the short inner loops then have constant trip
counts, which the compiler unrolls and vectorizes), 0 in a generic build.
"""

import numpy as np

try:   # the loops also run uncompiled (prange is range without numba)
    from numba import prange
except ImportError:  # pragma: no cover - only without numba
    prange = range

#: the channel count and window of a specialized build (0: the arguments')
C = 0
KH = 0
KW = 0


def im2col(x, cols, kh, kw, sh, sw, dh, dw, pt, pl):
    """``cols[s, i, j, (a*kw + b)*c + ch] = xpad[s, i*sh + a*dh, j*sw + b*dw, ch]``
    for ``x`` unpadded ``(n, h, w, c)`` and ``cols`` ``(n, oh, ow, kh*kw*c)``;
    places in the padding read as zero."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    c = C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow, k = cols.shape[1], cols.shape[2], cols.shape[3]
    xf, cf = x.reshape(-1), cols.reshape(-1)
    for s in prange(n):
        for i in range(oh):
            for j in range(ow):
                row = ((s * oh + i) * ow + j) * k
                for a in range(kh):
                    y = i * sh + a * dh - pt
                    for b in range(kw):
                        xx = j * sw + b * dw - pl
                        dst = row + (a * kw + b) * c
                        if 0 <= y < h and 0 <= xx < w:
                            src = ((s * h + y) * w + xx) * c
                            for ch in range(c):
                                cf[dst + ch] = xf[src + ch]
                        else:
                            for ch in range(c):
                                cf[dst + ch] = 0
    return cols


def col2im(dcols, dx, kh, kw, sh, sw, dh, dw, pt, pl):
    """The adjoint of :func:`im2col`, gathered: each place of ``dx`` (unpadded,
    written entirely) sums, from zero and in the order of the kernel offsets
    ``(a, b)``, the entries of ``dcols`` read from it."""
    n, h, w = dx.shape[0], dx.shape[1], dx.shape[2]
    c = C if C else dx.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow, k = dcols.shape[1], dcols.shape[2], dcols.shape[3]
    df, xf = dcols.reshape(-1), dx.reshape(-1)
    for s in prange(n):
        for y in range(h):
            for xx in range(w):
                dst = ((s * h + y) * w + xx) * c
                for ch in range(c):
                    xf[dst + ch] = 0
                for a in range(kh):
                    iy = y + pt - a * dh
                    if iy < 0 or iy % sh != 0 or iy // sh >= oh:
                        continue
                    for b in range(kw):
                        ix = xx + pl - b * dw
                        if ix < 0 or ix % sw != 0 or ix // sw >= ow:
                            continue
                        src = ((s * oh + iy // sh) * ow + ix // sw) * k + (a * kw + b) * c
                        for ch in range(c):
                            xf[dst + ch] += df[src + ch]
    return dx


def add_bias(Y, b):
    """``Y[r, :] += b`` for ``Y`` of shape ``(rows, channels)``."""
    rows = Y.shape[0]
    c = C if C else Y.shape[1]
    yf = Y.reshape(-1)
    for r in prange(rows):
        for ch in range(c):
            yf[r * c + ch] += b[ch]
    return Y


def _max(m, v):
    """``np.maximum(m, v)``: ``m`` unless ``v`` is larger; a NaN wins."""
    return m if (m >= v or m != m) else v


def max_pool(x, Y, kh, kw, sh, sw, relu):
    """Window maxima into ``Y`` ``(n, oh, ow, c)``, over the offsets in order
    as ``np.maximum`` takes them, then ``np.maximum(Y, 0)`` when ``relu``."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    c = C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = Y.shape[1], Y.shape[2]
    xf, yf = x.reshape(-1), Y.reshape(-1)
    for s in prange(n):
        for i in range(oh):
            for j in range(ow):
                dst = ((s * oh + i) * ow + j) * c
                src = ((s * h + i * sh) * w + j * sw) * c
                for ch in range(c):
                    yf[dst + ch] = xf[src + ch]
                for a in range(kh):
                    for b in range(kw):
                        if a or b:
                            src = ((s * h + i * sh + a) * w + j * sw + b) * c
                            for ch in range(c):
                                yf[dst + ch] = _max(yf[dst + ch], xf[src + ch])
                if relu:
                    for ch in range(c):
                        yf[dst + ch] = _max(yf[dst + ch], 0)
    return Y


def _window_share(xf, dyf, base, out, w, c, kh, kw, relu, zero, m, share, count):
    """For the window whose first place is at flat index ``base`` of ``xf``,
    each channel's maximum ``m`` and the gradient ``share`` of each place
    holding it, ``dY (* [m > 0]) / ties`` as the reference computes
    (``out``: the window's flat index in ``dyf``; ``count``: scratch)."""
    for ch in range(c):
        m[ch] = xf[base + ch]
        count[ch] = zero
    for a in range(kh):
        for b in range(kw):
            if a or b:
                src = base + (a * w + b) * c
                for ch in range(c):
                    m[ch] = _max(m[ch], xf[src + ch])
    for a in range(kh):
        for b in range(kw):
            src = base + (a * w + b) * c
            for ch in range(c):
                if xf[src + ch] == m[ch]:
                    count[ch] += 1
    for ch in range(c):
        d = dyf[out + ch]
        if relu and not m[ch] > 0:
            d = d * zero   # the ReLU's zero derivative (0, -0 or NaN, as the reference's)
        share[ch] = d / count[ch]


def max_pool_backward_tiled(x, dY, dx, kh, kw, sh, sw, relu, zero, one, covered):
    """Input gradient of :func:`max_pool` for windows that do not overlap
    (``sh >= kh``, ``sw >= kw``), one pass per window: each channel's maximum
    ``m``, its ties, the share ``dY (* [m > 0]) / ties``, then ``hit * share``
    on the window's places (``hit`` 0 or 1), as the reference computes; zero
    elsewhere (``covered``: the windows cover ``dx`` exactly)."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    c = C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = dY.shape[1], dY.shape[2]
    xf, dyf, dxf = x.reshape(-1), dY.reshape(-1), dx.reshape(-1)
    for s in prange(n):
        if not covered:
            dx[s] = 0
        for i in range(oh):
            for j in range(ow):
                base = ((s * h + i * sh) * w + j * sw) * c
                out = ((s * oh + i) * ow + j) * c
                for ch in range(c):
                    m = xf[base + ch]
                    for a in range(kh):
                        for b in range(kw):
                            m = _max(m, xf[base + (a * w + b) * c + ch])
                    ties = zero
                    for a in range(kh):
                        for b in range(kw):
                            ties += one if xf[base + (a * w + b) * c + ch] == m else zero
                    d = dyf[out + ch]
                    if relu:   # the ReLU's derivative, as the reference multiplies it
                        d = d * (one if m > 0 else zero)
                    share = d / ties
                    for a in range(kh):
                        for b in range(kw):
                            k = base + (a * w + b) * c + ch
                            dxf[k] = share * (one if xf[k] == m else zero)
    return dx


def max_pool_backward(x, dY, dx, kh, kw, sh, sw, relu, zero, maxima, shares):
    """Input gradient of :func:`max_pool` for any stride: the windows' maxima
    and shares first, then each place of ``dx`` sums ``hit * share`` over the
    windows reading it, from zero in the order of the offsets (as col2im)."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    c = C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = dY.shape[1], dY.shape[2]
    xf, dyf, dxf = x.reshape(-1), dY.reshape(-1), dx.reshape(-1)
    mf, sf = maxima.reshape(-1), shares.reshape(-1)
    for s in prange(n):
        count = np.empty(c, dtype=dY.dtype)
        for i in range(oh):
            for j in range(ow):
                out = ((s * oh + i) * ow + j) * c
                _window_share(xf, dyf, ((s * h + i * sh) * w + j * sw) * c, out, w, c,
                              kh, kw, relu, zero, mf[out:out + c], sf[out:out + c], count)
        for y in range(h):
            for xx in range(w):
                dst = ((s * h + y) * w + xx) * c
                for ch in range(c):
                    dxf[dst + ch] = 0
                for a in range(kh):
                    iy = y - a
                    if iy < 0 or iy % sh != 0 or iy // sh >= oh:
                        continue
                    for b in range(kw):
                        ix = xx - b
                        if ix < 0 or ix % sw != 0 or ix // sw >= ow:
                            continue
                        win = ((s * oh + iy // sh) * ow + ix // sw) * c
                        for ch in range(c):
                            if xf[dst + ch] == mf[win + ch]:
                                dxf[dst + ch] += sf[win + ch]
                            else:
                                dxf[dst + ch] += sf[win + ch] * zero
    return dx


def adam(p, g, m, v, b1, c1, b2, c2, lr, eps):
    """One Adam step on flat arrays: ``m = m b1 + g c1``, ``v = v b2 + g^2 c2``,
    ``p = p - (m lr) / (sqrt(v) + eps)``, each operation rounded as NumPy's."""
    for k in prange(p.shape[0]):
        mk = m[k] * b1 + g[k] * c1
        vk = v[k] * b2 + (g[k] * g[k]) * c2
        m[k] = mk
        v[k] = vk
        p[k] = p[k] - (mk * lr) / (np.sqrt(vk) + eps)


def momentum(p, g, v, mu, lr, nesterov):
    """One momentum step on flat arrays: ``v = v mu - g lr``, then
    ``p = p + v`` or, with Nesterov's momentum, ``p = p + (v mu - g lr)``."""
    for k in prange(p.shape[0]):
        step = g[k] * lr
        vk = v[k] * mu - step
        v[k] = vk
        if nesterov:
            p[k] = p[k] + (vk * mu - step)
        else:
            p[k] = p[k] + vk
