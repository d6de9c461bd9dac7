"""What the trainers share: one batch's loss and gradients, the epoch log."""

from dataclasses import fields

from .._display import EpochTable, mark_best

__all__ = ["NON_FINITE_MESSAGE", "TrainerConfig", "batch_loss_and_grads", "EpochLog"]

#: scikit-learn's MLP message for non-finite weights (user code matches on it).
NON_FINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")


class TrainerConfig:
    """Base of the trainers' configs (dataclasses of estimator parameters)."""

    @classmethod
    def from_params(cls, params, **extra):
        """The config from an estimator's ``get_params()``: the fields of the
        same name (other keys ignored), then ``extra``."""
        names = {f.name for f in fields(cls)} - set(extra)
        return cls(**{k: v for k, v in params.items() if k in names}, **extra)


def batch_loss_and_grads(network, loss, alpha, Xb, Yb, swb):
    """Forward, loss (+ L2 penalty ``alpha``), backward for one batch.

    Parameters
    ----------
    network : Sequential
    loss : Loss
    alpha : float
        L2 penalty on the network's penalized weights, scaled as
        scikit-learn's MLP: ``0.5 * alpha * sum(W**2) / sum(sample_weight)``.
    Xb, Yb : arrays on the network's backend
        The batch's inputs and encoded targets.
    swb : array or None
        The batch's sample weights.

    Returns
    -------
    loss : 0-d array on the backend
        Fills the layers' ``grads`` (penalty included).
    """
    xp = network.backend.xp
    z = network.forward(Xb, training=True)
    sw_sum = z.shape[0] if swb is None else xp.sum(swb)
    value, dz = loss.loss_and_grad(xp, z, Yb, swb, sw_sum)
    network.backward(dz)
    if alpha > 0:
        scale = alpha / sw_sum
        penalty = network.squared_weights()
        for layer, k in network.penalized_weights():
            layer.grads[k] += scale * layer.params[k]  # in place: no new gradient array
        value = value + (0.5 * alpha) * penalty / sw_sum
    return value


class EpochLog:
    """The training record of a fit: ``history`` and the verbose table.

    Parameters
    ----------
    state : FitState
        Whose ``history`` records are appended.
    verbose : int or bool
        0 prints nothing; 1 the table at its cadence; 2 every epoch.
    max_epochs : int or None
        The most epochs this call can run (the table's cadence).
    """

    def __init__(self, state, verbose, max_epochs):
        self.state = state
        self.display = EpochTable(verbose=verbose, max_epochs=max_epochs) if verbose else None

    def record(self, record):
        """Flag the record's best values, append it to the history, print its row."""
        mark_best(record, self.state.history)
        self.state.history.append(record)
        if self.display is not None:
            self.display.print_epoch(record)

    def best_epoch(self, flag):
        """The last epoch whose record carries ``flag`` (e.g. ``"valid_score_best"``)."""
        best = [h["epoch"] for h in self.state.history if h.get(flag)]
        return best[-1] if best else None

    def message(self, text):
        """Print a closing line (why training stopped) under the table."""
        if self.display is not None:
            self.display.print_message(text)
