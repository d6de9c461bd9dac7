"""The layer contract shared by every layer.

A layer is a small object with ``forward`` and ``backward``:

- ``build(input_shape, backend, dtype, rng)`` creates the parameters for one
  sample's input shape (without the batch axis) and returns the output shape;
- ``forward(X, training)`` computes the output and caches what ``backward``
  needs;
- ``backward(dY)`` takes the gradient of the loss with respect to the output,
  stores the parameter gradients in ``grads`` (same keys as ``params``) and
  returns the gradient with respect to the input.

Parameters live in ``params`` as arrays of the backend's namespace; optimizers
update them in place. Pickling stores parameters as NumPy arrays and drops
caches, so a layer built on a GPU loads anywhere.
"""

import numpy as np

from ..backend import get_backend, to_numpy


class Layer:
    """Base class of all layers.

    Attributes
    ----------
    params : dict of str to array
        Trainable parameters, in the backend's namespace.
    grads : dict of str to array
        Gradients of the loss for each parameter, filled by ``backward``.
    input_shape_, output_shape_ : tuple of int
        One sample's input and output shape, set by ``build``.
    """

    #: whether ``backward`` must return the input gradient; the network
    #: turns it off for the first layer that has parameters.
    need_input_grad = True

    #: parameter keys that the L2 penalty ``alpha`` applies to (weights, not biases).
    penalized = ("W",)

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.backend = None

    # -- construction -------------------------------------------------------
    def build(self, input_shape, backend, dtype, rng):
        """Create the parameters for inputs of one-sample shape ``input_shape``.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one sample (no batch axis).
        backend : Backend
        dtype : numpy dtype
            Floating dtype of the parameters.
        rng : numpy.random.RandomState
            Source of the initial weights.

        Returns
        -------
        output_shape : tuple of int
        """
        self.backend = backend
        self.dtype = np.dtype(dtype)
        self.input_shape_ = tuple(input_shape)
        host = self._init_params(self.input_shape_, rng)
        self.params = {k: backend.asarray(np.asarray(v), dtype=self.dtype)
                       for k, v in host.items()}
        self.grads = {}
        self.output_shape_ = tuple(self.output_shape(self.input_shape_))
        return self.output_shape_

    def _init_params(self, input_shape, rng):
        """Return a dict of initial parameters as NumPy arrays (none by default)."""
        return {}

    def output_shape(self, input_shape):
        """One sample's output shape for one sample's ``input_shape``."""
        return tuple(input_shape)

    @property
    def xp(self):
        return self.backend.xp

    @property
    def n_params(self):
        """Number of trainable scalars."""
        return int(sum(int(np.prod(p.shape)) for p in self.params.values()))

    def describe(self):
        """Short description for the summary table, e.g. ``Dense(128)``."""
        return type(self).__name__

    # -- computation --------------------------------------------------------
    def forward(self, X, training=False):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError

    # -- placement and pickling ----------------------------------------------
    def to(self, backend):
        """Move the parameters to ``backend`` (a :class:`Backend` or a name)."""
        if isinstance(backend, str) or backend is None:
            backend = get_backend(backend)
        if backend != self.backend:
            self.params = {k: backend.asarray(v) for k, v in self.params.items()}
            self.grads = {}
            self.backend = backend
            self._clear_cache()
        return self

    def _clear_cache(self):
        for key in [k for k in vars(self) if k.startswith("_cache")]:
            delattr(self, key)

    def __getstate__(self):
        state = {k: v for k, v in vars(self).items() if not k.startswith("_cache")}
        state["params"] = {k: to_numpy(v).copy() for k, v in self.params.items()}
        state["grads"] = {}
        state["backend"] = None if self.backend is None else get_backend("numpy")
        return state

    def __repr__(self):
        return self.describe()
