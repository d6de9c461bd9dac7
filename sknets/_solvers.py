"""The solvers of the MLP-like estimators: mini-batch SGD/Adam/AdaGrad/RMSprop and L-BFGS.

:class:`SolverMixin` gives a :class:`~sknets._base.BaseNetwork` scikit-learn's
``MLPClassifier`` training parameters (names, defaults, meanings), the fitted
state they start from (a network built from ``random_state``), the trainer of
``solver`` (:class:`~sknets.training.MiniBatchTrainer` or
:class:`~sknets.training.LbfgsTrainer`) and scikit-learn's MLP fitted
attributes (``coefs_``, ``intercepts_``, ``loss_curve_``...). Used by the
MLPs, the ConvNet and the layer-list networks; the perceptron has its own.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils._param_validation import Interval, Options, StrOptions

from ._base import BaseNetwork
from ._dispatch import dispatch_backend, to_namespace
from ._memory import check_estimator_fit
from .network import Sequential
from .training import (
    STOCHASTIC_SOLVERS,
    FitState,
    LbfgsConfig,
    LbfgsTrainer,
    MiniBatchConfig,
    MiniBatchTrainer,
)

__all__ = ["SolverMixin"]


class SolverMixin:
    """Mini-batch and L-BFGS training of a network estimator (a mixin).

    Put it before the network base class:
    ``class MyNet(NetworkClassifierMixin, SolverMixin, BaseNetwork)``.
    """

    _parameter_constraints: dict = {
        **BaseNetwork._parameter_constraints,
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "adagrad", "rmsprop"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    def _check_solver(self):
        """True for stochastic solvers; ``AttributeError`` hides ``partial_fit`` otherwise."""
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _max_subtasks(self, incremental):
        """Epochs of this call for the callbacks (None when unknown: L-BFGS)."""
        if self.solver not in STOCHASTIC_SOLVERS:
            return None
        return 1 if incremental else self.max_iter

    def _start_state(self, X, Y, backend, dtype, random_state, continues, incremental):
        """The state this fit trains: a copy of the fitted one, or a new one."""
        if not continues:
            return self._new_state(X, Y, backend, dtype, random_state)
        if Y.shape[1] != self._state.n_outputs:
            raise ValueError(
                f"y has {Y.shape[1]} outputs but the fitted model has {self._state.n_outputs}.")
        return self._state.continued(backend)

    def _new_state(self, X, Y, backend, dtype, random_state):
        """A new fitted state: the network built for ``X``'s samples from
        ``random_state``, the loss for ``Y``, the encoding just validated."""
        shape = self._input_shape(X.shape[1])
        layers = self._build_layers(shape, Y.shape[1])
        # Sized before anything is allocated: beyond the memory available,
        # a ValueError names the layer and the parameter (sknets._memory).
        check_estimator_fit(self, X, layers, shape, dtype, backend)
        network = Sequential(layers).build(shape, backend, dtype, random_state)
        state = FitState(network, self._make_loss(Y), dtype, self._encoding(), self._architecture(),
                         dispatch_backend(X))
        if self.solver in STOCHASTIC_SOLVERS and self.early_stopping:
            state.validation_scores, state.best_validation_score = [], -np.inf
        else:
            state.best_loss = np.inf
        return state

    def _train(self, state, X, Y, sample_weight, incremental, tasks, random_state):
        """Run the trainer of ``solver`` on ``state``; True when Ctrl-C stopped it."""
        params = self.get_params(deep=False)
        if self.solver in STOCHASTIC_SOLVERS:
            config = MiniBatchConfig.from_params(
                params, random_state=random_state, stratify=is_classifier(self),
                predict_batch_rows=self._predict_batch_rows)
            trainer = MiniBatchTrainer(state, config, self._decode_targets,
                                       self._score_from_output, tasks)
        else:
            trainer = LbfgsTrainer(state, LbfgsConfig.from_params(params), tasks)
        return trainer.run(X, Y, sample_weight, incremental)

    def _fitted_attributes(self, state):
        """Every fitted attribute of ``state``, by name (what the commit sets)."""
        attrs = dict(state.encoding)
        if "classes_" in attrs:   # in fit's namespace, as scikit-learn's array-API classifiers
            attrs["classes_"] = to_namespace(attrs["classes_"], state.attribute_backend)
        attrs.update(
            _state=state, n_iter_=state.n_iter, t_=state.t, n_outputs_=state.n_outputs,
            out_activation_=state.loss.out_activation, history_=state.history,
            loss_curve_=state.loss_curve, best_loss_=state.best_loss,
            validation_scores_=state.validation_scores,
            best_validation_score_=state.best_validation_score, best_epoch_=state.best_epoch,
            stop_reason_=state.stop_reason)
        if state.loss_value is not None:
            attrs["loss_"] = state.loss_value
        layers = [layer for layer in state.network.layers
                  if "W" in layer.params and "b" in layer.params]
        attrs["coefs_"] = [to_namespace(layer.params["W"], state.attribute_backend)
                          for layer in layers]
        attrs["intercepts_"] = [to_namespace(layer.params["b"], state.attribute_backend)
                               for layer in layers]
        attrs["n_layers_"] = len(layers) + 1   # as scikit-learn's MLPs count: + the input
        return attrs
