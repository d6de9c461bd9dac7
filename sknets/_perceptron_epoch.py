"""Perceptron epochs for every one-vs-rest problem, as scikit-learn computes them.

Pure functions on NumPy arrays (dense, or CSR kept sparse) that reproduce
scikit-learn's ``Perceptron``: its plain SGD (``_plain_sgd`` in
``sklearn/linear_model/_sgd_fast.pyx.tp``) with its weight vector
(``sklearn/utils/_weight_vector.pyx.tp``: the weights stored as ``w * wscale``
so that L2 weight decay is one multiplication, the norms kept up to date
incrementally), run for all one-vs-rest problems of
``BaseSGDClassifier._fit_multiclass`` together. Each problem reads the
samples in its own order (its own seed, see
:func:`sknets._sgd_draws.validation_split_and_seeds`), stops on its own
(:class:`sknets._perceptron_ovr.StoppingRule`) and shares the held-out rows
with the others; :mod:`sknets._perceptron_ovr` runs the epochs of a fit.

The arithmetic is scikit-learn's, in its order and in its floating types
(the weights, ``wscale`` and the norms in the input's type, everything else
in float64; sums of products run left to right, as its loops do), so in
float64 the weights equal scikit-learn's to the last bits. It includes
scikit-learn's own conventions: the penalty's term of the objective uses the
norms as the weight vector tracks them (not refreshed by the L1 step); the
validation score of early stopping reads the stored weights without
``wscale``; for sparse input the intercept's updates are damped by 0.01
(``SPARSE_INTERCEPT_DECAY``) and the L1 step touches the sample's stored
features only.

Two engines run an epoch: ``"numpy"``, the reference, with NumPy
operations (with an L1 penalty every active problem steps at once, one
sample each, :mod:`sknets._perceptron_numpy`; without one, each problem runs
up to its next update at once, :mod:`sknets._perceptron_lookahead`); ``"numba"``
(:mod:`sknets._perceptron_numba`, ``pip install "sknets[fast]"``) runs the
same statements as compiled loops, one problem after the other. ``"auto"``
takes numba when it is installed.

References
----------
.. [1] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
   training for L1-regularized log-linear models with cumulative penalty",
   ACL 2009 (the cumulative L1 penalty).
.. [2] L. Bottou, "Stochastic gradient descent tricks", Neural Networks:
   Tricks of the Trade, 2012 (the scaled weight vector).
"""

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs

from ._sgd_draws import sgd_shuffle_permutation

__all__ = ["EpochResult", "Problems", "SGDRule", "WeightState", "begin_epoch",
           "encode_problems", "numba_available", "run_chunk", "run_epoch"]

#: scikit-learn's damping of the intercept's updates for sparse input.
SPARSE_INTERCEPT_DECAY = 0.01
_PENALTY_TYPES = {None: 0, "l1": 1, "l2": 2, "elasticnet": 3}
#: ``WeightVector.scale`` folds ``wscale`` into the weights below these.
_RESET_WSCALE = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-6}


def numba_available():
    """Whether the compiled engine (numba) is installed (numba is optional:
    the NumPy engine runs the same arithmetic). numba is imported on first use."""
    return importlib.util.find_spec("numba") is not None


@dataclass(frozen=True)
class SGDRule:
    """The constants of the per-sample rule (``_plain_sgd``'s arguments).

    Parameters
    ----------
    penalty : {None, "l1", "l2", "elasticnet"}
    alpha : float
    l1_ratio : float
        Used with ``"elasticnet"``; ``"l2"`` means 0 and ``"l1"`` 1.
    eta0 : float
        The constant learning rate.
    fit_intercept : bool
    shuffle : bool
    """

    penalty: object = None
    alpha: float = 0.0001
    l1_ratio: float = 0.15
    eta0: float = 1.0
    fit_intercept: bool = True
    shuffle: bool = True

    @property
    def penalty_type(self):
        return _PENALTY_TYPES[self.penalty]

    @property
    def effective_l1_ratio(self):
        return {"l2": 0.0, "l1": 1.0}.get(self.penalty, float(self.l1_ratio))


@dataclass
class Problems:
    """The one-vs-rest problems' data, in the computation's floating type.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous, or CSR matrix
    Y : ndarray of shape (n_problems, n_samples)
        Each problem's targets in {-1, +1}.
    sample_weight : ndarray of shape (n_samples,)
    pos_weight, neg_weight : ndarray of shape (n_problems,)
        Class weights of each problem's positive and negative samples.
    validation_mask : ndarray of shape (n_samples,), dtype bool
        The held-out rows, shared by every problem.
    seeds : ndarray of shape (n_problems,), dtype int64
        Each problem's shuffling seed.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    pos_weight: np.ndarray
    neg_weight: np.ndarray
    validation_mask: np.ndarray
    seeds: np.ndarray

    @property
    def dtype(self):
        return self.Y.dtype

    @property
    def intercept_decay(self):
        return SPARSE_INTERCEPT_DECAY if sp.issparse(self.X) else 1.0

    @property
    def train_count(self):
        return int(self.Y.shape[1] - np.sum(self.validation_mask))


def encode_problems(X, y, classes, class_weight, sample_weight, validation_mask, seeds):
    """Build :class:`Problems` as ``fit_binary``/``_fit_multiclass`` set them up.

    Two classes: one problem, ``classes[1]`` positive, weighted
    ``class_weight[1]`` and ``class_weight[0]``. More: problem ``k`` is
    ``classes[k]`` against the rest, weighted ``class_weight[k]`` and 1.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features), float32 or float64
    y : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,)
    class_weight : ndarray of shape (n_classes,)
        The expanded class weights (``compute_class_weight``).
    sample_weight : ndarray of shape (n_samples,)
    validation_mask : ndarray of shape (n_samples,), dtype bool
    seeds : ndarray of shape (n_problems,)

    Returns
    -------
    Problems
    """
    dtype = X.dtype
    if len(classes) == 2:
        positives = [classes[1]]
        pos_w, neg_w = [class_weight[1]], [class_weight[0]]
    else:
        positives = list(classes)
        pos_w, neg_w = list(class_weight), [1.0] * len(classes)
    Y = np.where(np.asarray(y)[None, :] == np.asarray(positives)[:, None], 1.0, -1.0)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    else:
        X = np.ascontiguousarray(X)
    return Problems(X=X, Y=np.ascontiguousarray(Y, dtype=dtype),
                    sample_weight=np.ascontiguousarray(sample_weight, dtype=dtype),
                    pos_weight=np.asarray(pos_w, dtype=dtype),
                    neg_weight=np.asarray(neg_w, dtype=dtype),
                    validation_mask=np.ascontiguousarray(validation_mask, dtype=bool),
                    seeds=np.asarray(seeds, dtype=np.int64))


class WeightState:
    """scikit-learn's ``WeightVector`` for each problem, its intercept, the
    cumulative L1 state and its sample order, for one call of the rule.

    A fresh state starts each ``fit``/``partial_fit`` call, as scikit-learn
    starts a new weight vector and dataset in each ``_plain_sgd`` call.

    Parameters
    ----------
    coef : ndarray of shape (n_problems, n_features)
        Initial weights (copied, in their floating type).
    intercept : ndarray of shape (n_problems,)
    n_samples : int

    Attributes
    ----------
    orders : ndarray of shape (n_problems, n_samples)
        Each problem's sample order (scikit-learn's dataset index).
    train_orders : ndarray of shape (n_problems, n_train)
        This epoch's order without the held-out rows (:func:`begin_epoch`).
    """

    def __init__(self, coef, intercept, n_samples):
        self.w = np.array(coef, order="C", copy=True)
        n_problems = self.w.shape[0]
        # scikit-learn keeps wscale and the norms in float64 for both types
        self.wscale = np.ones(n_problems)
        self.sq_norm = np.array([np.dot(r, r) for r in self.w], dtype=np.float64)
        self.l1_norm = np.array([np.sum(np.abs(r)) for r in self.w], dtype=np.float64)
        self.intercept = np.array(intercept, dtype=np.float64).reshape(n_problems)
        self.q = np.zeros_like(self.w)
        self.u = np.zeros(n_problems)
        self.orders = np.tile(np.arange(n_samples, dtype=np.int64), (n_problems, 1))
        self.train_orders = None
        self._perms = None

    def coef(self):
        """The weights ``w * wscale`` (``WeightVector.reset_wscale``); folds
        ``wscale`` into ``w``. Returns a copy of shape (n_problems, n_features)."""
        self.w *= self.wscale[:, None].astype(self.w.dtype)
        self.wscale[:] = 1.0
        return self.w.copy()

    def permutations(self, seeds):
        """Each problem's per-epoch permutation (the NumPy engine's shuffle)."""
        if self._perms is None:
            n = self.orders.shape[1]
            self._perms = np.stack([sgd_shuffle_permutation(n, s) for s in seeds])
        return self._perms


@dataclass
class EpochResult:
    """Per-problem sums of one epoch (entries of problems that did not run are 0).

    Attributes
    ----------
    objective : ndarray of shape (n_problems,)
        Summed per-sample loss plus penalty (``objective_sum``).
    sumloss : ndarray of shape (n_problems,)
        Summed per-sample perceptron loss ``max(0, -y z)``.
    finite : ndarray of shape (n_problems,), dtype bool
        Whether the problem's weights and intercept are finite.
    """

    objective: np.ndarray
    sumloss: np.ndarray
    finite: np.ndarray

    @classmethod
    def zeros(cls, n_problems):
        return cls(np.zeros(n_problems), np.zeros(n_problems), np.ones(n_problems, dtype=bool))


def _engine(engine):
    if engine == "auto":
        return "numba" if numba_available() else "numpy"
    if engine == "numba" and not numba_available():
        raise ImportError('The numba engine needs numba: pip install "sknets[fast]".')
    if engine not in ("numba", "numpy"):
        raise ValueError(f'engine must be "auto", "numba" or "numpy", got {engine!r}.')
    return engine


def begin_epoch(problems, state, rule, active, engine="auto"):
    """Start an epoch: each active problem shuffles its order (with
    ``rule.shuffle``: ``SequentialDataset.shuffle(seed)``, the same
    permutation each epoch) and ``state.train_orders`` drops the held-out
    rows. Returns the epoch's :class:`EpochResult`, zeros, to pass to
    :func:`run_chunk`."""
    active = np.asarray(active, dtype=bool)
    if rule.shuffle:
        if _engine(engine) == "numba":
            from ._perceptron_numba import shuffle_order

            for k in np.flatnonzero(active):
                shuffle_order(state.orders[k], problems.seeds[k])
        else:
            perms = state.permutations(problems.seeds)
            for k in np.flatnonzero(active):
                state.orders[k] = state.orders[k][perms[k]]
    mask = problems.validation_mask
    state.train_orders = np.ascontiguousarray(np.stack([o[~mask[o]] for o in state.orders]))
    return EpochResult.zeros(problems.Y.shape[0])


def run_epoch(problems, state, rule, active, engine="auto", n_jobs=None):
    """One epoch of every active problem (:func:`begin_epoch`, then
    :func:`run_chunk` over all the training rows); returns its
    :class:`EpochResult`."""
    result = begin_epoch(problems, state, rule, active, engine)
    run_chunk(problems, state, rule, active, result, 0, problems.train_count, engine, n_jobs)
    return result


def run_chunk(problems, state, rule, active, result, start, stop, engine="auto", n_jobs=None):
    """Training samples ``start`` to ``stop`` of this epoch's order, for every
    active problem, updating ``state`` and adding to ``result`` in place.

    Per sample, as ``_plain_sgd``: loss and objective, L2 decay, the
    perceptron update on a mistake (``p * y <= 0``) and the intercept, the
    cumulative L1 step. An epoch run in chunks gives the same numbers as in
    one go (the sums carry over in ``result``).

    Parameters
    ----------
    problems : Problems
    state : WeightState
        After :func:`begin_epoch`.
    rule : SGDRule
    active : ndarray of shape (n_problems,), dtype bool
        Problems still training; the others are left as they are.
    result : EpochResult
        From :func:`begin_epoch`; ``finite`` is set for the active problems.
    start, stop : int
        Positions in each problem's training order, ``0 <= start <= stop <=
        problems.train_count``.
    engine : {"auto", "numba", "numpy"}, default="auto"
    n_jobs : int, default=None
        Threads running the problems side by side with the numba engine
        (``joblib.effective_n_jobs``: None is 1, -1 every core), as
        scikit-learn's ``n_jobs`` fits its one-vs-rest problems in parallel;
        the results do not depend on it.
    """
    active = np.ascontiguousarray(active, dtype=bool)
    if _engine(engine) == "numpy":
        from ._perceptron_lookahead import chunk_lookahead
        from ._perceptron_numpy import epoch_numpy

        with np.errstate(all="ignore"):   # divergence is checked after the epoch
            if rule.penalty_type in (0, 2):   # no L1 step: up to each update at once
                for k in np.flatnonzero(active):
                    chunk_lookahead(problems, state, rule, k, start, stop, result)
            else:
                epoch_numpy(problems, state, rule, active, result, start, stop)
        return
    from . import _perceptron_numba

    P, X = problems, problems.X

    def run(on):   # the problems of ``on``: disjoint rows of every array written
        common = (P.Y, P.sample_weight, P.pos_weight, P.neg_weight, state.train_orders,
                  int(start), int(stop), on, state.w, state.wscale, state.sq_norm,
                  state.l1_norm, state.intercept, state.q, state.u, rule.penalty_type,
                  float(rule.alpha), rule.effective_l1_ratio, float(rule.eta0),
                  bool(rule.fit_intercept), P.intercept_decay, _RESET_WSCALE[state.w.dtype],
                  result.objective, result.sumloss, result.finite)
        if sp.issparse(X):
            _perceptron_numba.epoch_csr(X.data, X.indices, X.indptr, *common)
        else:
            _perceptron_numba.epoch_dense(X, *common)

    indices = np.flatnonzero(active)
    n_threads = min(effective_n_jobs(n_jobs), indices.size)
    if n_threads <= 1:
        run(active)
        return
    groups = []
    for part in np.array_split(indices, n_threads):
        on = np.zeros_like(active)
        on[part] = True
        groups.append(on)
    with ThreadPoolExecutor(n_threads) as pool:   # the kernel releases the GIL
        list(pool.map(run, groups))
