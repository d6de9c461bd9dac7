"""
Transfer learning: a frozen convolution block from digits 0-4 helps on 5-9
==========================================================================

A ``ConvNetClassifier`` (two blocks of ``Conv2D`` + ``MaxPool2D`` + ReLU, 16
then 32 filters, then ``Dense(64)``) is trained on the digits 0-4 of the
bundled 8x8 digits. The new task is the digits 5-9 with only a few labelled
samples per class. Two networks of the base's architecture are trained on
the same samples:

- **frozen base**: the base's first convolution block, taken with
  ``base.feature_layers()`` (its fitted layers as specifications carrying
  their weights, ``trainable=False``), then new trainable layers (the second
  block and the dense layer) and the new output layer;
- **from scratch**: the same layers, all initialised at random.

The left panel shows their test accuracy on the unseen digits 5-9 against
the number of labelled samples per class: the mean over several random
draws of the samples (each draw also seeds the networks), with the range
from the worst to the best draw. One draw alone is noisy (the frozen model
loses on some), so the figure compares means; the right panel shows each
draw's difference. On 8x8 digits the second block's features are already
specific to the digits 0-4 (freezing it, or the dense layer too, does no
better than scratch), so the first block is the part that transfers: the
gain is a couple of points of accuracy with one or two samples per class and
fades as samples are added.

Run: ``python examples/plot_transfer_learning.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``transfer_learning.png``.
``SKNETS_EXAMPLE_FAST=1`` trains fewer epochs on fewer draws and counts.
"""

import os
import sys
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sknets import ConvNetClassifier, NeuralNetClassifier
from sknets.layers import Activation, Conv2D, Dense, Flatten, MaxPool2D, Reshape

FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"
COUNTS = (1, 5) if FAST else (1, 2, 5, 10, 20)   # labelled samples per class
N_DRAWS = 2 if FAST else 10
POOL_SIZE = 300   # digits 5-9 the labelled samples are drawn from; the rest is the test set


def load_tasks():
    """``(X, y)`` of digits 0-4 (base task), and of digits 5-9 split into a pool and a test set.

    The images are float32 (``X / 16``): the networks compute in float32.
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    source = y < 5
    X_new, y_new = X[~source], y[~source]
    order = np.random.RandomState(0).permutation(len(y_new))
    pool, test = order[:POOL_SIZE], order[POOL_SIZE:]
    return (X[source], y[source]), (X_new[pool], y_new[pool]), (X_new[test], y_new[test])


def fit_base(X, y, max_iter=60):
    """The base network, trained on digits 0-4."""
    return ConvNetClassifier(conv_filters=(16, 32), hidden_layer_sizes=(64,),
                             max_iter=max_iter, random_state=0).fit(X, y)


def network(first_block):
    """The base's architecture after its first block: block 2, Flatten, Dense(64)."""
    return [*first_block,
            Conv2D(32, 3, padding="same"), MaxPool2D(2), Activation("relu"),
            Flatten(), Dense(64, initializer="he_uniform"), Activation("relu")]


def frozen_layers(base):
    """Reshape, Conv2D(16), MaxPool2D, ReLU from the base (frozen), then new layers."""
    return network(base.feature_layers()[:4])


def scratch_layers():
    """The same network, every layer initialised at random."""
    return network([Reshape((8, 8, 1)), Conv2D(16, 3, padding="same"), MaxPool2D(2),
                    Activation("relu")])


def draw(y_pool, per_class, seed):
    """Indices of ``per_class`` random samples of each class of ``y_pool``."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y_pool == c), per_class, replace=False)
                           for c in np.unique(y_pool)])


def head(layers, seed, max_iter=300):
    return NeuralNetClassifier(layers, max_iter=max_iter, learning_rate_init=0.003,
                               random_state=seed)


def compare(base, pool, test, per_class, seeds, max_iter=300):
    """Test accuracies ``(frozen, scratch)``, one per seed, trained on the same draws."""
    (X_pool, y_pool), (X_test, y_test) = pool, test
    frozen, scratch = [], []
    for seed in seeds:
        idx = draw(y_pool, per_class, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for layers, scores in ((frozen_layers(base), frozen), (scratch_layers(), scratch)):
                clf = head(layers, seed, max_iter).fit(X_pool[idx], y_pool[idx])
                scores.append(clf.score(X_test, y_test))
    return np.array(frozen), np.array(scratch)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1
               else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    (X_base, y_base), pool, test = load_tasks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = fit_base(X_base, y_base, max_iter=10 if FAST else 60)
    print(f"base network, digits 0-4: training accuracy {base.score(X_base, y_base):.3f}")

    # one frozen-base network on one sample per class: its summary counts the
    # frozen convolution's weights as non-trainable, and fit left them as they were
    X_pool, y_pool = pool
    idx = draw(y_pool, COUNTS[0], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = head(frozen_layers(base), 0, max_iter=60 if FAST else 300).fit(X_pool[idx],
                                                                              y_pool[idx])
    clf.summary()
    before, after = base.feature_layers()[1].weights, clf.feature_layers()[1].weights
    print("frozen Conv2D weights unchanged by fit:",
          all(np.array_equal(before[key], after[key]) for key in before))

    results = {}
    print(f"test accuracy on digits 5-9 ({len(test[1])} images), mean over {N_DRAWS} draws:")
    print("per class   frozen base   from scratch   frozen ahead")
    for k in COUNTS:
        frozen, scratch = compare(base, pool, test, k, range(N_DRAWS),
                                  max_iter=60 if FAST else 300)
        results[k] = frozen, scratch
        print(f"{k:9d}   {frozen.mean():11.3f}   {scratch.mean():12.3f}   "
              f"{np.sum(frozen > scratch):5d}/{N_DRAWS}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    for i, (label, color) in enumerate((("frozen first block from digits 0-4", "C0"),
                                        ("same network from scratch", "C1"))):
        acc = np.array([results[k][i] for k in COUNTS])
        ax1.plot(COUNTS, acc.mean(axis=1), "o-", color=color, label=f"{label} (mean)")
        ax1.fill_between(COUNTS, acc.min(axis=1), acc.max(axis=1), color=color, alpha=0.2,
                         label="worst to best draw")
    ax1.set_xscale("log")
    ax1.minorticks_off()
    ax1.set_xticks(COUNTS, [str(k) for k in COUNTS])
    ax1.set_xlabel("labelled samples per class (digits 5-9)")
    ax1.set_ylabel("test accuracy")
    ax1.set_title(f"mean over {N_DRAWS} draws of the labelled samples")
    ax1.legend(loc="lower right")
    for j, k in enumerate(COUNTS):
        diff = results[k][0] - results[k][1]
        ax2.scatter(np.full(len(diff), j), diff, color="C0", alpha=0.5, s=15)
        ax2.plot([j - 0.3, j + 0.3], [diff.mean()] * 2, color="k")
    ax2.axhline(0, color="gray", lw=0.8)
    ax2.set_xticks(range(len(COUNTS)), [str(k) for k in COUNTS])
    ax2.set_xlabel("labelled samples per class")
    ax2.set_ylabel("accuracy: frozen base - scratch")
    ax2.set_title("each draw (dots) and their mean (line)")
    path = out / "transfer_learning.png"
    fig.savefig(path)
    print(f"saved {path} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    # the matrices are small (a few samples per batch): one BLAS thread is as
    # fast, and does not contend for the cores
    with threadpool_limits(1, user_api="blas"):
        main()
