"""Layers: each a small class with ``forward`` and ``backward``."""

from ._base import Layer
from .activations import ACTIVATIONS, Activation
from .dense import Dense
from .shape import Flatten, Reshape

__all__ = ["Layer", "Activation", "ACTIVATIONS", "Dense", "Flatten", "Reshape"]
