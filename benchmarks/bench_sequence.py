"""Sequence networks on MNIST-1D: sknets vs PyTorch (CPU), and the accuracy targets.

Three networks, the same layers for both peers (``NETS`` below): a 1-D
convolutional network (``conv``), a GRU(64) network (``gru``) and a residual
1-D network (``resnet``), on MNIST-1D (Greydanus 2020; generated offline by
the ``mnist1d`` package through :func:`sknets.datasets.make_mnist1d`: 4,000
training and 1,000 test signals of 40 timesteps, standardised).

**Speed** (default): each network is fitted by both peers for ``--epochs``
epochs with Adam, float32. PyTorch starts from *the same initial weights* as
sknets (drawn by sknets and copied over: ``Conv1d.weight`` is ``W`` transposed
to ``(filters, channels, kernel)``, ``nn.GRU``'s ``weight_ih_l0`` is ``W.T``,
``bias_hh_l0`` is ``b_rec``...) and sees the samples in *the same order*
(sknets' shuffles replayed), so the two differ only in their implementation,
float32 rounding and (batch normalization) PyTorch's unbiased running
variance. Each peer trains in its own child process (its peak resident
memory, ``VmHWM``, is its own); the peers take turns for each repeat.
Both use ``--threads`` threads (BLAS threads for sknets, ``torch.set_num_threads``
for PyTorch). Reported per network: best and median seconds per epoch (fit
time / epochs), the ratio sknets / PyTorch of the medians, test accuracy, peak
RSS.

**Targets** (``--targets``): sknets alone, each network trained with its
documented settings (``NETS``: epochs, batch size, learning rate) for
``--seeds`` random states; reported: test accuracy per seed, the median, fit
seconds (wall-clock, and the process's CPU time: on a shared machine the
wall-clock time counts the other processes' turns too).

``--quick`` (for the test suite): 600 generated signals, small networks, one
epoch, peers in this process (no memory figures).

Usage::

    python benchmarks/bench_sequence.py --repeats 3          # speed
    python benchmarks/bench_sequence.py --targets --seeds 3  # accuracy targets
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime

import numpy as np

EPOCHS = 5


# ----------------------------------------------------------------- networks
def conv_layers(shrink=1):
    from sknets.layers import Activation, Conv1D, GlobalMaxPool1D, MaxPool1D

    c1, c2 = 32 // shrink, 64 // shrink
    return [Conv1D(c1, 5, padding="same"), Activation("relu"), MaxPool1D(2),
            Conv1D(c2, 3, padding="same"), Activation("relu"), MaxPool1D(2),
            Conv1D(c2, 3, padding="same"), Activation("relu"), GlobalMaxPool1D()]


def gru_layers(shrink=1):
    from sknets.layers import GRU

    return [GRU(64 // shrink)]


def resnet_layers(shrink=1):
    from sknets.layers import (
        Activation,
        BatchNormalization,
        Conv1D,
        GlobalAvgPool1D,
        MaxPool1D,
        Residual,
    )

    c = 32 // shrink

    def block():
        return [Residual([Conv1D(c, 3, padding="same"), BatchNormalization(momentum=0.9),
                          Activation("relu"), Conv1D(c, 3, padding="same"),
                          BatchNormalization(momentum=0.9)]), Activation("relu")]

    return [Conv1D(c, 5, padding="same"), BatchNormalization(momentum=0.9),
            Activation("relu"), *block(), MaxPool1D(2), *block(), MaxPool1D(2), *block(),
            GlobalAvgPool1D()]


#: name: (layers, {training settings of the accuracy targets}).
NETS = {
    "conv": (conv_layers,
             dict(max_iter=40, batch_size=64, learning_rate_init=3e-3, alpha=0.0)),
    "gru": (gru_layers,
            dict(max_iter=40, batch_size=64, learning_rate_init=2e-3, alpha=0.0)),
    "resnet": (resnet_layers,
               dict(max_iter=40, batch_size=32, learning_rate_init=3e-3, alpha=0.0)),
}


def make_sknets(name, seed, epochs, quick=False, **settings):
    from sknets import NeuralNetClassifier

    layers, targets = NETS[name]
    params = {**targets, **settings, "max_iter": epochs}
    return NeuralNetClassifier(layers(4 if quick else 1), random_state=seed,
                               dtype="float32", tol=0.0, n_iter_no_change=epochs + 1, **params)


# --------------------------------------------------------------------- data
def load_data(quick):
    from sknets.datasets import make_mnist1d

    X, y = make_mnist1d(600 if quick else 5000)
    X = X.astype(np.float32)
    n_train = int(0.8 * len(X))
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


# -------------------------------------------------------------------- peers
def _peak_mib():
    """This process's peak resident memory: ``VmHWM`` (reset by ``exec``,
    unlike ``ru_maxrss``, which a child inherits from the parent that
    spawned it), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            line = next(ln for ln in f if ln.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_sknets(name, data, threads, seed, epochs, quick):
    from threadpoolctl import threadpool_limits

    X_tr, X_te, y_tr, y_te = data
    clf = make_sknets(name, seed, epochs, quick)
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tic = time.perf_counter()
        clf.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - tic
        acc = clf.score(X_te, y_te)
    return dict(peer="sknets", s_per_epoch=fit_s / clf.n_iter_, acc=acc, peak_mib=_peak_mib(),
                loss=clf.loss_curve_[0])


def initial_network_and_order(clf, input_shape, n_samples, n_classes, seed, epochs):
    """The network ``clf.fit`` starts from and each epoch's sample order:
    ``fit`` draws the weights from ``RandomState(seed)``, then shuffles the
    sample indices with it at the start of every epoch; this replays both."""
    from sklearn.utils import shuffle

    from sknets.backend import get_backend
    from sknets.network import Sequential

    rs = np.random.RandomState(seed)
    net = Sequential(clf._build_layers(input_shape, n_classes)).build(
        input_shape, get_backend("numpy"), np.float32, rs)
    order, idx = [], np.arange(n_samples)
    for _ in range(epochs):
        idx = shuffle(idx, random_state=rs)
        order.append(idx)
    return net, order


def torch_module(net):
    """PyTorch modules computing the built sknets network ``net`` (its weights
    copied), on ``(n_samples, timesteps, channels)`` input."""
    import torch
    from torch import nn

    from sknets.layers import (
        GRU,
        Activation,
        BatchNormalization,
        Conv1D,
        Dense,
        GlobalAvgPool1D,
        GlobalMaxPool1D,
        MaxPool1D,
        Residual,
    )
    from sknets.layers.conv1d import conv1d_length

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    class Conv(nn.Module):   # channels-last in and out, Keras' padding
        def __init__(self, layer, W, b):
            super().__init__()
            self.pads = conv1d_length(layer.input_shape_[0], layer.kernel_size, layer.strides,
                                      layer.padding, layer.dilation_rate)[1]
            self.conv = nn.Conv1d(W.shape[1], W.shape[2], layer.kernel_size,
                                  stride=layer.strides, dilation=layer.dilation_rate)
            with torch.no_grad():
                self.conv.weight.copy_(t(W.transpose(2, 1, 0)))
                self.conv.bias.copy_(t(b))

        def forward(self, x):
            x = nn.functional.pad(x.transpose(1, 2), self.pads)
            return self.conv(x).transpose(1, 2)

    class ChannelsLast(nn.Module):   # a module on (n, channels, timesteps)
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module(x.transpose(1, 2)).transpose(1, 2)

    class Res(nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.block = nn.Sequential(*[convert(inner, {k: layer._store(p + k) for k in
                                                         keys[0] + keys[1]})
                                         for inner, p, keys in zip(layer.inner_, layer.prefixes_,
                                                                   layer.inner_keys_)])
            self.proj, self.stride = None, 1
            if layer.shortcut_strides_ is not None:
                W = layer.params["shortcut.W"]
                self.stride = layer.shortcut_strides_[0]
                self.proj = nn.Linear(*W.shape)
                with torch.no_grad():
                    self.proj.weight.copy_(t(W.T))
                    self.proj.bias.copy_(t(layer.params["shortcut.b"]))

        def forward(self, x):
            short = x if self.proj is None else self.proj(x[:, ::self.stride])
            return self.block(x) + short

    class Gru(nn.Module):
        def __init__(self, w):
            super().__init__()
            u = w["U"].shape[0]
            self.gru = nn.GRU(w["W"].shape[0], u, batch_first=True)
            with torch.no_grad():
                for name, value in (("weight_ih_l0", w["W"].T), ("weight_hh_l0", w["U"].T),
                                    ("bias_ih_l0", w["b"]), ("bias_hh_l0", w["b_rec"])):
                    getattr(self.gru, name).copy_(t(value))

        def forward(self, x):
            return self.gru(x)[0][:, -1]

    class Reduce(nn.Module):
        def __init__(self, how):
            super().__init__()
            self.how = how

        def forward(self, x):
            return x.mean(1) if self.how == "mean" else x.amax(1)

    def convert(layer, w):
        if isinstance(layer, Conv1D):
            return Conv(layer, w["W"], w["b"])
        if isinstance(layer, Dense):
            m = nn.Linear(*w["W"].shape)
            with torch.no_grad():
                m.weight.copy_(t(w["W"].T))
                m.bias.copy_(t(w["b"]))
            return m
        if isinstance(layer, BatchNormalization):
            bn = nn.BatchNorm1d(len(w["gamma"]), eps=layer.epsilon, momentum=1 - layer.momentum)
            with torch.no_grad():
                bn.weight.copy_(t(w["gamma"]))
                bn.bias.copy_(t(w["beta"]))
            return ChannelsLast(bn)
        if isinstance(layer, Activation) and layer.activation == "relu":
            return nn.ReLU()
        if isinstance(layer, MaxPool1D):
            return ChannelsLast(nn.MaxPool1d(layer.pool_size, layer.strides))
        if isinstance(layer, (GlobalAvgPool1D, GlobalMaxPool1D)):
            return Reduce("mean" if isinstance(layer, GlobalAvgPool1D) else "max")
        if isinstance(layer, GRU):
            return Gru(w)
        if isinstance(layer, Residual):
            return Res(layer)
        raise TypeError(f"no PyTorch counterpart here for {layer.describe()}")

    return nn.Sequential(*[convert(layer, {**layer.params, **layer.state})
                           for layer in net.layers])


def run_torch(name, data, threads, seed, epochs, quick):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    X_tr, X_te, y_tr, y_te = data
    clf = make_sknets(name, seed, epochs, quick)
    net, order = initial_network_and_order(clf, X_tr.shape[1:], len(X_tr),
                                           int(y_tr.max()) + 1, seed, epochs)
    model = torch_module(net)
    Xt, yt = torch.from_numpy(X_tr), torch.from_numpy(y_tr)
    opt = torch.optim.Adam(model.parameters(), lr=clf.learning_rate_init, betas=(0.9, 0.999),
                           eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    batch, first_loss = clf.batch_size, None
    tic = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for i in range(0, len(Xt), batch):
            idx = torch.from_numpy(order[epoch][i:i + batch])
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        first_loss = total / len(Xt) if first_loss is None else first_loss
    fit_s = time.perf_counter() - tic
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_te)).argmax(1).numpy()
    return dict(peer="torch", s_per_epoch=fit_s / epochs, acc=float((pred == y_te).mean()),
                peak_mib=_peak_mib(), loss=first_loss)


RUNNERS = {"sknets": run_sknets, "torch": run_torch}


# ------------------------------------------------------------------- driver
def _child(args):
    with np.load(args.data_file) as f:
        data = tuple(f[k] for k in ("X_tr", "X_te", "y_tr", "y_te"))
    res = RUNNERS[args.child](args.net, data, args.threads, args.seed, args.epochs, args.quick)
    print("RESULT " + json.dumps(res))


def _run_peer(peer, net, seed, args, data, data_file):
    if args.quick:   # in this process: seconds, no memory figures
        return {**RUNNERS[peer](net, data, args.threads, seed, args.epochs, True),
                "peak_mib": float("nan")}
    cmd = [sys.executable, os.path.abspath(__file__), "--child", peer, "--net", net,
           "--data-file", data_file, "--threads", str(args.threads), "--seed", str(seed),
           "--epochs", str(args.epochs)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(f"{peer} child failed on {net} (exit {out.returncode})")
    return json.loads(lines[-1][len("RESULT "):])


def speed(args, data, data_file, peers):
    results = {(n, p): [] for n in args.nets for p in peers}
    for net in args.nets:
        for r in range(args.repeats):
            for peer in peers:
                res = _run_peer(peer, net, args.seed + r, args, data, data_file)
                results[net, peer].append(res)
                print(f"  {net:6s} repeat {r + 1} {peer:6s}: {res['s_per_epoch']:.3f} s/epoch, "
                      f"first-epoch loss {res['loss']:.4f}, acc {res['acc']:.4f}, "
                      f"peak RSS {res['peak_mib']:.0f} MiB", flush=True)
    print()
    print("| network | peer | s/epoch best | s/epoch median | ratio to torch (median) | "
          "test accuracy (per seed) | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for net in args.nets:
        med = {p: statistics.median(r["s_per_epoch"] for r in results[net, p]) for p in peers}
        for peer in peers:
            rs = results[net, peer]
            ratio = f"{med[peer] / med['torch']:.2f}" if "torch" in med else "n/a"
            accs = "/".join(f"{r['acc']:.3f}" for r in rs)
            print(f"| {net} | {peer} | {min(r['s_per_epoch'] for r in rs):.3f} | "
                  f"{med[peer]:.3f} | {ratio} | {accs} | "
                  f"{max(r['peak_mib'] for r in rs):.0f} |")


def targets(args, data):
    from threadpoolctl import threadpool_limits

    X_tr, X_te, y_tr, y_te = data
    print("| network | settings | test accuracy per seed | median | fit seconds, wall (max) | "
          "fit seconds, CPU (max) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for net in args.nets:
        accs, secs, cpu = [], [], []
        for seed in range(args.seed, args.seed + args.seeds):
            clf = make_sknets(net, seed, NETS[net][1]["max_iter"] if not args.quick else 1,
                              args.quick)
            with threadpool_limits(args.threads), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tic, cpu0 = time.perf_counter(), time.process_time()
                clf.fit(X_tr, y_tr)
                secs.append(time.perf_counter() - tic)
                cpu.append(time.process_time() - cpu0)
            accs.append(clf.score(X_te, y_te))
            print(f"  {net} seed {seed}: {accs[-1]:.3f} in {secs[-1]:.0f} s "
                  f"({cpu[-1]:.0f} s CPU)", flush=True)
        settings = ", ".join(f"{k}={v}" for k, v in NETS[net][1].items())
        print(f"| {net} | {settings} | {' / '.join(f'{a:.3f}' for a in accs)} | "
              f"{statistics.median(accs):.3f} | {max(secs):.0f} | {max(cpu):.0f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nets", nargs="+", choices=list(NETS), default=list(NETS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0,
                        help="random_state of the first repeat or seed (then seed + 1, ...)")
    parser.add_argument("--targets", action="store_true",
                        help="accuracy targets: sknets alone, documented settings")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for --targets")
    parser.add_argument("--quick", action="store_true",
                        help="seconds: small data and networks, one epoch, in process")
    parser.add_argument("--child", choices=list(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--net", help=argparse.SUPPRESS)
    parser.add_argument("--data-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    if args.quick:
        args.epochs, args.repeats, args.seeds = 1, 1, 1
    data = load_data(args.quick)
    mode = "accuracy targets" if args.targets else f"{args.epochs} epochs, float32, Adam"
    print(f"# Sequence benchmark (MNIST-1D, {len(data[0])} train / {len(data[1])} test), "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads={args.threads}, {mode}")
    if args.targets:
        return targets(args, data)
    peers = ["sknets"]
    try:
        import torch  # noqa: F401
        peers.append("torch")
    except ImportError:
        print("PyTorch is not installed: benchmarking sknets alone.")
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, "mnist1d.npz")
        np.savez(data_file, **dict(zip(("X_tr", "X_te", "y_tr", "y_te"), data)))
        speed(args, data, data_file, peers)


if __name__ == "__main__":
    main()
