"""
Logic gates with a perceptron, and why XOR needs a hidden layer
===============================================================

A perceptron draws one straight line through the input plane. AND, OR and
NAND put their 1s on one side of some line, so the perceptron learns them
exactly (Novikoff's convergence theorem). XOR's 1s, (0, 1) and (1, 0), sit on
a diagonal with the 0s on the other diagonal: no line separates them (Minsky
and Papert, 1969), and the perceptron gets at most 3 of the 4 rows right. A
network with one hidden layer bends the boundary and learns XOR.

Run: ``python examples/plot_logic_gates.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``logic_gates.png``.
"""

import os
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.inspection import DecisionBoundaryDisplay

from sknets import MLPClassifierScratch, PerceptronClassifier
from sknets.datasets import make_logic_gate

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)


def draw(ax, model, X, y, title):
    DecisionBoundaryDisplay.from_estimator(
        model, X, response_method="predict", grid_resolution=200, eps=0.5,
        cmap="coolwarm", alpha=0.3, ax=ax,
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=120)
    ax.set_title(f"{title}\naccuracy {model.score(X, y):.2f}")
    ax.set_xlabel("input 1")
    ax.set_ylabel("input 2")


def main():
    gates = ["and", "or", "nand", "xor"]
    fig, axes = plt.subplots(1, 5, figsize=(20, 4.2), layout="constrained")
    for ax, gate in zip(axes, gates):
        X, y = make_logic_gate(gate)
        perceptron = PerceptronClassifier(max_iter=100, tol=None, random_state=0).fit(X, y)
        print(f"perceptron  {gate.upper():5s} accuracy {perceptron.score(X, y):.2f}")
        draw(ax, perceptron, X, y, f"perceptron: {gate.upper()}")

    # XOR with one hidden layer of 4 tanh units: the boundary bends.
    X, y = make_logic_gate("xor")
    mlp = MLPClassifierScratch(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs",
                               random_state=1).fit(X, y)
    print(f"MLP (4 hidden units) XOR accuracy {mlp.score(X, y):.2f}")
    draw(axes[-1], mlp, X, y, "MLP, 1 hidden layer: XOR")
    path = OUT / "logic_gates.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
