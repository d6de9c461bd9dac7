"""Exceptions raised by sknets."""


class DivergenceError(ValueError, ArithmeticError):
    """Training diverged: the loss or the weights became NaN or infinite, or
    the loss passed a bound past which the model is meaningless
    (``sknets._checks.LOSS_BOUND_FACTOR`` times the loss of predicting zero
    logits, e.g. from one value of 1e30 in ``X``).

    The fit fails and the estimator is left as it was before it (unfitted,
    or with the previous fit's model); scale the input (e.g.
    ``StandardScaler``; the message gives its largest absolute value) or
    lower ``learning_rate_init``.
    """


class NotExportableError(ValueError):
    """An estimator or a layer has no ONNX form (:mod:`sknets.onnx`): raised
    before anything is written, so no model that computes something else is
    ever produced. The message names what cannot be exported and why."""
