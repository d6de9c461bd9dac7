"""The trainers' named steps, one at a time, on tiny networks and fakes."""

import numpy as np
import pytest

from sknets.backend import get_backend
from sknets.callbacks import FitTasks
from sknets.exceptions import DivergenceError
from sknets.layers import Activation, BatchNormalization, Dense, Dropout
from sknets.losses import PerceptronCriterion, SoftmaxCrossEntropy, SquaredError
from sknets.network import Sequential
from sknets.training import (
    FitState,
    LbfgsConfig,
    LbfgsTrainer,
    MiniBatchConfig,
    MiniBatchTrainer,
    PerceptronConfig,
    PerceptronTrainer,
    make_optimizer,
)
from sknets.training._common import EpochLog, batch_loss_and_grads

NUMPY = get_backend("numpy")


class _Est:
    """The least an estimator is for FitTasks: no callbacks."""


def _tasks():
    return FitTasks(_Est(), None, None, None, 0)


def _state(layers, n_features, loss=None, seed=0):
    net = Sequential(layers).build((n_features,), NUMPY, np.float64,
                                   np.random.RandomState(seed))
    state = FitState(net, loss or SquaredError(), np.float64, {}, {})
    state.best_loss = np.inf
    return state


def _regression(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 3))
    return X, (X @ np.array([[1.0], [-2.0], [0.5]]))


# -- the fitted state -------------------------------------------------------
def test_continued_state_is_a_copy_that_leaves_the_original_alone():
    state = _state([Dense(2)], 3)
    state.loss_curve.append(1.0)
    twin = state.continued(NUMPY)
    twin.network.layers[0].params["W"] += 1.0
    twin.loss_curve.append(0.5)
    assert not np.shares_memory(twin.network.layers[0].params["W"],
                                state.network.layers[0].params["W"])
    assert state.loss_curve == [1.0]
    assert twin.n_outputs == state.n_outputs == 2


def test_snapshot_drops_the_optimizer():
    state = _state([Dense(1)], 3)
    state.optimizer = make_optimizer(MiniBatchConfig(), state.network.params)
    assert state.snapshot().optimizer is None and state.optimizer is not None


# -- shared steps -------------------------------------------------------------
def test_batch_loss_and_grads_adds_the_l2_penalty_to_loss_and_gradient():
    X, Y = _regression()
    plain, penalized = _state([Dense(1)], 3), _state([Dense(1)], 3)
    loss0 = float(batch_loss_and_grads(plain.network, plain.loss, 0.0, X, Y, None))
    loss1 = float(batch_loss_and_grads(penalized.network, penalized.loss, 0.5, X, Y, None))
    W = plain.network.layers[0].params["W"]
    np.testing.assert_allclose(loss1 - loss0, 0.5 * 0.5 * np.sum(W * W) / len(X))
    np.testing.assert_allclose(penalized.network.layers[0].grads["W"]
                               - plain.network.layers[0].grads["W"], 0.5 * W / len(X))


def test_epoch_log_marks_bests_and_finds_the_best_epoch():
    state = _state([Dense(1)], 3)
    log = EpochLog(state, verbose=0, max_epochs=3)
    for epoch, loss in enumerate([3.0, 1.0, 2.0], start=1):
        log.record({"epoch": epoch, "train_loss": loss})
    assert [h["train_loss_best"] for h in state.history] == [True, True, False]
    assert log.best_epoch("train_loss_best") == 2


# -- the mini-batch trainer ---------------------------------------------------
def _minibatch(state, **config):
    return MiniBatchTrainer(state, MiniBatchConfig(**config), lambda Y: Y.ravel(),
                            lambda out, y, sw: -float(np.mean((out.ravel() - y) ** 2)),
                            _tasks())


def test_split_validation_holds_out_the_fraction():
    X, Y = _regression(50)
    trainer = _minibatch(_state([Dense(1)], 3), early_stopping=True, validation_fraction=0.2,
                         random_state=np.random.RandomState(0))
    (X_train, Y_train, _), (X_val, Y_val, y_val, _) = trainer.split_validation(X, Y, None)
    assert len(X_train) == 40 and len(X_val) == 10
    np.testing.assert_array_equal(y_val, Y_val.ravel())
    assert trainer.split_validation(X, Y, None)[1] is not None
    no_split = _minibatch(_state([Dense(1)], 3)).split_validation(X, Y, None)
    assert no_split[1] is None and no_split[0][0] is X


def test_should_stop_follows_scikit_learns_rule():
    state = _state([Dense(1)], 3)
    trainer = _minibatch(state, max_iter=100, n_iter_no_change=2, solver="sgd")
    trainer.prepare(*_regression(), None, incremental=False)
    state.n_iter = 5
    state.no_improvement_count = 2
    assert trainer.should_stop(incremental=False) is None   # not more than 2 yet
    state.no_improvement_count = 3
    assert "did not improve" in trainer.should_stop(incremental=False)
    state.no_improvement_count = 0
    assert trainer.should_stop(incremental=True) == "partial_fit runs one epoch."
    state.n_iter = 100
    with pytest.warns(Warning, match="Maximum iterations"):
        assert "max_iter" in trainer.should_stop(incremental=False)


def test_check_divergence_raises_without_early_stopping_and_restores_weights():
    state = _state([Dense(1)], 3)
    trainer = _minibatch(state, learning_rate_init=0.01)
    trainer.prepare(*_regression(), None, incremental=False)
    snapshot = state.network.get_weights()
    state.network.layers[0].params["W"][...] = np.inf
    with pytest.raises(DivergenceError, match="non-finite"):
        trainer.check_divergence(np.float64(1.0), snapshot, 0.0)
    np.testing.assert_array_equal(state.network.layers[0].params["W"], snapshot[0])
    assert not trainer.check_divergence(np.float64(1.0), snapshot, 0.0)


def test_run_epoch_takes_one_step_per_batch_and_returns_the_summed_loss():
    X, Y = _regression(40)
    state = _state([Dense(1)], 3)
    trainer = _minibatch(state, batch_size=10, shuffle=False, solver="sgd", momentum=0.0,
                         alpha=0.0, learning_rate_init=1e-300)   # the first weights' loss
    trainer.prepare(X, Y, None, incremental=False)

    class NoInterrupt:
        def check(self):
            pass

    loss_sum = trainer.run_epoch(NoInterrupt())
    W, b = (state.network.layers[0].params[k] for k in ("W", "b"))
    np.testing.assert_allclose(float(loss_sum), 40 * 0.5 * np.mean((X @ W + b - Y) ** 2))
    assert len(trainer.data.batches) == 4


def test_minibatch_run_trains_and_records_every_epoch():
    X, Y = _regression(60)
    state = _state([Dense(1)], 3)
    with pytest.warns(Warning, match="Maximum iterations"):
        interrupted = _minibatch(state, max_iter=100, learning_rate_init=0.1, batch_size=10,
                                 random_state=np.random.RandomState(0),
                                 n_iter_no_change=1000).run(X, Y, None, incremental=False)
    assert not interrupted and state.n_iter == 100 == len(state.history)
    assert state.loss_curve[-1] < state.loss_curve[0] / 10


# -- the L-BFGS trainer -------------------------------------------------------
def test_lbfgs_check_network_refuses_stochastic_layers():
    state = _state([Dense(4), Dropout(0.5), Dense(1)], 3)
    with pytest.raises(ValueError, match="deterministic.*Dropout"):
        LbfgsTrainer(state, LbfgsConfig(), _tasks()).check_network()
    LbfgsTrainer(_state([Dense(4), Dropout(0.0), Dense(1)], 3), LbfgsConfig(),
                 _tasks()).check_network()


def test_lbfgs_objective_matches_a_finite_difference():
    X, Y = _regression()
    trainer = LbfgsTrainer(_state([Dense(2), Activation("tanh"), Dense(1)], 3),
                           LbfgsConfig(alpha=0.1), _tasks())
    trainer.prepare(X, Y, None)
    theta = trainer.flat.pack()
    value, grad = trainer.objective(theta)
    e = np.zeros_like(theta)
    e[3] = 1e-6
    numeric = (trainer.objective(theta + e)[0] - trainer.objective(theta - e)[0]) / 2e-6
    np.testing.assert_allclose(grad[3], numeric, rtol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lbfgs_finish_sets_running_statistics_from_the_full_batch():
    X, Y = _regression(30)
    state = _state([Dense(4), BatchNormalization(), Dense(1)], 3)
    trainer = LbfgsTrainer(state, LbfgsConfig(max_iter=5), _tasks())
    trainer.run(X, Y, None)
    net = state.network
    np.testing.assert_allclose(net.forward(X), net.forward(X, training=True), rtol=1e-10)


# -- the perceptron trainer ---------------------------------------------------
def _perceptron_problems(X, y, mask=None):
    from sknets._perceptron_ovr import setup_problems

    problems = setup_problems(X, y, np.unique(y))
    if mask is not None:
        problems.validation_mask = mask
    return problems


def test_perceptron_problems_stop_on_their_own():
    trainer = PerceptronTrainer(_state([Dense(2)], 3, PerceptronCriterion()),
                                PerceptronConfig(n_iter_no_change=1, tol=0.1), None, _tasks())
    X, y = np.eye(3), np.array([0, 1, 2])
    trainer.prepare(_perceptron_problems(X, y), y)
    trainer.stopping = type(trainer.stopping)(2, 0.1, 1, False)
    trainer.update_problems(np.array([1.0, 1.0]), 0)
    trainer.update_problems(np.array([0.5, 0.95]), 1)   # the second: within tol
    assert trainer.stopping.active.tolist() == [True, False]
    assert trainer.stopping.n_iter.tolist() == [2, 2]


def test_perceptron_epoch_is_the_perceptron_rule():
    from sknets._interrupt import DeferredInterrupt

    state = _state([Dense(1)], 2, PerceptronCriterion())
    trainer = PerceptronTrainer(state, PerceptronConfig(eta0=1.0, shuffle=False), None,
                                _tasks())
    X, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1, 0])
    for v in state.network.layers[0].params.values():
        v[...] = 0.0   # the perceptron starts from zeros
    trainer.prepare(_perceptron_problems(X, y), y)
    ran, result = trainer.run_epoch(DeferredInterrupt())
    trainer.write_back()
    # first sample: z = 0 counts as a mistake: w = x, b = 1; second (y = -1):
    # z = 3 - 2 + 1 = 2 > 0, a mistake: w -= x, b -= 1
    W, b = state.network.layers[0].params["W"], state.network.layers[0].params["b"]
    np.testing.assert_allclose(W.ravel(), [1.0 - 3.0, 2.0 + 1.0])
    np.testing.assert_allclose(b, [0.0])
    np.testing.assert_allclose(result.objective, [2.0])   # max(0, -y z): 0, then 2
    assert ran.tolist() == [True]


def test_perceptron_divergence_names_the_cause():
    state = _state([Dense(1)], 2, PerceptronCriterion(), )
    trainer = PerceptronTrainer(state, PerceptronConfig(), None, _tasks())
    X, y = np.array([[1e300, 1.0], [-1e300, 1.0]]), np.array([1, 0])
    trainer.prepare(_perceptron_problems(X, y), y)
    trainer.weights.w[:] = 1e10   # finite weights, but w @ x overflows
    from sknets._perceptron_epoch import EpochResult

    with pytest.raises(DivergenceError, match="bound on the logits"):
        trainer.check_divergence(np.array([True]), EpochResult.zeros(1), 0)


def test_softmax_state_reports_its_width():
    state = _state([Dense(5)], 3, SoftmaxCrossEntropy())
    assert state.n_outputs == 5
