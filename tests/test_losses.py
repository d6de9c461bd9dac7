"""Fused output+loss pairs: gradients, stability, agreement with scikit-learn."""

import numpy as np
import pytest
from sklearn.neural_network._base import LOSS_FUNCTIONS

from sknets.backend import get_backend
from sknets.gradcheck import check_loss_gradients
from sknets.losses import (
    DiscriminatorLoss,
    GeneratorLoss,
    PoissonDeviance,
    SigmoidCrossEntropy,
    SoftmaxCrossEntropy,
    SquaredError,
    log_softmax,
    softmax,
)

xp = get_backend("numpy").xp
rng = np.random.RandomState(0)
Z = rng.standard_normal((6, 3))
ONE_HOT = np.eye(3)[rng.randint(0, 3, 6)]
INDICATOR = rng.randint(0, 2, (6, 3)).astype(float)
COUNTS = rng.poisson(2.0, (6, 3)).astype(float)
SW = rng.uniform(0.1, 2.0, 6)


@pytest.mark.parametrize("loss, y", [
    (SoftmaxCrossEntropy(), ONE_HOT),
    (SigmoidCrossEntropy(), INDICATOR),
    (SquaredError(), rng.standard_normal((6, 3))),
    (PoissonDeviance(), COUNTS),
])
@pytest.mark.parametrize("sample_weight", [None, SW])
def test_loss_gradients(loss, y, sample_weight):
    check_loss_gradients(loss, Z.copy(), y, sample_weight)


@pytest.mark.parametrize("loss, y, sk_name, to_prob", [
    (SoftmaxCrossEntropy(), ONE_HOT, "log_loss", softmax),
    (SigmoidCrossEntropy(), INDICATOR[:, :1], "binary_log_loss", None),
    (SquaredError(), rng.standard_normal((6, 1)), "squared_error", None),
    (PoissonDeviance(), COUNTS[:, :1], "poisson", None),
])
def test_loss_values_match_scikit_learn(loss, y, sk_name, to_prob):
    z = Z[:, : y.shape[1]]
    ours = float(loss.loss(xp, z, y, SW, SW.sum()))
    theirs = LOSS_FUNCTIONS[sk_name](y, loss.output(xp, z), sample_weight=SW)
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_softmax_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [-1e30, -1e30, -1e30]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(xp, z)
        logp = log_softmax(xp, z)
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    assert logp[0, 2] == pytest.approx(-2000.0)


def test_cross_entropies_stay_finite_where_probabilities_round_to_zero():
    z = np.array([[800.0, -800.0]])
    y = np.array([[0.0, 1.0]])
    assert float(SoftmaxCrossEntropy().loss(xp, z, y)) == pytest.approx(1600.0)
    z1, y1 = np.array([[-900.0]]), np.array([[1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert float(SigmoidCrossEntropy().loss(xp, z1, y1)) == pytest.approx(900.0)


# ---------------------------------------------------------------- GAN losses
REAL_FAKE = rng.randint(0, 2, (6, 1)).astype(float)


@pytest.mark.parametrize("loss", [DiscriminatorLoss(), DiscriminatorLoss(0.1),
                                  DiscriminatorLoss(0.3), GeneratorLoss()])
@pytest.mark.parametrize("sample_weight", [None, SW])
def test_gan_loss_gradients(loss, sample_weight):
    check_loss_gradients(loss, 3 * Z[:, :1].copy(), REAL_FAKE, sample_weight)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_discriminator_loss_is_binary_cross_entropy_with_smoothed_real_targets(smoothing):
    z = 3 * Z[:, :1]
    ours = float(DiscriminatorLoss(smoothing).loss(xp, z, REAL_FAKE, SW, SW.sum()))
    target = REAL_FAKE * (1 - smoothing)   # one-sided: fakes stay 0
    theirs = LOSS_FUNCTIONS["binary_log_loss"](target, SigmoidCrossEntropy().output(xp, z),
                                               sample_weight=SW)
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_generator_loss_is_non_saturating():
    """``-log D(G(z))``: the loss of labelling the fakes real; its gradient
    is largest where the discriminator rejects them (the minimax loss
    ``log(1 - D)`` would vanish there)."""
    z = 3 * Z[:, :1]
    ours = float(GeneratorLoss().loss(xp, z))
    theirs = LOSS_FUNCTIONS["binary_log_loss"](np.ones_like(z), SigmoidCrossEntropy().output(xp, z))
    assert ours == pytest.approx(theirs, rel=1e-10)
    _, dz = GeneratorLoss().loss_and_grad(xp, np.array([[-20.0], [0.0], [20.0]]))
    assert dz[0, 0] == pytest.approx(-1 / 3, rel=1e-6)
    assert abs(dz[2, 0]) < 1e-9


def test_gan_losses_stay_finite_for_huge_logits():
    z = np.array([[1e4], [-1e4], [0.0]])
    y = np.array([[1.0], [1.0], [0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        d, dz_d = DiscriminatorLoss(0.1).loss_and_grad(xp, z, y)
        g, dz_g = GeneratorLoss().loss_and_grad(xp, z)
    # real sample at logit -1e4: loss 1e4 * 0.9 (targets 0.9), fakes at 0: log 2
    assert float(d) == pytest.approx((0.1e4 + 0.9e4 + np.log(2)) / 3, rel=1e-9)
    assert float(g) == pytest.approx((1e4 + np.log(2)) / 3, rel=1e-9)
    assert np.all(np.isfinite(dz_d)) and np.all(np.isfinite(dz_g))
