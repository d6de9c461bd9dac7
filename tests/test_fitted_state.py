"""One fitted state, committed whole (issue 17).

A failed or interrupted fit never corrupts a model, a warm start never
silently ignores an architecture change, Ctrl-C is never swallowed, L-BFGS
knows batch normalization's running state, and inference never changes the
estimator. Each test fails on the engine before this change.
"""

import os
import pickle
import signal
import threading
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sknets import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from sknets.layers import Activation, BatchNormalization, Dense, Dropout
from sknets.optimizers import OPTIMIZERS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[::3], y[::3]


def _make(name, **params):
    base = {
        "mlp": lambda: MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=20),
        "perceptron": lambda: PerceptronClassifier(max_iter=20),
        "convnet": lambda: ConvNetClassifier(image_shape=(5, 6, 1), conv_filters=(4,),
                                             hidden_layer_sizes=(8,), max_iter=5),
        "nn": lambda: NeuralNetClassifier([Dense(16), Activation("relu")], max_iter=20),
    }[name]()
    return base.set_params(random_state=0, **params)


CLASSIFIERS = ["mlp", "perceptron", "convnet", "nn"]


def _snapshot(est, X):
    """What must not change: the pickle, and the predictions bit for bit."""
    return pickle.dumps(est), est.predict(X).copy()


def _assert_unchanged(est, X, before):
    data, pred = before
    assert pickle.dumps(est) == data
    np.testing.assert_array_equal(est.predict(X), pred)


# -- 1. a refused refit leaves the model as it was ---------------------------
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_refused_refit_keeps_the_fitted_model(name, cancer):
    """Before: classes_ became ['cat', 'dog'] and predictions agreed 0%."""
    X, y = cancer
    est = _make(name).fit(X, y)
    before = _snapshot(est, X)
    X_bad = X.copy()
    X_bad[0, 0] = 1e39   # beyond float32
    labels = np.where(y == 1, "cat", "dog")
    with pytest.raises(ValueError, match="float32"):
        est.set_params(dtype="float32").fit(X_bad, labels)
    est.set_params(dtype=None)
    _assert_unchanged(est, X, before)
    assert set(est.classes_) == {0, 1}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_unfitted_stays_unfitted_after_a_refused_fit(name, cancer):
    X, y = cancer
    X_bad = X.copy()
    X_bad[0, 0] = 1e39
    est = _make(name, dtype="float32")
    with pytest.raises(ValueError):
        est.fit(X_bad, y)
    assert not est.__sklearn_is_fitted__()
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_unavailable_backend_keeps_the_fitted_model(name, cancer):
    pytest.importorskip("sknets")
    from sknets.backend import gpu_available

    if gpu_available():
        pytest.skip("CuPy reaches a GPU here: backend='cupy' would work")
    X, y = cancer
    est = _make(name).fit(X, y)
    before = _snapshot(est, X)
    with pytest.raises((ImportError, RuntimeError)):
        est.set_params(backend="cupy").fit(X, y)
    est.set_params(backend=None)
    _assert_unchanged(est, X, before)


def test_bad_coef_init_keeps_the_fitted_perceptron(cancer):
    X, y = cancer
    est = _make("perceptron").fit(X, y)
    before = _snapshot(est, X)
    with pytest.raises(ValueError, match="coef_init"):
        est.fit(X, y, coef_init=np.zeros((3, 3)))
    _assert_unchanged(est, X, before)


def test_too_large_network_keeps_the_fitted_model(cancer):
    X, y = cancer
    est = _make("nn").fit(X, y)
    before = _snapshot(est, X)
    with pytest.raises((MemoryError, ValueError)):
        est.set_params(layers=[Dense(10**9)]).fit(X, y)
    est.set_params(layers=[Dense(16), Activation("relu")])
    _assert_unchanged(est, X, before)


def test_lbfgs_refusing_dropout_keeps_the_fitted_model(cancer):
    """Before: the network was rebuilt before L-BFGS refused the dropout, and
    predictions came from fresh random weights."""
    X, y = cancer
    est = _make("mlp").fit(X, y)
    before = _snapshot(est, X)
    with pytest.raises(ValueError, match="deterministic"):
        est.set_params(solver="lbfgs", dropout=0.5).fit(X, y)
    est.set_params(solver="adam", dropout=0.0)
    _assert_unchanged(est, X, before)


# -- 2. warm starts may not change the network -------------------------------
@pytest.mark.parametrize("params", [
    {"hidden_layer_sizes": (12, 7)}, {"activation": "tanh"}, {"dropout": 0.2},
    {"batch_normalization": True}, {"dtype": "float32"}])
def test_warm_start_refuses_architecture_changes(params, cancer):
    X, y = cancer
    est = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=5, warm_start=True,
                               random_state=0).fit(X, y)
    before = _snapshot(est, X)
    name = next(iter(params))
    fitted_value = est.get_params()[name]
    with pytest.raises(ValueError, match=f"{name}.*warm_start=False"):
        est.set_params(**params).fit(X, y)
    with pytest.raises(ValueError, match=name):
        est.partial_fit(X, y)
    _assert_unchanged(est.set_params(**{name: fitted_value}), X, before)
    est.set_params(**params, warm_start=False).fit(X, y)   # a refit builds the new network
    assert est.coefs_[0].shape[1] == (12 if name == "hidden_layer_sizes" else 16)


def test_warm_start_refuses_a_layer_change_and_names_it(cancer):
    X, y = cancer
    est = NeuralNetClassifier([Dense(16), Activation("relu")], max_iter=5, warm_start=True,
                              random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="layers__0__units"):
        est.set_params(layers__0__units=8).fit(X, y)
    est.set_params(layers__0__units=16)
    with pytest.raises(ValueError, match="layers"):
        est.set_params(layers=[Dense(16), Dropout(0.1), Activation("relu")]).fit(X, y)


def test_warm_start_keeps_training_parameters_changeable(cancer):
    """As in scikit-learn: learning_rate_init, max_iter, alpha... steer training only."""
    X, y = cancer
    est = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=5, warm_start=True,
                               random_state=0).fit(X, y)
    est.set_params(learning_rate_init=0.01, max_iter=3, alpha=0.1,
                   hidden_layer_sizes=[16]).fit(X, y)   # [16] is the same network as (16,)
    assert len(est.loss_curve_) == 8


# -- 3. an aborted fit does not look fitted ----------------------------------
class _RaisingCallback:
    """Raises at the end of the n-th epoch."""

    def __init__(self, at_epoch=2):
        self.at_epoch = at_epoch
        self.epochs = 0

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.task_name == "epoch":
            self.epochs += 1
            if self.epochs == self.at_epoch:
                raise RuntimeError("callback failure")

    def teardown(self, estimator, context):
        pass


def test_raising_callback_leaves_the_estimator_as_it_was(cancer):
    pytest.importorskip("sklearn.callback")
    X, y = cancer
    est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    est.set_callbacks(_RaisingCallback())
    with pytest.raises(RuntimeError, match="callback failure"):
        est.fit(X, y)
    assert not est.__sklearn_is_fitted__()   # before: "fitted", no coefs_
    est.set_callbacks().fit(X, y)
    before = _snapshot(est, X)
    est.set_callbacks(_RaisingCallback())
    with pytest.raises(RuntimeError, match="callback failure"):
        est.set_params(max_iter=4).fit(X, y)
    est.set_params(max_iter=5).set_callbacks()
    _assert_unchanged(est, X, before)


def _interrupt_at_step(monkeypatch, at_step):
    """A real Ctrl-C right after the optimizer's ``at_step``-th step."""
    calls = {"n": 0}
    cls = OPTIMIZERS["adam"]
    original = cls.update_params

    def step(self, params, grads):
        calls["n"] += 1
        original(self, params, grads)
        if calls["n"] == at_step:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cls, "update_params", step)
    return calls


def test_refit_interrupted_in_its_first_epoch_reports_its_own_loss(cancer, monkeypatch):
    """Before: loss_ was the previous fit's."""
    X, y = cancer
    est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=50, batch_size=20,
                               random_state=0).fit(X, y)
    previous = est.loss_
    _interrupt_at_step(monkeypatch, 2)
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        est.set_params(random_state=1).fit(X, y)
    assert est.n_iter_ == 0 and est.loss_ != previous and np.isfinite(est.loss_)


# -- 4. Ctrl-C stops the caller ----------------------------------------------
def test_ctrl_c_stops_a_partial_fit_loop(cancer, monkeypatch):
    """Before: the loop went on for hundreds of calls after Ctrl-C."""
    X, y = cancer
    est = MLPClassifierScratch(hidden_layer_sizes=(8,), batch_size=50, random_state=0)
    calls = _interrupt_at_step(monkeypatch, 10)   # in the third call (4 batches per call)
    done = 0
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        for _ in range(100):
            est.partial_fit(X, y, classes=[0, 1])
            done += 1
    assert done == 2 and calls["n"] == 10
    assert est.n_iter_ == 0 and len(est.loss_curve_) == 2   # committed: usable
    assert est.score(X, y) > 0.5


def test_ctrl_c_stops_a_grid_search(cancer, monkeypatch):
    """Before: one fit was cut short, scored, and the search ran on."""
    X, y = cancer
    calls = _interrupt_at_step(monkeypatch, 30)
    search = GridSearchCV(MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=10,
                                               random_state=0),
                          {"alpha": [1e-4, 1e-3, 1e-2]}, cv=2, n_jobs=1)
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    assert calls["n"] == 30
    assert not hasattr(search, "cv_results_")


# -- 5. batch normalization with L-BFGS ---------------------------------------
def test_lbfgs_sets_batch_normalization_statistics_from_the_training_data():
    """Before: predict used stale moving statistics (0.90 against 1.0)."""
    X, y = load_digits(return_X_y=True)
    X = X / 16
    est = MLPClassifierScratch(hidden_layer_sizes=(32,), solver="lbfgs",
                               batch_normalization=True, max_iter=100, random_state=0)
    est.fit(X, y)
    net = est._network
    z = net.forward(net.backend.asarray(X), training=True)   # batch statistics
    batch_accuracy = np.mean(est.classes_[np.argmax(np.asarray(z), axis=1)] == y)
    assert est.score(X, y) == batch_accuracy > 0.95


def test_lbfgs_refuses_stochastic_layers_by_their_flag(cancer):
    X, y = cancer

    class Noise(Dropout):   # not named Dropout: found by its flag
        pass

    est = NeuralNetClassifier([Dense(8), Noise(0.3)], solver="lbfgs", random_state=0)
    with pytest.raises(ValueError, match="deterministic"):
        est.fit(X, y)
    assert not est.__sklearn_is_fitted__()


# -- 6. and 7. inference never changes the estimator --------------------------
ALL = {
    **{name: (lambda name=name: _make(name)) for name in CLASSIFIERS},
    "mlp_regressor": lambda: MLPRegressorScratch(hidden_layer_sizes=(8,), max_iter=10,
                                                 random_state=0),
    "nn_regressor": lambda: NeuralNetRegressor([Dense(8), BatchNormalization(),
                                                Activation("relu")], max_iter=10,
                                               random_state=0),
}


@pytest.mark.parametrize("name", list(ALL))
def test_inference_leaves_the_estimator_unchanged(name, cancer):
    X, y = cancer
    est = ALL[name]().fit(X, y)
    data = pickle.dumps(est)
    state = {k: id(v) for k, v in vars(est).items()}
    layers = [dict(vars(layer)) for layer in est._network.layers]
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function",
                   "transform"):
        if hasattr(est, method):
            getattr(est, method)(X)
    est.score(X, y)
    est.summary(print_fn=None)
    assert pickle.dumps(est) == data
    assert {k: id(v) for k, v in vars(est).items()} == state
    assert [dict(vars(layer)) for layer in est._network.layers] == layers   # no caches left


@pytest.mark.parametrize("name", ["mlp", "convnet"])
def test_concurrent_predictions_in_different_namespaces(name, cancer):
    """Before: 9-11 of 48 calls raised (MLP), 40 of 48 (ConvNet)."""
    xps = pytest.importorskip("array_api_strict")
    X, y = cancer
    with sklearn.config_context(array_api_dispatch=True):
        est = _make(name).fit(xps.asarray(X), xps.asarray(y))
    with sklearn.config_context(array_api_dispatch=True):
        expected = np.asarray(est.predict_proba(xps.asarray(X)))
    errors, results = [], []

    def predict(strict):
        try:
            if strict:
                with sklearn.config_context(array_api_dispatch=True):
                    out = np.asarray(est.predict_proba(xps.asarray(X)))
            else:
                out = est.predict_proba(X)
            results.append(out)
        except Exception as exc:   # noqa: BLE001 - any failure is the finding
            errors.append(repr(exc))

    threads = [threading.Thread(target=predict, args=(i % 2 == 0,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(results) == 24
    for out in results:
        np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_fit_warnings_do_not_hide_a_clean_commit(cancer):
    """A normal fit still commits every attribute scikit-learn's MLP has."""
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=3,
                                   random_state=0).fit(X, y)
    for attr in ("classes_", "coefs_", "intercepts_", "n_iter_", "n_layers_", "n_outputs_",
                 "out_activation_", "loss_", "loss_curve_", "best_loss_", "t_",
                 "n_features_in_", "history_", "best_epoch_", "stop_reason_"):
        assert hasattr(est, attr), attr


def test_sequence_networks_train_further_on_copies():
    """Containers and recurrent layers copy their weights to train further:
    a partial_fit leaves the previously committed network untouched."""
    from sknets.layers import GRU, Conv1D, Residual

    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((60, 8, 2)), rng.randint(2, size=60)
    est = NeuralNetClassifier([Residual([Conv1D(2, 3, padding="same"), BatchNormalization()]),
                               GRU(4)], random_state=0)
    est.partial_fit(X, y, classes=[0, 1])
    committed = est._state
    weights = [{k: np.array(v) for k, v in {**layer.params, **layer.state}.items()}
               for layer in committed.network.layers]
    est.partial_fit(X, y)
    assert est._state is not committed and len(est.loss_curve_) == 2
    for layer, before in zip(committed.network.layers, weights):
        for k, v in {**layer.params, **layer.state}.items():
            np.testing.assert_array_equal(v, before[k])
