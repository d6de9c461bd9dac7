"""``backend="numba"``: NumPy arrays with compiled kernels, as a user meets it.

The same results as ``backend="numpy"`` (the network's gradients bit for bit
where the kernels do the same arithmetic, the fitted weights to rounding), a
clear error without numba, pickles that load and predict without it,
nothing importing numba unless asked, no threading layer started (no threads
fighting BLAS's), and the compiled kernels cached in the user's cache folder
when the package folder cannot be written. The kernels themselves are
checked one by one in ``tests/test_kernels.py``.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sknets
from sknets.backend import get_backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _has_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


needs_numba = pytest.mark.skipif(not _has_numba(), reason="needs numba (sknets[fast])")


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=600, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT, **env))


@pytest.fixture
def no_numba(monkeypatch):
    """A machine without numba: importing it fails."""
    monkeypatch.setitem(sys.modules, "numba", None)


def _digits(n=240):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16.0), y[:n]


def _convnet(backend, **kw):
    params = dict(conv_filters=(8,), kernel_size=3, padding="same", pool_size=2,
                  hidden_layer_sizes=(16,), max_iter=3, batch_size=32, random_state=0,
                  tol=0.0, n_iter_no_change=10)
    params.update(kw)
    return sknets.ConvNetClassifier(backend=backend, **params)


@needs_numba
def test_network_gradients_equal_numpy_bit_for_bit():
    """Conv (8 channels) - MaxPool + ReLU (fused on numba) - Dense: the
    outputs and every gradient equal NumPy's unfused pass bit for bit."""
    from sknets.layers import Activation, Conv2D, Dense, Flatten, MaxPool2D, Reshape
    from sknets.network import Sequential

    rng = np.random.RandomState(0)
    X = rng.standard_normal((5, 64)).astype(np.float32)
    dz = rng.standard_normal((5, 3)).astype(np.float32)
    outs = {}
    for name in ("numpy", "numba"):
        net = Sequential([Reshape((8, 8, 1)), Conv2D(8, 3, padding="same"), MaxPool2D(2),
                          Activation("relu"), Flatten(), Dense(3)]).build(
            (64,), get_backend(name), np.float32, np.random.RandomState(1))
        assert bool(net._fused_pairs()) == (name == "numba")
        out = net.forward(X, training=True)
        net.backward(dz)
        outs[name] = (out, [g.copy() for g in net.grads], net.forward(X))
    (o1, g1, p1), (o2, g2, p2) = outs["numpy"], outs["numba"]
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(p1, p2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)


@needs_numba
def test_fit_matches_numpy_and_pickles_without_numba(tmp_path):
    """A ConvNet (16 channels: the builds for the benchmark's shapes) fitted
    with backend="numba" in float64: the weights of backend="numpy" to
    rounding, the same predictions; its pickle loads and predicts where numba
    cannot be imported (a warning, NumPy's kernels)."""
    X, y = _digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # 3 epochs: not converged
        ref = _convnet("numpy", conv_filters=(16,), dtype="float64").fit(X, y)
        fast = _convnet("numba", conv_filters=(16,), dtype="float64").fit(X, y)
    for a, b in zip(ref.coefs_, fast.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(fast.predict(X), ref.predict(X))
    assert fast._network.backend.name == "numba"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps((fast, X[:20])))
    res = _run(f"""
        import pickle, sys, warnings
        sys.modules["numba"] = None
        est, X = pickle.loads(open({str(path)!r}, "rb").read())
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            pred = est.predict(X)
        print("PRED", pred.tolist(), any("sknets[fast]" in str(w.message) for w in seen))
    """)
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("PRED")][0]
    assert line == f"PRED {fast.predict(X[:20]).tolist()} True"


@needs_numba
def test_mlp_fit_is_numpy_s_bit_for_bit():
    """An MLP's compiled kernels are its Adam steps, which do NumPy's
    operations in NumPy's order: the same weights, bit for bit."""
    X, y = _digits()
    fits = [sknets.MLPClassifierScratch((16,), max_iter=3, random_state=0, dtype="float64",
                                        backend=backend).fit(X, y)
            for backend in ("numpy", "numba")]
    for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_):
        np.testing.assert_array_equal(a, b)


def test_without_numba_a_clear_error_before_fitting(no_numba):
    X, y = _digits(60)
    with pytest.raises(ImportError, match=r'sknets\[fast\]'):
        get_backend("numba")
    est = _convnet("numba")
    with pytest.raises(ImportError, match="backend='numpy'"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    with sknets.config_context(backend="numba"):
        with pytest.raises(ImportError, match="needs numba"):
            sknets.MLPClassifierScratch(max_iter=2).fit(X, y)


def test_backend_pickled_by_name_loads_without_numba(no_numba):
    from sknets.backend import _backend_from_state

    with pytest.warns(UserWarning, match="backend='numpy' instead"):
        backend = _backend_from_state("numba")
    assert backend.name == "numpy"


def test_numba_is_not_imported_unless_asked():
    res = _run("""
        import sys, numpy as np
        import sknets
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        sknets.ConvNetClassifier(conv_filters=(4,), hidden_layer_sizes=(8,), max_iter=1,
                                 batch_size=64).fit(X[:128] / 16, y[:128])
        print("NUMBA", "numba" in sys.modules)
    """)
    assert res.returncode == 0, res.stderr
    assert "NUMBA False" in res.stdout


@needs_numba
def test_no_threading_layer_is_started():
    """The compiled kernels run on the calling thread: numba's thread pool
    (which would spin beside BLAS's threads) is never started."""
    res = _run("""
        import numpy as np, numba
        import sknets
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        sknets.ConvNetClassifier(conv_filters=(8,), hidden_layer_sizes=(8,), max_iter=1,
                                 batch_size=64, backend="numba").fit(X[:128] / 16, y[:128])
        try:
            print("LAYER", numba.threading_layer())
        except ValueError:
            print("LAYER none")
    """)
    assert res.returncode == 0, res.stderr
    assert "LAYER none" in res.stdout


CACHE_SCRIPT = """
    import glob, os, sys, warnings
    import numba.core.caching as caching
    sys.path.insert(0, {folder!r})
    import tiny_loops
    from sknets._kernels._numba import _jit

    def read_only(self):   # what a folder the process cannot write raises
        raise OSError("read-only")
    for name in {locators!r}:
        setattr(getattr(caching, name), "ensure_cache_path", read_only)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        f = _jit(tiny_loops.double, vars(tiny_loops), "_test")
    print("VALUE", f(21))
    print("WARNED", any("NUMBA_CACHE_DIR" in str(w.message) for w in seen))
    print("FILES", len(glob.glob(os.path.join({cache!r}, "**", "*.nbi"), recursive=True)),
          len(glob.glob(os.path.join({folder!r}, "**", "*.nbi"), recursive=True)))
"""


@needs_numba
@pytest.mark.parametrize("locators, expected", [
    (["InTreeCacheLocator"], "WARNED False|FILES 1 0"),   # the user's cache folder
    (["InTreeCacheLocator", "UserWideCacheLocator"], "WARNED True|FILES 0 0"),  # none
])
def test_compiled_kernels_cache_where_the_package_folder_is_read_only(tmp_path, locators,
                                                                      expected):
    folder, cache = tmp_path / "pkg", tmp_path / "cache"
    folder.mkdir()
    (folder / "tiny_loops.py").write_text("def double(x):\n    return 2 * x\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    res = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CACHE_SCRIPT.format(
            folder=str(folder), cache=str(cache), locators=locators))],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(env, PYTHONPATH=ROOT, XDG_CACHE_HOME=str(cache)))
    assert res.returncode == 0, res.stderr
    lines = dict(ln.split(" ", 1) for ln in res.stdout.splitlines())
    assert lines["VALUE"] == "42"
    warned, files = expected.split("|")
    assert f"WARNED {lines['WARNED']}" == warned
    assert f"FILES {lines['FILES']}" == files


@needs_numba
def test_threading_modes_are_checked():
    from sknets._kernels import _numba

    with pytest.raises(ValueError, match="threading"):
        _numba._set_threading("turbo")
    assert _numba._threading == "serial"


def test_config_accepts_numba():
    with sknets.config_context(backend="numba"):
        assert sknets.get_config()["backend"] == "numba"
    with pytest.raises(ValueError, match="numba"):
        sknets.set_config(backend="numbaa")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sknets.MLPClassifierScratch(backend="numba")._validate_params()
