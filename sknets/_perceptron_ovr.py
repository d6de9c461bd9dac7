"""One ``fit``/``partial_fit`` call of scikit-learn's ``Perceptron``, from
validated arrays.

:func:`fit_one_vs_rest` does what ``BaseSGDClassifier._partial_fit`` does
after validating its input: the class weights, the draws (the validation
split and one shuffling seed per one-vs-rest problem,
:func:`sknets._sgd_draws.validation_split_and_seeds`), the problems and a
fresh weight vector, then the epochs of :mod:`sknets._perceptron_epoch`
until every problem has stopped. The estimator's trainer calls it once per
``fit`` (``max_iter`` epochs) or ``partial_fit`` (one epoch); so do the
parity tests and ``benchmarks/bench_perceptron.py``.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot

from ._perceptron_epoch import SGDRule, WeightState, begin_epoch, encode_problems, run_chunk
from ._sgd_draws import validation_split_and_seeds
from .exceptions import DivergenceError

__all__ = ["OneVsRestFit", "StoppingRule", "fit_one_vs_rest", "fit_problems",
           "setup_problems", "validation_scores"]


@dataclass
class OneVsRestFit:
    """What one call leaves: scikit-learn's fitted attributes.

    Attributes
    ----------
    coef : ndarray of shape (n_problems, n_features), X's floating type
    intercept : ndarray of shape (n_problems,)
        float64 for two classes, X's floating type for more (as scikit-learn
        stores them).
    n_iter : int
        Epochs run: the maximum over the problems (``n_iter_``).
    n_iter_per_problem : ndarray of shape (n_problems,)
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    n_iter_per_problem: np.ndarray


def setup_problems(X, y, classes, *, sample_weight=None, class_weight=None, random_state=0,
                   early_stopping=False, validation_fraction=0.1):
    """The one-vs-rest problems of one call, as ``_partial_fit`` sets them up:
    the expanded class weights (``compute_class_weight`` on this ``y``), the
    held-out rows and one shuffling seed per problem, drawn from
    ``random_state`` as scikit-learn draws them, the targets and weights.

    Parameters are those of :func:`fit_one_vs_rest`.

    Returns
    -------
    Problems
    """
    classes = np.asarray(classes)
    n_problems = 1 if len(classes) == 2 else len(classes)
    expanded = compute_class_weight(class_weight, classes=classes, y=y)
    sw = (np.ones(X.shape[0]) if sample_weight is None
          else np.asarray(sample_weight, dtype=np.float64))
    mask, seeds = validation_split_and_seeds(
        y, sw, n_problems, random_state=random_state, early_stopping=early_stopping,
        validation_fraction=validation_fraction)
    return encode_problems(X, y, classes, expanded, sw, mask, seeds)


def fit_one_vs_rest(X, y, classes, *, coef=None, intercept=None, sample_weight=None,
                    class_weight=None, penalty=None, alpha=0.0001, l1_ratio=0.15,
                    fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, eta0=1.0,
                    random_state=0, early_stopping=False, validation_fraction=0.1,
                    n_iter_no_change=5, engine="auto", n_jobs=None, chunk_rows=None,
                    on_chunk=None, on_epoch=None):
    """Train the one-vs-rest perceptrons for up to ``max_iter`` epochs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or CSR matrix, float32 or float64
        Validated input (the computation's floating type).
    y : ndarray of shape (n_samples,)
        Labels, all in ``classes``.
    classes : ndarray of shape (n_classes,)
        Sorted labels, at least two; two classes make one problem
        (``classes[1]`` positive), more make one per class.
    coef : ndarray of shape (n_problems, n_features), default=None
        Initial weights (zeros by default).
    intercept : ndarray of shape (n_problems,), default=None
        Initial intercepts (zeros by default).
    sample_weight : ndarray of shape (n_samples,), default=None
    class_weight : dict, "balanced" or None, default=None
        As the estimator's parameter (``compute_class_weight`` on this ``y``).
    penalty, alpha, l1_ratio, fit_intercept, tol, shuffle, eta0, random_state, \
early_stopping, validation_fraction, n_iter_no_change
        The estimator's parameters (see ``sklearn.linear_model.Perceptron``).
    max_iter : int, default=1000
        Epochs at most (1 for ``partial_fit``).
    engine : {"auto", "numba", "numpy"}, default="auto"
        See :mod:`sknets._perceptron_epoch`.
    n_jobs : int, default=None
        Threads running the problems side by side (numba engine).
    chunk_rows, on_chunk, on_epoch
        Passed to :func:`fit_problems`.

    Returns
    -------
    OneVsRestFit

    Raises
    ------
    ValueError
        From the validation split (all held-out weights zero, an empty split).
    sknets.exceptions.DivergenceError
        When the weights become non-finite.
    """
    problems = setup_problems(X, y, classes, sample_weight=sample_weight,
                              class_weight=class_weight, random_state=random_state,
                              early_stopping=early_stopping,
                              validation_fraction=validation_fraction)
    n_problems = problems.Y.shape[0]
    if coef is None:
        coef = np.zeros((n_problems, X.shape[1]), dtype=X.dtype)
    if intercept is None:
        intercept = np.zeros(n_problems)
    state = WeightState(np.asarray(coef, dtype=X.dtype), intercept, X.shape[0])
    rule = SGDRule(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, eta0=eta0,
                   fit_intercept=fit_intercept, shuffle=shuffle)
    n_iter = fit_problems(problems, state, rule, max_iter=max_iter, tol=tol,
                          n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                          engine=engine, n_jobs=n_jobs, chunk_rows=chunk_rows,
                          on_chunk=on_chunk, on_epoch=on_epoch)
    b = state.intercept if n_problems == 1 else state.intercept.astype(X.dtype)
    return OneVsRestFit(coef=state.coef(), intercept=b, n_iter=int(n_iter.max()),
                        n_iter_per_problem=n_iter)


def validation_scores(problems, state):
    """Each problem's accuracy on the held-out rows, as scikit-learn's early
    stopping scores it: a binary classifier with the stored weights ``w``
    (without ``wscale``, as ``_plain_sgd`` passes them) and the intercept,
    weighted by the held-out samples' weights.

    Returns
    -------
    scores : ndarray of shape (n_problems,)
    """
    mask = problems.validation_mask
    X_val = problems.X[mask]
    sw_val = problems.sample_weight[mask]
    signs = np.array([-1.0, 1.0], dtype=problems.dtype)
    scores = np.empty(problems.Y.shape[0])
    for k in range(scores.shape[0]):
        decision = (safe_sparse_dot(X_val, state.w[k].reshape(1, -1).T, dense_output=True)
                    + np.atleast_1d(state.intercept[k]))
        predicted = signs[(decision.reshape(-1) > 0).astype(int)]
        scores[k] = float(np.average(problems.Y[k, mask] == predicted, weights=sw_val))
    return scores


class StoppingRule:
    """Each problem's stopping rule, as ``_plain_sgd`` applies it after an epoch.

    Without early stopping the value is the epoch's objective over the
    number of training rows, which must fall below the best by ``tol``;
    with it, the validation score, which must rise above the best by
    ``tol``. A problem stops after ``n_iter_no_change`` epochs in a row
    without; ``tol=None`` never stops one.

    Attributes
    ----------
    active : ndarray of shape (n_problems,), dtype bool
    n_iter : ndarray of shape (n_problems,), dtype int
        Epochs each problem has run.
    """

    def __init__(self, n_problems, tol, n_iter_no_change, early_stopping):
        self.tol = -np.inf if tol is None else float(tol)
        self.n_iter_no_change = int(n_iter_no_change)
        self.early_stopping = bool(early_stopping)
        self.best = np.full(n_problems, -np.inf if early_stopping else np.inf)
        self.no_improvement = np.zeros(n_problems, dtype=int)
        self.active = np.ones(n_problems, dtype=bool)
        self.n_iter = np.zeros(n_problems, dtype=int)

    def update(self, epoch, values):
        """Record epoch ``epoch`` (0-based) of the active problems; ``values``
        has one entry per problem (those of inactive problems are ignored)."""
        on = self.active
        values = np.asarray(values, dtype=np.float64)
        self.n_iter[on] = epoch + 1
        checking = self.tol > -np.inf
        if self.early_stopping:
            worse = checking & (values < self.best + self.tol)
            better = values > self.best
        else:
            worse = checking & (values > self.best - self.tol)
            better = values < self.best
        self.no_improvement = np.where(
            on, np.where(worse, self.no_improvement + 1, 0), self.no_improvement)
        self.best = np.where(on & better, values, self.best)
        self.active = on & (self.no_improvement < self.n_iter_no_change)


def fit_problems(problems, state, rule, *, max_iter, tol, n_iter_no_change, early_stopping,
                 engine="auto", n_jobs=None, chunk_rows=None, on_chunk=None, on_epoch=None):
    """Run up to ``max_iter`` epochs of every problem (one ``_plain_sgd`` call each).

    Parameters
    ----------
    problems : Problems
    state : WeightState
        Updated in place; read the weights with ``state.coef()``.
    rule : SGDRule
    max_iter : int
    tol : float or None
    n_iter_no_change : int
    early_stopping : bool
        Stop on the held-out rows' score (``problems.validation_mask``).
    engine : {"auto", "numba", "numpy"}, default="auto"
    n_jobs : int, default=None
        Threads for the numba engine (see :func:`run_chunk`).
    chunk_rows : int, default=None
        Run each epoch in chunks of this many training samples (None: the
        whole epoch at once); the numbers are the same.
    on_chunk : callable, default=None
        ``on_chunk(epoch, start, stop)`` before each chunk; a true return
        value stops training before it (e.g. Ctrl-C), ``None`` or False
        continues. It may raise to stop at once.
    on_epoch : callable, default=None
        ``on_epoch(epoch, result, values, stopping)`` after each epoch (the
        :class:`EpochResult`, the values the stopping rule saw, the
        :class:`StoppingRule`); a true return value stops training.

    Returns
    -------
    n_iter : ndarray of shape (n_problems,), dtype int
        Epochs each problem ran (scikit-learn's ``n_iter_`` is the maximum).

    Raises
    ------
    sknets.exceptions.DivergenceError
        When a problem's weights or intercept become non-finite (``state``
        then holds the diverged values).
    """
    stopping = StoppingRule(problems.Y.shape[0], tol, n_iter_no_change, early_stopping)
    train_count = problems.train_count
    for epoch in range(max_iter):
        if not stopping.active.any():
            break
        ran = stopping.active.copy()
        result = begin_epoch(problems, state, rule, ran, engine)
        step = chunk_rows or max(train_count, 1)
        for start in range(0, train_count, step):
            stop = min(start + step, train_count)
            if on_chunk is not None and on_chunk(epoch, start, stop):
                return stopping.n_iter
            run_chunk(problems, state, rule, ran, result, start, stop, engine, n_jobs)
        if not result.finite[ran].all():
            raise DivergenceError(
                f"Floating-point under-/overflow occurred at epoch #{epoch + 1}. Scaling "
                "input data with StandardScaler or MinMaxScaler might help.")
        if early_stopping:
            values = validation_scores(problems, state)
        else:
            values = result.objective / train_count
        stopping.update(epoch, values)
        if on_epoch is not None and on_epoch(epoch, result, values, stopping):
            break
    return stopping.n_iter
