"""Regression plumbing shared by the network regressors.

:class:`NetworkRegressorMixin` turns a :class:`~sknets._base.BaseNetwork`
into a scikit-learn regressor: numeric targets (one or several outputs), an
identity output with half squared error or an exponential output with half
Poisson deviance (``loss``), and ``predict``, ``partial_fit`` and ``score``
(R²) as :class:`sklearn.neural_network.MLPRegressor` has them.

Used by :class:`~sknets.MLPRegressorScratch` and
:class:`~sknets.NeuralNetRegressor`; the estimator provides
``_validated_X(X)`` (validation at predict time) and may override
``_validate_X_y(X, y, reset)`` (validation at fit time).
"""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._dispatch import accepts_cupy, returns_input_namespace, validation_dtypes
from .backend import to_numpy
from .losses import PoissonDeviance, SquaredError


class NetworkRegressorMixin(RegressorMixin):
    """Targets, loss and prediction methods of network regressors.

    Put it before the network base class:
    ``class MyRegressor(NetworkRegressorMixin, BaseNetwork)``; the estimator
    has a ``loss`` parameter, ``"squared_error"`` or ``"poisson"``.
    """

    def _validate_X_y(self, X, y, reset):
        """Validate training ``X`` (2-D, dense or sparse) and numeric ``y``."""
        return validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=validation_dtypes(X), reset=reset)

    def _validate_input(self, X, y, incremental, reset, classes=None):
        X, y = self._validate_X_y(X, y, reset)
        y = to_numpy(y)  # targets are handled on the host
        if y.dtype.kind in "OUS":   # y_numeric converts objects only, not strings
            try:
                y = y.astype(np.float64)
            except ValueError as exc:   # NumPy's "could not convert string to float: 'cat'"
                raise ValueError(
                    f"y must hold numbers (the targets of a regressor): {exc}. For class "
                    "labels, use a classifier."
                ) from None
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        return X, y

    def _make_loss(self, Y):
        return PoissonDeviance() if self.loss == "poisson" else SquaredError()

    def _decode_targets(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _score_from_output(self, out, y, sample_weight):
        if not np.isfinite(out).all():
            return np.nan
        return r2_score(y, self._decode_targets(out), sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    score = accepts_cupy(RegressorMixin.score)

    @returns_input_namespace
    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In the compute dtype.
        """
        check_is_fitted(self)
        return self._decode_targets(self._forward_output(self._validated_X(X)))
