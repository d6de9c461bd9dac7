"""The compiled CPU kernels' loops, as plain Python for numba to compile.

:mod:`._numba` compiles these functions (lazily, per dtype, cached on disk);
importing this module does not need numba. Each loop does the reference's
arithmetic (:mod:`._reference`) element by element in the same order, so
results are bit-identical to it; scalars arrive already cast to the arrays'
dtype, so float32 stays float32 throughout. Arrays are C-contiguous and
channels-last.

Written for the compiler: the innermost loops run over the channels of one
place, on 1-D views indexed by the loop variable itself (an index the
compiler can prove non-negative needs no wraparound test, so the loop
vectorizes; computed flat indices were 3x slower); ``C``, ``KH`` and ``KW``
are the channel count and window size when :mod:`._numba` compiled a loop
for them (constant trip counts, unrolled), 0 in a generic build; 2x2 max
pooling, the common case, keeps a window's four values in registers.
``prange`` marks the loop over samples (or elements) that a parallel build
may split between threads (a serial build runs it as ``range``).
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


def _max(m, v):
    """``np.maximum(m, v)``: ``m`` unless ``v`` is larger; a NaN wins."""
    return m if (m >= v or m != m) else v


def max_pool(x, Y, kh, kw, sh, sw, relu):
    """Window maxima into ``Y`` ``(n, oh, ow, c)``, over the offsets in order
    as ``np.maximum`` takes them, then ``np.maximum(Y, 0)`` when ``relu``."""
    n, c = x.shape[0], C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = Y.shape[1], Y.shape[2]
    for s in prange(n):
        for i in range(oh):
            for j in range(ow):
                out = Y[s, i, j]
                if kh == 2 and kw == 2:   # the four values in registers
                    x0, x1 = x[s, i * sh, j * sw], x[s, i * sh, j * sw + 1]
                    x2, x3 = x[s, i * sh + 1, j * sw], x[s, i * sh + 1, j * sw + 1]
                    for ch in range(c):
                        m = _max(_max(_max(x0[ch], x1[ch]), x2[ch]), x3[ch])
                        out[ch] = _max(m, 0) if relu else m
                    continue
                first = x[s, i * sh, j * sw]
                for ch in range(c):
                    out[ch] = first[ch]
                for a in range(kh):
                    for b in range(kw):
                        if a or b:
                            src = x[s, i * sh + a, j * sw + b]
                            for ch in range(c):
                                out[ch] = _max(out[ch], src[ch])
                if relu:
                    for ch in range(c):
                        out[ch] = _max(out[ch], 0)
    return Y


def _window_share(x, dY, s, i, j, kh, kw, sh, sw, relu, zero, one, m, share):
    """Window ``(i, j)``'s maximum ``m`` per channel and the gradient ``share``
    of each place holding it, ``dY (* [m > 0]) / ties``, as the reference
    computes (``share`` first holds the tie count)."""
    c = m.shape[0]
    first = x[s, i * sh, j * sw]
    for ch in range(c):
        m[ch] = first[ch]
        share[ch] = zero
    for a in range(kh):
        for b in range(kw):
            if a or b:
                src = x[s, i * sh + a, j * sw + b]
                for ch in range(c):
                    m[ch] = _max(m[ch], src[ch])
    for a in range(kh):
        for b in range(kw):
            src = x[s, i * sh + a, j * sw + b]
            for ch in range(c):
                share[ch] += one if src[ch] == m[ch] else zero
    grad = dY[s, i, j]
    for ch in range(c):
        d = grad[ch] * (one if m[ch] > 0 else zero) if relu else grad[ch]
        share[ch] = d / share[ch]


def max_pool_backward_tiled(x, dY, dx, kh, kw, sh, sw, relu, zero, one, covered):
    """Input gradient of :func:`max_pool` for windows that do not overlap
    (``sh >= kh``, ``sw >= kw``), one pass per window: each channel's maximum
    ``m``, its ties, the share ``dY (* [m > 0]) / ties``, then ``hit * share``
    on the window's places (``hit`` 0 or 1), as the reference computes; zero
    elsewhere (``covered``: the windows cover ``dx`` exactly)."""
    n, c = x.shape[0], C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = dY.shape[1], dY.shape[2]
    for s in prange(n):
        m = np.empty(c, dtype=x.dtype)
        share = np.empty(c, dtype=dY.dtype)
        if not covered:
            dx[s] = 0
        for i in range(oh):
            for j in range(ow):
                if kh == 2 and kw == 2:   # the four values in registers
                    y, xx = i * sh, j * sw
                    x0, x1, x2, x3 = x[s, y, xx], x[s, y, xx + 1], x[s, y + 1, xx], \
                        x[s, y + 1, xx + 1]
                    o0, o1, o2, o3 = dx[s, y, xx], dx[s, y, xx + 1], dx[s, y + 1, xx], \
                        dx[s, y + 1, xx + 1]
                    grad = dY[s, i, j]
                    for ch in range(c):
                        a0, a1, a2, a3 = x0[ch], x1[ch], x2[ch], x3[ch]
                        mx = _max(_max(_max(a0, a1), a2), a3)
                        h0 = one if a0 == mx else zero
                        h1 = one if a1 == mx else zero
                        h2 = one if a2 == mx else zero
                        h3 = one if a3 == mx else zero
                        d = grad[ch] * (one if mx > 0 else zero) if relu else grad[ch]
                        q = d / (((h0 + h1) + h2) + h3)
                        o0[ch], o1[ch], o2[ch], o3[ch] = q * h0, q * h1, q * h2, q * h3
                    continue
                _window_share(x, dY, s, i, j, kh, kw, sh, sw, relu, zero, one, m, share)
                for a in range(kh):
                    for b in range(kw):
                        src, out = x[s, i * sh + a, j * sw + b], dx[s, i * sh + a, j * sw + b]
                        for ch in range(c):
                            out[ch] = share[ch] * (one if src[ch] == m[ch] else zero)
    return dx


def max_pool_backward(x, dY, dx, kh, kw, sh, sw, relu, zero, one, maxima, shares):
    """Input gradient of :func:`max_pool` for any stride: the windows' maxima
    and shares first, then each place of ``dx`` sums ``hit * share`` over the
    windows reading it, from zero in the order of the offsets (as col2im)."""
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    c = C if C else x.shape[3]
    kh, kw = (KH, KW) if KH else (kh, kw)
    oh, ow = dY.shape[1], dY.shape[2]
    for s in prange(n):
        for i in range(oh):
            for j in range(ow):
                _window_share(x, dY, s, i, j, kh, kw, sh, sw, relu, zero, one,
                              maxima[s, i, j], shares[s, i, j])
        for y in range(h):
            for xx in range(w):
                out, src = dx[s, y, xx], x[s, y, xx]
                for ch in range(c):
                    out[ch] = 0
                for a in range(kh):
                    iy = y - a
                    if iy < 0 or iy % sh != 0 or iy // sh >= oh:
                        continue
                    for b in range(kw):
                        ix = xx - b
                        if ix < 0 or ix % sw != 0 or ix // sw >= ow:
                            continue
                        m, q = maxima[s, iy // sh, ix // sw], shares[s, iy // sh, ix // sw]
                        for ch in range(c):
                            out[ch] += q[ch] * (one if src[ch] == m[ch] else zero)
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


def adagrad(p, g, h, lr, eps):
    """One AdaGrad step on flat arrays: ``h = h + g g``,
    ``p = p - (g lr) / (sqrt(h) + eps)``, each operation rounded as NumPy's."""
    for k in prange(p.shape[0]):
        hk = h[k] + g[k] * g[k]
        h[k] = hk
        p[k] = p[k] - (g[k] * lr) / (np.sqrt(hk) + eps)


def rmsprop(p, g, h, d, keep, lr, eps):
    """One RMSprop step on flat arrays: ``h = h d + (g keep) g``,
    ``p = p - (g lr) / (sqrt(h) + eps)``, each operation rounded as NumPy's."""
    for k in prange(p.shape[0]):
        hk = h[k] * d + (g[k] * keep) * g[k]
        h[k] = hk
        p[k] = p[k] - (g[k] * lr) / (np.sqrt(hk) + eps)


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


def sum_offsets(parts, dx, kh, kw, dh, dw, pt, pl):
    """col2im of a stride-1 convolution from its per-offset input gradients:
    ``parts[a*kw + b]`` ``(n, oh, ow, c)`` is added, offset after offset (the
    reference's order), at its place in ``dx`` (unpadded, zeroed first); each
    output row lands as one contiguous run. One sample at a time, so its
    ``dx`` stays in cache."""
    n, h, w, c = dx.shape[0], dx.shape[1], dx.shape[2], dx.shape[3]
    oh, ow = parts.shape[2], parts.shape[3]
    for s in prange(n):
        dx[s] = 0
        for a in range(kh):
            for b in range(kw):
                left = b * dw - pl
                j0, j1 = max(0, -left), min(ow, w - left)
                if j1 <= j0:
                    continue
                part = parts[a * kw + b, s]
                for i in range(oh):
                    y = i + a * dh - pt
                    if y < 0 or y >= h:
                        continue
                    src = part[i].reshape(-1)[j0 * c:j1 * c]
                    dst = dx[s, y].reshape(-1)[(j0 + left) * c:(j1 + left) * c]
                    for t in range(dst.shape[0]):
                        dst[t] += src[t]
    return dx
