"""Trainers: small objects with named steps that train a fitted state.

The estimator validates its input, builds a new :class:`FitState` (or a
copy of its fitted one, to train further), runs a trainer on it and commits
it in one step (``BaseNetwork._commit``), the way the "Deep Learning from
Scratch" book keeps its ``Trainer`` apart from the network:

- :class:`MiniBatchTrainer`: SGD, Adam, AdaGrad or RMSprop over
  mini-batches (scikit-learn's MLP, step by step), early stopping with the
  best weights;
- :class:`LbfgsTrainer`: SciPy's L-BFGS-B on the full batch;
- :class:`PerceptronTrainer`: scikit-learn's per-sample perceptron rule over
  one-vs-rest problems.

A trainer changes only the state it was given; Ctrl-C stops it at a safe
point (after a mini-batch, an iteration, a chunk of samples) and ``run``
returns True, the state consistent; any exception leaves the state to be
dropped.
"""

from .lbfgs import LbfgsConfig, LbfgsTrainer
from .minibatch import (
                        STOCHASTIC_SOLVERS,
                        MiniBatchConfig,
                        MiniBatchTrainer,
                        forward_in_batches,
                        make_optimizer,
)
from .perceptron import PerceptronConfig, PerceptronTrainer
from .state import FitState

__all__ = ["FitState", "MiniBatchConfig", "MiniBatchTrainer", "LbfgsConfig", "LbfgsTrainer",
           "PerceptronConfig", "PerceptronTrainer", "STOCHASTIC_SOLVERS",
           "forward_in_batches", "make_optimizer"]
