"""Guards against silent wrong answers: input range, meaningless loss, non-finite output.

- :func:`check_input_range`: validation (scikit-learn's ``check_array``)
  checks finiteness in the input's own dtype; a float64 value beyond the
  compute dtype's range (e.g. ``1e39`` computed in float32) becomes ``inf``
  in the cast. Every ``fit``, ``partial_fit`` and predict-like method calls
  this once per call on the validated input.
- :func:`loss_bound` / :func:`training_loss_bound`: the training loss past
  which a model is meaningless (both training loops treat it as divergence;
  :func:`divergence_cause` and :func:`scale_hint` word their messages).
- :func:`check_finite_output`: what a predict-like method returns is finite.
"""

import array_api_compat
import numpy as np
import scipy.sparse as sp

__all__ = ["check_input_range", "max_abs", "loss_bound", "training_loss_bound",
           "divergence_cause", "scale_hint", "check_finite_output", "LOSS_BOUND_FACTOR"]

#: How many times the loss of the all-zero-logits model (plus the initial
#: penalty, at least 1) the training loss may reach before the model is taken
#: as meaningless. Why 1e12: a cross-entropy of 1e12 * log(2) means logits of
#: the wrong sign of order 1e12 on average, and a squared error of 1e12 times
#: ``0.5 * mean(y**2)`` an RMS error of 1e6 times the targets' RMS. Unscaled
#: real data stays far below (measured on the first epoch, the worst one:
#: breast cancer unscaled 23, features of order 1e6 with Adam 2e4 for a
#: classifier and 2e9 for a regressor against a bound of 1e12), while one
#: value of 1e30 in X gives a loss of 1e25 or more (its logits are of order
#: 1e29; unless the network ignores it, e.g. ReLUs off for that sample, and
#: then nothing blew up). A tighter factor (e.g. 1e4) trips on such unscaled data, which
#: scikit-learn trains on.
LOSS_BOUND_FACTOR = 1e12


def max_abs(X):
    """The largest absolute value of ``X`` (dense of any namespace, or sparse),
    as a Python float; 0.0 for an empty array.

    ``max(max(X), -min(X))``: two reductions where ``X`` lives, without the
    temporary ``abs(X)`` (as large as ``X``) that ``max(abs(X))`` makes, so the
    extra memory is constant whatever the size of ``X``; one float is read back.
    """
    if sp.issparse(X):
        X = X.data
    if isinstance(X, np.ndarray):
        return float(max(np.max(X), -np.min(X))) if X.size else 0.0
    xp = array_api_compat.array_namespace(X)
    if any(d == 0 for d in X.shape):
        return 0.0
    return float(xp.max(xp.stack([xp.max(X), -xp.min(X)])))


def _float_bits(dtype):
    try:
        return np.dtype(dtype).itemsize
    except TypeError:   # a dtype object of another namespace
        return 4 if "32" in str(dtype) else 8


def check_input_range(X, dtype, name="X"):
    """Raise ``ValueError`` when a value of validated ``X`` overflows ``dtype``.

    Only a cast to a narrower floating type (float64 input computed in
    float32) can overflow: validation has already refused NaN and infinity
    in the input's own dtype. Then :func:`max_abs` runs where ``X`` lives (the
    device, for an array of a device namespace), with no copy of ``X`` (its
    extra memory does not grow with ``X``), and one float is read back, once
    per call; otherwise nothing is computed.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array-API array}
        Validated input (float32 or float64).
    dtype : numpy dtype or str
        The compute dtype.
    name : str, default="X"
        The input's name in the message.

    Raises
    ------
    ValueError
        Naming the dtype, the largest absolute value and the remedies.
    """
    dtype = np.dtype(dtype)
    if _float_bits(X.dtype) <= dtype.itemsize:
        return
    largest = max_abs(X)
    with np.errstate(over="ignore"):
        fits = np.isfinite(dtype.type(largest))
    if not fits:
        raise ValueError(
            f"{name} has a value of magnitude {largest:.3g}, beyond the range of the compute "
            f"dtype {dtype.name} (largest finite value {np.finfo(dtype).max:.3g}): it would "
            f"become infinite. Scale the data (e.g. StandardScaler), or compute in float64 "
            f"(dtype=\"float64\")."
        )


def loss_bound(loss, Y, sample_weight, initial_penalty=0.0):
    """The training loss past which the model is meaningless.

    ``LOSS_BOUND_FACTOR`` times the loss of a model whose logits are all zero
    (``log(n_classes)`` for softmax cross-entropy, ``0.5 * mean(y**2)`` for
    squared error...) plus the L2 penalty of the starting weights, that sum
    taken as at least 1 (targets all zero, tiny targets). Computed once per
    fit on the host from the encoded targets.

    Parameters
    ----------
    loss : sknets.losses.Loss
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (NumPy).
    sample_weight : ndarray of shape (n_samples,) or None
    initial_penalty : float, default=0.0
        ``0.5 * alpha * sum(W**2) / n_samples`` of the weights training starts from.

    Returns
    -------
    bound : float
    """
    xp = array_api_compat.numpy
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape[0] == 0:
        return np.inf
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw_sum = None if sw is None else np.sum(sw)
    if sw is not None and not sw_sum > 0:
        sw, sw_sum = None, None
    with np.errstate(all="ignore"):
        reference = float(loss.loss(xp, np.zeros_like(Y), Y, sw, sw_sum))
    if not np.isfinite(reference):
        return np.inf
    return LOSS_BOUND_FACTOR * max(reference + float(initial_penalty), 1.0)


def check_finite_output(out, X, dtype):
    """Raise ``ValueError`` when a prediction (NumPy ``out``) is NaN or infinite.

    Finite, in-range input can still overflow inside the network (e.g. values
    near float32's limit times weights above 1); a NaN or infinite prediction
    would be a silent wrong answer.
    """
    if out.dtype.kind == "f" and not np.isfinite(out).all():
        raise ValueError(
            f"The network's output for X is not finite: its activations overflowed the "
            f"compute dtype {np.dtype(dtype).name} (the largest absolute value of X is "
            f"{max_abs(X):.3g}). Scale the data (e.g. StandardScaler, as in training), or "
            f"compute in float64 (dtype=\"float64\")."
        )


def training_loss_bound(network, loss, alpha, Y, sample_weight):
    """:func:`loss_bound` for ``network`` about to train with ``loss`` and L2
    penalty ``alpha`` on encoded targets ``Y`` (NumPy): the starting weights'
    penalty is one reduction on the backend, read back once."""
    penalty = 0.0
    alpha = float(alpha or 0.0)
    n = Y.shape[0]
    if alpha > 0 and n:
        penalty = 0.5 * alpha * float(network.squared_weights()) / n
    return loss_bound(loss, Y, sample_weight, penalty)


def divergence_cause(loss, weights_ok, bound):
    """Why an epoch counts as diverged, for the messages."""
    if not np.isfinite(loss):
        return f"the loss became {loss}"
    if not weights_ok:
        return "the weights became non-finite"
    return (f"the loss reached {loss:.3g}, more than {LOSS_BOUND_FACTOR:.0e} times that of "
            f"a model predicting zero logits (bound {bound:.3g}): the model is meaningless")


def scale_hint(X):
    """The remedy sentence of divergence messages, with ``X``'s largest value."""
    return (f"Scale the input (e.g. StandardScaler; its largest absolute value is "
            f"{max_abs(X):.3g}), or lower learning_rate_init.")
