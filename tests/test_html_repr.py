"""HTML representation: documentation links and a network's layers as nested boxes."""

import inspect
import re

import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknets
from sknets import layers as L
from sknets._html_repr import DOC_LINK_TEMPLATE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [obj for name in sknets.__all__
              if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)]
LAYERS = [obj for name in L.__all__
          if inspect.isclass(obj := getattr(L, name)) and obj is not L.Layer]


def _boxes(html):
    """The names of the boxes, outermost first, in document order."""
    return re.findall(r"<label[^>]*><div><div>(.*?)</div>", html)


def _doc_links(html):
    return re.findall(r'class="sk-estimator-doc-link[^"]*"[^>]*href="([^"]+)"', html)


def _url(path, name):
    return DOC_LINK_TEMPLATE.format(version=sknets.__version__, path=path, name=name)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_links_to_its_api_page(cls):
    est = cls()
    assert est._get_doc_link() == _url("sknets", cls.__name__)
    assert _doc_links(est._repr_html_())[0] == _url("sknets", cls.__name__)


def test_every_layer_links_to_its_api_page():
    assert LAYERS
    for cls in LAYERS:
        params = inspect.signature(cls).parameters
        layer = cls(*[1] * sum(p.default is p.empty for p in params.values()))
        assert layer._get_doc_link() == _url("sknets.layers", cls.__name__), cls


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16, y[:200]


def test_layer_list_network_shows_its_layers_as_nested_boxes():
    layers = [L.Dense(8), ("act", L.Activation("relu")), ("drop", L.Dropout(0.2))]
    est = sknets.NeuralNetClassifier(layers, max_iter=2)
    html = est._repr_html_()
    assert _boxes(html) == ["NeuralNetClassifier", "Dense(8)", "Activation(relu)",
                            "Dropout(0.2)"]
    # the boxes are nested in the estimator's, and their parameters copy as
    # the nested names set_params takes
    assert 'data-param-prefix="layers__drop__"' in html
    assert _url("sknets.layers", "Dropout") in _doc_links(html)
    est.fit(*_digits())
    assert _boxes(est._repr_html_())[-1] == "Dense(10)"   # the fitted output layer


def test_fitted_preset_shows_its_network_and_unfitted_one_box():
    est = sknets.MLPClassifierScratch((6,), batch_normalization=True, max_iter=2)
    assert _boxes(est._repr_html_()) == ["MLPClassifierScratch"]
    est.fit(*_digits())
    assert _boxes(est._repr_html_()) == ["MLPClassifierScratch", "Dense(6)",
                                         "BatchNormalization", "Activation(relu)", "Dense(10)"]


def test_network_inside_a_pipeline():
    pipe = make_pipeline(StandardScaler(), sknets.ConvNetClassifier(
        conv_filters=(2,), hidden_layer_sizes=(4,), max_iter=1)).fit(*_digits())
    boxes = _boxes(pipe._repr_html_())
    assert boxes[:4] == ["Pipeline", "StandardScaler", "convnetclassifier: ConvNetClassifier",
                         "Reshape(8, 8, 1)"]
    assert "Conv2D(2, 3x3, same)" in boxes and boxes[-1] == "Dense(10)"


def test_gan_shows_its_two_networks_side_by_side():
    gan = sknets.GenerativeAdversarialNetwork(
        generator=[L.Dense(8), ("act", L.Activation("relu"))],
        discriminator=[L.Dense(6), ("drop", L.Dropout(0.2))], latent_dim=4, max_iter=1,
        random_state=0)
    html = gan._repr_html_()
    assert _boxes(html) == ["GenerativeAdversarialNetwork", "generator", "Dense(8)",
                            "Activation(relu)", "discriminator", "Dense(6)", "Dropout(0.2)"]
    # each layer's parameters copy as the nested names set_params takes
    assert 'data-param-prefix="generator__act__"' in html
    assert 'data-param-prefix="discriminator__drop__"' in html
    assert _url("sknets.layers", "Dropout") in _doc_links(html)
    gan.fit(*_digits())
    # fitted: the layers the estimator adds (the generator's output, the logit)
    assert _boxes(gan._repr_html_()) == [
        "GenerativeAdversarialNetwork", "generator", "Dense(8)", "Activation(relu)",
        "Dense(64)", "Activation(tanh)", "discriminator", "Dense(6)", "Dropout(0.2)",
        "Dense(1)"]
