"""Over- and under-fitting, seen in the training and validation loss.

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
Run: ``python examples/plot_over_under_fitting.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``over_under_fitting.png``.
``SKNETS_EXAMPLE_FAST=1`` trains fewer epochs.
"""

import os
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay

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
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), layout="constrained")
    for (ax_loss, ax_fit), (title, params) in zip(axes.T, models.items()):
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
    path = OUT / "over_under_fitting.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
