"""Sparse text-like input: sknets beside scikit-learn, as the width grows.

The data is a TF-IDF-like CSR matrix made here: ``--rows`` documents of
about ``--words`` distinct words each, drawn from a vocabulary of ``width``
words whose frequencies follow Zipf's law (rank ``k`` has probability
proportional to ``1 / k**1.1``), each class with its own topic words (a
third of a document's tokens come from its class's topic), then
``tf * log(n / df)`` weights and rows scaled to unit length, as
``TfidfVectorizer`` gives. 20,000 x 100,000 with 100 words a document is a
density of 0.1% (about 24 MB of CSR).

Peers, on the same matrix, in one process, taking turns round by round
(median of ``--repeats`` fits and ``--predict-repeats`` predictions):

- ``MLP``: ``MLPClassifierScratch`` vs scikit-learn's ``MLPClassifier``, the
  same layer sizes (``--hidden``, default 16), Adam, batch 200, ``--epochs``
  epochs (tol 0: no early stop), float64 (the input's dtype);
- ``Perceptron``: ``PerceptronClassifier`` vs scikit-learn's ``Perceptron``,
  ``--epochs`` epochs (tol None).

For each: fit time, predict time (on the training matrix), and the peak of
the memory allocated during each call (``tracemalloc``: NumPy and SciPy
arrays; measured in a separate call, since tracing slows allocation), then
the ratios sknets / scikit-learn. A call that fails (e.g. ``MemoryError``)
is reported as failed with its error, and the run goes on.

Usage::

    python benchmarks/bench_sparse.py                       # 20k rows, widths 10k-1M
    python benchmarks/bench_sparse.py --widths 100000 --repeats 3
    python benchmarks/bench_sparse.py --quick               # tiny, seconds (a smoke test)
"""

import argparse
import gc
import platform
import statistics
import time
import tracemalloc
import warnings
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp

ZIPF_EXPONENT = 1.1


def make_tfidf(n_rows, width, words, n_classes, seed=0):
    """A TF-IDF-like CSR matrix ``(n_rows, width)`` and class labels.

    Token counts per document are Poisson around ``1.5 * words`` (repeated
    frequent words make about ``words`` distinct ones); two thirds of the
    tokens are drawn from the Zipf vocabulary, one third from the document's
    class topic (a block of ``width // (4 * n_classes)`` mid-frequency words).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n_rows)
    cdf = np.cumsum(1.0 / np.arange(1, width + 1) ** ZIPF_EXPONENT)
    cdf /= cdf[-1]
    lengths = np.maximum(rng.poisson(1.5 * words, size=n_rows), 1)
    n_tokens = int(lengths.sum())
    rows = np.repeat(np.arange(n_rows), lengths)
    tokens = np.searchsorted(cdf, rng.random(n_tokens))
    topic = rng.random(n_tokens) < 1 / 3
    block = max(width // (4 * n_classes), 1)
    start = width // 10 + y[rows[topic]] * block
    tokens[topic] = np.minimum(start + rng.integers(block, size=int(topic.sum())), width - 1)
    counts = sp.coo_matrix((np.ones(n_tokens), (rows, tokens)), shape=(n_rows, width)).tocsr()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=width)
    idf = np.log((1 + n_rows) / (1 + df)) + 1.0   # TfidfTransformer's smooth idf
    X = counts.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ X
    return X.tocsr(), y


def peers(hidden, epochs):
    from sklearn.linear_model import Perceptron
    from sklearn.neural_network import MLPClassifier

    import sknets

    mlp = dict(hidden_layer_sizes=(hidden,), solver="adam", batch_size=200, max_iter=epochs,
               tol=0.0, n_iter_no_change=10 ** 6, random_state=0)
    perceptron = dict(max_iter=epochs, tol=None, random_state=0)
    return {
        "MLP": (lambda: sknets.MLPClassifierScratch(**mlp), lambda: MLPClassifier(**mlp)),
        "Perceptron": (lambda: sknets.PerceptronClassifier(**perceptron),
                       lambda: Perceptron(**perceptron)),
    }


def timed(fn):
    """(seconds, result or the exception)."""
    gc.collect()
    tic = time.perf_counter()
    try:
        out = fn()
    except (MemoryError, ValueError) as exc:
        return time.perf_counter() - tic, exc
    return time.perf_counter() - tic, out


def traced_peak(fn):
    """Peak bytes allocated during ``fn()`` (tracemalloc), or the exception."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    except (MemoryError, ValueError) as exc:
        return exc
    finally:
        tracemalloc.stop()


def _one_round(make, X, y, r):
    """One fit and one predict of a peer, timed, into its results ``r``."""
    if "error" in r:
        return
    seconds, model = timed(lambda: make().fit(X, y))
    if isinstance(model, BaseException):
        r["error"] = f"fit: {type(model).__name__}: {str(model)[:90]}"
        return
    r["fits"].append(seconds)
    r["model"] = model


def _one_predict(X, y, r):
    if "error" in r:
        return
    seconds, pred = timed(lambda: r["model"].predict(X))
    if isinstance(pred, BaseException):
        r["error"] = f"predict: {type(pred).__name__}: {str(pred)[:90]}"
        return
    r["predicts"].append(seconds)
    r["accuracy"] = float(np.mean(pred == y))


def measure(makers, X, y, repeats, predict_repeats):
    """For each peer: median fit seconds (the peers taking turns, round by
    round), median predict seconds of the last fitted models (taking turns
    too), then the peak fit and predict bytes, and the accuracy."""
    results = {name: {"fits": [], "predicts": []} for name in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            _one_round(make, X, y, results[name])
    for _ in range(predict_repeats):
        for name in makers:
            _one_predict(X, y, results[name])
    for name, make in makers.items():
        r = results[name]
        if r["fits"]:
            r["fit_s"] = statistics.median(r["fits"])
        if r["predicts"]:
            r["predict_s"] = statistics.median(r["predicts"])
        if "error" not in r:
            r["fit_peak"] = traced_peak(lambda make=make: make().fit(X, y))
            r["predict_peak"] = traced_peak(lambda m=r["model"]: m.predict(X))
        r.pop("model", None)
    return results


def mib(n):
    return f"{n / 2 ** 20:,.1f}" if isinstance(n, (int, float)) else "failed"


def run(args):
    print(f"**{datetime.now(UTC):%Y-%m-%d %H:%M} UTC**, {platform.machine()}, "
          f"Python {platform.python_version()}, NumPy {np.__version__}; "
          f"{args.rows:,} rows, about {args.words} words a row, {args.classes} classes, "
          f"{args.epochs} epochs, hidden ({args.hidden},), median of {args.repeats} fits and "
          f"{args.predict_repeats} predicts\n")
    print("| width | density | CSR MiB | model | peer | fit s | predict s | fit peak MiB "
          "| predict peak MiB | accuracy |")
    print("| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    ratios = []
    for width in args.widths:
        X, y = make_tfidf(args.rows, width, args.words, args.classes)
        csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        density = X.nnz / (X.shape[0] * X.shape[1])
        for model, (ours, theirs) in peers(args.hidden, args.epochs).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = measure({"sknets": ours, "scikit-learn": theirs}, X, y, args.repeats,
                                  args.predict_repeats)
            for name, r in results.items():
                cells = [f"{r[k]:.3f}" if k in r else "failed" for k in ("fit_s", "predict_s")]
                cells += [mib(r.get("fit_peak")), mib(r.get("predict_peak"))]
                cells.append(f"{r['accuracy']:.3f}" if "accuracy" in r else r["error"])
                print(f"| {width:,} | {density:.3%} | {mib(csr_bytes)} | {model} | {name} | "
                      + " | ".join(cells) + " |")
            ratios.append((width, model, results["sknets"], results["scikit-learn"]))
    print("\nRatios sknets / scikit-learn (time: lower is faster; memory: peak traced "
          "allocation during the call):\n")
    print("| width | model | fit time | predict time | fit memory | predict memory |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for width, model, ours, theirs in ratios:
        cells = []
        for key in ("fit_s", "predict_s", "fit_peak", "predict_peak"):
            a, b = ours.get(key), theirs.get(key)
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
            cells.append(f"{a / b:.2f}x" if ok and b > 0 else "-")
        print(f"| {width:,} | {model} | " + " | ".join(cells) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--widths", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--words", type=int, default=100, help="distinct words a row, about")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="fits per peer")
    parser.add_argument("--predict-repeats", type=int, default=5, help="predicts per peer")
    parser.add_argument("--quick", action="store_true",
                        help="300 rows, widths 2,000 and 5,000 (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.widths, args.words, args.epochs = 300, [2_000, 5_000], 20, 1
        args.predict_repeats = 1
    run(args)


if __name__ == "__main__":
    main()
