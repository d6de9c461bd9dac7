"""Sparse input stays sparse up to the first layer that can use it.

A first ``Dense`` layer computes ``X @ W`` and ``X.T @ dY`` as sparse-dense
products: its outputs and gradients equal the dense path's, and memory
follows the non-zeros (a batch a million features wide is never densified).
Layers that need dense input get one dense batch at a time. The CuPy path
(``cupyx.scipy.sparse``) runs on the strict stand-in in ``tests/fake_cupy``.
"""

import json
import textwrap
import tracemalloc

import array_api_strict
import numpy as np
import pytest
import scipy.sparse as sp
from fake_cupy_run import run_with_fake_cupy

import sknets.network
from sknets._sparse import densify, is_sparse, sparse_batch
from sknets.backend import get_backend, namespace_backend
from sknets.layers import Activation, BatchNormalization, Conv2D, Dense, MaxPool2D, Reshape
from sknets.losses import SoftmaxCrossEntropy
from sknets.network import Sequential

NUMPY = get_backend("numpy")


def _sparse_rows(n, d, density, dtype=np.float64, seed=0):
    """A random CSR matrix (``sp.random`` takes minutes for a million columns)."""
    rng = np.random.RandomState(seed)
    nnz = int(n * d * density)
    X = sp.coo_matrix((rng.standard_normal(nnz), (rng.randint(n, size=nnz),
                                                  rng.randint(d, size=nnz))), shape=(n, d))
    return X.tocsr().astype(dtype)


def _step(net, X, Y):
    """One training forward and backward; the loss and the gradients."""
    loss, dz = SoftmaxCrossEntropy().loss_and_grad(NUMPY.xp, net.forward(X, training=True), Y)
    net.backward(dz)
    return loss, [np.array(g, copy=True) for g in net.grads]


def _network(dtype=np.float64):
    return Sequential([Dense(7), Activation("tanh"), Dense(3)]).build(
        (40,), NUMPY, dtype, np.random.RandomState(0))


@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_array"])
def test_dense_gradients_equal_the_dense_path(fmt):
    X = _sparse_rows(30, 40, 0.1)
    X = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    Y = np.eye(3)[np.random.RandomState(1).randint(3, size=30)]
    net = _network()
    loss_sparse, grads_sparse = _step(net, X, Y)
    out_sparse = net.forward(X)
    loss_dense, grads_dense = _step(net, X.toarray(), Y)
    assert isinstance(out_sparse, np.ndarray)
    np.testing.assert_allclose(out_sparse, net.forward(X.toarray()), rtol=1e-10)
    np.testing.assert_allclose(loss_sparse, loss_dense, rtol=1e-10)
    assert len(grads_sparse) == 4
    for g_s, g_d in zip(grads_sparse, grads_dense):
        assert isinstance(g_s, np.ndarray) and g_s.shape == g_d.shape
        np.testing.assert_allclose(g_s, g_d, rtol=1e-10, atol=1e-15)
    # the network's input gradient is never computed, sparse or not
    assert net.layers[0].need_input_grad is False


def test_dense_keeps_the_compute_dtype_on_sparse_batches():
    X = sparse_batch(_sparse_rows(10, 40, 0.2), NUMPY, np.float32)
    net = _network(np.float32)
    Y = np.eye(3, dtype=np.float32)[np.arange(10) % 3]
    _, grads = _step(net, X, Y)
    assert net.forward(X).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_a_million_features_are_never_densified():
    # dense, this batch alone would be 500 * 10**6 * 8 bytes = 4 GB
    X = _sparse_rows(500, 10 ** 6, 2e-5)
    net = Sequential([Dense(2), Activation("relu"), Dense(2)]).build(
        (10 ** 6,), NUMPY, np.float64, np.random.RandomState(0))
    Y = np.eye(2)[np.arange(500) % 2]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _, grads = _step(net, X, Y)
        out = net.forward(X)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert out.shape == (500, 2) and grads[0].shape == (10 ** 6, 2)
    # the weight gradient (16 MB) and a few small arrays; no dense batch
    assert peak < 64 * 2 ** 20, peak


def test_layers_needing_dense_input_get_one_dense_batch(monkeypatch):
    seen = []

    def spy(X, backend=None):
        seen.append(X.shape)
        return densify(X, backend)

    monkeypatch.setattr(sknets.network, "densify", spy)
    net = Sequential([Reshape((6, 6, 1)), Conv2D(2, 3), BatchNormalization(), MaxPool2D(),
                      Reshape((8,)), Dense(2)]).build((36,), NUMPY, np.float64,
                                                      np.random.RandomState(0))
    X = _sparse_rows(9, 36, 0.3)
    Y = np.eye(2)[np.arange(9) % 2]
    _, grads_sparse = _step(net, X, Y)
    assert seen == [(9, 36)]   # the batch, densified once, before the first layer
    _, grads_dense = _step(net, X.toarray(), Y)
    for g_s, g_d in zip(grads_sparse, grads_dense):
        np.testing.assert_allclose(g_s, g_d, rtol=1e-10)
    np.testing.assert_allclose(net.forward(X), net.forward(X.toarray()), rtol=1e-10)


def test_sparse_batch_selects_rows_and_casts():
    X = _sparse_rows(20, 30, 0.2)
    rows = np.array([3, 0, 7])
    batch = sparse_batch(X, NUMPY, np.float32, rows)
    assert sp.issparse(batch) and batch.format == "csr" and batch.dtype == np.float32
    np.testing.assert_array_equal(batch.toarray(), X.toarray()[rows].astype(np.float32))
    assert is_sparse(batch) and not is_sparse(batch.toarray())
    # a namespace without sparse matrices gets the dense batch (this batch only)
    strict = namespace_backend(array_api_strict)
    dense = sparse_batch(X, strict, np.float64, slice(0, 5))
    assert not is_sparse(dense) and dense.shape == (5, 30)
    np.testing.assert_array_equal(np.asarray(dense), X.toarray()[:5])


FAKE_CUPY_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import scipy.sparse as sp
    import cupy
    import cupyx.scipy.sparse as csp
    from sknets._sparse import densify, is_sparse, sparse_batch
    from sknets.backend import get_backend
    from sknets.layers import Activation, Dense, Reshape
    from sknets.losses import SoftmaxCrossEntropy
    from sknets.network import Sequential

    def network(backend, layers):
        return Sequential(layers).build((16,), backend, np.float64, np.random.RandomState(0))

    def step(net, X, Y):
        xp = net.backend.xp
        _, dz = SoftmaxCrossEntropy().loss_and_grad(xp, net.forward(X, training=True), Y)
        net.backward(dz)
        return [g.get() if isinstance(g, cupy.ndarray) else g for g in net.grads]

    X = sp.random(12, 16, density=0.25, format="csr", random_state=0)
    Y = np.eye(3)[np.arange(12) % 3]
    gpu_backend, cpu_backend = get_backend("cupy"), get_backend("numpy")
    make = lambda: [Dense(5), Activation("relu"), Dense(3)]
    gpu, cpu = network(gpu_backend, make()), network(cpu_backend, make())
    batch = sparse_batch(X, gpu_backend, np.float64, np.arange(12))
    g_gpu = step(gpu, batch, cupy.asarray(Y))
    g_cpu = step(cpu, X.toarray(), Y)
    out = gpu.forward(batch)
    dense_first = network(gpu_backend, [Reshape((4, 4)), Reshape((16,)), Dense(3)])
    report = {
        "batch_on_device": isinstance(batch, csp.csr_matrix) and is_sparse(batch),
        "out_on_device": isinstance(out, cupy.ndarray),
        "same_grads": all(np.allclose(a, b, rtol=1e-10, atol=1e-15)
                          for a, b in zip(g_gpu, g_cpu)),
        "same_out": bool(np.allclose(out.get(), cpu.forward(X.toarray()), rtol=1e-10)),
        "densified_on_device": isinstance(densify(batch), cupy.ndarray),
        "reshape_first": isinstance(dense_first.forward(batch), cupy.ndarray),
    }
    # an estimator: CSR batches uploaded as cupyx matrices, results as NumPy's
    import sknets
    Xd, yd = sp.random(60, 16, density=0.3, format="csr", random_state=1), np.arange(60) % 3
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0, dtype="float64")
    on_gpu = sknets.MLPClassifierScratch(backend="cupy", **params).fit(Xd, yd)
    on_cpu = sknets.MLPClassifierScratch(backend="numpy", **params).fit(Xd.toarray(), yd)
    proba = on_gpu.predict_proba(Xd)
    report["estimator"] = (isinstance(proba, np.ndarray)
                           and bool(np.allclose(proba, on_cpu.predict_proba(Xd.toarray()),
                                                rtol=1e-10))
                           and all(np.allclose(a, b, rtol=1e-10, atol=1e-15)
                                   for a, b in zip(on_gpu.coefs_, on_cpu.coefs_)))
    print("REPORT " + json.dumps(report))
""")


def test_sparse_dense_layer_on_the_cupy_stand_in():
    res = run_with_fake_cupy(["python", "-c", FAKE_CUPY_SCRIPT], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(l for l in res.stdout.splitlines() if l.startswith("REPORT "))
    report = json.loads(line[len("REPORT "):])
    assert report == dict.fromkeys(report, True) and len(report) == 7, report
