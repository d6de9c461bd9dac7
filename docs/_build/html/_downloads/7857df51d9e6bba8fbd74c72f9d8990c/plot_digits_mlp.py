"""
Handwritten digits with the multi-layer perceptron
==================================================

``load_digits`` (1,797 images of 8x8 pixels, ten classes) with
``MLPClassifierScratch``: the model summary before training, the per-epoch
table (``verbose=1``) with early stopping on a validation split, the loss
curves, and the confusion matrix on held-out digits.

Run: ``python examples/plot_digits_mlp.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``digits_mlp.png``. ``SKNETS_EXAMPLE_FAST=1``
trains fewer epochs.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from sknets import MLPClassifierScratch
from sknets.plotting import LossCurveDisplay

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0                       # pixels in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    clf = MLPClassifierScratch(hidden_layer_sizes=(64,), early_stopping=True,
                               n_iter_no_change=20, max_iter=5 if FAST else 200,
                               learning_rate_init=0.003, random_state=0, verbose=1)
    clf.summary(input_shape=(64,), n_outputs=10)
    clf.fit(X_train, y_train)
    print(f"test accuracy: {clf.score(X_test, y_test):.3f} "
          f"(best epoch {clf.best_epoch_} of {clf.n_iter_})")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    LossCurveDisplay.from_estimator(clf, ax=ax1)
    ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test, ax=ax2, colorbar=False)
    ax2.set_title("held-out digits")
    path = OUT / "digits_mlp.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
