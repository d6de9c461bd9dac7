"""scikit-learn callbacks (sklearn.callback) and Ctrl-C during fit."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifierScratch, MLPRegressorScratch
from sknets.callbacks import HAS_SKLEARN_CALLBACKS
from sknets.optimizers import OPTIMIZERS

needs_callbacks = pytest.mark.skipif(
    not HAS_SKLEARN_CALLBACKS, reason="scikit-learn without sklearn.callback (< 1.9)"
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


class TaskCounter:
    """A FitCallback counting the tasks each estimator reports."""

    def __init__(self, stop_at_epoch=None):
        self.begun, self.ended = [], []
        self.stop_at_epoch = stop_at_epoch

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.begun.append((type(estimator).__name__, context.task_name))

    def on_fit_task_end(self, estimator, context, **kwargs):
        self.ended.append((type(estimator).__name__, context.task_name))
        n_epochs = self.ended.count((type(estimator).__name__, "epoch"))
        return context.task_name == "epoch" and n_epochs == self.stop_at_epoch

    def count(self, task_name, name="MLPClassifierScratch"):
        return self.ended.count((name, task_name))


class PropagatedCounter(TaskCounter):
    max_propagation_depth = None   # makes it an AutoPropagatedCallback


@needs_callbacks
def test_epoch_and_batch_tasks(digits):
    X, y = digits
    counter = TaskCounter()
    clf = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=4, batch_size=500,
                               random_state=0).set_callbacks(counter).fit(X, y)
    assert counter.count("fit") == 1
    assert counter.count("epoch") == clf.n_iter_ == 4
    assert counter.count("batch") == 4 * math.ceil(X.shape[0] / 500)
    assert sorted(counter.begun) == sorted(counter.ended)
    clf.partial_fit(X, y)
    assert counter.count("epoch") == 5 and counter.count("fit") == 2


@needs_callbacks
def test_callback_can_stop_training(digits):
    X, y = digits
    clf = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    clf.set_callbacks(TaskCounter(stop_at_epoch=3)).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.history_) == 3
    assert clf.stop_reason_ == "a callback asked to stop."


@needs_callbacks
def test_scoring_monitor_scores_each_epoch(digits):
    from sklearn.callback import ScoringMonitor

    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    clf.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert [r["task_id"] for r in epochs] == list(range(5))
    final = [r for r in rows if r["task_name"] == "fit"]
    assert final[0]["accuracy"] == pytest.approx(clf.score(X, y))
    # the last epoch's snapshot is the final model (no early stopping)
    assert epochs[-1]["accuracy"] == pytest.approx(clf.score(X, y))
    assert epochs[0]["accuracy"] < epochs[-1]["accuracy"]


@needs_callbacks
def test_scoring_monitor_with_lbfgs_and_regressor():
    from sklearn.callback import ScoringMonitor

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    monitor = ScoringMonitor(scoring="r2")
    reg = MLPRegressorScratch(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=15,
                              random_state=0).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    assert sum(r["task_name"] == "lbfgs-iter" for r in rows) == 0  # leaves: not scored
    assert rows[0]["task_name"] == "fit" and rows[0]["r2"] == pytest.approx(reg.score(X, y))


@needs_callbacks
def test_callbacks_propagate_from_grid_search_through_pipeline(digits):
    X, y = digits
    counter = PropagatedCounter()
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(hidden_layer_sizes=(8,),
                                                                max_iter=3, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifierscratch__alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(counter).fit(X, y)
    n_fits = 2 * 2 + 1
    assert counter.count("fit") == n_fits
    assert counter.count("epoch") == 3 * n_fits
    assert not hasattr(search.best_estimator_[-1], "_skl_callbacks")


@needs_callbacks
def test_progress_bar_shows_epochs(digits, capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(hidden_layer_sizes=(8,),
                                                                max_iter=2, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifierscratch__alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert "MLPClassifierScratch - epoch" in out
    assert "100%" in out


def test_works_without_sklearn_callback():
    """On a scikit-learn without sklearn.callback, sknets imports and fits."""
    code = textwrap.dedent("""
        import sys
        import sklearn.base, sklearn.model_selection, sklearn.pipeline  # noqa: F401
        sys.modules["sklearn.callback"] = None   # `from sklearn.callback import ...` fails
        import numpy as np
        import sknets
        from sknets.callbacks import HAS_SKLEARN_CALLBACKS
        assert not HAS_SKLEARN_CALLBACKS
        clf = sknets.MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=3)
        assert not hasattr(clf, "set_callbacks")
        X = np.random.RandomState(0).rand(40, 3); y = (X[:, 0] > 0.5).astype(int)
        clf.fit(X, y)
        print("OK", clf.n_iter_)
    """)
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "OK 3"


# --------------------------------------------------------------- Ctrl-C
def _interrupting_step(monkeypatch, at_step, action):
    """Make the optimizer's n-th step run ``action`` (after updating)."""
    calls = {"n": 0}
    cls = OPTIMIZERS["adam"]
    original = cls.update_params

    def step(self, params, grads):
        calls["n"] += 1
        original(self, params, grads)
        if calls["n"] == at_step:
            action()

    monkeypatch.setattr(cls, "update_params", step)
    return calls


def test_keyboard_interrupt_keeps_best_weights(digits, monkeypatch):
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=100,
                  max_iter=30, batch_size=400, random_state=0, dtype="float64",
                  learning_rate_init=0.02)
    n_batches = math.ceil(0.9 * X.shape[0] / 400)

    def interrupt():   # a real Ctrl-C, mid-epoch
        os.kill(os.getpid(), signal.SIGINT)

    calls = _interrupting_step(monkeypatch, 8 * n_batches + 2, interrupt)
    clf = MLPClassifierScratch(**params)
    with pytest.warns(UserWarning, match="interrupted by the user"), \
            pytest.raises(KeyboardInterrupt):   # committed, then raised again
        clf.fit(X, y)
    assert calls["n"] == 8 * n_batches + 2     # stopped right after that mini-batch
    assert clf.n_iter_ == len(clf.history_) == 8
    assert "KeyboardInterrupt" in clf.stop_reason_
    assert clf.best_epoch_ == int(np.argmax(clf.validation_scores_)) + 1
    assert clf.score(X, y) > 0.8               # usable
    monkeypatch.undo()
    ref = MLPClassifierScratch(**{**params, "max_iter": clf.best_epoch_}).fit(X, y)
    for a, b in zip(clf.coefs_, ref.coefs_):   # the best epoch's weights
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_ctrl_c_finishes_the_current_batch(digits, monkeypatch):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("a custom SIGINT handler is installed")
    X, y = digits

    def press_ctrl_c():   # what Python does on SIGINT: call the installed handler
        handler = signal.getsignal(signal.SIGINT)
        assert handler is not signal.default_int_handler, "fit should defer Ctrl-C"
        handler(signal.SIGINT, None)

    calls = _interrupting_step(monkeypatch, 5, press_ctrl_c)
    clf = MLPClassifierScratch(hidden_layer_sizes=(8,), batch_size=100, max_iter=10,
                               random_state=0)
    with pytest.warns(UserWarning, match="interrupted by the user"), \
            pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert calls["n"] == 5                      # stopped right after that batch
    assert clf.n_iter_ == 0 and clf.history_ == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert clf.predict(X).shape == y.shape


@needs_callbacks
def test_callback_stops_lbfgs():
    class StopAfter(TaskCounter):
        def on_fit_task_end(self, estimator, context, **kwargs):
            self.ended.append((type(estimator).__name__, context.task_name))
            return self.ended.count(("MLPRegressorScratch", "lbfgs-iter")) == 3

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = MLPRegressorScratch(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50,
                              random_state=0, dtype="float64")
    reg.set_callbacks(StopAfter()).fit(X, y)
    assert reg.n_iter_ == len(reg.loss_curve_) == 3
    assert reg.stop_reason_ == "a callback asked to stop."
    ref = MLPRegressorScratch(**reg.get_params()).set_params(max_iter=3).fit(X, y)
    for a, b in zip(reg.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_keyboard_interrupt_during_lbfgs(monkeypatch):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, random_state=0,
                  dtype="float64")
    calls = {"n": 0}
    import sknets.training.lbfgs as lbfgs

    original = lbfgs.batch_loss_and_grads

    def loss_and_grads(*args):
        calls["n"] += 1
        if calls["n"] == 8:
            os.kill(os.getpid(), signal.SIGINT)   # a real Ctrl-C
        return original(*args)

    monkeypatch.setattr(lbfgs, "batch_loss_and_grads", loss_and_grads)
    reg = MLPRegressorScratch(**params)
    with pytest.warns(UserWarning, match="interrupted by the user"), \
            pytest.raises(KeyboardInterrupt):
        reg.fit(X, y)
    monkeypatch.undo()
    assert 1 <= reg.n_iter_ == len(reg.loss_curve_) < 8
    assert np.isfinite(reg.loss_) and reg.loss_ == reg.loss_curve_[-1]
    # the model holds the last accepted L-BFGS iterate
    ref = MLPRegressorScratch(**{**params, "max_iter": reg.n_iter_})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    for a, b in zip(reg.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_second_ctrl_c_interrupts_at_once(digits, monkeypatch):
    """The first Ctrl-C is deferred to the end of the mini-batch; a second one
    raises KeyboardInterrupt at once, and fit lets it through without
    committing the half-updated network."""
    X, y = digits

    def twice():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    calls = _interrupting_step(monkeypatch, 3, twice)
    clf = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not clf.__sklearn_is_fitted__()   # mid-update: nothing committed
    assert calls["n"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler restored
