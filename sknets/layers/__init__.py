"""Layers: each a small class with ``forward`` and ``backward``."""

from ._base import Layer
from .activations import ACTIVATIONS, Activation
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .generative import MinibatchStdDev, UpSampling2D
from .normalization import BatchNormalization
from .pooling import AvgPool2D, MaxPool2D
from .pooling_global import GlobalAvgPool2D
from .shape import Flatten, Reshape

__all__ = ["Layer", "Activation", "ACTIVATIONS", "Dense", "Flatten", "Reshape",
           "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
           "Dropout", "BatchNormalization", "UpSampling2D", "MinibatchStdDev"]
