"""sknets: neural-network estimators from scratch that behave like scikit-learn's."""

from ._config import config_context, get_config, set_config
from ._persistence import trusted_types
from .convnet import ConvNetClassifier
from .exceptions import DivergenceError
from .gan import GenerativeAdversarialNetwork
from .mlp import MLPClassifierScratch, MLPRegressorScratch
from .neural_net import NeuralNetClassifier, NeuralNetRegressor
from .perceptron import PerceptronClassifier

__version__ = "0.1.0"

__all__ = [
    "ConvNetClassifier",
    "GenerativeAdversarialNetwork",
    "MLPClassifierScratch",
    "MLPRegressorScratch",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "PerceptronClassifier",
    "DivergenceError",
    "config_context",
    "get_config",
    "set_config",
    "trusted_types",
]
