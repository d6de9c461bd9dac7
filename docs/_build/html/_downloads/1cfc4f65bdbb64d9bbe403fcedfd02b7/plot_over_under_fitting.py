"""
Over- and under-fitting, seen in the training and validation loss; dropout
==========================================================================

A hundred noisy samples of two interleaved half moons, fitted by three
networks. Each holds out 30% of the samples and records the validation loss
after every epoch (``early_stopping=True``, with a patience long enough never
to stop early):

- **under-fitting**: one hidden unit draws a straight boundary; training and
  validation loss both stay high;
- **over-fitting**: two layers of 128 units and no weight penalty wrap the
  boundary around single noisy points; the training loss keeps falling
  while the validation loss reaches a minimum and climbs again (the network
  becomes confidently wrong). Early stopping keeps the weights of the marked
  best epoch (highest validation accuracy, scikit-learn's criterion);
- **a good fit**: a moderate network with an L2 penalty (``alpha``); both
  losses settle close together.

The training loss includes the L2 penalty; the validation loss does not.

The right-hand panel shows **dropout** against over-fitting, on the digits: an
over-parameterised MLP (two layers of 512 units, 301,066 weights) trained on 300
images and validated on 300 others, without and with ``dropout=0.5`` (each
hidden unit dropped with probability 0.5 at every training step; the
training loss is measured with the units dropped, hence noisier). Without
dropout the validation loss reaches its minimum within a few dozen epochs and
climbs while the training loss goes to zero (lowest 0.160 at epoch 22, 0.195
at epoch 100); with dropout it goes lower and stays lower (0.121 at epoch 60,
0.138 at epoch 100).

Run: ``python examples/plot_over_under_fitting.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``over_under_fitting.png``.
``SKNETS_EXAMPLE_FAST=1`` trains fewer epochs.
"""

import os
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sknets import MLPClassifierScratch
from sknets.plotting import LossCurveDisplay

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def main():
    X, y = make_moons(n_samples=100, noise=0.35, random_state=0)
    epochs = 40 if FAST else 400
    models = {
        "under-fitting: 1 hidden unit": dict(hidden_layer_sizes=(1,), alpha=1e-4),
        "over-fitting: 128+128 units, alpha=0": dict(hidden_layer_sizes=(128, 128), alpha=0.0),
        "good fit: 16 units, alpha=0.3": dict(hidden_layer_sizes=(16,), alpha=0.3),
    }
    fig, axes = plt.subplot_mosaic([["l0", "l1", "l2", "drop"], ["f0", "f1", "f2", "drop"]],
                                   figsize=(20, 8), layout="constrained")
    for i, (title, params) in enumerate(models.items()):
        ax_loss, ax_fit = axes[f"l{i}"], axes[f"f{i}"]
        clf = MLPClassifierScratch(**params, early_stopping=True, validation_fraction=0.3,
                                   n_iter_no_change=100_000, max_iter=epochs,
                                   learning_rate_init=0.01, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        last = clf.history_[-1]
        best = min(h["valid_loss"] for h in clf.history_)
        print(f"{title:38s} last epoch: train loss {last['train_loss']:.3f}, "
              f"validation loss {last['valid_loss']:.3f} (lowest {best:.3f})")
        LossCurveDisplay.from_estimator(clf, ax=ax_loss)
        ax_loss.set_title(title)
        ax_loss.set_ylim(0, 1.5)
        # clf keeps the best epoch's weights; to see where training ends up,
        # train the same network on all samples without early stopping
        final = MLPClassifierScratch(**{**clf.get_params(), "early_stopping": False})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            final.fit(X, y)
        DecisionBoundaryDisplay.from_estimator(final, X, response_method="predict_proba",
                                               cmap="RdBu", alpha=0.5, ax=ax_fit)
        ax_fit.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolors="k", s=20)
        ax_fit.set_title(f"boundary after {epochs} epochs on all samples")
    plot_dropout(axes["drop"])
    path = OUT / "over_under_fitting.png"
    fig.savefig(path)
    print(f"saved {path}")


def plot_dropout(ax):
    """Validation loss of a 512+512-unit MLP on 300 digits, without and with dropout."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    # 600 images: 300 to train on and 300 to validate (validation_fraction=0.5)
    X, _, y, _ = train_test_split(X, y, train_size=600, random_state=0, stratify=y)
    epochs = 8 if FAST else 100
    for dropout, color in ((0.0, "C3"), (0.5, "C0")):
        clf = MLPClassifierScratch(hidden_layer_sizes=(512, 512), dropout=dropout,
                                   learning_rate_init=0.003, max_iter=epochs,
                                   early_stopping=True, validation_fraction=0.5,
                                   n_iter_no_change=100_000, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        valid = [h["valid_loss"] for h in clf.history_]
        print(f"digits, 512+512 units, dropout={dropout}: validation loss lowest "
              f"{min(valid):.3f} (epoch {np.argmin(valid) + 1}), last {valid[-1]:.3f}")
        LossCurveDisplay(train_loss=[h["train_loss"] for h in clf.history_], valid_loss=valid,
                         epochs=[h["epoch"] for h in clf.history_]).plot(
            ax=ax, train_kw=dict(color=color, linestyle=":", label=f"dropout={dropout}: train"),
            valid_kw=dict(color=color, label=f"dropout={dropout}: validation"))
    ax.set_ylim(0, 0.6)
    ax.set_title("digits, 300 training images, 512+512 units:\ndropout against over-fitting")


if __name__ == "__main__":
    # small matrices (a few hundred samples): one BLAS thread is about as
    # fast, and does not contend for the cores
    with threadpool_limits(1, user_api="blas"):
        main()
