"""
A convolutional network on the digits, and the filters it learns
================================================================

``ConvNetClassifier`` reshapes each row of 64 pixels into an 8x8 image
(``image_shape=(8, 8)``), slides 8 learned 3x3 filters over it
(``Conv2D``), keeps the largest response in each 2x2 window
(``MaxPool2D``), and classifies with a dense layer. The first layer's
kernels, ``coefs_[0]`` of shape ``(3, 3, 1, 8)`` (channels-last), are drawn by
``FilterDisplay`` (each scaled to its own range, dark = low).

Run: ``python examples/plot_convnet_digits.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``convnet_digits.png``.
``SKNETS_EXAMPLE_FAST=1`` trains fewer epochs.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sknets import ConvNetClassifier
from sknets.plotting import FilterDisplay, LossCurveDisplay

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    net = ConvNetClassifier(image_shape=(8, 8), conv_filters=(8,), kernel_size=3,
                            hidden_layer_sizes=(), max_iter=5 if FAST else 40,
                            early_stopping=True, n_iter_no_change=5,
                            learning_rate_init=0.01, random_state=0, verbose=1)
    net.summary(input_shape=(8, 8, 1), n_outputs=10)
    net.fit(X_train, y_train)
    print(f"test accuracy: {net.score(X_test, y_test):.3f}")

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    ax1.imshow(X_test[0].reshape(8, 8), cmap="gray_r")
    ax1.set_title(f"a test digit, predicted {net.predict(X_test[:1])[0]}")
    ax1.set_axis_off()
    FilterDisplay.from_estimator(net, ax=ax2, n_cols=4)
    LossCurveDisplay.from_estimator(net, ax=ax3)
    path = OUT / "convnet_digits.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
