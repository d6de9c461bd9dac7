"""The NumPy reference engine of :mod:`sknets._perceptron_epoch` (with an L1
penalty; without one, :mod:`sknets._perceptron_lookahead` runs the same
statements up to each update at once).

At each step every active one-vs-rest problem takes the next sample of its
own order, and the step runs for all of them at once: the problems' weights
are the rows of one matrix, each multiplied with its own sample. The
statements are those of scikit-learn's ``_plain_sgd`` for the perceptron, in
its order and floating types: sums of products are ``np.bincount`` with
weights (a left-to-right sum in float64 per problem, as scikit-learn's loops
add), values scikit-learn keeps in the input's type are rounded to it where
it rounds them. The compiled engine (:mod:`sknets._perceptron_numba`) runs
the same statements and is tested against this one.
"""

import numpy as np
import scipy.sparse as sp

_F64 = np.float64


def _f64(a):
    return a.astype(_F64, copy=False)


class _Rows:
    """The stored entries of one sample per problem: ``owner`` (which of the
    ``a`` stepping problems), ``cols`` and ``vals`` (flat, in storage order)."""

    def __init__(self, X, idx, dense_owner):
        if sp.issparse(X):
            starts, stops = X.indptr[idx], X.indptr[idx + 1]
            lens = stops - starts
            self.owner = np.repeat(np.arange(idx.shape[0]), lens)
            offsets = np.arange(self.owner.shape[0]) - np.repeat(np.cumsum(lens) - lens, lens)
            pos = np.repeat(starts, lens) + offsets
            self.cols, self.vals = X.indices[pos], X.data[pos]
            self.dense = False
        else:
            self.x = X[idx]
            self.owner = dense_owner
            self.dense = True


def _row_sums(owner, values, n):
    """Left-to-right float64 sums of ``values`` per owner (scikit-learn's loops)."""
    return np.bincount(owner, weights=values, minlength=n)


def epoch_numpy(problems, state, rule, active, result, start, stop):
    """Training samples ``start:stop`` of the active problems (see
    ``run_chunk``), in place."""
    P, S = problems, state
    dtype = S.w.dtype
    ctype = dtype.type
    in_type = (lambda v: v) if dtype == _F64 else (lambda v: _f64(v.astype(dtype)))
    problems_on = np.flatnonzero(active)
    if problems_on.size == 0:
        return
    # step t: problem j reads sample order[t, j]; per sample, its target and its
    # update if it is a mistake, -eta * dloss * (class_weight * sample_weight)
    order = S.train_orders[problems_on, start:stop].T
    a = problems_on.size
    Y = P.Y[problems_on[None, :], order]
    y64 = _f64(Y)
    weight = np.where(Y > 0.0, P.pos_weight[problems_on], P.neg_weight[problems_on])
    eta = float(rule.eta0)
    update_if_wrong = (-eta * -y64) * _f64(weight * P.sample_weight[order])
    dense_owner = np.repeat(np.arange(a), S.w.shape[1])

    W, Q = S.w[problems_on], S.q[problems_on]
    ws, sq, l1n = S.wscale[problems_on], S.sq_norm[problems_on], S.l1_norm[problems_on]
    b, u = S.intercept[problems_on], S.u[problems_on]
    objective, sumloss = result.objective[problems_on], result.sumloss[problems_on]
    penalty, alpha = rule.penalty_type, float(rule.alpha)
    l1_ratio = rule.effective_l1_ratio
    decay = ctype(max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha)))
    l1_step = l1_ratio * eta * alpha
    threshold = 1e-9 if dtype == _F64 else 1e-6
    intercept_decay = P.intercept_decay

    for t in range(order.shape[0]):
        x = _Rows(P.X, order[t], dense_owner)
        # p = w.dot(x) + intercept
        if x.dense:
            inner = _row_sums(x.owner, (W * x.x).ravel(), a)
        else:
            inner = _row_sums(x.owner, W[x.owner, x.cols] * x.vals, a)
        z = (in_type(inner * ws) + b) * y64[t]
        mistake = z <= 0.0
        loss = np.maximum(0.0 - z, 0.0)   # 0 - z on a mistake, else 0
        sumloss += loss
        if penalty > 0:   # the objective: loss, then the penalty of the tracked norms
            objective += loss
            norm = in_type(np.sqrt(sq))
            objective += alpha * ((1.0 - l1_ratio) * 0.5 * norm ** 2
                                  + l1_ratio * in_type(l1n))
        if penalty >= 2:   # WeightVector.scale
            ws = ws * _F64(decay)
            sq = sq * _F64(decay * decay)
            l1n = l1n * abs(_F64(decay))
            small = ws < threshold
            if small.any():   # reset_wscale: w *= wscale in its type
                W[small] = W[small] * ws[small, None].astype(dtype)
                ws[small] = 1.0
        if mistake.any():
            update = np.where(mistake, update_if_wrong[t], 0.0)
            changed = update != 0.0
            if changed.any():   # WeightVector.add, then the intercept
                _add(W, x, changed, update, ws, sq, l1n, a, dtype, penalty > 0)
                if rule.fit_intercept:
                    b = np.where(changed, b + update * intercept_decay, b)
        if penalty in (1, 3):   # l1penalty
            u = u + l1_step
            _l1_step(W, Q, x, u, ws, dtype)
    if penalty == 0:
        objective = sumloss   # the same additions

    S.w[problems_on], S.q[problems_on] = W, Q
    S.wscale[problems_on], S.sq_norm[problems_on], S.l1_norm[problems_on] = ws, sq, l1n
    S.intercept[problems_on], S.u[problems_on] = b, u
    result.objective[problems_on] = objective
    result.sumloss[problems_on] = sumloss
    result.finite[problems_on] = np.isfinite(W).all(axis=1) & np.isfinite(b)


def _add(W, x, changed, update, ws, sq, l1n, a, dtype, norms):
    """``w += x * (c / wscale)`` for the problems with an update, then (if
    ``norms``: only a penalty reads them) their norms from the sample's
    entries (``WeightVector.add``); in place."""
    c = update.astype(dtype)
    ws = ws.astype(dtype)   # add() rounds wscale to the floating type
    step = _f64(c / ws)
    if x.dense:
        rows = np.flatnonzero(changed)
        new = (_f64(W[rows]) + _f64(x.x[rows]) * step[rows, None]).astype(dtype)
        W[rows] = new
        if not norms:
            return
        owner = x.owner[:rows.size * W.shape[1]]
        l2acc = _row_sums(owner, (new * new).ravel(), rows.size)
        l1acc = _row_sums(owner, _f64(np.abs(new)).ravel(), rows.size)
    else:
        sel = changed[x.owner]
        owner, cols = x.owner[sel], x.cols[sel]
        new = (_f64(W[owner, cols]) + _f64(x.vals[sel]) * step[owner]).astype(dtype)
        W[owner, cols] = new
        if not norms:
            return
        rows = np.flatnonzero(changed)
        l2acc = _row_sums(owner, new * new, a)[rows]
        l1acc = _row_sums(owner, _f64(np.abs(new)), a)[rows]
    wsr = ws[rows]
    sq[rows] = l2acc * _f64(wsr * wsr)
    l1n[rows] = l1acc * _f64(wsr)


def _l1_step(W, Q, x, u, ws, dtype):
    """Tsuruoka et al.'s cumulative L1 step on the sample's entries
    (``l1penalty``: all features for dense input); in place."""
    if x.dense:
        z, q = _f64(W), _f64(Q)
        scale, uu = ws[:, None], u[:, None]
    else:
        z, q = _f64(W[x.owner, x.cols]), _f64(Q[x.owner, x.cols])
        scale, uu = ws[x.owner], u[x.owner]
    signed = scale * z
    down = z - ((uu + q) / scale)
    up = z + ((uu - q) / scale)
    new = np.where(signed > 0.0, np.where(down > 0.0, down, 0.0),
                   np.where(signed < 0.0, np.where(up < 0.0, up, 0.0), z)).astype(dtype)
    q_new = (q + scale * (_f64(new) - z)).astype(dtype)
    if x.dense:
        W[...] = new
        Q[...] = q_new
    else:
        W[x.owner, x.cols] = new
        Q[x.owner, x.cols] = q_new
