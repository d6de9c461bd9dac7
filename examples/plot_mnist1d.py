"""
Sequence networks on MNIST-1D: a 1-D convolution, a GRU and a residual network
==============================================================================

MNIST-1D (Greydanus, 2020) is ten classes of one-dimensional signals of 40
timesteps: each digit is a template pattern, shifted, scaled, sheared and
noised. ``sknets.datasets.make_mnist1d`` generates it offline (the
``mnist1d`` package) as channels-last sequences ``(n_samples, timesteps,
features)`` = ``(n, 40, 1)``; the first 4,000 signals train, the last 1,000
test. Three ``NeuralNetClassifier`` layer lists learn it: ``Conv1D`` blocks
with max pooling, a ``GRU`` reading the signal step by step, and a small
ResNet of ``Residual`` blocks. The figure shows a signal of each class,
the validation accuracy of the three networks epoch by epoch
(``validation_scores_``, early stopping's held-out tenth), and the
residual network's confusion matrix on the test signals.

Run: ``python examples/plot_mnist1d.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``mnist1d.png``. ``SKNETS_EXAMPLE_FAST=1``
uses fewer signals and epochs. Needs ``pip install mnist1d``. The networks
train for 12 epochs here; ``benchmarks/bench_sequence.py --targets`` trains
them to their full accuracy (see ``benchmarks/RESULTS.md``).
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

from sknets import NeuralNetClassifier
from sknets.datasets import make_mnist1d
from sknets.layers import (
    GRU,
    Activation,
    BatchNormalization,
    Conv1D,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    MaxPool1D,
    Residual,
)

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def residual_block(channels):
    """Conv-BN-ReLU-Conv-BN plus the input, then ReLU (He et al., 2016)."""
    return [Residual([Conv1D(channels, 3, padding="same"), BatchNormalization(momentum=0.9),
                      Activation("relu"), Conv1D(channels, 3, padding="same"),
                      BatchNormalization(momentum=0.9)]),
            Activation("relu")]


NETWORKS = {
    "Conv1D": [Conv1D(32, 5, padding="same"), Activation("relu"), MaxPool1D(2),
               Conv1D(64, 3, padding="same"), Activation("relu"), MaxPool1D(2),
               Conv1D(64, 3, padding="same"), Activation("relu"), GlobalMaxPool1D()],
    "GRU(64)": [GRU(64)],
    "ResNet": [Conv1D(32, 5, padding="same"), BatchNormalization(momentum=0.9),
               Activation("relu"), *residual_block(32), MaxPool1D(2), *residual_block(32),
               MaxPool1D(2), *residual_block(32), GlobalAvgPool1D()],
}


def main():
    X, y = make_mnist1d(500 if FAST else 5000)
    n_train = int(0.8 * len(X))
    X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    epochs = 2 if FAST else 12

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), layout="constrained")
    for digit in range(10):   # one signal per class, stacked
        signal = X_train[y_train == digit][0, :, 0]
        axes[0].plot(signal + 3 * digit, color=f"C{digit}")
    axes[0].set_yticks([3 * d for d in range(10)], [str(d) for d in range(10)])
    axes[0].set(title="a signal of each class", xlabel="timestep", ylabel="class")

    for name, layers in NETWORKS.items():
        net = NeuralNetClassifier(layers, max_iter=epochs, batch_size=64,
                                  learning_rate_init=3e-3, alpha=0.0, early_stopping=True,
                                  n_iter_no_change=epochs, random_state=0, dtype="float32")
        net.fit(X_train.astype("float32"), y_train)
        score = net.score(X_test.astype("float32"), y_test)
        print(f"{name:8s} test accuracy {score:.3f} after {net.n_iter_} epochs")
        axes[1].plot(range(1, net.n_iter_ + 1), net.validation_scores_, marker="o",
                     label=f"{name} (test {score:.3f})")
    axes[1].set(title="validation accuracy while training", xlabel="epoch",
                ylabel="accuracy")
    axes[1].legend()
    ConfusionMatrixDisplay.from_estimator(net, X_test.astype("float32"), y_test, ax=axes[2],
                                          colorbar=False)
    axes[2].set_title("ResNet on the test signals")
    path = OUT / "mnist1d.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
