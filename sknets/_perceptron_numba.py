"""The perceptron's per-sample epochs compiled with numba (optional fast path).

The same arithmetic as the NumPy reference path of
:mod:`sknets._perceptron_epoch`, statement for statement in scikit-learn's
order (``sklearn/linear_model/_sgd_fast.pyx.tp``, ``_plain_sgd``, and
``sklearn/utils/_weight_vector.pyx.tp``), written as plain loops: one
one-vs-rest problem after the other, each in its own sample order, as
scikit-learn runs them. The weights and ``q`` live in arrays of the input's
floating type, so each write rounds as scikit-learn's does in float32;
``wscale``, the norms and the rest are float64, and the values scikit-learn
rounds to the floating type (``c``, ``add``'s local ``wscale``, ``dot``'s
and the norms' results) go through a one-element array of it (``cast``).

Importing this module needs numba (``pip install "sknets[fast]"``);
:mod:`sknets._perceptron_epoch` imports it only when it is installed.
"""

import numba
import numpy as np

_PENALTY_L1, _PENALTY_L2, _PENALTY_ELASTICNET = 1, 2, 3


@numba.njit(cache=True, nogil=True)
def shuffle_order(order, seed):
    """Fisher-Yates shuffle of ``order`` in place, driven by scikit-learn's
    32-bit xorshift generator (``sklearn.utils._random.our_rand_r``) from
    ``seed``, as ``SequentialDataset.shuffle(seed)`` does."""
    n = order.shape[0]
    s = np.int64(seed) & 0xFFFFFFFF
    for i in range(n - 1):
        if s == 0:
            s = 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s % 2147483648) % (n - i)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp


@numba.njit(cache=True, nogil=True)
def _epoch(data, indices, indptr, Y, sample_weight, pos_w, neg_w, train_orders, start,
           stop, active, w, wscale, sq_norm, l1_norm, intercept, q, u, penalty, alpha,
           l1_ratio, eta, fit_intercept, intercept_decay, reset_threshold, objective,
           sumloss, finite):
    """Training samples ``train_orders[k, start:stop]`` of every active problem
    ``k``, adding to its ``objective`` and ``sumloss``. Sample ``i``'s entries are
    ``data[indptr[i]:indptr[i + 1]]``, at features ``indices[...]``; or, when
    ``indices`` and ``indptr`` are None (dense input), all features, ``data``
    being the rows of ``X`` one after the other (numba compiles that case
    apart, without the tests on None). The loop body is ``_plain_sgd``'s
    for the perceptron (hinge loss with threshold 0, constant learning rate) with ``WeightVector``'s
    ``dot``, ``scale``, ``add`` and ``l1penalty`` written in place."""
    n_problems, n_features = w.shape
    cast = np.empty(1, dtype=w.dtype)   # rounds to the floating type
    use_l2 = penalty >= _PENALTY_L2
    use_l1 = penalty == _PENALTY_L1 or penalty == _PENALTY_ELASTICNET
    cast[0] = max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha))
    c_decay = cast[0]
    l1_step = l1_ratio * eta * alpha
    for k in range(n_problems):
        if not active[k]:
            continue
        order = train_orders[k]
        wk, qk = w[k], q[k]
        ws, sqn, l1n = wscale[k], sq_norm[k], l1_norm[k]
        b, uk = intercept[k], u[k]
        obj, sl = objective[k], sumloss[k]
        for pos in range(start, stop):
            i = order[pos]
            if indptr is None:
                at, nnz = i * n_features, n_features
            else:
                at, nnz = indptr[i], indptr[i + 1] - indptr[i]
            # p = w.dot(x) + intercept: a sum in double, times wscale, in the type
            inner = 0.0
            for j in range(nnz):
                idx = j if indices is None else indices[at + j]
                inner += wk[idx] * data[at + j]
            cast[0] = inner * ws
            p = np.float64(cast[0]) + b
            yk = Y[k, i]
            y = np.float64(yk)
            z = p * y
            loss = 0.0 - z if z <= 0.0 else 0.0
            sl += loss
            obj += loss
            if penalty > 0:
                cast[0] = np.sqrt(sqn)   # norm() and l1norm() return the type
                norm = np.float64(cast[0])
                cast[0] = l1n
                obj += alpha * ((1.0 - l1_ratio) * 0.5 * norm ** 2
                                + l1_ratio * np.float64(cast[0]))
            dloss = -y if z <= 0.0 else 0.0
            update = -eta * dloss
            class_weight = pos_w[k] if yk > 0.0 else neg_w[k]
            update *= np.float64(class_weight * sample_weight[i])
            if use_l2:   # scale(c)
                ws = ws * np.float64(c_decay)
                sqn = sqn * np.float64(c_decay * c_decay)
                l1n = l1n * abs(np.float64(c_decay))
                if ws < reset_threshold:   # reset_wscale: w *= wscale in the type
                    cast[0] = ws
                    wsf = cast[0]
                    for j in range(n_features):
                        wk[j] = wk[j] * wsf
                    ws = 1.0
            if update != 0.0:   # add(x, c): c and wscale in the type
                cast[0] = update
                c = cast[0]
                cast[0] = ws
                wsf = cast[0]
                step = np.float64(c / wsf)
                l2acc = 0.0
                l1acc = 0.0
                for j in range(nnz):
                    idx = j if indices is None else indices[at + j]
                    wk[idx] = wk[idx] + np.float64(data[at + j]) * step
                    wj = wk[idx]
                    l2acc += wj * wj
                    l1acc += abs(np.float64(wj))
                sqn = l2acc * np.float64(wsf * wsf)
                l1n = l1acc * np.float64(wsf)
                if fit_intercept:
                    b += update * intercept_decay
            if use_l1:   # l1penalty(w, q, x, u), wscale in double; max(0.0, v) and
                #          min(0.0, v) as Cython's (0.0 unless v is beyond it)
                uk += l1_step
                for j in range(nnz):
                    idx = j if indices is None else indices[at + j]
                    zj = np.float64(wk[idx])
                    if ws * zj > 0.0:
                        v = zj - ((uk + qk[idx]) / ws)
                        wk[idx] = v if v > 0.0 else 0.0
                    elif ws * zj < 0.0:
                        v = zj + ((uk - qk[idx]) / ws)
                        wk[idx] = v if v < 0.0 else 0.0
                    qk[idx] = qk[idx] + ws * (np.float64(wk[idx]) - zj)
        wscale[k], sq_norm[k], l1_norm[k], intercept[k], u[k] = ws, sqn, l1n, b, uk
        objective[k], sumloss[k] = obj, sl
        finite[k] = _finite(wk, b)


@numba.njit(cache=True, nogil=True)
def _finite(wk, b):
    if not np.isfinite(b):
        return False
    for j in range(wk.shape[0]):
        if not np.isfinite(wk[j]):
            return False
    return True


def epoch_dense(X, *args):
    """Samples of every active problem on dense C-contiguous ``X`` (see ``_epoch``)."""
    _epoch(X.reshape(-1), None, None, *args)


def epoch_csr(data, indices, indptr, *args):
    """Samples of every active problem on CSR ``X``, its stored entries only."""
    _epoch(data, indices, indptr, *args)
