"""The perceptron's fit time beside scikit-learn's ``Perceptron``.

Problems (default parameters for every peer: ``max_iter=1000``, ``tol=1e-3``,
``shuffle=True``, ``random_state=0``, float64):

- ``digits``: ``load_digits``, 1,797 x 64 dense, 10 classes (raw pixel values 0-16).
- ``synthetic``: ``make_classification``, 50,000 x 100 dense, 20 classes
  (40 informative features, one cluster per class).
- ``sparse-text``: a tf-idf matrix of 20,000 generated documents over a
  20,000-word Zipf vocabulary (each class favours its own 300 words), about
  55 stored values per row, CSR, 8 classes.

Peers:

- ``sklearn``: ``sklearn.linear_model.Perceptron(random_state=0).fit``.
- ``sknets numba``: the perceptron's epoch functions with the compiled engine
  (``sknets._perceptron_ovr.fit_one_vs_rest(engine="numba")``) on the same
  validated arrays; numba's compilation (or loading from its cache) happens
  once per process, before the timings, and is reported apart.
- ``sknets numpy``: the same with the NumPy reference engine.
- ``sknets estimator``: ``sknets.PerceptronClassifier(random_state=0).fit``,
  input validation included, with whichever engine it uses.

Each repeat runs the peers in turn, in an order that rotates from one repeat
to the next; the table shows each peer's median fit time, its ratio to
scikit-learn's median, ``n_iter_`` and the largest difference of its
``coef_`` from scikit-learn's relative to the largest coefficient. A peer
whose first fit of a problem takes more than ``--budget`` seconds is not
repeated on it.

Usage::

    python benchmarks/bench_perceptron.py --repeats 5
    python benchmarks/bench_perceptron.py --quick      # small problems, one repeat
"""

import argparse
import platform
import statistics
import time
import warnings
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import Perceptron

from sknets import PerceptronClassifier
from sknets._perceptron_epoch import numba_available
from sknets._perceptron_ovr import fit_one_vs_rest

PEERS = ("sklearn", "sknets numba", "sknets numpy", "sknets estimator")


# ------------------------------------------------------------------ problems
def digits(quick):
    X, y = load_digits(return_X_y=True)
    return (X[:300], y[:300]) if quick else (X, y)


def synthetic(quick):
    n, d = (2000, 20) if quick else (50_000, 100)
    return make_classification(n_samples=n, n_features=d, n_informative=d * 2 // 5,
                               n_redundant=d // 10, n_classes=20, n_clusters_per_class=1,
                               random_state=0)


def sparse_text(quick):
    """tf-idf of generated documents: per class, a Zipf word distribution over
    a permuted vocabulary with 300 favoured words (8x); lengths 5 + Poisson(80)."""
    rng = np.random.RandomState(0)
    n_docs, vocab, n_classes = (1000, 2000, 8) if quick else (20_000, 20_000, 8)
    zipf = 1.0 / np.arange(1, vocab + 1) ** 1.1
    y = rng.randint(n_classes, size=n_docs)
    rows, cols = [], []
    for c in range(n_classes):
        p = zipf[rng.permutation(vocab)]
        p[rng.choice(vocab, 300, replace=False)] *= 8
        docs = np.flatnonzero(y == c)
        lengths = 5 + rng.poisson(80, size=docs.size)
        rows.append(np.repeat(docs, lengths))
        cols.append(rng.choice(vocab, size=lengths.sum(), p=p / p.sum()))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    counts = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n_docs, vocab))
    counts.sum_duplicates()
    return TfidfTransformer().fit_transform(counts).tocsr(), y


PROBLEMS = {"digits": digits, "synthetic": synthetic, "sparse-text": sparse_text}


# ------------------------------------------------------------------ peers
def fit_peer(name, X, y):
    """Fit peer ``name``; returns (seconds, coef_, n_iter_)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        if name == "sklearn":
            est = Perceptron(random_state=0).fit(X, y)
        elif name == "sknets estimator":
            est = PerceptronClassifier(random_state=0).fit(X, y)
        else:
            engine = name.split()[1]
            fit = fit_one_vs_rest(X, y, np.unique(y), engine=engine, random_state=0)
            return time.perf_counter() - tic, fit.coef, fit.n_iter
        return time.perf_counter() - tic, np.asarray(est.coef_), int(est.n_iter_)


def warm_up():
    """numba's compilation or cache load, once per process (dense and CSR)."""
    if not numba_available():
        return None
    X, y = load_digits(return_X_y=True)
    tic = time.perf_counter()
    fit_one_vs_rest(X[:50], y[:50], np.unique(y[:50]), engine="numba", max_iter=1)
    fit_one_vs_rest(sp.csr_matrix(X[:50]), y[:50], np.unique(y[:50]), engine="numba",
                    max_iter=1)
    return time.perf_counter() - tic


def run_problem(name, X, y, peers, repeats, budget):
    times = {p: [] for p in peers}
    results = {}
    for rep in range(repeats):
        shift = rep % len(peers)
        for peer in peers[shift:] + peers[:shift]:
            if rep > 0 and times[peer] and times[peer][0] > budget:
                continue
            seconds, coef, n_iter = fit_peer(peer, X, y)
            times[peer].append(seconds)
            results[peer] = (coef, n_iter)
    ref_coef = results["sklearn"][0]
    ref_time = statistics.median(times["sklearn"])
    scale = np.max(np.abs(ref_coef)) or 1.0
    rows = []
    for peer in peers:
        coef, n_iter = results[peer]
        median = statistics.median(times[peer])
        diff = np.max(np.abs(coef - ref_coef)) / scale
        rows.append(f"| {name} | {peer} | {len(times[peer])} | {median:.4f} | "
                    f"{median / ref_time:.2f}x | {n_iter} | {diff:.1e} |")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds above which a peer's fit is not repeated")
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--quick", action="store_true",
                        help="small problems, one repeat (a test of the script)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    peers = [p for p in args.peers if p != "sknets numba" or numba_available()]
    if "sklearn" not in peers:
        peers.insert(0, "sklearn")

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}, load average "
          f"{' '.join(f'{v:.1f}' for v in _loadavg())}")
    compile_s = warm_up()
    print("numba: " + ("not installed" if compile_s is None
                       else f"first call (compilation or cache load) {compile_s:.2f} s"))
    print()
    print("| problem | peer | fits | median fit s | time / sklearn | n_iter_ | "
          "max coef diff (rel.) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in args.problems:
        X, y = PROBLEMS[name](args.quick)
        for row in run_problem(name, X, y, peers, repeats, args.budget):
            print(row, flush=True)


def _loadavg():
    try:
        import os

        return os.getloadavg()
    except (OSError, AttributeError):
        return ()


if __name__ == "__main__":
    main()
