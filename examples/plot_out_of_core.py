"""
Out-of-core training: a dataset on disk larger than the memory the script allows itself
=======================================================================================

The data (a 5-class problem, 64 float32 features, labels from a fixed random
"teacher" network plus noise) is written to disk in ``.npy`` chunks, one at a
time, and never held in memory whole. The script gives itself a memory
budget of a fraction of the dataset's size, then trains
``MLPClassifierScratch`` on it two ways, with the same result:

1. a plain loop: load one chunk, ``partial_fit`` on it, drop it (one pass
   over the chunks per epoch);
2. dask-ml's ``Incremental`` over a dask array whose blocks are the chunk
   files (read lazily, one ``partial_fit`` task per block). With a
   ``dask.distributed.Client`` connected, the same code trains on a cluster.

The process's resident memory is sampled all along: it stays flat while the
data read grows, well below the budget, and both ways end with identical
weights. ``ParallelPostFit`` then predicts held-out chunks blockwise.

Run: ``python examples/plot_out_of_core.py [OUTPUT_DIR]`` (or set
``SKNETS_EXAMPLE_OUTPUT``); it saves ``out_of_core.png``. The chunks go to a
temporary folder, removed at the end. ``SKNETS_EXAMPLE_FAST=1`` writes a
smaller dataset (16 MB instead of 80 MB) and trains one epoch instead of
two. Needs the ``[dask]`` extra.
"""

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
import psutil
from dask_ml.wrappers import Incremental, ParallelPostFit

from sknets import MLPClassifierScratch

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKNETS_EXAMPLE_OUTPUT", "."))
OUT.mkdir(parents=True, exist_ok=True)
FAST = os.environ.get("SKNETS_EXAMPLE_FAST") == "1"

N_CHUNKS, CHUNK_ROWS = (16, 4_000) if FAST else (32, 10_000)
N_FEATURES, N_CLASSES = 64, 5
CHUNK_MB = CHUNK_ROWS * N_FEATURES * 4 / 2**20
DATASET_MB = N_CHUNKS * CHUNK_MB
#: the memory the script allows itself above what it uses before training
BUDGET_MB = DATASET_MB / 2 if FAST else DATASET_MB / 4
EPOCHS = 1 if FAST else 2
CLASSES = np.arange(N_CLASSES)


def rss_mb():
    return psutil.Process().memory_info().rss / 2**20


class MemorySampler:
    """Resident memory sampled in a background thread, every few milliseconds.

    At most ``keep`` samples are kept (every other one is dropped, and the
    interval doubled, when the list is full), so that the sampler's own
    memory does not grow with the time it runs.
    """

    def __init__(self, every=0.005, keep=1000):
        self.every, self.keep, self.samples = every, keep, []

    def __enter__(self):
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._start, rss_mb()))
            if len(self.samples) >= self.keep:
                self.samples, self.every = self.samples[::2], 2 * self.every
            time.sleep(self.every)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def write_chunks(folder):
    """Write ``N_CHUNKS`` chunk files of features and labels, one chunk in memory
    at a time; the last two are held out for testing."""
    teacher = np.random.default_rng(0)
    A = teacher.standard_normal((N_FEATURES, 32)).astype(np.float32) / np.sqrt(N_FEATURES)
    B = teacher.standard_normal((32, N_CLASSES)).astype(np.float32)
    for i in range(N_CHUNKS):
        rng = np.random.default_rng([1, i])
        X = rng.standard_normal((CHUNK_ROWS, N_FEATURES), dtype=np.float32)
        logits = np.tanh(X @ A) @ B + 0.3 * rng.standard_normal((CHUNK_ROWS, N_CLASSES))
        np.save(folder / f"X_{i:04d}.npy", X)
        np.save(folder / f"y_{i:04d}.npy", np.argmax(logits, axis=1))


def chunk_files(folder, kind, chunks):
    return [folder / f"{kind}_{i:04d}.npy" for i in chunks]


def dask_array(files, shape, dtype):
    """A dask array whose blocks are the given ``.npy`` files, read when needed."""
    blocks = [da.from_delayed(dask.delayed(np.load)(f), shape=shape, dtype=dtype) for f in files]
    return da.concatenate(blocks, axis=0)


def new_model():
    return MLPClassifierScratch(hidden_layer_sizes=(64,), learning_rate_init=0.003,
                                random_state=0)


def train_loop(folder, train):
    """Plain partial_fit over the chunks; resident memory after each chunk."""
    model, after_chunk = new_model(), []
    for _ in range(EPOCHS):
        for i in train:
            X, y = np.load(folder / f"X_{i:04d}.npy"), np.load(folder / f"y_{i:04d}.npy")
            model.partial_fit(X, y, classes=CLASSES)
            del X, y
            after_chunk.append(rss_mb())
    return model, after_chunk


def train_incremental(folder, train):
    X = dask_array(chunk_files(folder, "X", train), (CHUNK_ROWS, N_FEATURES), np.float32)
    y = dask_array(chunk_files(folder, "y", train), (CHUNK_ROWS,), np.int64)
    inc = Incremental(new_model(), shuffle_blocks=False)
    with dask.config.set(scheduler="synchronous"):   # or connect a Client: the same code
        for _ in range(EPOCHS):
            inc.partial_fit(X, y, classes=CLASSES)
    return inc


def main():
    train, test = list(range(N_CHUNKS - 2)), [N_CHUNKS - 2, N_CHUNKS - 1]
    with tempfile.TemporaryDirectory(prefix="sknets-out-of-core-") as tmp:
        folder = Path(tmp)
        write_chunks(folder)
        on_disk = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
        print(f"dataset: {N_CHUNKS} chunks of {CHUNK_ROWS} x {N_FEATURES} float32, "
              f"{on_disk:.0f} MB on disk; memory budget {BUDGET_MB:.0f} MB")

        baseline = rss_mb()
        with MemorySampler() as loop_memory:
            loop_model, after_chunk = train_loop(folder, train)
        with MemorySampler() as dask_memory:
            inc = train_incremental(folder, train)
        same = all(np.array_equal(a, b) for a, b in zip(
            loop_model.coefs_ + loop_model.intercepts_,
            inc.estimator_.coefs_ + inc.estimator_.intercepts_))
        print(f"plain loop and Incremental end with identical weights: {same}")

        X_test = dask_array(chunk_files(folder, "X", test), (CHUNK_ROWS, N_FEATURES),
                            np.float32)
        y_test = np.concatenate([np.load(f) for f in chunk_files(folder, "y", test)])
        with dask.config.set(scheduler="synchronous"):
            predicted = ParallelPostFit(inc.estimator_).predict(X_test).compute()
        print(f"held-out accuracy {np.mean(predicted == y_test):.3f} (chance 0.2)")

    peak = max(r for _, r in loop_memory.samples + dask_memory.samples) - baseline
    print(f"peak memory above the start of training: {peak:.1f} MB for {EPOCHS * on_disk:.0f} "
          f"MB read ({EPOCHS} epoch(s)); budget {BUDGET_MB:.0f} MB")
    if not same or peak > BUDGET_MB:
        raise SystemExit("out-of-core training did not stay within its budget")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    read = CHUNK_MB * np.arange(1, len(after_chunk) + 1)
    left.plot(read, read, "--", color="grey", label="data read (if it were kept)")
    left.plot(read, np.array(after_chunk) - baseline, "o-", ms=3,
              label="resident memory above the start")
    left.axhline(BUDGET_MB, color="C3", label=f"budget ({BUDGET_MB:.0f} MB)")
    left.set(xlabel="data read so far (MB)", ylabel="MB",
             title="plain partial_fit loop, after each chunk")
    left.legend()
    for sampler, label in ((loop_memory, "partial_fit loop"), (dask_memory, "Incremental")):
        t, r = np.array(sampler.samples).T
        right.plot(t, r - baseline, label=label)
    right.axhline(BUDGET_MB, color="C3", label="budget")
    right.set(xlabel="seconds", ylabel="resident memory above the start (MB)",
              title=f"sampled while training, {EPOCHS} x {on_disk:.0f} MB read")
    right.legend()
    path = OUT / "out_of_core.png"
    fig.savefig(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
