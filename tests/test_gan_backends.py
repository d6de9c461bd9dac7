"""The GAN on the CuPy backend, run without a GPU on the strict CuPy stand-in.

A child process imports ``tests/fake_cupy`` (NumPy-backed arrays that refuse
to mix with NumPy ones, as CuPy's do), trains conditional and unconditional
GANs with ``backend="cupy"`` and checks: in float64 the samples equal the
NumPy backend's (the noise is drawn on the host, so both train alike; the
networks here have no dropout, whose masks each backend draws with its own
generator);
samples and fitted networks are NumPy; pickles hold no device arrays; CuPy
input works; the host reads back once per epoch, never per batch.
"""

import json
import textwrap

from fake_cupy_run import run_with_fake_cupy

SCRIPT = textwrap.dedent("""
    import json, pickle, warnings
    import numpy as np
    import cupy
    from sklearn.datasets import load_digits
    from sknets import GenerativeAdversarialNetwork
    from sknets.layers import Activation, Dense

    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    params = dict(generator=[Dense(16), Activation("leaky_relu")],
                  discriminator=[Dense(16), Activation("leaky_relu")],
                  latent_dim=4, batch_size=50, dtype="float64", random_state=0)
    GenerativeAdversarialNetwork(backend="cupy", max_iter=1, **params).fit(X)  # set-up syncs
    report = {}
    for name, labels in (("conditional", y), ("unconditional", None)):
        runs = {}
        for epochs in (2, 4):
            cupy.LOG.clear()
            gpu = GenerativeAdversarialNetwork(backend="cupy", max_iter=epochs,
                                               **params).fit(X, labels)
            runs[epochs] = sum(cupy.LOG.count(k) for k in ("float", "bool", "get"))
        cpu = GenerativeAdversarialNetwork(backend="numpy", max_iter=4, **params).fit(X, labels)
        out_gpu, out_cpu = gpu.sample(30), cpu.sample(30)
        X_gpu = out_gpu[0] if labels is not None else out_gpu
        X_cpu = out_cpu[0] if labels is not None else out_cpu
        weights = [p for layer in gpu.generator_.layers + gpu.discriminator_.layers
                   for p in layer.params.values()]
        from_device = GenerativeAdversarialNetwork(backend="cupy", max_iter=1, **params).fit(
            cupy.asarray(X), None if labels is None else cupy.asarray(labels))
        report[name] = {
            "same_as_numpy": bool(np.allclose(X_gpu, X_cpu, rtol=1e-9, atol=1e-12)),
            "numpy_out": isinstance(X_gpu, np.ndarray),
            "numpy_weights": all(isinstance(w, np.ndarray) for w in weights),
            "pickle_clean": bool(np.array_equal(
                pickle.loads(pickle.dumps(gpu)).sample(30)[0 if labels is not None else ...],
                out_gpu[0] if labels is not None else out_gpu)),
            "syncs_per_epoch": (runs[4] - runs[2]) / 2,
            "cupy_input": from_device.n_features_in_ == 64,
        }
    print("REPORT " + json.dumps(report))
""")


def test_gan_on_a_strict_cupy_stand_in():
    res = run_with_fake_cupy(["python", "-c", SCRIPT], timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(s for s in res.stdout.splitlines() if s.startswith("REPORT "))
    report = json.loads(line[len("REPORT "):])
    assert set(report) == {"conditional", "unconditional"}
    for name, r in report.items():
        syncs = r.pop("syncs_per_epoch")
        assert syncs == 1, (name, syncs)     # one read-back per epoch: losses and flags
        assert all(r.values()), (name, r)
