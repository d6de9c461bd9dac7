"""The fitted state: everything a fit produces, built apart from the estimator.

A ``fit`` (or ``partial_fit``) builds a :class:`FitState` (a new one, or a
copy of the fitted one to train further), trains it, and the estimator
commits it in one step when training ends (``BaseNetwork._commit``). An
exception before the commit leaves the estimator exactly as it was: the
state it was training is simply dropped.
"""

import numpy as np

from .._persistence import portable, restored

__all__ = ["FitState"]


class FitState:
    """What one fit produces: the network, the optimizer state, the targets'
    encoding and the training record.

    Parameters
    ----------
    network : Sequential
        The built network (weights on the training backend).
    loss : Loss
        The loss the network trains on (its ``out_activation``).
    dtype : numpy dtype
        The compute dtype.
    encoding : dict
        The estimator's attributes that validation and target encoding set
        (``n_features_in_``, ``feature_names_in_``, ``classes_``, the label
        binarizer, a sample shape...), committed as they are.
    architecture : dict
        The parameter values that define the network's shapes, layers, dtype
        and backend (see ``BaseNetwork._architecture``); a warm start or a
        ``partial_fit`` that would change one of them is refused.
    attribute_backend : Backend or None
        Where the fitted arrays users read live: None for NumPy, the input's
        namespace when fitted under array-API dispatch.

    Attributes
    ----------
    optimizer : optimizer or None
        The stochastic optimizer and its state (Adam's two moments, SGD's
        velocity: two or one arrays per weight), kept because a later
        ``partial_fit`` continues it, as scikit-learn's does (a ``fit``, warm
        or not, starts a new one); its work arrays are dropped when training
        ends. None for L-BFGS and the perceptron.
    n_iter, t : int
        Epochs (or L-BFGS iterations) of the last call; samples seen in all.
    loss_value : float or None
        The last epoch's training loss (``loss_``).
    loss_curve, history : list
        One training loss, one history record per epoch (across warm starts).
    validation_scores : list or None
        Validation scores per epoch, with early stopping.
    best_validation_score, best_loss, best_epoch, stop_reason, \
no_improvement_count, best_weights :
        The stopping rule's bookkeeping (scikit-learn's ``best_loss_``,
        ``_no_improvement_count``...) and the best epoch's weights (a copy
        kept during a fit with early stopping only: the fit ends on those
        weights, so a fitted model holds each weight once; a warm start takes
        the copy from the network again).
    closing_message : str or None
        The trainer's last line ("Stopped after epoch ...: why").
    """

    def __init__(self, network, loss, dtype, encoding, architecture, attribute_backend=None):
        self.network = network
        self.loss = loss
        self.dtype = np.dtype(dtype)
        self.encoding = dict(encoding)
        self.architecture = dict(architecture)
        self.attribute_backend = attribute_backend
        self.optimizer = None
        self.n_iter = 0
        self.t = 0
        self.loss_value = None
        self.loss_curve = []
        self.history = []
        self.validation_scores = None
        self.best_validation_score = None
        self.best_loss = None
        self.best_epoch = None
        self.stop_reason = None
        self.no_improvement_count = 0
        self.best_weights = None
        self.closing_message = None

    @property
    def n_outputs(self):
        """Width of the network's output (one logit per class, label or target)."""
        return int(self.network.output_shape_[-1])

    def continued(self, backend):
        """A copy to train further (``warm_start``, ``partial_fit``).

        The network and the optimizer state are copied onto ``backend``; the
        lists are copied; the rest is shared (never changed in place). This
        state stays as it was, whatever happens to the copy.
        """
        twin = object.__new__(FitState)
        vars(twin).update(vars(self))
        twin.network = self.network.copied(backend)
        twin.optimizer = None if self.optimizer is None else self.optimizer.copied(backend)
        for name in ("loss_curve", "history"):
            setattr(twin, name, list(getattr(self, name)))
        if self.validation_scores is not None:
            twin.validation_scores = list(self.validation_scores)
        return twin

    def snapshot(self):
        """A copy of the state as it is now, without the optimizer (what a
        callback's ``fitted_estimator`` is built from during training)."""
        twin = self.continued(self.network.backend)
        twin.optimizer = None
        return twin

    def __getstate__(self):
        from .._dispatch import _to_numpy_tree

        # Pickles hold NumPy arrays only (the network and the optimizer
        # convert their own), so a model fitted on a GPU loads anywhere.
        state = {k: _to_numpy_tree(v) for k, v in vars(self).items()}
        state["attribute_backend"] = None
        return portable(state)   # the dtype by name (skops.io trusts names)

    def __setstate__(self, state):
        vars(self).update(restored(state))
