"""UpSampling2D and MinibatchStdDev: values, shapes, gradients."""

import numpy as np
import pytest

from sknets.backend import get_backend
from sknets.gradcheck import check_layer_gradients
from sknets.layers import MinibatchStdDev, UpSampling2D


def built(layer, shape):
    layer.build(shape, get_backend("numpy"), np.float64, np.random.RandomState(0))
    return layer


@pytest.mark.parametrize("size, shape", [(2, (3, 2, 2)), (3, (2, 3, 1))])
def test_upsampling_gradients(size, shape):
    check_layer_gradients(UpSampling2D(size), shape)


def test_upsampling_repeats_each_pixel():
    X = np.random.RandomState(0).standard_normal((2, 3, 4, 5))
    layer = built(UpSampling2D(2), (3, 4, 5))
    Y = layer.forward(X)
    assert layer.output_shape_ == (6, 8, 5)
    np.testing.assert_array_equal(Y, X.repeat(2, axis=1).repeat(2, axis=2))
    with pytest.raises(ValueError, match="images"):
        built(UpSampling2D(2), (4,))


@pytest.mark.parametrize("shape", [(5,), (3, 3, 2)])
def test_minibatch_stddev_gradients(shape):
    check_layer_gradients(MinibatchStdDev(), shape, n_samples=4)


def test_minibatch_stddev_appends_the_mean_standard_deviation():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((6, 4))
    layer = built(MinibatchStdDev(), (4,))
    Y = layer.forward(X)
    assert Y.shape == (6, 5) and layer.output_shape_ == (5,)
    np.testing.assert_array_equal(Y[:, :4], X)
    np.testing.assert_allclose(Y[:, 4], np.std(X, axis=0).mean(), rtol=1e-7)
    same = layer.forward(np.repeat(X[:1], 6, axis=0))    # a collapsed batch: no spread
    np.testing.assert_allclose(same[:, 4], 1e-4, rtol=1e-6)   # sqrt(epsilon)
    images = built(MinibatchStdDev(), (2, 2, 3)).forward(rng.standard_normal((3, 2, 2, 3)))
    assert images.shape == (3, 2, 2, 4) and np.ptp(images[..., 3]) == 0
