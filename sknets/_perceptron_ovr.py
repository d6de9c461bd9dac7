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

from ._perceptron_epoch import SGDRule, WeightState, encode_problems, fit_problems
from ._sgd_draws import validation_split_and_seeds

__all__ = ["OneVsRestFit", "fit_one_vs_rest"]


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


def fit_one_vs_rest(X, y, classes, *, coef=None, intercept=None, sample_weight=None,
                    class_weight=None, penalty=None, alpha=0.0001, l1_ratio=0.15,
                    fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, eta0=1.0,
                    random_state=0, early_stopping=False, validation_fraction=0.1,
                    n_iter_no_change=5, engine="auto", on_epoch=None):
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
    on_epoch : callable, default=None
        Passed to :func:`sknets._perceptron_epoch.fit_problems`.

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
    classes = np.asarray(classes)
    n_problems = 1 if len(classes) == 2 else len(classes)
    expanded = compute_class_weight(class_weight, classes=classes, y=y)
    sw = (np.ones(X.shape[0]) if sample_weight is None
          else np.asarray(sample_weight, dtype=np.float64))
    mask, seeds = validation_split_and_seeds(
        y, sw, n_problems, random_state=random_state, early_stopping=early_stopping,
        validation_fraction=validation_fraction)
    problems = encode_problems(X, y, classes, expanded, sw, mask, seeds)
    if coef is None:
        coef = np.zeros((n_problems, X.shape[1]), dtype=X.dtype)
    if intercept is None:
        intercept = np.zeros(n_problems)
    state = WeightState(np.asarray(coef, dtype=X.dtype), intercept, X.shape[0])
    rule = SGDRule(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, eta0=eta0,
                   fit_intercept=fit_intercept, shuffle=shuffle)
    n_iter = fit_problems(problems, state, rule, max_iter=max_iter, tol=tol,
                          n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                          engine=engine, on_epoch=on_epoch)
    b = state.intercept if n_problems == 1 else state.intercept.astype(X.dtype)
    return OneVsRestFit(coef=state.coef(), intercept=b, n_iter=int(n_iter.max()),
                        n_iter_per_problem=n_iter)
