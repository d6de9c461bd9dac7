"""Layers: each a small class with ``forward`` and ``backward``.

Shapes are channels-last: rows ``(n_samples, n_features)``, sequences
``(n_samples, timesteps, features)``, images ``(n_samples, height, width,
channels)``.
"""

from ._base import Layer
from .activations import ACTIVATIONS, Activation
from .bidirectional import Bidirectional
from .conv import Conv2D
from .conv1d import Conv1D
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .generative import MinibatchStdDev, UpSampling2D
from .normalization import BatchNormalization
from .pooling import AvgPool2D, MaxPool2D
from .pooling1d import AvgPool1D, GlobalAvgPool1D, GlobalMaxPool1D, MaxPool1D
from .pooling_global import GlobalAvgPool2D
from .recurrent import GRU, LSTM, SimpleRNN
from .residual import Residual
from .shape import Flatten, Reshape

__all__ = ["Layer", "Activation", "ACTIVATIONS", "Dense", "Flatten", "Reshape",
           "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
           "Dropout", "BatchNormalization",
           "Conv1D", "MaxPool1D", "AvgPool1D", "GlobalAvgPool1D", "GlobalMaxPool1D",
           "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Residual", "Embedding",
           "UpSampling2D", "MinibatchStdDev"]
