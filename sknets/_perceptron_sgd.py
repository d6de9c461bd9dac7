"""The perceptron's fit, estimator side: its one-layer network and its targets.

:func:`initial_network` builds the one ``Dense`` layer from zeros or given
weights; :func:`train_perceptron` sets up the one-vs-rest problems as
scikit-learn does (targets in {-1, +1}, class and sample weights, the
validation split and one shuffling seed per problem:
:func:`sknets._perceptron_ovr.setup_problems`) and runs the per-sample
trainer (:class:`~sknets.training.PerceptronTrainer`). The estimator's
public API lives in :mod:`sknets.perceptron`.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight

from ._perceptron_ovr import setup_problems
from .backend import to_numpy
from .network import Sequential
from .training import PerceptronConfig, PerceptronTrainer

__all__ = ["ENGINE", "initial_network", "train_perceptron"]

#: the engine of the epoch functions (:mod:`sknets._perceptron_epoch`):
#: "auto" (numba when installed), "numba" or "numpy".
ENGINE = "auto"


def _given(value, shape, name, n_outputs, n_features):
    """``coef_init`` / ``intercept_init`` as a float64 array of ``shape``."""
    a = np.asarray(to_numpy(value), dtype=np.float64)
    if n_outputs == 1:
        if name == "coef_init" and a.size == n_features:
            a = a.reshape(1, -1)
        if name == "intercept_init" and a.shape in ((), (1,)):
            a = a.reshape(1)
    if a.shape != shape:
        what = (f"{shape} ({n_outputs} one-vs-rest problem(s), {n_features} features)"
                if name == "coef_init" else f"{shape}")
        raise ValueError(f"{name} has shape {np.shape(value)} but the data needs {what}.")
    return a


def initial_network(layers, n_features, n_outputs, backend, dtype, coef_init, intercept_init):
    """The perceptron's one-layer network with zero (or the given) weights.

    Parameters
    ----------
    layers : list of Layer
        The one ``Dense`` layer.
    n_features, n_outputs : int
    backend : Backend
    dtype : numpy dtype
    coef_init : array-like of shape (n_outputs, n_features) or None
    intercept_init : array-like of shape (n_outputs,) or None

    Returns
    -------
    Sequential

    Raises
    ------
    ValueError
        If ``coef_init`` or ``intercept_init`` has the wrong shape.
    """
    W = np.zeros((n_features, n_outputs))
    b = np.zeros(n_outputs)
    if coef_init is not None:
        W = _given(coef_init, (n_outputs, n_features), "coef_init", n_outputs, n_features).T
    if intercept_init is not None:
        b = _given(intercept_init, (n_outputs,), "intercept_init", n_outputs, n_features)
    # Dense draws Glorot weights when built; the perceptron starts from zeros
    # (or the given weights), so it is built from a throwaway RandomState.
    network = Sequential(layers).build((n_features,), backend, dtype, np.random.RandomState(0))
    dense = network.layers[0]
    dense.params["W"] = backend.asarray(np.array(W, dtype=dtype, copy=True))
    dense.params["b"] = backend.asarray(np.array(b, dtype=dtype, copy=True))
    return network


def _host_input(X, dtype):
    """Validated ``X`` as a host array (or CSR matrix) of the compute ``dtype``."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(to_numpy(X), dtype=dtype)


def train_perceptron(est, state, X, y, sample_weight, max_iter, tasks):
    """Train ``state`` (the perceptron ``est``'s, with this fit's encoding) on
    validated ``X`` and labels ``y``; returns True when Ctrl-C stopped it."""
    sample_weight = _check_sample_weight(sample_weight, np.empty((X.shape[0], 0)),
                                         dtype=np.float64,
                                         allow_all_zero_weights=est.early_stopping)
    problems = setup_problems(_host_input(X, state.dtype), y, est.classes_,
                              sample_weight=sample_weight, class_weight=est.class_weight,
                              random_state=est.random_state,
                              early_stopping=est.early_stopping,
                              validation_fraction=est.validation_fraction)
    config = PerceptronConfig.from_params(est.get_params(deep=False), engine=ENGINE)
    trainer = PerceptronTrainer(state, config, est._decode_targets, tasks)
    interrupted = trainer.run(problems, y, max_iter)
    state.t += state.n_iter * X.shape[0]
    return interrupted
