"""GenerativeAdversarialNetwork vs PyTorch on scikit-learn's digits: time and quality.

Data: ``load_digits``, X/16, a stratified 70/30 split (``random_state=0``).
The GANs train on the 1,257 training digits; the 540 test digits are the
held-out real samples of the quality measures.

Peers, the same networks, settings and epochs (the issue's baseline)::

    generator      [z (32), one-hot (10)] - 128 - 256 - 64, LeakyReLU(0.2), tanh
    discriminator  [x (64), one-hot (10)] - 256 - 128 - 1, LeakyReLU(0.2),
                   Dropout(0.3) after each hidden layer

Adam (lr 2e-4, betas 0.5/0.999), one-sided label smoothing (real target
0.9), batch 64, one discriminator step then one generator step per batch,
the non-saturating generator loss, data scaled to [-1, 1], float32. The
unconditional variant drops the one-hot inputs. ``sknets`` is
``GenerativeAdversarialNetwork`` at its defaults (which are these), PyTorch
the same loop written with ``torch.nn``, its layers initialised as sknets'
``Dense`` (Glorot-uniform weights and biases); with ``--torch-default-init``
also ``torch, default init`` (PyTorch's own Kaiming-uniform initialisation,
as the issue's baseline). A further peer, ``sknets best``, is the best
setting found (``best_params`` below; see RESULTS.md).

Measured for each peer and seed (the peers take turns, seed by seed):
seconds per epoch (fit time / epochs), and on 1,000 generated samples (100
per class for the conditional models): the accuracy of a logistic
regression trained on the real training digits at recognising the requested
class (conditional), the smallest class share among its predictions
(unconditional: coverage of all ten digits), the classifier two-sample test
against the test digits (``c2st_score``: 1-nearest-neighbour, the default,
and a random forest of 100 trees, also on the samples rounded to the digits'
17 grey levels), and k-NN precision and recall (``k=3``, 540 generated vs
the 540 test digits). Reported: medians over the seeds, and the time
ratio sknets / PyTorch of the medians.

Usage::

    python benchmarks/bench_gan.py --torch-default-init   # 300 epochs, 3 seeds
    python benchmarks/bench_gan.py --quick          # a smoke run: 2 epochs, 1 seed
    python benchmarks/bench_gan.py --no-torch --epochs 100
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LATENT = 32


def best_params():
    """The best documented setting (RESULTS.md), for ``sknets best``."""
    from sknets.layers import Activation, Dense, Dropout, MinibatchStdDev

    return dict(discriminator=[MinibatchStdDev(), Dense(256), Activation("leaky_relu"),
                               Dropout(0.3), Dense(128), Activation("leaky_relu"),
                               Dropout(0.3)],
                learning_rate_init=4e-4, discriminator_learning_rate=8e-4)


def load():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split((X / 16).astype(np.float32), y, test_size=0.3,
                                              random_state=0, stratify=y)
    clf = LogisticRegression(max_iter=2000).fit(X_tr, y_tr)
    return X_tr, X_te, y_tr, clf


# ------------------------------------------------------------------ peers
def fit_sknets(X, y, epochs, seed, params):
    from sknets import GenerativeAdversarialNetwork

    gan = GenerativeAdversarialNetwork(max_iter=epochs, random_state=seed, dtype="float32",
                                       **params)
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gan.fit(X, y)
    seconds = time.perf_counter() - tic

    def sample(labels, rng_seed):
        if y is None:
            return gan.sample(1000, random_state=rng_seed)
        return gan.sample(len(labels), y=labels, random_state=rng_seed)[0]

    return seconds, sample


def glorot_(module):
    """sknets' ``Dense`` initialisation: weights and biases ``U(-b, b)``,
    ``b = sqrt(6 / (fan_in + fan_out))``."""
    from torch import nn

    if isinstance(module, nn.Linear):
        bound = (6.0 / (module.in_features + module.out_features)) ** 0.5
        nn.init.uniform_(module.weight, -bound, bound)
        nn.init.uniform_(module.bias, -bound, bound)


def fit_torch(X, y, epochs, seed, same_init=True):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    k = 0 if y is None else 10
    G = nn.Sequential(nn.Linear(LATENT + k, 128), nn.LeakyReLU(0.2), nn.Linear(128, 256),
                      nn.LeakyReLU(0.2), nn.Linear(256, 64), nn.Tanh())
    D = nn.Sequential(nn.Linear(64 + k, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      nn.Linear(256, 128), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(128, 1))
    if same_init:
        G.apply(glorot_)
        D.apply(glorot_)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1)
    mask = torch.tensor(hi > lo, dtype=torch.float32)    # constant pixels: 0, as sknets does
    Xt = torch.tensor((2 * (X - lo) / span - 1) * (hi > lo), dtype=torch.float32)
    Yt = None if y is None else torch.eye(10)[torch.tensor(y)]

    def cat(a, b):
        return a if b is None else torch.cat([a, b], 1)

    tic = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(Xt))
        for i in range(0, len(Xt), 64):
            idx = perm[i:i + 64]
            xb, yb, b = Xt[idx], None if Yt is None else Yt[idx], len(idx)
            fake = G(cat(torch.randn(b, LATENT), yb)) * mask
            loss_d = (bce(D(cat(xb, yb)), torch.full((b, 1), 0.9))
                      + bce(D(cat(fake.detach(), yb)), torch.zeros(b, 1)))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = bce(D(cat(fake, yb)), torch.ones(b, 1))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
    seconds = time.perf_counter() - tic
    G.eval()

    def sample(labels, rng_seed):
        torch.manual_seed(rng_seed)
        n = 1000 if labels is None else len(labels)
        with torch.no_grad():
            c = None if labels is None else torch.eye(10)[torch.tensor(labels)]
            out = G(cat(torch.randn(n, LATENT), c)).numpy()
        return np.clip(lo + (out + 1) / 2 * (hi - lo), lo, hi)

    return seconds, sample


# ---------------------------------------------------------------- quality
def quality(sample, conditional, X_te, clf, seed, n_trees=100):
    from sklearn.ensemble import RandomForestClassifier

    from sknets.metrics import c2st_score, precision_recall_knn

    labels = np.repeat(np.arange(10), 100) if conditional else None
    X_new = np.asarray(sample(labels, seed + 1000), dtype=np.float64)
    predicted = clf.predict(X_new)
    rng = np.random.RandomState(seed)
    subset = X_new[rng.choice(len(X_new), len(X_te), replace=False)]
    precision, recall = precision_recall_knn(X_te, subset)
    forest = RandomForestClassifier(n_trees, random_state=0, n_jobs=1)
    return {
        "class_accuracy": float(np.mean(predicted == labels)) if conditional else None,
        "min_class_share": float(np.bincount(predicted, minlength=10).min() / len(X_new)),
        "c2st": c2st_score(X_te, X_new, random_state=0),
        "c2st_forest": c2st_score(X_te, X_new, classifier=forest, random_state=0),
        # digits take 17 grey levels: a forest splits on values no real pixel takes
        "c2st_forest_rounded": c2st_score(X_te, np.round(X_new * 16) / 16, classifier=forest,
                                          random_state=0),
        "precision": precision, "recall": recall,
    }


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs, 1 seed, a forest of 10 trees (a smoke run)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-best", action="store_true")
    parser.add_argument("--torch-default-init", action="store_true",
                        help="also PyTorch with its own initialisation (Kaiming-uniform)")
    parser.add_argument("--modes", default="conditional,unconditional")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds = 2, 1
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    peers = ["sknets"] + ([] if args.no_best else ["sknets best"])
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
            peers.append("torch")
            if args.torch_default_init:
                peers.append("torch, default init")
        except ImportError:
            print("PyTorch not installed: sknets only.")
    X_tr, X_te, y_tr, clf = load()
    print(f"# bench_gan.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, threads={args.threads}, "
          f"load average {os.getloadavg()[0]:.1f}, epochs={args.epochs}, seeds={args.seeds}")
    table = {}
    for mode in args.modes.split(","):
        conditional = mode == "conditional"
        y = y_tr if conditional else None
        for seed in range(args.seeds):
            for peer in peers:
                if peer.startswith("torch"):
                    seconds, sample = fit_torch(X_tr, y, args.epochs, seed,
                                                same_init=peer == "torch")
                else:
                    params = best_params() if peer == "sknets best" else {}
                    seconds, sample = fit_sknets(X_tr, y, args.epochs, seed, params)
                row = {"s_per_epoch": seconds / args.epochs,
                       **quality(sample, conditional, X_te, clf, seed,
                                 n_trees=10 if args.quick else 100)}
                print("RUN " + json.dumps({"mode": mode, "peer": peer, "seed": seed, **row}),
                      flush=True)
                table.setdefault((mode, peer), []).append(row)
    print("\n| mode | peer | s/epoch | class accuracy | min class share | C2ST 1-NN | "
          "C2ST forest | C2ST forest, rounded | precision | recall |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    for (mode, peer), rows in table.items():
        med = {k: (None if rows[0][k] is None else statistics.median(r[k] for r in rows))
               for k in rows[0]}
        medians[(mode, peer)] = med
        print(f"| {mode} | {peer} | {fmt(med['s_per_epoch'], 4)} | "
              f"{fmt(med['class_accuracy'])} | {fmt(med['min_class_share'])} | "
              f"{fmt(med['c2st'])} | {fmt(med['c2st_forest'])} | "
              f"{fmt(med['c2st_forest_rounded'])} | {fmt(med['precision'])} | "
              f"{fmt(med['recall'])} |")
    for mode in args.modes.split(","):
        if (mode, "torch") in medians:
            ratio = medians[(mode, "sknets")]["s_per_epoch"] / medians[(mode, "torch")][
                "s_per_epoch"]
            print(f"{mode}: time per epoch sknets / torch = {ratio:.2f}x")


if __name__ == "__main__":
    main()
