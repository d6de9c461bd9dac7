"""Sizes before allocation: layer plans, the summary of a network too large to
build, the memory estimate of a fit and its refusal, the range check's
memory, the ``memory_limit`` setting."""

import math
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import sknets
from sknets._checks import check_input_range
from sknets._memory import (
    GIB,
    available_memory,
    check_estimator_fit,
    check_fit_memory,
    check_weights_memory,
    estimate_fit_memory,
)
from sknets.backend import get_backend
from sknets.layers import (
    Activation,
    AvgPool2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    Reshape,
)
from sknets.layers._plan import shapes_of
from sknets.network import Sequential, format_summary

NUMPY = get_backend("numpy")


def _traced_peak(fn):
    """``fn()`` and the peak of memory traced during it, above the start."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


CASES = [
    (Dense(5), (7,)),
    (Conv2D(3, (3, 2), stride=2, padding=1), (9, 8, 2)),
    (Conv2D(4, 3, padding="same"), (6, 6, 3)),
    (BatchNormalization(), (5, 5, 3)),
    (MaxPool2D(2), (6, 6, 2)),
    (AvgPool2D(3, stride=2), (7, 7, 1)),
    (GlobalAvgPool2D(), (4, 4, 3)),
    (Dropout(0.3), (6,)),
    (Activation("relu"), (6,)),
    (Reshape((2, 3)), (6,)),
    (Flatten(), (2, 3, 4)),
]


@pytest.mark.parametrize("layer, shape", CASES, ids=lambda c: getattr(c, "describe", str)())
def test_plan_matches_what_build_allocates(layer, shape):
    plan = layer.plan(shape)
    built = layer.build(shape, NUMPY, np.float64, np.random.RandomState(0))
    assert plan.output_shape == built
    assert plan.param_shapes == shapes_of(layer.params)
    assert plan.state_shapes == shapes_of(layer.state)
    assert plan.n_params == layer.n_params and plan.n_state == layer.n_state


class _Custom(Layer):
    """A layer that declares no shapes: the fallback learns them."""

    def __init__(self, units=3):
        self.units = units

    def output_shape(self, input_shape):
        return (self.units,)

    def _init_params(self, input_shape, rng):
        self.drawn = True   # a side effect the fallback must undo
        return {"K": rng.normal(0, 1, (input_shape[0], self.units)), "c": np.zeros(self.units)}


def test_undeclared_shapes_are_learned_without_drawing():
    layer = _Custom(units=10 ** 5)
    plan, peak = _traced_peak(lambda: layer.plan((10 ** 5,)))
    assert plan.param_shapes == {"K": (10 ** 5, 10 ** 5), "c": (10 ** 5,)}
    assert peak < 4 * 10 ** 6   # the bias; not the 80 GB kernel
    assert not hasattr(layer, "drawn")
    small = _Custom().build((4,), NUMPY, np.float64, np.random.RandomState(0))
    assert small == (3,)


def _billion_weight_network():
    return Sequential([Dense(32_000), Activation("relu"), Dense(32_000), Activation("relu"),
                       Dense(10)])


def test_summary_of_a_billion_weights_allocates_nothing():
    net = _billion_weight_network()
    rows, peak = _traced_peak(lambda: net.summary_rows((784,)))
    total = sum(r[2] for r in rows)
    expected = 784 * 32_000 + 32_000 + 32_000 ** 2 + 32_000 + 32_000 * 10 + 10
    assert total == expected > 10 ** 9
    assert [r[1] for r in rows] == [(32_000,), (32_000,), (32_000,), (32_000,), (10,)]
    assert peak < 2 ** 20, peak
    text = format_summary(rows, (784,), np.float64)
    assert f"Weights memory: {expected * 8 / GIB:,.1f} GiB (float64)" in text
    assert not any(hasattr(layer, "params") for layer in net.layers)


def test_dense_of_a_billion_units_fails_at_once():
    tic = time.perf_counter()
    with pytest.raises(ValueError, match=r"units=1000000000.*GiB"):
        Dense(10 ** 9).build((784,), NUMPY, np.float64, np.random.RandomState(0))
    assert time.perf_counter() - tic < 1.0


@pytest.mark.parametrize("layer, name", [
    (Conv2D(4, 10 ** 9), "kernel_size"),
    (Conv2D(4, 3, padding=10 ** 9), "padding"),
    (Conv2D(4, 3, stride=(1, 10 ** 9)), "stride"),
    (MaxPool2D(10 ** 9), "pool_size"),
])
def test_absurd_image_sizes_fail_at_once(layer, name):
    with pytest.raises(ValueError, match=f"{name}=.*larger than any plausible image"):
        layer.plan((28, 28, 1))


def test_weights_beyond_the_limit_are_refused_by_build():
    with sknets.config_context(memory_limit=100 * 2 ** 20):
        with pytest.raises(ValueError, match=r"Dense\(20000\) \(units=20000\).*more than the"):
            Dense(20000).build((1000,), NUMPY, np.float64, np.random.RandomState(0))
        # below the limit, or in float32 within it: built
        Dense(20000).build((200,), NUMPY, np.float32, np.random.RandomState(0))
    # 160 MB: within the memory of any machine the tests run on
    check_weights_memory(Dense(20000).plan((1000,)), np.float64)


def _estimator_layers(est, n_features, n_outputs=10):
    shape = est._input_shape(n_features)
    return est._build_layers(shape, n_outputs), shape


@pytest.mark.parametrize("est, n_features, message", [
    (sknets.MLPClassifierScratch(hidden_layer_sizes=(20000,) * 7), 64,
     "units=20000, set by hidden_layer_sizes[1]=20000"),
    (sknets.ConvNetClassifier(padding=10 ** 4), 64, "padding=10000"),
    (sknets.MLPClassifierScratch(hidden_layer_sizes=(10 ** 6,)), 784,
     "units=1000000, set by hidden_layer_sizes[0]"),
])
def test_fit_estimates_beyond_the_memory_are_refused(est, n_features, message):
    X = np.zeros((1000, n_features))
    tic = time.perf_counter()
    with sknets.config_context(memory_limit=16 * GIB):
        layers, shape = _estimator_layers(est, n_features)
        with pytest.raises(ValueError, match=r"would need about [\d,.]+ GiB") as info:
            check_estimator_fit(est, X, layers, shape, np.float64)
    assert time.perf_counter() - tic < 1.0
    assert "more than the 16.0 GiB of memory available" in str(info.value)
    assert message in str(info.value)
    assert not any(hasattr(layer, "params") for layer in layers)


def test_smaller_batches_are_suggested_only_when_they_would_fit():
    layers = [Conv2D(64, 3, padding="same"), Flatten(), Dense(10)]
    with sknets.config_context(memory_limit=2 * GIB):
        with pytest.raises(ValueError, match="Smaller batches") as info:
            check_fit_memory(layers, (128, 128, 3), np.float64, 512, "adam")
        assert "its filters=64" in str(info.value)
        with pytest.raises(ValueError) as info:
            check_fit_memory(layers, (4096, 4096, 3), np.float64, 512, "adam")
        assert "Smaller batches" not in str(info.value)
    check_fit_memory(layers, (128, 128, 3), np.float64, 16, "adam")


def test_convnet_kernel_beyond_any_image_is_refused():
    tic = time.perf_counter()
    with pytest.raises(ValueError, match="kernel_size=1000000000 is larger than any plausible"):
        layers, shape = _estimator_layers(sknets.ConvNetClassifier(kernel_size=10 ** 9), 64)
        check_fit_memory(layers, shape, np.float64, 200, "adam")
    assert time.perf_counter() - tic < 1.0


def test_parts_follow_the_solver():
    layers = [Dense(1000), Activation("relu"), Dense(10)]
    n = 784 * 1000 + 1000 + 1000 * 10 + 10
    adam = estimate_fit_memory(layers, (784,), np.float64, 200, "adam")
    sgd = estimate_fit_memory(layers, (784,), np.float64, 200, "sgd", early_stopping=True)
    lbfgs = estimate_fit_memory(layers, (784,), np.float32, 200, "lbfgs", n_samples=5000)
    assert adam.parts["weights"] == adam.parts["gradients"] == 8 * n
    assert adam.parts["optimizer"] == 4 * 8 * n and sgd.parts["optimizer"] == 3 * 8 * n
    assert sgd.parts["snapshots"] == 2 * adam.parts["snapshots"] == 2 * 8 * n
    assert lbfgs.parts["snapshots"] == 0 and lbfgs.batch_rows == 5000
    assert lbfgs.parts["weights"] == 4 * n and lbfgs.parts["optimizer"] > 25 * 8 * n
    assert adam.culprit == 0
    # sparse input: the batch costs its non-zeros
    sparse = estimate_fit_memory(layers, (784,), np.float64, 200, sparse_density=0.01)
    assert sparse.parts["input"] < adam.parts["input"] / 10


def test_estimate_is_close_to_a_real_fit():
    rng = np.random.RandomState(0)
    X, y = rng.rand(1000, 300), rng.randint(0, 3, 1000)
    est = sknets.MLPClassifierScratch(hidden_layer_sizes=(800, 800), max_iter=1,
                                      random_state=0)
    layers, shape = _estimator_layers(est, 300, 3)
    estimate = estimate_fit_memory(layers, shape, np.float64, 200, "adam").total
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, peak = _traced_peak(lambda: est.fit(X, y))
    assert 0.6 < estimate / peak < 1.6, (estimate, peak)


def test_memory_limit_setting():
    assert sknets.get_config()["memory_limit"] == "auto"
    assert 0 < available_memory() < math.inf
    with sknets.config_context(memory_limit=2 * GIB):
        assert available_memory() == 2 * GIB
        with sknets.config_context(memory_limit=math.inf):
            assert available_memory() == math.inf
        assert sknets.get_config()["memory_limit"] == 2 * GIB
    assert sknets.get_config()["memory_limit"] == "auto"
    for bad in (0, -1, "lots", True, float("nan")):
        with pytest.raises(ValueError, match="memory_limit must be"):
            sknets.set_config(memory_limit=bad)


def test_range_check_does_not_copy_the_input():
    X = np.full((20_000, 1000), 0.5)   # 160 MB, float64
    X[123, 456] = -7e3
    _, peak = _traced_peak(lambda: check_input_range(X, np.float32))
    assert peak < X.nbytes / 10, peak
    X[5, 5] = 1e39   # beyond float32
    with pytest.raises(ValueError, match="magnitude 1e\\+39"):
        check_input_range(X, np.float32)
    X[5, 5], X[4, 5] = 0.0, -1e39   # an even row: kept by X[::2]
    with pytest.raises(ValueError, match="magnitude 1e\\+39"):
        check_input_range(np.asfortranarray(X[::2]), np.float32)


def test_placed_copies_share_the_weights():
    layer = Dense(3)
    layer.build((4,), NUMPY, np.float64, np.random.RandomState(0))
    layer.forward(np.ones((2, 4)), training=True)
    twin = layer.placed(NUMPY)
    assert twin.params["W"] is layer.params["W"] and twin.params["b"] is layer.params["b"]
    assert not any(k.startswith("_cache") for k in vars(twin))
    assert hasattr(layer, "_cache_X")


def test_a_pickle_holds_each_weight_once():
    import pickle

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    est = sknets.MLPClassifierScratch(hidden_layer_sizes=(200,), solver="lbfgs", max_iter=3,
                                      random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X / 16, y)
    weights = sum(a.nbytes for a in est.coefs_ + est.intercepts_)
    blob = pickle.dumps(est)
    assert len(blob) < 1.2 * weights, len(blob) / weights   # coefs_ is the network's W
    np.testing.assert_array_equal(pickle.loads(blob).predict(X / 16), est.predict(X / 16))
