"""Exceptions raised by sknets."""


class DivergenceError(ValueError, ArithmeticError):
    """Training diverged: the loss became NaN or infinite.

    The estimator's weights are restored to those before the diverging epoch;
    lower ``learning_rate_init`` or scale the input (e.g. ``StandardScaler``).
    """
