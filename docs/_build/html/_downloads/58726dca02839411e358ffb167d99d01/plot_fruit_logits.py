"""
Binary classification with logits and the sigmoid: apples or lemons?
====================================================================

A small generated data set: each fruit has two features, its size in cm and a
colour value (0 = red, 1 = yellow); apples are bigger and redder. A network
with no hidden layer, ``MLPClassifierScratch(hidden_layer_sizes=())``, is
logistic regression: it computes one *logit* per fruit,

    z = w1 * size + w2 * colour + b,

and turns it into the probability of "lemon" with the sigmoid
``p = 1 / (1 + exp(-z))``. The loss (binary cross-entropy) is computed from
``z`` directly, which is what keeps it stable for large ``|z|``. ``p = 0.5``
exactly where ``z = 0``: the decision boundary is the line ``z = 0``.

Run: ``python examples/plot_fruit_logits.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``fruit_logits.png``.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknets import MLPClassifierScratch

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)


def make_fruit(n_per_class=60, seed=0):
    """Apples: ~7.5 cm, reddish; lemons: ~6 cm, yellower. The classes overlap a little."""
    rng = np.random.RandomState(seed)
    apples = np.column_stack([rng.normal(7.5, 0.9, n_per_class),
                              rng.normal(0.40, 0.15, n_per_class)])
    lemons = np.column_stack([rng.normal(6.2, 0.7, n_per_class),
                              rng.normal(0.62, 0.15, n_per_class)])
    X = np.vstack([apples, lemons])
    X[:, 1] = X[:, 1].clip(0, 1)
    y = np.repeat(["apple", "lemon"], n_per_class)
    return X, y


def main():
    X, y = make_fruit()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    model = make_pipeline(
        StandardScaler(),
        MLPClassifierScratch(hidden_layer_sizes=(), solver="lbfgs"),
    ).fit(X_train, y_train)
    net = model[-1]
    print(f"classes {net.classes_}, test accuracy {model.score(X_test, y_test):.3f}")

    # The logit by hand: the scaled input times the one weight column, plus the bias.
    z = model[0].transform(X_test) @ net.coefs_[0][:, 0] + net.intercepts_[0][0]
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(p, model.predict_proba(X_test)[:, 1], rtol=1e-10)
    print("  size  colour     logit z   p(lemon)   predicted")
    for xi, zi, pi, label in list(zip(X_test, z, p, model.predict(X_test)))[:5]:
        print(f"{xi[0]:6.2f} {xi[1]:7.2f} {zi:11.3f} {pi:10.3f}   {label}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    disp = DecisionBoundaryDisplay.from_estimator(
        model, X, response_method="predict_proba", cmap="RdYlBu_r", alpha=0.5, ax=ax1,
        xlabel="size (cm)", ylabel="colour (0 red, 1 yellow)",
    )
    fig.colorbar(disp.surface_, ax=ax1, label="p(lemon) = sigmoid(z)")
    for name, marker in [("apple", "o"), ("lemon", "^")]:
        m = y == name
        ax1.scatter(X[m, 0], X[m, 1], marker=marker, edgecolors="k", label=name,
                    c="tab:red" if name == "apple" else "gold")
    ax1.legend()
    ax1.set_title("decision boundary: z = 0, p = 0.5")

    grid = np.linspace(-8, 8, 200)
    ax2.plot(grid, 1 / (1 + np.exp(-grid)), color="k", label="sigmoid")
    ax2.scatter(z, p, c=np.where(y_test == "lemon", "gold", "tab:red"), edgecolors="k",
                zorder=3, label="test fruits")
    ax2.axvline(0, color="gray", linestyle="--")
    ax2.set_xlabel("logit z")
    ax2.set_ylabel("p(lemon)")
    ax2.set_title("the sigmoid turns logits into probabilities")
    ax2.legend()
    path = OUT / "fruit_logits.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
