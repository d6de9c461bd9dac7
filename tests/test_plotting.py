"""sknets.plotting: LossCurveDisplay and FilterDisplay."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import sknets
from sknets import MLPClassifierScratch, MLPRegressorScratch
from sknets.plotting import FilterDisplay, LossCurveDisplay

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_loss_curve_from_estimator(digits):
    X, y = digits
    clf = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=15, early_stopping=True,
                               n_iter_no_change=100, random_state=0).fit(X, y)
    disp = LossCurveDisplay.from_estimator(clf)
    np.testing.assert_allclose(disp.train_line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_allclose(disp.valid_line_.get_ydata(),
                               [h["valid_loss"] for h in clf.history_])
    np.testing.assert_array_equal(disp.train_line_.get_xdata(), np.arange(1, 16))
    assert disp.best_line_.get_xdata()[0] == clf.best_epoch_
    assert disp.ax_.get_xlabel() == "epoch" and disp.ax_.get_ylabel() == "loss"
    assert disp.figure_ is disp.ax_.figure
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["train loss", "validation loss", f"best epoch ({clf.best_epoch_})"]


def test_loss_curve_given_ax_pipeline_and_lbfgs(digits):
    X, y = digits
    fig, (ax1, ax2) = plt.subplots(1, 2)
    pipe = make_pipeline(MinMaxScaler(), MLPClassifierScratch(hidden_layer_sizes=(8,),
                                                              max_iter=4, random_state=0))
    disp = LossCurveDisplay.from_estimator(pipe.fit(X, y), ax=ax1)
    assert disp.ax_ is ax1 and disp.figure_ is fig and disp.valid_line_ is None
    reg = MLPRegressorScratch(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=10,
                              random_state=0).fit(X, y.astype(float))
    disp = LossCurveDisplay.from_estimator(reg, ax=ax2, log_scale=True)
    assert disp.ax_.get_xlabel() == "iteration" and disp.ax_.get_yscale() == "log"
    np.testing.assert_allclose(disp.train_line_.get_ydata(), reg.loss_curve_)
    # plot() again on another axes, as sklearn's displays allow
    _, ax3 = plt.subplots()
    assert disp.plot(ax=ax3).ax_ is ax3


def test_loss_curve_not_fitted():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(MLPClassifierScratch())


def test_filter_display_tiles_each_filter():
    rng = np.random.RandomState(0)
    filters = rng.normal(size=(3, 3, 1, 5))
    disp = FilterDisplay(filters=filters).plot(n_cols=3)
    mosaic = disp.mosaic_
    assert mosaic.shape == (2 * 4 - 1, 3 * 4 - 1)
    for i in range(5):
        r, c = divmod(i, 3)
        tile = mosaic[4 * r:4 * r + 3, 4 * c:4 * c + 3]
        f = filters[:, :, 0, i]
        np.testing.assert_allclose(tile, (f - f.min()) / (f.max() - f.min()))
    assert np.isnan(mosaic[3]).all() and np.isnan(mosaic[4:, 8:]).all()  # gaps, empty slot
    assert disp.ax_.get_title() == "5 filters 3x3"
    rgb = FilterDisplay(filters=rng.normal(size=(2, 2, 3, 4))).plot()
    assert rgb.mosaic_.shape == (5, 5, 3) and np.nanmax(rgb.mosaic_) <= 1
    with pytest.raises(ValueError, match="kh, kw, in_channels"):
        FilterDisplay(filters=np.zeros((3, 3, 5)))


def test_filter_display_from_convnet(digits):
    ConvNet = getattr(sknets, "ConvNetClassifier", None)
    if ConvNet is None:
        pytest.skip("sknets.ConvNetClassifier is not available")
    X, y = digits
    net = ConvNet(image_shape=(8, 8), conv_filters=(6,), kernel_size=3,
                  hidden_layer_sizes=(), max_iter=2, random_state=0).fit(X[:300], y[:300])
    _, ax = plt.subplots()
    disp = FilterDisplay.from_estimator(net, ax=ax)
    assert disp.ax_ is ax
    np.testing.assert_array_equal(disp.filters, net.coefs_[0])
    assert disp.filters.shape == (3, 3, 1, 6)
    with pytest.raises(ValueError, match="convolution layer"):
        FilterDisplay.from_estimator(net, layer=1)
    mlp = MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=2).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="0 convolution layer"):
        FilterDisplay.from_estimator(mlp)


def test_matplotlib_imported_lazily_with_a_clear_error(monkeypatch):
    import subprocess
    import sys

    code = ("import sys, sknets.plotting, sknets; "
            "print('matplotlib' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.stdout.strip() == "False", res.stderr
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "sknets\[plot\]"'):
        LossCurveDisplay(train_loss=[1.0, 0.5]).plot()
