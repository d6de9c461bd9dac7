"""Rosenblatt's perceptron as a one-layer network.

:class:`PerceptronClassifier`, a drop-in for
:class:`sklearn.linear_model.Perceptron`, is a network of one
:class:`~sknets.layers.Dense` layer (one unit per one-vs-rest problem)
trained with the perceptron criterion
(:class:`~sknets.losses.PerceptronCriterion`) by the per-sample trainer
(:class:`~sknets.training.PerceptronTrainer`) on the epoch functions of
:mod:`sknets._perceptron_epoch`: scikit-learn's plain SGD with its
arithmetic in its order, each one-vs-rest problem in its own sample order
(one seed per class, as scikit-learn draws them), compiled with numba when
it is installed (``pip install "sknets[fast]"``), else in NumPy. In float64
the weights, intercepts, ``n_iter_`` and ``t_`` equal scikit-learn's (the
tests hold them to 1e-10 over its parameter grid: shuffling, early
stopping, penalties, class and sample weights, warm starts, ``partial_fit``,
dense and sparse input).

Deliberate differences from scikit-learn
----------------------------------------
- Computation follows the input's floating dtype (``dtype=None``), as in
  scikit-learn; ``dtype="float32"`` or ``"float64"`` forces one. The
  intercept is kept in the compute dtype between calls (scikit-learn keeps
  a two-class intercept in float64 whatever the input).
- Training runs on the host whatever ``backend`` is (the rule updates the
  weights after every sample); the fitted network is placed on the backend
  for prediction.
- ``n_jobs`` runs the one-vs-rest problems in threads with the numba engine
  (scikit-learn runs them in joblib workers); the model does not depend on it.
- Divergence raises :class:`~sknets.exceptions.DivergenceError` (a
  ``ValueError``, as scikit-learn's) and leaves the estimator as it was
  before the fit; it is also raised when the weights stay finite but a
  logit ``w @ x + b`` could overflow the compute dtype.
- ``history_``, ``stop_reason_``, ``best_epoch_``, the ``verbose`` table and
  callbacks report training; the per-sample arithmetic is not changed by them.

References
----------
.. [1] F. Rosenblatt, "The perceptron: a probabilistic model for information
   storage and organization in the brain", Psychological Review 65(6), 1958.
.. [2] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer
   2006, section 4.1.7.
.. [3] Y. Tsuruoka, J. Tsujii and S. Ananiadou, "Stochastic gradient descent
   training for L1-regularized log-linear models with cumulative penalty",
   ACL 2009 (the cumulative L1 penalty).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import validate_data

from ._base import BaseNetwork
from ._dispatch import (
    accepts_cupy,
    dispatch_backend,
    returns_input_namespace,
    to_namespace,
    validation_dtypes,
)
from ._perceptron_sgd import initial_network, train_perceptron
from .backend import to_numpy
from .layers import Dense
from .losses import PerceptronCriterion
from .training import FitState

__all__ = ["PerceptronClassifier"]


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
        Whether to shuffle the training data before each epoch (each
        one-vs-rest problem in its own order, from its own seed).

    verbose : int, default=0
        Print a table of epochs (epoch, train loss, validation loss and
        score with early stopping, learning rate, seconds): with 1 every
        epoch of a fit of up to 20 epochs, else the first 10, one every
        ``ceil(max_iter / 20)``, each new best validation score and the
        last; with 2 or more every epoch.

    eta0 : float, default=1.0
        Constant by which the updates are multiplied (the learning rate).

    n_jobs : int, default=None
        Threads training the one-vs-rest problems side by side (with the
        compiled engine, numba; ``None`` means 1, ``-1`` every core). The model
        does not depend on it.

    random_state : int, RandomState instance or None, default=0
        Seed of the validation split and of the one-vs-rest problems' seeds
        (one per class, each problem shuffled by its own), drawn as
        scikit-learn's ``Perceptron`` draws them: the same value gives the
        same sample orders.

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
        Array backend of the fitted network (prediction); ``None`` uses
        ``sknets.get_config()["backend"]``. Training runs on the host.

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

    feature_names_in_ : ndarray of shape (n_features,)
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
    The fit equals scikit-learn's in float64, sparse input included (its
    intercept updates damped by 0.01, the L1 step on each sample's stored
    features, as scikit-learn does); the few differences (dtype, host
    training, divergence) are listed in :mod:`sknets.perceptron`. Training
    is compiled with numba when it is installed (``pip install
    "sknets[fast]"``): about scikit-learn's speed; without it, NumPy runs
    the same arithmetic several times slower (``benchmarks/RESULTS.md``).

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
    def _hidden_layers(self, input_shape):
        return []   # one Dense unit per one-vs-rest problem: the output layer alone

    def _output_layer(self, n_outputs):
        return Dense(n_outputs)   # the step output lives in the loss

    def _make_loss(self, Y):
        return PerceptronCriterion()

    def _check_solver(self):
        return True  # partial_fit is always available

    def _max_subtasks(self, incremental):
        return 1 if incremental else self.max_iter

    # ------------------------------------------------------------ validation
    def _resets(self, incremental):
        # fit always takes its classes from y (scikit-learn's Perceptron forgets
        # classes_ at fit, warm start or not); partial_fit keeps the fitted ones.
        return not (incremental and self.__sklearn_is_fitted__())

    def _validate_input(self, X, y, incremental, reset, classes=None):
        """Validate ``X, y`` and the labels; returns ``X`` and ``y`` (labels).

        Sets ``classes_`` on a new encoding; the targets are encoded per
        one-vs-rest problem by the trainer.
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=validation_dtypes(X),
                             order="C", accept_large_sparse=False, reset=reset)
        y = to_numpy(y)  # labels are encoded on the host
        check_classification_targets(y)
        if hasattr(self, "classes_"):   # committed in fit's namespace
            self.classes_ = to_numpy(self.classes_)
        if not incremental:
            self.classes_ = np.unique(y)  # fit: the labels of this call define the classes
        else:
            _check_partial_fit_first_call(self, None if classes is None else to_numpy(classes))
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
        return X, y

    def _encoding_names(self):
        return super()._encoding_names() + ("classes_",)

    def _fit_sample_weight(self, sample_weight, X):
        return None if sample_weight is None else to_numpy(sample_weight)   # checked in training

    def _decode_targets(self, Y):
        Y, classes = to_numpy(Y), to_numpy(self.classes_)
        if Y.shape[1] == 1:
            return classes[(Y[:, 0] > 0).astype(int)]
        return classes[np.argmax(Y, axis=1)]

    def _score_from_output(self, output, y, sample_weight):
        return accuracy_score(y, self._decode_targets(output), sample_weight=sample_weight)

    def _validated_X(self, X):
        return validate_data(self, X, accept_sparse="csr", dtype=validation_dtypes(X),
                             reset=False)

    # ---------------------------------------------------------- fitted state
    def _start_state(self, X, Y, backend, dtype, random_state, continues, incremental,
                     coef_init=None, intercept_init=None):
        """``partial_fit`` of a fitted model trains a copy of its state; ``fit``
        builds a new one, from zeros, the given weights, or (``warm_start``)
        the fitted ones, keeping the history."""
        if incremental and continues:
            return self._state.continued(backend)
        history = []
        if continues:   # a warm-start fit
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
            history = list(self._state.history)
        n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        network = initial_network(self._build_layers((X.shape[1],), n_outputs), X.shape[1],
                                  n_outputs, backend, dtype, coef_init, intercept_init)
        state = FitState(network, self._make_loss(None), dtype, self._encoding(),
                         self._architecture(), dispatch_backend(X))
        state.history = history
        state.t = 1.0   # scikit-learn's count starts at 1
        return state

    def _train(self, state, X, Y, sample_weight, incremental, tasks, random_state):
        return train_perceptron(self, state, X, Y[:, 0], sample_weight,
                                1 if incremental else self.max_iter, tasks)

    def _fitted_attributes(self, state):
        dense = state.network.layers[0]
        attrs = dict(state.encoding)
        # classes_ in fit's namespace, as scikit-learn's array-API classifiers
        attrs["classes_"] = to_namespace(attrs["classes_"], state.attribute_backend)
        attrs.update(
            _state=state, n_iter_=state.n_iter, t_=state.t, history_=state.history,
            stop_reason_=state.stop_reason, best_epoch_=state.best_epoch,
            coef_=to_namespace(np.ascontiguousarray(to_numpy(dense.params["W"]).T),
                               state.attribute_backend),
            intercept_=to_namespace(np.array(to_numpy(dense.params["b"]), copy=True),
                                    state.attribute_backend))
        return attrs

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
        self._fit(X, y, sample_weight=sample_weight, coef_init=coef_init,
                  intercept_init=intercept_init)
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning, stacklevel=2,
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of per-sample perceptron updates on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The samples.
        y : array-like of shape (n_samples,)
            Their labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes across calls; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples; None weighs every sample 1.

        Returns
        -------
        self : object
            The estimator, updated.

        Raises
        ------
        ValueError
            If ``classes`` is missing on the first call, ``early_stopping`` is
            True or ``class_weight="balanced"`` on the first call (as in
            scikit-learn), or ``y`` has labels outside ``classes``.
        """
        if not self.__sklearn_is_fitted__():
            if self.early_stopping:
                raise ValueError("early_stopping should be False with partial_fit")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit. In order "
                    "to use 'balanced' weights, use compute_class_weight('balanced', "
                    "classes=classes, y=y) on a large enough sample of the training "
                    "targets and pass the resulting weights as the class_weight parameter."
                )
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    # ---------------------------------------------------------- predicting
    def _scores(self, X):
        """Validated ``X`` -> logits as NumPy, shape (n_samples, n_outputs)."""
        return self._forward_output(self._validated_X(X), fn=lambda xp, z: z)

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
            The predicted class labels.
        """
        return self._decode_targets(self._scores(X))

    score = accepts_cupy(ClassifierMixin.score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = False
        return tags
