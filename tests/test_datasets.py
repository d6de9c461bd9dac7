"""sknets.datasets: logic-gate truth tables and the generated fruit set."""

import numpy as np
import pytest

from sknets import PerceptronClassifier
from sknets.datasets import FRUIT_NAMES, LOGIC_GATES, make_fruit, make_logic_gate

TRUTH = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "nand": lambda a, b: not (a and b),
    "xor": lambda a, b: a != b,
}


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_logic_gate_truth_tables(name):
    X, y = make_logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float64
    assert y.shape == (4,) and y.dtype.kind == "i"
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    expected = [int(TRUTH[name](bool(a), bool(b))) for a, b in X]
    np.testing.assert_array_equal(y, expected)
    # case-insensitive, and a fresh array each call (callers may modify it)
    X2, y2 = make_logic_gate(name.upper())
    np.testing.assert_array_equal(y2, y)
    X2[0, 0] = 5.0
    assert make_logic_gate(name)[0][0, 0] == 0.0


def test_logic_gate_errors():
    with pytest.raises(ValueError, match="xnor"):
        make_logic_gate("xnor")
    with pytest.raises(TypeError, match="string"):
        make_logic_gate(1)
    assert set(LOGIC_GATES) == set(TRUTH)


def test_make_fruit_shapes_balance_and_seed():
    X, y = make_fruit(101, random_state=0)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert np.bincount(y).tolist() == [51, 50]
    assert ((X[:, 1] >= 0) & (X[:, 1] <= 1)).all()
    X2, y2 = make_fruit(101, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make_fruit(101, random_state=1)[0], X)
    # apples (label 0) are larger and redder (lower colour value) on average
    assert X[y == 0, 0].mean() > X[y == 1, 0].mean() + 1.0
    assert X[y == 0, 1].mean() < X[y == 1, 1].mean() - 0.3
    assert FRUIT_NAMES[0] == "apple" and FRUIT_NAMES[1] == "lemon"


def test_make_fruit_is_learned_by_a_perceptron():
    X, y = make_fruit(200, random_state=0)
    X_test, y_test = make_fruit(200, random_state=1)
    clf = PerceptronClassifier(random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.97


@pytest.mark.parametrize("n_samples", [1, 0, -3, 2.5, "10", True])
def test_make_fruit_rejects_bad_n_samples(n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        make_fruit(n_samples)


def test_make_mnist1d_is_the_package_s_data_and_keeps_global_random_state():
    pytest.importorskip("mnist1d")
    import random

    from sknets.datasets import make_mnist1d

    np.random.seed(3)
    random.seed(3)
    expected = np.random.rand(), random.random()
    np.random.seed(3)
    random.seed(3)
    X, y = make_mnist1d(100, random_state=0)
    assert (np.random.rand(), random.random()) == expected
    assert X.shape == (100, 40, 1) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [10] * 10
    assert abs(X.mean()) < 1e-12 and X.std() == pytest.approx(1.0)
    again, _ = make_mnist1d(100, random_state=0)
    np.testing.assert_array_equal(again, X)
    assert not np.allclose(make_mnist1d(100, random_state=1)[0], X)
    with pytest.raises(ValueError, match="n_samples"):
        make_mnist1d(5)
