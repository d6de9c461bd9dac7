"""
A conditional GAN that writes digits, and how its training went
===============================================================

``GenerativeAdversarialNetwork`` trains a generator (noise and a class label
in, an 8x8 digit out) against a discriminator (a digit and its label in,
"real or generated?" out). ``fit(X, y)`` with labels makes it conditional,
so ``sample(n, y=...)`` writes digits of the requested classes. With
``validation_fraction`` it holds out some training digits and measures,
after each epoch, how well a 1-nearest-neighbour classifier tells generated
digits from them (``valid_c2st``: 0.5 when it cannot, 1.0 when it always
can), and keeps the generator of the best epoch.

The figure: a real test digit beside generated ones for each class, the
two losses per epoch (they do not go down like a classifier's: each network's
loss is the other's gain), and ``valid_c2st`` over the epochs. Printed: how
often a logistic regression trained on real digits recognises the requested
class, the two-sample test against the test digits, and k-NN precision and
recall (:mod:`sknets.metrics`).

Run: ``python examples/plot_gan_digits.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``gan_digits.png``.
``SKNETS_EXAMPLE_FAST=1`` trains a few epochs only; the full run (200
epochs) takes about two minutes of CPU time.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sknets import GenerativeAdversarialNetwork
from sknets.layers import Activation, Dense, Dropout, MinibatchStdDev
from sknets.metrics import c2st_score, precision_recall_knn

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"
N_SHOWN = 6   # generated digits per class


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3,
                                                        random_state=0, stratify=y)
    discriminator = [MinibatchStdDev(), Dense(256), Activation("leaky_relu"), Dropout(0.3),
                     Dense(128), Activation("leaky_relu"), Dropout(0.3)]
    # the best setting of benchmarks/RESULTS.md: a minibatch standard deviation
    # feature in the discriminator, learning rates 4e-4 (generator), 8e-4
    gan = GenerativeAdversarialNetwork(discriminator=discriminator, learning_rate_init=4e-4,
                                       discriminator_learning_rate=8e-4,
                                       max_iter=4 if FAST else 200, validation_fraction=0.2,
                                       random_state=0, verbose=1)
    gan.fit(X_train, y_train)

    requested = np.repeat(np.arange(10), 100)
    X_new, _ = gan.sample(1000, y=requested, random_state=0)
    clf = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    precision, recall = precision_recall_knn(X_test, X_new[::2][: len(X_test)])
    print(f"requested class recognised: {np.mean(clf.predict(X_new) == requested):.3f}")
    print(f"C2ST against the test digits: {c2st_score(X_test, X_new, random_state=0):.3f}"
          " (0.5: indistinguishable)")
    print(f"k-NN precision {precision:.3f}, recall {recall:.3f}")

    fig = plt.figure(figsize=(14, 5.5), layout="constrained")
    grid, curves = fig.subfigures(1, 2, width_ratios=[1.1, 1])
    axes = grid.subplots(10, N_SHOWN + 1)
    for digit in range(10):
        real = X_test[y_test == digit][0]
        fakes = X_new[requested == digit][:N_SHOWN]
        for j, image in enumerate([real, *fakes]):
            ax = axes[digit, j]
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(str(digit), rotation=0, labelpad=8)
    axes[0, 0].set_title("real", fontsize=9)
    axes[0, N_SHOWN // 2 + 1].set_title("generated for the class", fontsize=9)

    ax_loss, ax_c2st = curves.subplots(2, 1, sharex=True)
    epochs = [h["epoch"] for h in gan.history_]
    ax_loss.plot(epochs, [h["d_loss"] for h in gan.history_], label="discriminator")
    ax_loss.plot(epochs, [h["g_loss"] for h in gan.history_], label="generator")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    ax_c2st.plot(epochs, [h["valid_c2st"] for h in gan.history_], color="C2")
    ax_c2st.axhline(0.5, color="gray", linestyle=":", label="indistinguishable")
    if gan.best_epoch_ is not None:
        ax_c2st.axvline(gan.best_epoch_, color="C3", linestyle="--", label="kept")
    ax_c2st.set_ylabel("C2ST (validation)")
    ax_c2st.set_xlabel("epoch")
    ax_c2st.legend()
    path = OUT / "gan_digits.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
