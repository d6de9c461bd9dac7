"""Rosenblatt's perceptron as a one-layer network.

:class:`PerceptronClassifier` is a drop-in for
:class:`sklearn.linear_model.Perceptron`: the same parameters, defaults,
fitted attributes and methods, plus ``backend`` and ``dtype``. Inside it is a
network of one :class:`~sknets.layers.Dense` layer whose output goes through
Heaviside's step, trained with the perceptron criterion
(:class:`~sknets.losses.PerceptronCriterion`): one output unit per
one-vs-rest problem (one unit for two classes), all problems updated together
from one ``(n_features, n_outputs)`` weight matrix.

Why the perceptron has its own epoch loop
-----------------------------------------
The shared loop (:meth:`sknets._base.BaseNetwork._fit`) reproduces the MLPs'
mini-batch training; scikit-learn's perceptron (its plain SGD) differs in
ways that loop cannot express without changing it for everybody:

- one update per sample, in an order drawn by scikit-learn's own xorshift
  Fisher-Yates shuffle (reproduced here, so ``random_state`` gives the same
  order as scikit-learn's);
- each one-vs-rest problem stops on its own (its own loss history, its own
  validation score), so ``n_iter_`` is the maximum over problems;
- the stopping rule compares the epoch's summed per-sample loss (plus the
  penalty) against the best by ``tol`` with ``>= n_iter_no_change``, and early
  stopping scores each problem on a held-out split without restoring weights;
- penalties are weight decay (L2) and Tsuruoka et al.'s cumulative truncated
  L1, applied at every sample; class weights weigh positive and negative
  samples of each problem differently.

So :meth:`PerceptronClassifier._run_epochs` is a small per-sample loop on top
of the same layer (``Dense.forward``/``backward``) and loss objects; all array
math goes through the backend's array-API namespace ``xp``, the loop over
samples and the per-epoch bookkeeping run on the host.

Deliberate differences from scikit-learn
----------------------------------------
- With ``shuffle=True`` and more than two classes, all one-vs-rest problems
  visit the samples in one shared order (that of scikit-learn's first
  problem), so the problems can be updated together; scikit-learn shuffles
  each problem with its own seed. With ``shuffle=False``, or two classes, the
  updates are the same as scikit-learn's.
- Sparse input is trained exactly like its dense equivalent. scikit-learn
  damps the intercept's updates by 0.01 for sparse input
  (``SPARSE_INTERCEPT_DECAY``) and applies the L1 penalty only to the
  non-zero features of each sample; here both are as for dense input, so
  sparse and dense input give the same model.
- Computation follows the input's floating dtype (``dtype=None``): with
  float64 input the weights match scikit-learn's up to the rounding of the
  dot products; ``dtype="float32"`` forces single precision.
- ``n_jobs`` is accepted for compatibility; the one-vs-rest problems are
  vectorised instead of run in parallel.
- Divergence (non-finite weights) raises
  :class:`~sknets.exceptions.DivergenceError` (a ``ValueError``) with the
  weights restored to those before the diverging epoch.

References
----------
.. [1] F. Rosenblatt, "The perceptron: a probabilistic model for information
   storage and organization in the brain", Psychological Review 65(6), 1958.
.. [2] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer
   2006, section 4.1.7.
.. [3] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
   training for L1-regularized log-linear models with cumulative penalty",
   ACL 2009.
"""

import time
import warnings
from numbers import Integral, Real

import array_api_compat.numpy
import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._base import BaseNetwork
from ._display import EpochTable
from ._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .callbacks import FitTasks, with_callbacks
from .backend import (accepts_cupy, dispatch_backend, host_copy, read_back,
                      returns_input_namespace, take_rows, to_numpy, validation_dtypes)
from .exceptions import DivergenceError
from .layers import Dense
from .losses import PerceptronCriterion
from .network import Sequential

__all__ = ["PerceptronClassifier"]

#: scikit-learn's bound for the seeds it draws (``np.iinfo(np.int32).max``).
_MAX_INT = np.iinfo(np.int32).max

#: rows moved to the backend at a time during an epoch (bounded memory for
#: sparse input, which is densified chunk by chunk).
_CHUNK_ROWS = 4096


def _sgd_shuffle_permutation(n, seed):
    """The permutation scikit-learn's SGD applies to the sample order each epoch.

    ``SequentialDataset.shuffle(seed)`` runs a Fisher-Yates shuffle driven by
    a 32-bit xorshift generator (``sklearn.utils._random.our_rand_r``) seeded
    with the same ``seed`` every epoch, so each epoch applies the same
    permutation to the previous epoch's order: ``order = order[perm]``.

    Parameters
    ----------
    n : int
        Number of samples.
    seed : int
        The ``seed`` scikit-learn passes to its plain SGD.

    Returns
    -------
    perm : ndarray of shape (n,), dtype intp
    """
    ind = list(range(n))
    s = int(seed) & 0xFFFFFFFF
    for i in range(n - 1):
        if s == 0:  # our_rand_r never runs from 0
            s = 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s % 2147483648) % (n - i)
        ind[i], ind[j] = ind[j], ind[i]
    return np.asarray(ind, dtype=np.intp)


class PerceptronClassifier(ClassifierMixin, BaseNetwork):
    """Rosenblatt's perceptron, a one-layer network with a step output.

    A drop-in for :class:`sklearn.linear_model.Perceptron`: a linear model
    ``z = X @ coef_.T + intercept_`` predicting with the sign of ``z``
    (one-vs-rest for more than two classes: the class of the largest ``z``),
    trained one sample at a time with the perceptron rule
    ``w += eta0 * y * x`` (``y`` in {-1, +1}) on every sample it gets wrong,
    that is, stochastic gradient descent on the perceptron criterion
    ``max(0, -y z)``. It converges on linearly separable data (Novikoff's
    theorem) and cannot fit data that is not (e.g. XOR).

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default=None
        Regularization: L2 as weight decay, L1 with Tsuruoka et al.'s
        cumulative truncated penalty, or both (elastic net).

    alpha : float, default=0.0001
        Strength of the penalty (used only with a penalty).

    l1_ratio : float, default=0.15
        Elastic-net mixing: 0 is pure L2, 1 pure L1. Only used with
        ``penalty="elasticnet"``.

    fit_intercept : bool, default=True
        Whether to learn the intercept; if False it stays at its initial
        value (0, or ``intercept_init``).

    max_iter : int, default=1000
        Maximum number of passes over the training data (epochs) in
        :meth:`fit`; :meth:`partial_fit` makes one pass.

    tol : float or None, default=1e-3
        Stopping criterion: a one-vs-rest problem stops when its epoch loss
        (summed per-sample perceptron criterion plus penalty, divided by the
        number of training samples) has not improved on the best by ``tol``
        for ``n_iter_no_change`` epochs. ``None`` runs ``max_iter`` epochs.

    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.

    verbose : int, default=0
        Print one line per epoch (epoch, train loss, validation loss and
        score with early stopping, learning rate, seconds).

    eta0 : float, default=1.0
        Constant by which the updates are multiplied (the learning rate).

    n_jobs : int, default=None
        Accepted for compatibility with scikit-learn; the one-vs-rest problems
        are vectorised rather than fitted in parallel, so it has no effect.

    random_state : int, RandomState instance or None, default=0
        Seed of the shuffling and of the validation split. Draws the same
        sample order as scikit-learn's ``Perceptron`` for the same value.

    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data and
        stop a one-vs-rest problem when its validation accuracy has not
        improved by ``tol`` for ``n_iter_no_change`` epochs (the weights at
        the end are kept, as in scikit-learn).

    validation_fraction : float, default=0.1
        Proportion of training data held out for early stopping, in (0, 1).

    n_iter_no_change : int, default=5
        Number of epochs with no improvement to wait before stopping.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``; ``"balanced"`` uses
        ``n_samples / (n_classes * np.bincount(y))``. In a one-vs-rest problem
        of more than two classes the positive samples get their class's
        weight and the others weight 1 (as in scikit-learn). Multiplies
        ``sample_weight``.

    warm_start : bool, default=False
        Reuse the previous fit's weights as the initial ones in :meth:`fit`.

    backend : {"numpy", "cupy", "auto"} or None, default=None
        Array backend; ``None`` uses ``sknets.get_config()["backend"]``.

    dtype : {"float32", "float64"} or None, default=None
        Floating type of the computation and of the fitted weights. ``None``
        follows the training input, as scikit-learn does: float32 data is
        computed in float32, everything else in float64 (in which the weights
        equal scikit-learn's ``Perceptron``'s). ``"float32"`` or
        ``"float64"`` force one.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    coef_ : ndarray of shape (1, n_features) if n_classes == 2 else (n_classes, n_features)
        Weights of the features (a NumPy copy of the ``Dense`` layer's ``W.T``).

    intercept_ : ndarray of shape (1,) if n_classes == 2 else (n_classes,)
        Constants of the decision function (the ``Dense`` layer's bias).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit (only when X has string column names).

    n_iter_ : int
        Number of epochs run by the last call (for more than two classes, the
        maximum over the one-vs-rest problems).

    t_ : float
        Number of weight updates performed during training, ``n_iter_ *
        n_samples + 1`` after :meth:`fit` (scikit-learn's count).

    stop_reason_ : str
        Why the last call stopped: no improvement, ``max_iter`` reached, or
        a callback (``set_callbacks``) asking to stop.

    history_ : list of dict
        One record per epoch (cumulative over ``warm_start`` and
        ``partial_fit`` calls): ``epoch``, ``train_loss`` (summed over the
        one-vs-rest problems), ``valid_loss`` and ``valid_score`` (classifier
        accuracy on the held-out split, with early stopping),
        ``learning_rate``, ``dur`` (seconds).

    See Also
    --------
    sklearn.linear_model.Perceptron : the scikit-learn counterpart.
    sknets.MLPClassifierScratch : a multi-layer network, for data that is not
        linearly separable.

    Notes
    -----
    The differences from scikit-learn (a shared sample order for the
    one-vs-rest problems when shuffling, sparse input trained as dense) are
    listed in :mod:`sknets.perceptron`.

    References
    ----------
    .. [1] F. Rosenblatt, "The perceptron: a probabilistic model for
       information storage and organization in the brain", Psychological
       Review 65(6), 1958.
    .. [2] A. B. J. Novikoff, "On convergence proofs on perceptrons",
       Symposium on the Mathematical Theory of Automata, 1962.

    Examples
    --------
    >>> from sknets import PerceptronClassifier
    >>> from sknets.datasets import make_logic_gate
    >>> X, y = make_logic_gate("and")
    >>> clf = PerceptronClassifier().fit(X, y)
    >>> clf.predict(X).tolist()
    [0, 0, 0, 1]
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
        "backend": BaseNetwork._parameter_constraints["backend"],
        "dtype": BaseNetwork._parameter_constraints["dtype"],
    }

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, verbose=0, eta0=1.0, n_jobs=None,
                 random_state=0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, backend=None,
                 dtype=None):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.backend = backend
        self.dtype = dtype

    # ------------------------------------------------------------ the network
    def _build_layers(self, input_shape, n_outputs):
        # One unit per one-vs-rest problem; the step output lives in the loss.
        return [Dense(n_outputs)]

    def _make_loss(self, Y):
        return PerceptronCriterion()

    def _check_solver(self):
        return True  # partial_fit is always available

    # ------------------------------------------------------------ validation
    def _validate_input(self, X, y, incremental, reset):
        """Validate ``X, y`` and the labels; returns ``X`` and ``y`` (labels).

        Sets ``classes_`` on the first call; the targets are encoded per
        one-vs-rest problem by :meth:`_encode_targets`.
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=validation_dtypes(X),
                             order="C", accept_large_sparse=False, reset=reset)
        y = to_numpy(y)  # labels are encoded on the host
        check_classification_targets(y)
        return X, y

    def _check_labels(self, y, classes, from_fit):
        if from_fit:
            self.classes_ = np.unique(y)  # fit: the labels of this call define the classes
        else:
            _check_partial_fit_first_call(self, classes)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {self.classes_[0]!r}."
            )
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}; pass every class to the first partial_fit call."
            )

    def _encode_targets(self, y, sample_weight, class_weight):
        """Targets in {-1, +1} and per-problem weights, shape (n_samples, n_outputs).

        Two classes: one problem, ``classes_[1]`` positive; weights
        ``class_weight[1]`` / ``class_weight[0]``. More classes: problem ``k``
        is ``classes_[k]`` against the rest; its positives weigh
        ``class_weight[k]``, its negatives 1 (scikit-learn's convention).
        """
        classes = self.classes_
        sw = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        if len(classes) == 2:
            pos = (y == classes[1])[:, None]
            weights = np.where(pos, class_weight[1], class_weight[0])
        else:
            pos = y[:, None] == classes[None, :]
            weights = np.where(pos, class_weight[None, :], 1.0)
        Y = np.where(pos, 1.0, -1.0)
        return Y, sw[:, None] * weights

    def _decode_targets(self, Y):
        Y = to_numpy(Y)
        if Y.shape[1] == 1:
            return self.classes_[(Y[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(Y, axis=1)]

    # ----------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the perceptron with per-sample updates, up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input must be CSR or is converted to it).
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial weights ((1, n_features) or (n_features,) for two classes);
            zeros by default.
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts ((1,) or a scalar for two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples (multiply each update); multiplied by
            ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On NaN/inf input, invalid hyper-parameters, a single class,
            ``coef_init``/``intercept_init`` of the wrong shape, or divergence
            (:class:`~sknets.exceptions.DivergenceError`).

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When ``max_iter`` epochs ran without meeting the stopping criterion.
        """
        if self.warm_start and self.__sklearn_is_fitted__():
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
            keep_history = True
        else:
            keep_history = False
        self._partial_fit(X, y, self.max_iter, None, sample_weight, coef_init, intercept_init,
                          allocate=True, keep_history=keep_history, from_fit=True)
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning,
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of per-sample perceptron updates on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes across calls; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            If ``classes`` is missing on the first call, ``early_stopping`` is
            True or ``class_weight="balanced"`` on the first call (as in
            scikit-learn), or ``y`` has labels outside ``classes``.
        """
        classes = None if classes is None else to_numpy(classes)   # e.g. a CuPy array
        if not hasattr(self, "classes_"):
            if self.early_stopping:
                raise ValueError("early_stopping should be False with partial_fit")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit. In order "
                    "to use 'balanced' weights, use compute_class_weight('balanced', "
                    "classes=classes, y=y) on a large enough sample of the training "
                    "targets and pass the resulting weights as the class_weight parameter."
                )
        return self._partial_fit(X, y, 1, classes, sample_weight, None, None,
                                 allocate=not self.__sklearn_is_fitted__(), keep_history=True)

    @with_callbacks
    def _partial_fit(self, X, y, max_iter, classes, sample_weight, coef_init, intercept_init,
                     allocate, keep_history, from_fit=False):
        first_call = from_fit or not hasattr(self, "classes_")
        # CuPy inputs without array-API dispatch are validated on the host.
        X, y, sample_weight = host_copy(X), host_copy(y), host_copy(sample_weight)
        X_in, y_in = X, y  # what callbacks see (e.g. ScoringMonitor scores on them)
        X, y = self._validate_input(X, y, incremental=not allocate, reset=first_call)
        self._check_labels(y, classes, from_fit)
        class_weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if sample_weight is not None:
            sample_weight = to_numpy(sample_weight)
        sample_weight = _check_sample_weight(sample_weight, np.empty((X.shape[0], 0)),
                                             dtype=np.float64,
                                             allow_all_zero_weights=self.early_stopping)
        n_samples, n_features = X.shape
        n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        backend = self._select_backend(X)
        # Fitted attributes follow X's namespace under array-API dispatch, else NumPy.
        self._attribute_backend = dispatch_backend(X)
        if allocate:
            self._resolve_dtype(X)
            self._allocate(n_features, n_outputs, backend, coef_init, intercept_init,
                           keep_history)
        else:
            self._place(backend)
        if from_fit or not hasattr(self, "t_"):
            self.t_ = 1.0  # scikit-learn's count starts at 1
        tasks = FitTasks(self, X_in, y_in, sample_weight, max_iter)  # sklearn.callback hooks
        Y, weights = self._encode_targets(y, sample_weight, class_weight)
        validation_mask, seed = self._validation_split_and_seed(y, sample_weight, n_outputs)
        n_iter = self._run_epochs(X, y, Y, weights, sample_weight, validation_mask, seed,
                                  max_iter, backend, tasks)
        self.n_iter_ = n_iter
        self.t_ += n_iter * n_samples
        self._sync_fitted_attributes()
        tasks.end()
        return self

    def _allocate(self, n_features, n_outputs, backend, coef_init, intercept_init,
                  keep_history):
        """Build the one-layer network with zero (or the given) initial weights."""
        dtype = self._compute_dtype()
        W = np.zeros((n_features, n_outputs))
        b = np.zeros(n_outputs)
        if coef_init is not None:
            coef = np.asarray(to_numpy(coef_init), dtype=np.float64)
            expected = (n_outputs, n_features)
            if n_outputs == 1:
                coef = coef.reshape(1, -1) if coef.size == n_features else coef
            if coef.shape != expected:
                raise ValueError(
                    f"coef_init has shape {np.shape(coef_init)} but the data needs "
                    f"{expected} ({n_outputs} one-vs-rest problem(s), {n_features} features)."
                )
            W = coef.T
        if intercept_init is not None:
            intercept = np.asarray(to_numpy(intercept_init), dtype=np.float64)
            if n_outputs == 1 and intercept.shape in ((), (1,)):
                intercept = intercept.reshape(1)
            if intercept.shape != (n_outputs,):
                raise ValueError(
                    f"intercept_init has shape {np.shape(intercept_init)} but the data "
                    f"needs ({n_outputs},)."
                )
            b = intercept
        self._loss = self._make_loss(None)
        # Dense draws Glorot weights when built; the perceptron starts from zeros
        # (or the given weights), so it is built from a throwaway RandomState.
        self._network = Sequential(self._build_layers((n_features,), n_outputs)).build(
            (n_features,), backend, dtype, np.random.RandomState(0))
        dense = self._network.layers[0]
        dense.params["W"] = backend.asarray(np.array(W, dtype=dtype, copy=True))
        dense.params["b"] = backend.asarray(np.array(b, dtype=dtype, copy=True))
        if not keep_history or not hasattr(self, "history_"):
            self.history_ = []

    def _validation_split_and_seed(self, y, sample_weight, n_outputs):
        """The held-out mask and the shuffling seed, drawn as scikit-learn draws them."""
        rng = check_random_state(self.random_state)
        if n_outputs == 1:
            # fit_binary: make_dataset draws its own seed first, then the split,
            # then the shuffling seed.
            rng.randint(1, np.iinfo(np.int32).max)
            mask = self._validation_mask(y, sample_weight)
            return mask, int(rng.randint(_MAX_INT))
        # one-vs-rest: the split, then one seed per problem; the shared order is
        # that of the first problem.
        mask = self._validation_mask(y, sample_weight)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(_MAX_INT, size=n_outputs)
        first = check_random_state(seeds[0])
        first.randint(1, np.iinfo(np.int32).max)
        return mask, int(first.randint(_MAX_INT))

    def _validation_mask(self, y, sample_weight):
        n_samples = y.shape[0]
        mask = np.zeros(n_samples, dtype=bool)
        if not self.early_stopping:
            return mask
        cv = StratifiedShuffleSplit(test_size=self.validation_fraction,
                                    random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros((n_samples, 1)), y))
        if not np.any(sample_weight[idx_val] > 0):
            raise ValueError(
                "The sample weights for validation set are all zero, consider using a"
                " different random state."
            )
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                f"Splitting {n_samples} samples into a train set and a validation set with "
                f"validation_fraction={self.validation_fraction!r} led to an empty set "
                f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either "
                "change validation_fraction, increase number of samples, or disable "
                "early_stopping."
            )
        mask[idx_val] = True
        return mask

    # ------------------------------------------------------------ the loop
    def _run_epochs(self, X, y, Y, weights, sample_weight, validation_mask, seed, max_iter,
                    backend, tasks):
        """Per-sample perceptron updates for up to ``max_iter`` epochs.

        Follows scikit-learn's ``_plain_sgd`` for every one-vs-rest problem at
        once: for each training sample, the logits ``z`` (``Dense.forward``),
        the loss ``max(0, -y z)`` (and penalty) added to the epoch's objective,
        weight decay (L2), the perceptron update on mistakes (``Dense.backward``
        of the criterion's gradient times ``eta0``), then the cumulative L1
        penalty. Problems that have stopped are frozen (zero weight, no decay).

        Callbacks (``set_callbacks``) see each epoch as a task whose subtasks
        are chunks of ``_CHUNK_ROWS`` samples; one asking to stop ends training.

        Returns
        -------
        n_iter : int
            Epochs run (the maximum over the problems).
        """
        xp = backend.xp
        dtype = self._compute_dtype()
        net = self._network
        dense = net.layers[0]
        loss = self._loss
        n_samples, n_outputs = Y.shape
        sparse_X = sp.issparse(X)
        X_dev = None if sparse_X else backend.asarray(X, dtype=dtype)
        Y_dev = backend.asarray(Y, dtype=dtype)
        weights_dev = backend.asarray(weights, dtype=dtype)

        early_stopping = self.early_stopping
        is_train = ~validation_mask
        train_count = int(np.sum(is_train))
        if early_stopping:
            X_val = take_rows(X, np.flatnonzero(validation_mask))
            if not sparse_X:   # to the device once per fit, not every epoch
                X_val = backend.asarray(X_val, dtype=dtype)
            # scored on the host from the logits, read back once per epoch
            y_val = y[validation_mask]
            Y_val = np.asarray(Y[validation_mask], dtype=dtype)
            sw_val_host = sample_weight[validation_mask]
            sw_val = np.asarray(sw_val_host, dtype=dtype)
            sw_val_sum = np.sum(sw_val)

        tol = -np.inf if self.tol is None else float(self.tol)
        eta = float(self.eta0)
        alpha = float(self.alpha)
        l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(self.penalty, float(self.l1_ratio))
        use_penalty = self.penalty is not None
        use_l2 = self.penalty in ("l2", "elasticnet")
        use_l1 = self.penalty in ("l1", "elasticnet")
        l2_decay = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        if use_l1:
            q = xp.zeros_like(dense.params["W"])
            u = xp.zeros_like(Y_dev[0:1, :])

        perm = _sgd_shuffle_permutation(n_samples, seed) if self.shuffle else None
        order = np.arange(n_samples)
        active = np.ones(n_outputs, dtype=bool)
        n_iter_problem = np.zeros(n_outputs, dtype=int)
        best = np.full(n_outputs, -np.inf if early_stopping else np.inf)
        no_improvement = np.zeros(n_outputs, dtype=int)
        epochs_before = len(self.history_)
        display = EpochTable() if self.verbose else None
        # On NumPy, skipping the update of a sample with no mistake saves work; on
        # a device, asking would synchronise with it at every sample: always update
        # there (a zero update leaves the weights exactly as they are).
        skip_if_correct = backend.is_numpy

        self.stop_reason_ = None
        interrupt = DeferredInterrupt().install()   # Ctrl-C: stop after the current chunk
        interrupted = False
        try:
            for epoch in range(max_iter):
                if not active.any():
                    self.stop_reason_ = self._stopped_message(early_stopping, tol)
                    break
                tic = time.perf_counter()
                if perm is not None:
                    order = order[perm]
                train_order = order[is_train[order]]
                active_dev = backend.asarray(active.astype(dtype)[None, :])
                if use_l2:
                    decay = backend.asarray(np.where(active, l2_decay, 1.0).astype(dtype)[None, :])
                if use_l1:
                    l1_step = active_dev * (l1_ratio * eta * alpha)
                snapshot = net.get_weights()
                objective = xp.zeros_like(Y_dev[0:1, :])
                chunk_starts = range(0, train_count, _CHUNK_ROWS)
                epoch_ctx = tasks.epoch_begin(len(chunk_starts))

                for start in chunk_starts:
                    chunk_ctx = tasks.batch_begin(epoch_ctx)
                    rows = train_order[start:start + _CHUNK_ROWS]
                    if sparse_X:
                        Xc = backend.asarray(X[rows].toarray(), dtype=dtype)
                        rows_dev = backend.asarray(rows)
                    else:
                        rows_dev = backend.asarray(rows)
                        Xc = xp.take(X_dev, rows_dev, axis=0)
                    Yc = xp.take(Y_dev, rows_dev, axis=0)
                    Wc = xp.take(weights_dev, rows_dev, axis=0) * active_dev
                    for t in range(Xc.shape[0]):
                        x = Xc[t:t + 1, :]
                        yt = Yc[t:t + 1, :]
                        z = dense.forward(x, training=True)
                        objective = objective + loss.per_output(xp, z, yt)
                        W = dense.params["W"]
                        if use_penalty:
                            objective = objective + alpha * (
                                (1.0 - l1_ratio) * 0.5 * xp.sum(W * W, axis=0)
                                + l1_ratio * xp.sum(xp.abs(W), axis=0))
                        dz = loss.gradient(xp, z, yt, Wc[t:t + 1, :])
                        if use_l2:
                            W *= decay
                        if not skip_if_correct or bool(xp.any(dz != 0)):
                            dense.backward(eta * dz)
                            W -= dense.grads["W"]
                            if self.fit_intercept:
                                dense.params["b"] -= dense.grads["b"]
                        if use_l1:
                            u = u + l1_step
                            W_old = W
                            W_new = xp.where(W_old > 0, xp.maximum(W_old - (u + q), 0.0),
                                             xp.where(W_old < 0, xp.minimum(W_old + (u - q), 0.0),
                                                      W_old))
                            q = q + (W_new - W_old)
                            dense.params["W"] = W_new
                    tasks.batch_end(chunk_ctx)
                    interrupt.check()   # Ctrl-C: stop after this chunk, weights consistent

                # the epoch's objective and the finite-weights flag: one read-back
                objective, weights_ok = read_back(xp, objective, net.finite_flag())
                if not weights_ok:
                    net.set_weights(snapshot)
                    self._sync_fitted_attributes()
                    raise DivergenceError(
                        f"Floating-point under-/overflow occurred at epoch #{epoch + 1}: the "
                        "weights became non-finite and were restored to those before this "
                        "epoch. Scaling input data with StandardScaler or MinMaxScaler, or a "
                        "smaller eta0, might help."
                    )
                n_iter_problem[active] = epoch + 1
                record = {"epoch": epochs_before + epoch + 1}
                train_objective = objective[0].astype(np.float64) / max(train_count, 1)
                record["train_loss"] = float(np.sum(train_objective))
                if early_stopping:
                    z_val = to_numpy(self._forward_logits(X_val, backend))
                    correct = ((z_val > 0) == (Y_val > 0)).astype(z_val.dtype)
                    scores = (np.sum(correct * sw_val[:, None], axis=0)
                              / sw_val_sum).astype(np.float64)
                    record["valid_loss"] = float(loss.loss(array_api_compat.numpy, z_val,
                                                           Y_val, sw_val, sw_val_sum))
                    record["valid_score"] = accuracy_score(
                        y_val, self._decode_targets(z_val), sample_weight=sw_val_host)
                    worse = scores < best + tol
                    best = np.where(active & (scores > best), scores, best)
                else:
                    worse = train_objective > best - tol
                    best = np.where(active & (train_objective < best), train_objective, best)
                no_improvement = np.where(active, np.where(worse, no_improvement + 1, 0),
                                          no_improvement)
                active &= no_improvement < self.n_iter_no_change
                if not active.any():
                    self.stop_reason_ = self._stopped_message(early_stopping, tol)
                record["learning_rate"] = eta
                record["dur"] = time.perf_counter() - tic
                self._log_epoch(record, display)
                if tasks.epoch_end(epoch_ctx):
                    self.stop_reason_ = "a callback asked to stop."
                    break
            else:
                self.stop_reason_ = (f"max_iter={max_iter} epoch(s) reached." if active.any() else
                                     self.stop_reason_)
        except TrainingInterrupted:
            interrupted = True
            self.stop_reason_ = INTERRUPTED
        finally:
            interrupt.uninstall()
        # best_epoch_, the closing line of the table, the warning on Ctrl-C
        self._end_of_training(display, early_stopping, False, interrupted)
        return int(n_iter_problem.max())

    def _stopped_message(self, early_stopping, tol):
        what = "Validation score" if early_stopping else "Training loss"
        return (f"{what} did not improve more than tol={tol:g} for {self.n_iter_no_change} "
                "consecutive epochs (every one-vs-rest problem).")

    # ---------------------------------------------------------- predicting
    def _sync_fitted_attributes(self):
        dense = self._network.layers[0]
        self.coef_ = self._to_attribute_namespace(
            np.ascontiguousarray(to_numpy(dense.params["W"]).T))
        self.intercept_ = self._to_attribute_namespace(
            np.array(to_numpy(dense.params["b"]), copy=True))

    def _scores(self, X):
        """Validated ``X`` -> logits as NumPy, shape (n_samples, n_outputs)."""
        X = validate_data(self, X, accept_sparse="csr", dtype=validation_dtypes(X),
                          reset=False)
        return self._forward_output(X, fn=lambda xp, z: z)

    @returns_input_namespace
    def decision_function(self, X):
        """Signed distance-like scores ``X @ coef_.T + intercept_``, in batches.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive scores mean ``classes_[1]``; otherwise
            one column per class.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            On NaN/inf or a number of features other than ``n_features_in_``.
        """
        scores = self._scores(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    @returns_input_namespace
    def predict(self, X):
        """Predict class labels: the sign of the score, or the largest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    score = accepts_cupy(ClassifierMixin.score)

    def _score(self, X, y, sample_weight=None):
        return accuracy_score(to_numpy(y), to_numpy(self.predict(X)),
                              sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = False
        return tags
