"""The CuPy-only code paths, run without a GPU on a strict CuPy stand-in.

``backend="cupy"`` takes branches that NumPy and ``array_api_strict`` never
reach: raw CuPy ufuncs with ``out=`` in the optimizers and ``Dense``, CuPy's
``as_strided`` for im2col and pooling windows, the CuPy backend's set-up.
``tests/fake_cupy`` is a NumPy-backed ``cupy`` whose arrays refuse to mix
with NumPy ones, as CuPy's do. A child process imports it (so it never meets
a real CuPy or the other tests' modules), trains every estimator with
``backend="cupy"`` and checks: NumPy in, NumPy out; fitted attributes are
NumPy; pickles hold no device arrays; in float64 the results equal NumPy's;
no NumPy index array indexes a device array; read-backs to the host are one
per epoch (two with early stopping), and copies to the device are the data and weights once
per fit plus one sample order per epoch. The real thing runs in ``tests/test_gpu.py`` on a GPU.
"""

import json
import textwrap

from fake_cupy_run import run_with_fake_cupy

SCRIPT = textwrap.dedent("""
    import json, pickle, warnings
    import numpy as np
    import cupy
    from sklearn.datasets import load_digits
    import sknets
    from sknets.backend import gpu_available

    warnings.simplefilter("ignore")
    warnings.filterwarnings("error", message="sknets: the fused CuPy kernel")
    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(np.float64)
    y = y[:300]
    cases = {
        "mlp_adam": (sknets.MLPClassifierScratch, dict(hidden_layer_sizes=(16,), max_iter=4)),
        "mlp_sgd_es": (sknets.MLPClassifierScratch,
                       dict(hidden_layer_sizes=(16,), solver="sgd", early_stopping=True,
                            alpha=0.01, max_iter=4)),
        "mlp_lbfgs": (sknets.MLPClassifierScratch,
                      dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5)),
        "mlp_regressor": (sknets.MLPRegressorScratch, dict(hidden_layer_sizes=(16,), max_iter=4)),
        "perceptron_es": (sknets.PerceptronClassifier,
                          dict(max_iter=3, early_stopping=True, penalty="l2")),
        "convnet_max": (sknets.ConvNetClassifier,
                        dict(conv_filters=(8, 8), hidden_layer_sizes=(16,), max_iter=2)),
        "convnet_avg_stride": (sknets.ConvNetClassifier,
                               dict(conv_filters=(4,), pooling="avg", stride=2,
                                    padding="valid", pool_size=(2, 1), max_iter=2)),
    }
    report = {"gpu_available": gpu_available()}
    for name, (cls, params) in cases.items():
        target = (y / 9.0) if cls is sknets.MLPRegressorScratch else y
        cupy.LOG.clear()
        gpu = cls(backend="cupy", dtype="float64", random_state=0, **params).fit(X, target)
        log = list(cupy.LOG)
        uploads = log.count("upload")
        kernels = log.count("kernel")
        index_arrays = log.count("numpy index into device array")
        # read-backs per epoch: the difference with a fit of twice the epochs
        # (the fitted attributes' copies to the host at the end cancel out)
        cupy.LOG.clear()
        longer = cls(backend="cupy", dtype="float64", random_state=0,
                     **dict(params, max_iter=2 * params["max_iter"])).fit(X, target)
        syncs = [sum(l.count(k) for k in ("float", "bool", "get")) for l in (log, cupy.LOG)]
        cpu = cls(backend="numpy", dtype="float64", random_state=0, **params).fit(X, target)
        pred = gpu.predict(X)
        attrs = [v for k, v in vars(gpu).items() if k.endswith("_") and not k.startswith("_")]
        flat = [a for v in attrs for a in (v if isinstance(v, list) else [v])]
        blob = pickle.dumps(gpu)
        report[name] = {
            "backend": gpu._network.backend.name,
            "numpy_out": isinstance(pred, np.ndarray),
            "numpy_attrs": not any(isinstance(a, cupy.ndarray) for a in flat),
            # a device array refuses to pickle: that this worked means NumPy only
            "pickle_clean": bool(np.array_equal(pickle.loads(blob).predict(X), pred)),
            "same_as_numpy": bool(np.allclose(pred, cpu.predict(X), rtol=1e-9, atol=1e-9)
                                  and all(np.allclose(a, b, rtol=1e-9, atol=1e-9)
                                          for a, b in zip(gpu.coefs_ if hasattr(gpu, "coefs_")
                                                          else [gpu.coef_],
                                                          cpu.coefs_ if hasattr(cpu, "coefs_")
                                                          else [cpu.coef_]))),
            "cupy_in_cupy_out": isinstance(gpu.predict(cupy.asarray(X)), cupy.ndarray),
            "syncs_per_epoch": (syncs[1] - syncs[0]) / max(longer.n_iter_ - gpu.n_iter_, 1),
            "uploads": uploads,
            "fused_steps": kernels,
            "n_param_arrays": len(gpu._network.params),
            "n_iter": gpu.n_iter_,
            "index_arrays": index_arrays,
        }
    classes = cupy.asarray(np.unique(y))   # partial_fit's classes as a device array
    for cls in (sknets.MLPClassifierScratch, sknets.PerceptronClassifier):
        est = cls(backend="cupy", random_state=0).partial_fit(cupy.asarray(X), cupy.asarray(y),
                                                              classes=classes)
        report["partial_fit_classes_" + cls.__name__] = list(map(int, est.classes_))
    print("REPORT " + json.dumps(report))
""")


def test_cupy_branches_on_a_strict_stand_in():
    res = run_with_fake_cupy(["python", "-c", SCRIPT], timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(l for l in res.stdout.splitlines() if l.startswith("REPORT "))
    report = json.loads(line[len("REPORT "):])
    assert report.pop("gpu_available") is True
    for name in ("MLPClassifierScratch", "PerceptronClassifier"):
        assert report.pop("partial_fit_classes_" + name) == list(range(10))
    assert len(report) == 7
    for name, r in report.items():
        assert r["backend"] == "cupy", name
        assert r["numpy_out"] and r["numpy_attrs"] and r["pickle_clean"], (name, r)
        assert r["cupy_in_cupy_out"], name
        assert r["same_as_numpy"], (name, r)
        assert r["index_arrays"] == 0, (name, r)
        # host read-backs: one per epoch, the loss with the finite-weights flag,
        # plus the validation logits under early stopping; never one per
        # mini-batch (L-BFGS: SciPy reads the weights and gradient at each
        # evaluation)
        # The perceptron's epochs run on the host (its per-sample rule, as
        # scikit-learn computes it; sknets/training/perceptron.py): no device
        # read-back during training, the weights go back to the device at the end.
        if name.startswith("perceptron"):
            assert r["syncs_per_epoch"] == 0, (name, r)
        elif name != "mlp_lbfgs":
            assert r["syncs_per_epoch"] == 1 + name.endswith("_es"), (name, r)
        # SGD and Adam update each parameter array with one fused kernel
        if not name.startswith("perceptron") and name != "mlp_lbfgs":
            assert r["fused_steps"] >= r["n_param_arrays"] * r["n_iter"], (name, r)
        # copies to the device: the weights, X and y (and the validation inputs)
        # once per fit, then one sample order per epoch; mini-batches are sliced
        # on the device. L-BFGS is the exception: SciPy's optimizer keeps the
        # flat weight vector on the host, so each evaluation uploads the weights.
        # The perceptron also uploads, per epoch, its per-class flags (which
        # classes still train, their L2 decay: n_classes values each).
        if name.startswith("perceptron"):
            assert r["uploads"] <= r["n_param_arrays"] + 6 + 3 * r["n_iter"], (name, r)
        elif name != "mlp_lbfgs":
            data = 3 if name.endswith("_es") else 2   # X, Y (and X_val)
            assert r["uploads"] <= r["n_param_arrays"] + data + r["n_iter"], (name, r)


LAYERS_SCRIPT = textwrap.dedent("""
    import json, pickle
    import numpy as np
    import cupy
    import sknets
    from sknets.backend import get_backend
    from sknets.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout,
                               GlobalAvgPool2D)
    from sknets.losses import SoftmaxCrossEntropy
    from sknets.network import Sequential
    from sknets.optimizers import Adam

    def network(backend):
        return Sequential([Conv2D(4, 3, padding="same"), BatchNormalization(momentum=0.9),
                           Activation("relu"), Dropout(0.3), GlobalAvgPool2D(), Dense(6),
                           BatchNormalization(), Dense(3)]).build(
            (5, 5, 2), backend, np.float64, np.random.RandomState(0))

    def step(net, opt, X, Y):
        xp = net.backend.xp
        _, dz = SoftmaxCrossEntropy().loss_and_grad(xp, net.forward(X, training=True), Y)
        net.backward(dz)
        opt.update_params(net.params, net.grads)

    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((6, 5, 5, 2)), np.eye(3)[rng.randint(3, size=6)]
    gpu, cpu = network(get_backend("cupy")), network(get_backend("numpy"))
    Xd, Yd = cupy.asarray(X), cupy.asarray(Y)
    gpu_opt, cpu_opt = Adam(gpu.params, 0.01), Adam(cpu.params, 0.01)
    cupy.LOG.clear()
    step(gpu, gpu_opt, Xd, Yd)
    mask = gpu.layers[3]._cache_mask
    # NumPy replays the device mask (CuPy's generator draws other numbers)
    keep = (mask.get() > 0).astype(np.float64)
    cpu.layers[3]._sampler = lambda shape, dtype: keep
    step(cpu, cpu_opt, X, Y)
    pred, pred_ref = gpu.forward(Xd), cpu.forward(X)
    weights = [(l.describe(), k, v.get()) for l in gpu.layers
               for k, v in {**l.params, **l.state}.items()]
    ref = [v for l in cpu.layers for v in {**l.params, **l.state}.values()]
    cupy.LOG.clear()
    for _ in range(5):   # five more mini-batches
        step(gpu, gpu_opt, Xd, Yd)
    log = list(cupy.LOG)
    print("REPORT " + json.dumps({
        "sknets": sknets.__file__,
        "mask_on_device": isinstance(mask, cupy.ndarray),
        "dropped": float(np.mean(keep == 0)),
        "pred_on_device": isinstance(pred, cupy.ndarray),
        "same_prediction": bool(np.allclose(pred.get(), pred_ref, rtol=1e-9, atol=1e-12)),
        "different": [f"{name} {key}" for (name, key, v), r in zip(weights, ref)
                      if not np.allclose(v, r, rtol=1e-9, atol=1e-12)],
        "uploads": log.count("upload"),
        "draws": log.count("random"),
        "syncs": sum(log.count(k) for k in ("float", "bool", "get")),
        # a device array refuses to pickle: the network pickles NumPy only
        "pickles": len(pickle.dumps(gpu)) > 0,
    }))
""")


def test_new_layers_on_a_strict_stand_in():
    """BatchNormalization, Dropout and GlobalAvgPool2D on the "cupy" backend:
    one step equals NumPy's (the Dropout mask replayed there); the masks are
    drawn on the device, with no upload, read-back or host draw per mini-batch."""
    import os

    import sknets

    res = run_with_fake_cupy(["python", "-c", LAYERS_SCRIPT], timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(l for l in res.stdout.splitlines() if l.startswith("REPORT "))
    r = json.loads(line[len("REPORT "):])
    # the child imports this sknets (not another checkout's)
    assert os.path.dirname(r.pop("sknets")) == os.path.dirname(sknets.__file__)
    assert r["mask_on_device"] and r["pred_on_device"] and r["pickles"], r
    assert 0 < r["dropped"] < 1, r
    assert r["same_prediction"] and r["different"] == [], r
    assert r["draws"] == 5 and r["uploads"] == 0 and r["syncs"] == 0, r


SEQUENCE_SCRIPT = textwrap.dedent("""
    import json, pickle, warnings
    import numpy as np
    import cupy
    from sklearn.datasets import load_digits
    from sknets import NeuralNetClassifier
    from sknets.layers import (GRU, LSTM, Activation, BatchNormalization, Bidirectional,
                               Conv1D, GlobalAvgPool1D, MaxPool1D, Residual)

    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X, y = (X[:200] / 16).reshape(-1, 8, 8), y[:200]

    def make(backend, max_iter=2):
        return NeuralNetClassifier(
            [Conv1D(4, 3, padding="causal", dilation_rate=2),
             Residual([Conv1D(6, 3, strides=2, padding="same"), BatchNormalization(),
                       Activation("relu")]),
             MaxPool1D(2, strides=1), Bidirectional(GRU(3, return_sequences=True)),
             Residual([LSTM(6, return_sequences=True)]), GlobalAvgPool1D()],
            max_iter=max_iter, random_state=0, dtype="float64", backend=backend)

    make("cupy", max_iter=1).fit(X, y)   # one-time work out of the counts
    cupy.LOG.clear()
    gpu = make("cupy").fit(X, y)
    log = list(cupy.LOG)
    cupy.LOG.clear()
    make("cupy", max_iter=4).fit(X, y)
    longer = list(cupy.LOG)
    cpu = make("numpy").fit(X, y)
    pred = gpu.predict_proba(X)
    syncs = [sum(l.count(k) for k in ("float", "bool", "get")) for l in (log, longer)]
    print("REPORT " + json.dumps({
        "backend": gpu._network.backend.name,
        "numpy_out": isinstance(pred, np.ndarray),
        "same_as_numpy": bool(np.allclose(pred, cpu.predict_proba(X), rtol=1e-9, atol=1e-12)),
        "pickle_clean": bool(np.array_equal(pickle.loads(pickle.dumps(gpu)).predict_proba(X),
                                            pred)),
        "syncs_per_epoch": (syncs[1] - syncs[0]) / 2,
        "index_arrays": log.count("numpy index into device array"),
        "cupy_in_cupy_out": isinstance(gpu.predict(cupy.asarray(X)), cupy.ndarray),
    }))
""")


def test_sequence_layers_on_the_cupy_stand_in():
    """Conv1D, the 1-D poolings, the recurrent layers and the containers on
    the "cupy" backend: NumPy's results in float64, one host read-back per
    epoch, no NumPy index arrays on device arrays, pickles without them."""
    res = run_with_fake_cupy(["python", "-c", SEQUENCE_SCRIPT], timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(l for l in res.stdout.splitlines() if l.startswith("REPORT "))
    r = json.loads(line[len("REPORT "):])
    assert r == {"backend": "cupy", "numpy_out": True, "same_as_numpy": True,
                 "pickle_clean": True, "syncs_per_epoch": 1, "index_arrays": 0,
                 "cupy_in_cupy_out": True}, r
