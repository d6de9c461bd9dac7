"""The per-epoch table (verbose), history_, early-stopping report, summary()."""

import io
import re
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV

from sknets import MLPClassifierScratch, MLPRegressorScratch
from sknets._display import EpochTable, mark_best

ROW = re.compile(r"^\s+\d+(\s+-?\d+\.\d+[+ ]?){1,3}\s+[\d.e+-]+\s+\d+\.\d+\s*$")


LEGEND = ("train_loss:", "valid_loss, valid_score:", "lr:", "+:", "rows:")


def _is_legend(line):
    return line.startswith(LEGEND)


def _table(out):
    """The printed lines from the header on (the legend lines come first)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if not _is_legend(line))
    assert all(_is_legend(line) for line in lines[:start])
    return lines[start:]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _fit(X, y, **params):
    kw = dict(hidden_layer_sizes=(16,), max_iter=12, random_state=0, dtype="float64")
    kw.update(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifierScratch(**kw).fit(X, y)


def test_verbose_zero_prints_nothing(digits, capsys):
    X, y = digits
    _fit(X, y, verbose=0, early_stopping=True)
    assert capsys.readouterr().out == ""


def test_table_rows_match_history(digits, capsys):
    X, y = digits
    clf = _fit(X, y, verbose=1, early_stopping=True, n_iter_no_change=50)
    lines = _table(capsys.readouterr().out)
    header = lines[0].split()
    assert header == ["epoch", "train_loss", "valid_loss", "valid_score", "lr", "dur"]
    assert set(lines[1]) <= {"-", " "}
    rows = lines[2:-1]
    assert len(rows) == len(clf.history_) == clf.n_iter_ == 12
    for line, record in zip(rows, clf.history_):
        assert ROW.match(line), line
        cells = line.split()
        assert int(cells[0]) == record["epoch"]
        assert float(cells[1].rstrip("+")) == pytest.approx(record["train_loss"], abs=1e-4)
        assert float(cells[3].rstrip("+")) == pytest.approx(record["valid_score"], abs=1e-4)
        # "+" marks exactly the values that are the best so far
        assert cells[1].endswith("+") == record["train_loss_best"]
        assert cells[2].endswith("+") == record["valid_loss_best"]
        assert cells[3].endswith("+") == record["valid_score_best"]
    assert lines[-1].startswith("Stopped after epoch 12: max_iter=12 epochs reached.")
    assert f"Restored the best weights, from epoch {clf.best_epoch_}." in lines[-1]


def test_history_records(digits):
    X, y = digits
    clf = _fit(X, y, early_stopping=True, n_iter_no_change=50)
    assert [h["epoch"] for h in clf.history_] == list(range(1, 13))
    assert [h["train_loss"] for h in clf.history_] == clf.loss_curve_
    assert [h["valid_score"] for h in clf.history_] == clf.validation_scores_
    for h in clf.history_:
        assert h["dur"] > 0 and h["learning_rate"] > 0 and h["valid_loss"] > 0
    best_flags = [h["train_loss"] for h in clf.history_ if h["train_loss_best"]]
    assert best_flags == sorted(best_flags, reverse=True)
    clf = _fit(X, y)
    assert "valid_loss" not in clf.history_[0]


def test_early_stopping_restores_best_epoch_weights(digits):
    X, y = digits
    clf = _fit(X, y, early_stopping=True, n_iter_no_change=2, max_iter=60,
               learning_rate_init=0.01)
    scores = clf.validation_scores_
    assert clf.n_iter_ < 60, "expected early stopping"
    assert clf.best_epoch_ == int(np.argmax(scores)) + 1
    assert clf.best_epoch_ < clf.n_iter_
    assert "did not improve" in clf.stop_reason_
    # Training only up to the best epoch gives the restored weights.
    ref = _fit(X, y, early_stopping=True, n_iter_no_change=2, max_iter=clf.best_epoch_,
               learning_rate_init=0.01)
    for a, b in zip(clf.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_stop_reason_without_validation(digits, capsys):
    X, y = digits
    clf = _fit(X, y, tol=10.0, n_iter_no_change=2, max_iter=50, verbose=True)
    # as scikit-learn: stops once more than n_iter_no_change epochs did not improve
    assert clf.n_iter_ == 2 + 2
    assert clf.stop_reason_.startswith("Training loss did not improve")
    assert clf.best_epoch_ == int(np.argmin(clf.loss_curve_)) + 1
    out = _table(capsys.readouterr().out)
    assert out[0].split() == ["epoch", "train_loss", "lr", "dur"]
    assert out[-1] == "Stopped after epoch 4: " + clf.stop_reason_


def test_parallel_grid_search_rows_not_garbled(digits, capsys):
    X, y = digits
    X, y = X[:400], y[:400]
    est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, verbose=1, random_state=0)
    with warnings.catch_warnings(), parallel_config(backend="threading"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        GridSearchCV(est, {"alpha": [1e-4, 1e-3, 1e-2]}, cv=2, n_jobs=3).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    header = "epoch train_loss lr dur".split()
    n_rows = 0
    for line in lines:
        if line.split() == header or set(line) <= {"-", " "} or _is_legend(line):
            continue
        if line.startswith("Stopped after epoch"):
            continue
        assert ROW.match(line), f"garbled line: {line!r}"
        n_rows += 1
    assert n_rows == 5 * (3 * 2 + 1)   # 6 fits in the search + the refit


def test_epoch_table_one_write_per_row():
    class Stream:
        def __init__(self):
            self.writes, self.flushes = [], 0

        def write(self, text):
            self.writes.append(text)

        def flush(self):
            self.flushes += 1

    stream = Stream()
    table = EpochTable(stream)
    history = []
    for epoch, loss in enumerate([1.0, 0.5, 0.7], 1):
        rec = {"epoch": epoch, "train_loss": loss, "learning_rate": 0.1, "dur": 0.01}
        mark_best(rec, history)
        history.append(rec)
        table.print_epoch(rec)
    assert len(stream.writes) == 3 and stream.flushes == 3
    assert stream.writes[0].count("\n") == 3 + 3        # legend (3 lines), header, rule, row
    assert all(w.count("\n") == 1 for w in stream.writes[1:])
    assert [h["train_loss_best"] for h in history] == [True, True, False]
    assert "0.5000+" in stream.writes[1] and "0.7000+" not in stream.writes[2]


# ------------------------------------------------------------------ summary
def test_summary_unfitted_matches_fitted(digits, capsys):
    X, y = digits
    est = MLPClassifierScratch(hidden_layer_sizes=(32, 16), max_iter=2, random_state=0)
    text = est.summary(input_shape=(64,), n_outputs=10)
    assert capsys.readouterr().out.strip() == text.strip()
    assert not hasattr(est, "_network") and not hasattr(est, "n_outputs_")
    n_params = 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert f"Total params: {n_params:,}" in text
    assert f"Trainable params: {n_params:,}" in text
    # dtype=None: float64, what float64 (and integer) input is computed in
    assert f"{n_params * 8 / 1024:,.1f} KiB (float64)" in text
    assert "(None, 16)" in text and "Dense(10)" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        assert est.summary(print_fn=None) == text
        est.fit(X.astype(np.float32), y)   # the fitted network's dtype
        assert f"{n_params * 4 / 1024:,.1f} KiB (float32)" in est.summary(print_fn=None)
    forced = est.set_params(dtype="float32").summary(input_shape=(64,), print_fn=None)
    assert f"{n_params * 4 / 1024:,.1f} KiB (float32)" in forced
    assert sum(c.size + b.size for c, b in zip(est.coefs_, est.intercepts_)) == n_params


def test_summary_errors_and_repr():
    est = MLPRegressorScratch(hidden_layer_sizes=(4,), dtype="float64")
    with pytest.raises(NotFittedError):
        est.summary()
    with pytest.raises(ValueError, match="input_shape"):
        est.summary(input_shape=(0,))
    text = est.summary(input_shape=7, print_fn=None)
    assert "Total params: 37" in text and "(float64)" in text
    assert repr(est) == "MLPRegressorScratch(dtype='float64', hidden_layer_sizes=(4,))"
    assert "<style>" in est._repr_html_()


def test_lbfgs_has_a_row_and_a_record_per_iteration(digits, capsys):
    X, y = digits
    clf = _fit(X, y, solver="lbfgs", max_iter=15, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if re.match(r"^\s+\d+\s+\d+\.\d+[+ ]\s+\d+\.\d+\s*$", line)]
    assert len(rows) == len(clf.history_) == clf.n_iter_ == len(clf.loss_curve_)
    assert [h["train_loss"] for h in clf.history_] == clf.loss_curve_
    assert all(h["dur"] >= 0 for h in clf.history_)
    assert lines[-1].startswith(f"Stopped after iteration {clf.n_iter_}:")
    # L-BFGS only accepts iterates that lower the loss: each one is the best so far
    assert all(h["train_loss_best"] for h in clf.history_)
    _fit(X, y, solver="lbfgs", max_iter=5, verbose=0)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------- legend and cadence
def test_legend_explains_lr_and_the_best_mark(digits, capsys):
    """Before: ``lr`` rose from 0.00016 toward 0.00087 with
    learning_rate_init=0.001, unexplained, and ``+`` had no legend."""
    X, y = digits
    clf = _fit(X, y, verbose=1, early_stopping=True, n_iter_no_change=50, max_iter=5)
    out = capsys.readouterr().out
    legend = out.split("\n    epoch")[0]
    assert "lr: the step size of the epoch" in legend
    assert "learning_rate_init" in legend and "beta_1" in legend   # Adam's bias correction
    assert "+: the best value so far" in legend
    assert "valid_score" in legend and "rows:" not in legend      # a short fit: every row
    # the lr column is that step: below learning_rate_init, rising toward it
    lrs = [h["learning_rate"] for h in clf.history_]
    assert lrs == sorted(lrs) and lrs[-1] < clf.learning_rate_init


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_one_prints_a_cadence_verbose_two_every_epoch(digits, capsys, verbose):
    """Before: the main job printed 200 near-identical rows."""
    X, y = digits
    clf = _fit(X[:300], y[:300], verbose=verbose, early_stopping=True, n_iter_no_change=100,
               max_iter=60)
    lines = _table(capsys.readouterr().out)
    rows = [line for line in lines[2:-1]]
    epochs = [int(line.split()[0]) for line in rows]
    if verbose == 2:
        assert epochs == list(range(1, 61))
        return
    every = 5   # ceil((60 - 10) / 12)
    best = {h["epoch"] for h in clf.history_ if h["valid_score_best"]}
    expected = set(range(1, 11)) | {60}
    for end in range(10 + every, 61, every):   # each stretch: its last new best, its end
        expected.add(end)
        in_stretch = [e for e in best if end - every < e <= end]
        if in_stretch:
            expected.add(max(in_stretch))
    tail = [e for e in best if e > 60 - (60 - 10) % every]
    if tail:
        expected.add(max(tail))
    assert epochs == sorted(expected)
    assert len(epochs) < 60
    assert lines[-1].startswith("Stopped after epoch 60")


@pytest.mark.parametrize("max_epochs", [21, 200, 2000, 100_000])
def test_cadence_is_capped_whatever_the_epochs_and_the_new_bests(max_epochs):
    """Before: every new best was printed, so a regression whose validation
    score improves at almost every epoch printed almost every epoch (1,286
    lines for the main job's diabetes example at 2000 epochs)."""
    stream = io.StringIO()
    table = EpochTable(stream, verbose=1, max_epochs=max_epochs)
    history = []
    for epoch in range(1, max_epochs + 1):
        rec = {"epoch": epoch, "train_loss": 1.0 / epoch, "valid_loss": 1.0 / epoch,
               "valid_score": 1.0 - 1.0 / epoch if epoch % 7 else 0.0, "dur": 0.0}
        mark_best(rec, history)
        history.append(rec)
        table.print_epoch(rec)
    table.print_message("done")
    lines = stream.getvalue().splitlines()
    rows = [int(line.split()[0]) for line in lines if re.match(r"\s+\d+\s", line)]
    assert rows[:10] == list(range(1, 11)) and rows[-1] == max_epochs
    assert rows == sorted(set(rows))
    assert len(rows) <= 36
    assert lines[-1] == "done"


def test_cadence_prints_the_last_epoch_when_stopping_early(digits, capsys):
    X, y = digits
    clf = _fit(X, y, verbose=1, tol=10.0, n_iter_no_change=12, max_iter=100)
    lines = _table(capsys.readouterr().out)
    epochs = [int(line.split()[0]) for line in lines[2:-1]]
    # as scikit-learn: stops once more than n_iter_no_change epochs did not improve
    assert epochs[-1] == clf.n_iter_ == 14
    assert epochs[:10] == list(range(1, 11)) and 11 not in epochs   # one in 8 after 10
    assert lines[-1].startswith("Stopped after epoch 14")


def test_perceptron_legend_defines_its_loss_and_lr(digits, capsys):
    """Before: the perceptron's table explained ``lr`` in terms of Adam and
    never said what its losses are."""
    from sknets import PerceptronClassifier

    X, y = digits
    PerceptronClassifier(early_stopping=True, max_iter=5, tol=None, random_state=0,
                         verbose=1).fit(X, y)
    legend = capsys.readouterr().out.split("\n    epoch")[0]
    assert "train_loss: the perceptron criterion max(0, -y z)" in legend
    assert "lr: eta0" in legend and "w += lr * y * x" in legend
    assert "valid_loss, valid_score: the criterion and the accuracy" in legend
    assert "Adam" not in legend
