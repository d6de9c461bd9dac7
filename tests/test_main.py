"""The main job, ``python -m sknets``: output, datasets, errors and saving."""

import os
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from sknets.__main__ import MODELS, load_dataset, main


def epoch_numbers(out):
    """Epoch numbers of the per-epoch table rows (a row starts with its epoch)."""
    return [int(m) for m in re.findall(r"^\s*(\d+)\s+\d+\.\d+", out, flags=re.M)]


def printed_score(out, metric="accuracy"):
    match = re.search(rf"^Test {re.escape(metric)}: (-?\d+\.\d+)", out, flags=re.M)
    assert match, out
    return float(match.group(1))


def one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sknets: error:")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def iris_csv(tmp_path):
    X, y = load_iris(return_X_y=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "iris.csv"
    lines = ["species," + ",".join(names)]  # the label first, to exercise --label-column
    lines += [s + "," + ",".join(f"{v:g}" for v in row) for s, row in zip(species, X)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_digits_summary_epochs_and_accuracy(capsys):
    code = main(["--epochs", "100"])
    out = capsys.readouterr().out
    assert code == 0
    assert "MLPClassifierScratch on digits: 1797 samples, 64 features, 10 classes" in out
    # The summary table: 64 -> 100 -> 10 has 64*100+100 + 100*10+10 parameters.
    assert re.search(r"Dense\(100\)\s+\(None, 100\)\s+6,500", out), out
    assert "Total params: 7,510" in out
    # printed before training (as Keras does), ahead of the epoch table
    assert out.index("Total params") < out.index("train_loss")
    # Rows with a validation score at a readable cadence (every epoch up to
    # 10, then the end of each stretch of 8 epochs (ceil(90 / 12)) after the
    # stretch's last new best, and the last), then the test score and the time.
    assert "valid_score" in out
    assert "lr: the step size of the epoch" in out and "+: the best value so far" in out
    epochs = epoch_numbers(out)
    assert epochs[:10] == list(range(1, 11)) and epochs[-1] == 100
    assert epochs == sorted(set(epochs)) and 20 <= len(epochs) <= 36
    rows = {int(line.split()[0]): line for line in out.splitlines()
            if re.match(r"^\s*\d+\s+\d+\.\d+", line)}
    for epoch in epochs[10:-1]:   # off the cadence: a new best validation score
        assert (epoch - 10) % 8 == 0 or rows[epoch].split()[3].endswith("+"), rows[epoch]
    assert printed_score(out) >= 0.93
    assert re.search(r"^Total time: \d+\.\d+ s", out, flags=re.M)


def test_patience_stops_early(capsys):
    assert main(["--epochs", "200", "--patience", "2", "--hidden-layer-sizes", "16"]) == 0
    out = capsys.readouterr().out
    epochs = epoch_numbers(out)
    assert epochs[:3] == [1, 2, 3] and epochs == sorted(set(epochs))
    assert 3 <= epochs[-1] < 200
    assert "Dense(16)" in out


def test_xor_mlp_learns_it(capsys):
    assert main(["--dataset", "xor", "--epochs", "300", "--hidden-layer-sizes", "16,16",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Model summary" not in out and epoch_numbers(out) == []  # --quiet
    assert printed_score(out) >= 0.9


def test_regression_dataset_reports_r2(capsys):
    assert main(["--dataset", "diabetes", "--epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "MLPRegressorScratch on diabetes" in out
    printed_score(out, "R^2")  # R^2 (poor after 5 epochs), not an accuracy
    assert "Test accuracy" not in out
    # A classifier cannot take continuous targets.
    assert main(["--dataset", "diabetes", "--model", "perceptron"]) == 2
    assert "classifier" in one_line_error(capsys.readouterr().err)


def test_csv_with_header_and_label_name(iris_csv, capsys):
    # 112 training rows make one mini-batch: one Adam step per epoch.
    code = main(["--dataset", str(iris_csv), "--label-column", "species", "--epochs", "500"])
    out = capsys.readouterr().out
    assert code == 0
    assert "on iris.csv: 150 samples, 4 features, 3 classes" in out
    assert printed_score(out) >= 0.85


def test_csv_label_index_without_header(tmp_path):
    X, y = load_iris(return_X_y=True)
    path = tmp_path / "plain.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",")
    data = load_dataset(str(path))  # default: the last column
    np.testing.assert_allclose(data.X, X)
    np.testing.assert_array_equal(data.y, y)
    data = load_dataset(str(path), label_column="0")
    np.testing.assert_allclose(data.y, X[:, 0])
    assert data.task == "regression"  # non-integer targets
    np.testing.assert_allclose(data.X, np.column_stack([X[:, 1:], y]))


def test_npz_default_keys_and_uint8_scaling(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    X8 = np.round(X / X.max() * 255).astype(np.uint8)
    path = tmp_path / "iris8.npz"
    np.savez(path, X=X8, y=y)
    data = load_dataset(str(path))
    assert data.scaling == "X/255"
    np.testing.assert_allclose(data.X, X8 / 255.0)
    assert main(["--dataset", str(path), "--epochs", "3", "--quiet"]) == 0
    printed_score(capsys.readouterr().out)


def test_bad_path_unknown_dataset_bad_column(iris_csv, tmp_path, capsys):
    cases = [
        (["--dataset", str(tmp_path / "missing.csv")], "no such file"),
        (["--dataset", "mnist_from_nowhere"], "unknown dataset"),
        (["--dataset", str(iris_csv), "--label-column", "colour"], "no column named 'colour'"),
        (["--dataset", str(iris_csv), "--label-column", "9"], "out of range"),
        # With the default (last) label column, the text column is a feature.
        (["--dataset", str(iris_csv)],
         "feature column 1 ('species') is not numeric ('setosa' in row 2"),
    ]
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive")
    cases.append((["--dataset", str(garbage)], "cannot read"))
    for argv, message in cases:
        assert main(argv + ["--epochs", "1"]) == 2, argv
        line = one_line_error(capsys.readouterr().err)
        assert message in line, (argv, line)


@pytest.mark.parametrize("cell", ["", " ", "NA", "nan"])
def test_csv_missing_value_is_named_with_its_row_and_column(iris_csv, cell, capsys):
    """Before: an empty cell was reported as a column that is "not numeric"."""
    lines = iris_csv.read_text().splitlines()
    cells = lines[5].split(",")
    cells[3] = cell                      # line 6 of the file, column 4 (petal_length)
    lines[5] = ",".join(cells)
    iris_csv.write_text("\n".join(lines) + "\n")
    assert main(["--dataset", str(iris_csv), "--label-column", "species", "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    line = one_line_error(captured.err)
    assert "missing value in row 6, column 4 ('petal_length')" in line, line
    assert captured.out == ""


def test_unusable_backend_is_one_line_before_any_output(monkeypatch, capsys):
    """Before: ``--backend cupy`` without CuPy printed the summary, then the
    error, and exited 1."""
    import sknets.backend

    def no_cupy():
        raise ImportError("backend='cupy' needs CuPy, which is not installed")

    monkeypatch.setattr(sknets.backend, "_cupy_backend", no_cupy)
    assert main(["--backend", "cupy", "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--backend cupy: ImportError: backend='cupy' needs CuPy" in one_line_error(captured.err)


def test_ctrl_c_reports_on_the_model_trained_so_far(monkeypatch, capsys):
    """Ctrl-C during training: the estimator commits the last completed
    epoch's model and raises KeyboardInterrupt again; the job reports the
    test score of that model and exits with 130."""
    import signal

    from sknets.optimizers import OPTIMIZERS

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("a custom SIGINT handler is installed")
    cls, calls = OPTIMIZERS["adam"], {"n": 0}
    original = cls.update_params

    def step(self, params, grads):
        calls["n"] += 1
        original(self, params, grads)
        if calls["n"] == 20:                                  # during epoch 3
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)   # what Ctrl-C calls

    monkeypatch.setattr(cls, "update_params", step)
    assert main(["--epochs", "50"]) == 130
    captured = capsys.readouterr()
    assert "Interrupted (Ctrl-C) after epoch 2: reporting on the model" in captured.out
    assert printed_score(captured.out) > 0.2                   # chance: 0.1
    assert captured.err == ""                                  # no warning, no traceback


def test_bad_option_value_exits_2(tmp_path, capsys):
    assert main(["--epochs", "0"]) == 2
    one_line_error(capsys.readouterr().err)
    assert main(["--hidden-layer-sizes", "ten"]) == 2
    assert "hidden-layer-sizes" in one_line_error(capsys.readouterr().err)
    assert main(["--model", "foo"]) == 2          # argparse's own errors: one line too
    assert "invalid choice: 'foo'" in one_line_error(capsys.readouterr().err)
    assert main(["--save", "/no/such/dir/model.joblib"]) == 2  # checked before training
    assert "--save" in one_line_error(capsys.readouterr().err)
    assert main(["--save", str(tmp_path)]) == 2   # a directory, not a file
    assert "is a directory" in one_line_error(capsys.readouterr().err)


def test_save_writes_a_model_that_predicts_the_same(tmp_path, capsys):
    path = tmp_path / "model.joblib"
    assert main(["--dataset", "wine", "--epochs", "30", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"to {path}" in out
    model = joblib.load(path)
    # wine is standardised: the scaler is saved with the estimator in a Pipeline.
    assert type(model).__name__ == "Pipeline"
    from sklearn.model_selection import train_test_split

    data = load_dataset("wine")
    _, X_test, _, y_test = train_test_split(data.X, data.y, test_size=0.25, stratify=data.y,
                                            random_state=0)
    assert round(model.score(X_test, y_test), 4) == printed_score(out)


def test_unavailable_model_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(MODELS, "future", ("NoSuchNetClassifier", None))
    assert main(["--model", "future", "--epochs", "1"]) == 2
    assert "sknets.NoSuchNetClassifier is not available" in one_line_error(capsys.readouterr().err)


def test_perceptron_cannot_learn_xor(capsys):
    import sknets

    if not hasattr(sknets, "PerceptronClassifier"):
        pytest.skip("sknets.PerceptronClassifier not available yet")
    assert main(["--model", "perceptron", "--dataset", "xor", "--epochs", "50"]) == 0
    out = capsys.readouterr().out
    assert "PerceptronClassifier on xor" in out
    assert printed_score(out) < 0.75  # a linear boundary cannot separate XOR


def test_module_entry_point_runs():
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-m", "sknets", "--epochs", "2"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Total params: 7,510" in proc.stdout
    assert epoch_numbers(proc.stdout) == [1, 2]
    assert "Test accuracy:" in proc.stdout


@pytest.mark.parametrize("argv", [["--model", "convnet"], ["--model", "perceptron"],
                                  ["--dataset", "breast_cancer"], ["--dataset", "diabetes"]])
def test_summary_before_training_is_the_fitted_network(argv, monkeypatch, capsys):
    """The table printed before training describes the network fit builds."""
    from sklearn.pipeline import Pipeline

    from sknets import __main__ as job

    fitted = {}
    original = job.run

    def run(args, out=None):
        fitted["model"] = original(args, out)
        return fitted["model"]

    monkeypatch.setattr(job, "run", run)
    assert main(argv + ["--epochs", "1"]) == 0
    out = capsys.readouterr().out
    model = fitted["model"]
    est = model[-1] if isinstance(model, Pipeline) else model
    table = est.summary(print_fn=None)
    assert table in out and out.index(table) < out.index("train_loss")


# ------------------------------------------------------------------- MNIST
def test_mnist_offline_is_a_one_line_error_naming_the_npz_fallback(monkeypatch, capsys):
    """No network in tests: fetch_openml raises as it does offline."""
    import urllib.error

    import sklearn.datasets

    calls = []

    def offline(name, **kwargs):
        calls.append(name)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    assert main(["--dataset", "mnist", "--epochs", "1"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert calls == ["mnist_784"]
    assert "mnist" in line and "OpenML" in line and "cached" in line
    assert "--dataset path/to/mnist10k.npz" in line


def test_mnist_is_fetched_from_openml_and_scaled(monkeypatch, capsys):
    """The loader asks fetch_openml for mnist_784 (arrays), scales the
    pixels by 1/255 and turns OpenML's string labels into ints."""
    import sklearn.datasets

    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, size=(120, 784)).astype(np.float64)
    labels = np.array([str(d) for d in rng.randint(0, 10, size=120)], dtype=object)
    seen = {}

    def fake_fetch(name, **kwargs):
        seen.update(kwargs, name=name)
        return pixels, labels

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch)
    data = load_dataset("mnist")
    assert seen["name"] == "mnist_784" and seen["as_frame"] is False
    assert data.X.shape == (120, 784) and data.X.max() <= 1.0
    np.testing.assert_allclose(data.X, pixels / 255)
    assert data.y.dtype.kind == "i" and data.task == "classification"
    assert main(["--dataset", "mnist", "--epochs", "1", "--hidden-layer-sizes", "8"]) == 0
    out = capsys.readouterr().out
    assert "on mnist: 120 samples, 784 features" in out and "X/255" in out


def test_help_shows_a_placeholder_path_not_a_machine_path(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "path/to/mnist10k.npz" in " ".join(text.split())
    assert "mnist" in text
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1]
    for path in [root / "README.md", *sorted((root / "benchmarks").glob("*.py"))]:
        assert "/work/" not in path.read_text(), path
