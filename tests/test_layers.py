"""Gradient checks (float64 finite differences) and shapes of the core layers."""

import numpy as np
import pytest

from sknets.backend import get_backend
from sknets.gradcheck import check_layer_gradients
from sknets.layers import Activation, Dense, Flatten, Reshape
from sknets.network import Sequential


@pytest.mark.parametrize("units", [1, 4])
def test_dense_gradients(units):
    check_layer_gradients(Dense(units), (5,))


@pytest.mark.parametrize("name", ["identity", "logistic", "tanh", "relu", "leaky_relu"])
def test_activation_gradients(name):
    # relu's kink at 0 has probability zero with a standard normal input.
    check_layer_gradients(Activation(name), (6,))


def test_reshape_and_flatten_gradients():
    check_layer_gradients(Reshape((2, 3, 2)), (12,))
    check_layer_gradients(Flatten(), (2, 3, 2))


def test_reshape_rejects_incompatible_size():
    with pytest.raises(ValueError, match="Cannot reshape"):
        Reshape((3, 3)).build((8,), get_backend("numpy"), np.float64, np.random.RandomState(0))


def test_dense_rejects_image_input():
    with pytest.raises(ValueError, match="Flatten"):
        Dense(3).build((4, 4), get_backend("numpy"), np.float64, np.random.RandomState(0))


def test_logistic_is_stable_for_huge_inputs():
    xp = get_backend("numpy").xp
    layer = Activation("logistic")
    layer.build((3,), get_backend("numpy"), np.float32, np.random.RandomState(0))
    with np.errstate(over="raise"):
        out = layer.forward(np.array([[-1e4, 0.0, 1e4]], dtype=np.float32))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])
    assert xp.all(xp.isfinite(out))


def test_step_activation_is_heaviside():
    layer = Activation("step")
    layer.build((3,), get_backend("numpy"), np.float64, np.random.RandomState(0))
    np.testing.assert_array_equal(layer.forward(np.array([[-2.0, 0.0, 3.0]])), [[0, 0, 1]])


def test_unknown_activation_is_refused_at_build():
    layer = Activation("softplus")   # a specification: checked when built, as in fit
    with pytest.raises(ValueError, match="'activation' parameter of Activation must be"):
        layer.build((3,), get_backend("numpy"), np.float64, np.random.RandomState(0))


def test_network_gradient_through_layers():
    """Whole-network back-propagation against finite differences."""
    from sknets.gradcheck import numerical_gradient

    rng = np.random.RandomState(0)
    net = Sequential([Dense(5), Activation("tanh"), Dense(4), Activation("logistic"), Dense(2)])
    net.build((3,), get_backend("numpy"), np.float64, rng)
    X = rng.standard_normal((4, 3))
    G = rng.standard_normal((4, 2))
    net.forward(X, training=True)
    net.backward(G)
    analytic = [np.array(g, copy=True) for g in net.grads]
    for p, g in zip(net.params, analytic):
        num = numerical_gradient(lambda: float(np.sum(net.forward(X) * G)), p)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_first_layer_skips_input_gradient():
    net = Sequential([Dense(3), Activation("relu"), Dense(2)])
    net.build((4,), get_backend("numpy"), np.float64, np.random.RandomState(0))
    assert not net.layers[0].need_input_grad and net.layers[2].need_input_grad
    net.forward(np.ones((2, 4)), training=True)
    assert net.backward(np.ones((2, 2))) is None


def test_layer_pickle_holds_numpy_and_drops_cache():
    import pickle

    layer = Dense(3)
    layer.build((2,), get_backend("numpy"), np.float32, np.random.RandomState(0))
    layer.forward(np.ones((5, 2), dtype=np.float32), training=True)
    clone = pickle.loads(pickle.dumps(layer))
    assert not hasattr(clone, "_cache_X")
    assert all(isinstance(v, np.ndarray) for v in clone.params.values())
    np.testing.assert_array_equal(clone.params["W"], layer.params["W"])


def test_given_weights_are_copied_not_trained_in_place():
    """``weights=`` belongs to the specification: training the built layer (an
    in-place optimizer step) leaves the given arrays as they were."""
    given = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    layer = Dense(3, weights=given)
    layer.build((2,), get_backend("numpy"), np.float64, np.random.RandomState(0))
    layer.params["W"] -= 0.5
    np.testing.assert_array_equal(given["W"], np.ones((2, 3)))
    np.testing.assert_array_equal(layer.params["W"], np.full((2, 3), 0.5))
