"""AdaGrad and RMSprop (``sknets.optimizers``) against their formulas and
against the book's update rules ("Deep Learning from Scratch",
``common/optimizer.py``), written out below as the book writes them."""

import pickle

import array_api_strict as xps
import numpy as np
import pytest

from sknets.backend import to_numpy
from sknets.optimizers import OPTIMIZERS, AdaGrad, RMSprop


class BookAdaGrad:
    """The book's ``AdaGrad`` (``common/optimizer.py``), parameters in a dict."""

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class BookRMSprop:
    """The book's ``RMSprop`` (``common/optimizer.py``), parameters in a dict."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


def _params(rng, dtype):
    return [rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal(5).astype(dtype)]


def test_defaults_are_the_books():
    p = [np.zeros(3)]
    assert (AdaGrad(p).learning_rate_init, AdaGrad(p).epsilon) == (0.01, 1e-7)
    rms = RMSprop(p)
    assert (rms.learning_rate_init, rms.decay_rate, rms.epsilon) == (0.01, 0.99, 1e-7)
    assert OPTIMIZERS["adagrad"] is AdaGrad and OPTIMIZERS["rmsprop"] is RMSprop


def test_adagrad_steps_follow_the_formula():
    p = np.array([1.0, -2.0, 0.5])
    opt = AdaGrad([p], learning_rate_init=0.1)
    g1, g2 = np.array([0.5, -1.0, 0.0]), np.array([0.3, 2.0, -4.0])
    opt.update_params([p], [g1])
    # first step: h = g^2, so the step is lr * g / (|g| + eps): about lr * sign(g)
    np.testing.assert_allclose(p, [1.0 - 0.1 * 0.5 / (0.5 + 1e-7),
                                   -2.0 + 0.1 * 1.0 / (1.0 + 1e-7), 0.5], rtol=1e-15)
    opt.update_params([p], [g2])
    h = g1 ** 2 + g2 ** 2
    np.testing.assert_allclose(opt.hs[0], h, rtol=1e-15)
    expected = np.array([1.0 - 0.1 * 0.5 / (0.5 + 1e-7), -2.0 + 0.1 / (1.0 + 1e-7), 0.5])
    expected -= 0.1 * g2 / (np.sqrt(h) + 1e-7)
    np.testing.assert_allclose(p, expected, rtol=1e-15)


def test_rmsprop_steps_follow_the_formula():
    p = np.array([1.0, -2.0])
    opt = RMSprop([p], learning_rate_init=0.01, decay_rate=0.9)
    g1, g2 = np.array([2.0, -1.0]), np.array([-1.0, 0.5])
    opt.update_params([p], [g1])
    h1 = 0.1 * g1 ** 2                      # no bias correction: h starts at 0
    np.testing.assert_allclose(opt.hs[0], h1, rtol=1e-15)
    p1 = np.array([1.0, -2.0]) - 0.01 * g1 / (np.sqrt(h1) + 1e-7)
    np.testing.assert_allclose(p, p1, rtol=1e-15)
    # the first step is lr g / (sqrt(0.1) |g|): about lr / sqrt(1 - decay) per unit sign
    np.testing.assert_allclose(np.abs(p1 - [1.0, -2.0]), 0.01 / np.sqrt(0.1), rtol=1e-6)
    opt.update_params([p], [g2])
    h2 = 0.9 * h1 + 0.1 * g2 ** 2
    np.testing.assert_allclose(opt.hs[0], h2, rtol=1e-15)
    np.testing.assert_allclose(p, p1 - 0.01 * g2 / (np.sqrt(h2) + 1e-7), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ours, book", [
    (lambda p: AdaGrad(p), lambda: BookAdaGrad()),
    (lambda p: AdaGrad(p, learning_rate_init=0.3), lambda: BookAdaGrad(lr=0.3)),
    (lambda p: RMSprop(p), lambda: BookRMSprop()),
    (lambda p: RMSprop(p, learning_rate_init=0.05, decay_rate=0.9),
     lambda: BookRMSprop(lr=0.05, decay_rate=0.9)),
])
def test_steps_equal_the_books_update(ours, book, dtype):
    rng = np.random.RandomState(0)
    params = _params(rng, dtype)
    book_params = {f"W{i}": p.copy() for i, p in enumerate(params)}
    opt, ref = ours(params), book()
    for _ in range(25):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        opt.update_params(params, grads)
        ref.update(book_params, {f"W{i}": g for i, g in enumerate(grads)})
    for i, p in enumerate(params):
        assert p.dtype == dtype
        # the same operations in the same order: equal to the last bit
        np.testing.assert_array_equal(p, book_params[f"W{i}"])
        np.testing.assert_array_equal(opt.hs[i], ref.h[f"W{i}"])


@pytest.mark.parametrize("make", [lambda p: AdaGrad(p, 0.1), lambda p: RMSprop(p, 0.02)])
def test_array_api_path_equals_numpy_path(make):
    """The generic path (a namespace without ufuncs: array_api_strict) takes
    the book's expressions; they equal the NumPy in-place path's values."""
    rng = np.random.RandomState(1)
    host = _params(rng, np.float64)
    strict = [xps.asarray(p) for p in host]
    opt_host, opt_strict = make(host), make(strict)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in host]
        opt_host.update_params(host, grads)
        opt_strict.update_params(strict, [xps.asarray(g) for g in grads])
    for h, s in zip(host, strict):
        np.testing.assert_allclose(to_numpy(s), h, rtol=1e-14)


@pytest.mark.parametrize("cls", [AdaGrad, RMSprop])
def test_state_pickles_and_keeps_training_the_same(cls):
    rng = np.random.RandomState(2)
    params = _params(rng, np.float64)
    opt = cls(params, 0.05)
    grads = [rng.standard_normal(p.shape) for p in params]
    opt.update_params(params, grads)
    copy_params = [p.copy() for p in params]
    clone = pickle.loads(pickle.dumps(opt))
    opt.update_params(params, grads)
    clone.update_params(copy_params, grads)
    for a, b in zip(params, copy_params):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls, lr", [(AdaGrad, 0.1), (RMSprop, 0.01)])
def test_minimises_an_ill_conditioned_quadratic(cls, lr):
    # f(p) = 0.5 * sum(c * p^2) with curvatures 1e-2 .. 1e2: the per-coordinate
    # step normalisation is what these methods are for
    c = np.logspace(-2, 2, 5)
    p, plain = np.ones(5), np.ones(5)
    opt = cls([p], lr)
    for _ in range(2000):
        opt.update_params([p], [c * p])
        plain -= 0.01 * c * plain   # gradient descent at the same (largest stable) rate
    assert np.max(np.abs(p)) < 0.05
    assert plain[0] > 0.5   # the flat direction has barely moved
