"""
A Pipeline and a grid search, as with any scikit-learn estimator
================================================================

``StandardScaler`` followed by ``MLPClassifierScratch`` on the breast-cancer
data, tuned by ``GridSearchCV`` over the hidden layer size and the L2
penalty ``alpha`` with 5-fold cross-validation, fitted in parallel
(``n_jobs=-1``). The heat map shows the mean validation accuracy of each
combination; the best pipeline is then scored on held-out data.

To run the same search on a Dask cluster, wrap ``fit`` in
``joblib.parallel_config(backend="dask")`` after connecting a
``dask.distributed.Client`` (see the README).

Run: ``python examples/plot_grid_search.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``grid_search.png``.
``SKNETS_EXAMPLE_FAST=1`` searches a smaller grid.
"""

import os
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifierScratch

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"


def main():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifierScratch(max_iter=10 if FAST else 100, random_state=0))
    sizes = [(4,), (32,)] if FAST else [(2,), (8,), (32,), (64, 64)]
    alphas = [1e-4, 1.0] if FAST else [1e-4, 1e-2, 1.0, 10.0]
    search = GridSearchCV(pipe, {"mlpclassifierscratch__hidden_layer_sizes": sizes,
                                 "mlpclassifierscratch__alpha": alphas},
                          cv=2 if FAST else 5, n_jobs=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    print("best parameters:", search.best_params_)
    print(f"cross-validated accuracy {search.best_score_:.3f}, "
          f"held-out accuracy {search.score(X_test, y_test):.3f}")

    # mean_test_score as a (sizes x alphas) table
    scores = np.empty((len(sizes), len(alphas)))
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"]):
        i = sizes.index(params["mlpclassifierscratch__hidden_layer_sizes"])
        scores[i, alphas.index(params["mlpclassifierscratch__alpha"])] = score
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    image = ax.imshow(scores, cmap="viridis")
    ax.set_xticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    ax.set_yticks(range(len(sizes)), [str(s) for s in sizes])
    ax.set_xlabel("alpha")
    ax.set_ylabel("hidden_layer_sizes")
    for (i, j), v in np.ndenumerate(scores):
        ax.text(j, i, f"{v:.3f}", ha="center", va="center",
                color="w" if v < scores.mean() else "k")
    fig.colorbar(image, ax=ax, label="mean validation accuracy")
    path = OUT / "grid_search.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
