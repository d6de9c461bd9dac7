"""The README's "Saving and deploying" blocks run as written, on a fitted model."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from test_readme import README, section_blocks

from sknets import MLPClassifierScratch


def _namespace():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, stratify=y, random_state=0)
    clf = MLPClassifierScratch((16,), max_iter=20, random_state=0).fit(X_train, y_train)
    return {"__name__": "readme", "MLPClassifierScratch": MLPClassifierScratch, "clf": clf,
            "X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


def _run(heading, tmp_path, monkeypatch):
    blocks = [code for lang, code in section_blocks(README.read_text(encoding="utf-8"), heading)
              if lang == "python"]
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace = _namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for code in blocks:
            exec(compile(code, f"README {heading}", "exec"), namespace)   # noqa: S102
    return namespace


def test_saving_models(tmp_path, monkeypatch):
    before = _namespace()["clf"].predict_proba(_namespace()["X_test"])
    pytest.importorskip("skops")
    namespace = _run("Saving models", tmp_path, monkeypatch)
    np.testing.assert_array_equal(namespace["clf"].predict_proba(namespace["X_test"]), before)


def test_onnx(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    namespace = _run("ONNX", tmp_path, monkeypatch)
    np.testing.assert_array_equal(namespace["label"], namespace["pipe"].predict(namespace["X_test"]))
