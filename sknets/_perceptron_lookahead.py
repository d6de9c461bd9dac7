"""The NumPy engine's path without an L1 penalty: the samples up to the next
update at once.

Without the L1 step the stored weights ``w`` change only at an update (a
mistake with a non-zero weight) or when ``wscale`` is folded back into them
(L2 decay, rarely): between two such events every sample of a problem sees
the same ``w``. So for one problem at a time (scikit-learn's own order of
work) a block of the next samples is computed at once: their dot products
(each a left-to-right sum, as scikit-learn's loop adds), ``wscale``, the
norms and the objective's running sums as sequential products and sums
(``np.multiply.accumulate``, ``np.add.accumulate``: the same roundings as
scikit-learn's sample-by-sample updates), up to the first event, which is
then applied as ``_plain_sgd`` applies it. The numbers are those of the
sample-by-sample engines, bit for bit; the Python work is per update, not
per sample.
"""

import numpy as np
import scipy.sparse as sp

_F64 = np.float64
#: samples looked at in one block at most, and at first
_MAX_BLOCK, _FIRST_BLOCK = 4096, 64


def _f64(a):
    return a.astype(_F64, copy=False)


def _dots(X, rows, w, sparse):
    """``X[rows] @ w``, each row's products added left to right in float64."""
    if not sparse:
        return np.add.accumulate(X[rows] * w, axis=1, dtype=_F64)[:, -1]
    starts = X.indptr[rows]
    lens = X.indptr[rows + 1] - starts
    owner = np.repeat(np.arange(rows.shape[0]), lens)
    pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(owner.shape[0])
    return np.bincount(owner, weights=w[X.indices[pos]] * X.data[pos], minlength=rows.shape[0])


def _running(first, factor, n):
    """``[first, first * f, (first * f) * f, ...]`` (n + 1 values), multiplied
    one after the other as scikit-learn's loop does."""
    seq = np.empty(n + 1)
    seq[0] = first
    seq[1:] = factor
    return np.multiply.accumulate(seq)


def _sums(first, terms):
    """``first + t0 + t1 + ...`` added left to right (scikit-learn's ``+=``)."""
    return float(np.add.accumulate(np.concatenate(([first], terms)))[-1])


def chunk_lookahead(problems, state, rule, k, start, stop, result):
    """Training samples ``start:stop`` of problem ``k`` (no L1 penalty), in place."""
    P, S = problems, state
    dtype = S.w.dtype
    in_type = (lambda v: v) if dtype == _F64 else (lambda v: _f64(np.asarray(v).astype(dtype)))
    order = S.train_orders[k, start:stop]
    y = P.Y[k, order]
    y64 = _f64(y)
    weight = np.where(y > 0.0, P.pos_weight[k], P.neg_weight[k]) * P.sample_weight[order]
    eta, alpha = float(rule.eta0), float(rule.alpha)
    update_if_wrong = (-eta * -y64) * _f64(weight)
    l2 = rule.penalty_type >= 2
    penalty = rule.penalty_type > 0
    l1_ratio = rule.effective_l1_ratio
    decay = dtype.type(max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha)))
    threshold = 1e-9 if dtype == _F64 else 1e-6
    w = S.w[k]
    sparse = sp.issparse(P.X)   # (validated input has at least one feature)
    ws, sqn, l1n, b = float(S.wscale[k]), float(S.sq_norm[k]), float(S.l1_norm[k]), \
        float(S.intercept[k])
    obj, sl = float(result.objective[k]), float(result.sumloss[k])
    pos, n, block = 0, order.shape[0], _FIRST_BLOCK
    while pos < n:
        m = min(block, n - pos)
        rows = order[pos:pos + m]
        inner = _dots(P.X, rows, w, sparse)
        if l2:
            ws_seq = _running(ws, _F64(decay), m)     # before, then after each scale
            folds = ws_seq[1:] < threshold
            z = (in_type(inner * ws_seq[:m]) + b) * y64[pos:pos + m]
        else:
            z = (in_type(inner * ws) + b) * y64[pos:pos + m]
        changed = (z <= 0.0) & (update_if_wrong[pos:pos + m] != 0.0)
        events = np.flatnonzero(changed | folds if l2 else changed)
        e = int(events[0]) if events.size else m - 1
        loss = np.maximum(0.0 - z[:e + 1], 0.0)
        if penalty:   # the objective adds each sample's loss, then its penalty
            sq_seq = _running(sqn, _F64(decay * decay), e + 1) if l2 else np.full(e + 2, sqn)
            l1_seq = _running(l1n, abs(_F64(decay)), e + 1) if l2 else np.full(e + 2, l1n)
            norm = in_type(np.sqrt(sq_seq[:e + 1]))
            pen = alpha * ((1.0 - l1_ratio) * 0.5 * norm ** 2 + l1_ratio * in_type(l1_seq[:e + 1]))
            obj = _sums(obj, np.column_stack([loss, pen]).ravel())
            sqn, l1n = float(sq_seq[e + 1]), float(l1_seq[e + 1])
        sl = _sums(sl, loss)
        if not penalty:
            obj = sl   # the same additions
        if l2:
            ws = float(ws_seq[e + 1])
        if events.size:
            if l2 and folds[e]:   # reset_wscale: w *= wscale in its type
                w *= dtype.type(ws)
                ws = 1.0
            if changed[e]:
                sqn, l1n, b = _add(w, P.X, rows[e], sparse, update_if_wrong[pos + e], ws,
                                   sqn, l1n, b, penalty, P.intercept_decay, rule.fit_intercept)
            block = max(_FIRST_BLOCK // 4, min(_MAX_BLOCK, 2 * (e + 1)))
        else:
            block = min(_MAX_BLOCK, 2 * block)
        pos += e + 1
    S.wscale[k], S.sq_norm[k], S.l1_norm[k], S.intercept[k] = ws, sqn, l1n, b
    result.objective[k], result.sumloss[k] = obj, sl
    result.finite[k] = bool(np.isfinite(w).all() and np.isfinite(b))


def _add(w, X, row, sparse, update, ws, sqn, l1n, b, norms, intercept_decay, fit_intercept):
    """``WeightVector.add(x, update)`` for sample ``row``, then the intercept;
    ``w`` in place, returns the new ``sq_norm``, ``l1_norm`` and intercept."""
    dtype = w.dtype
    c = dtype.type(update)
    wsf = dtype.type(ws)
    step = _F64(c / wsf)
    if sparse:
        lo, hi = X.indptr[row], X.indptr[row + 1]
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        new = (_f64(w[cols]) + _f64(vals) * step).astype(dtype)
        w[cols] = new
    else:
        new = (_f64(w) + _f64(X[row]) * step).astype(dtype)
        w[:] = new
    if norms:
        owner = np.zeros(new.shape[0], dtype=np.intp)
        sqn = float(np.bincount(owner, weights=new * new, minlength=1)[0]) * _F64(wsf * wsf)
        l1n = float(np.bincount(owner, weights=_f64(np.abs(new)), minlength=1)[0]) * _F64(wsf)
    if fit_intercept:
        b = b + update * intercept_decay
    return sqn, l1n, b
