"""The layer contract shared by every layer.

A layer is a small object with ``forward`` and ``backward``:

- ``build(input_shape, backend, dtype, rng)`` checks the hyper-parameters,
  creates the weights for one sample's input shape (without the batch axis)
  and returns the output shape;
- ``forward(X, training)`` computes the output and caches what ``backward``
  needs;
- ``backward(dY)`` takes the gradient of the loss with respect to the output,
  stores the parameter gradients in ``grads`` (same keys as ``params``) and
  returns the gradient with respect to the input.

**A layer is also a specification**, like a scikit-learn estimator: its
constructor only stores its hyper-parameters, which ``get_params`` /
``set_params`` read and write (so ``clone``, nested parameters such as
``layers__1__rate`` in a grid search, and pickling work), and they are
checked when the layer is built. The network estimators never build the
layers a user gives them: they build clones, so a specification is never
changed by ``fit``.

Weights live in two dicts of arrays of the backend's namespace: ``params``
(trained by gradient: optimizers update them in place) and ``state``
(changed by the forward pass in training, not by gradients: batch
normalization's running statistics). A layer with ``trainable=False`` (a
frozen layer, Keras' term) keeps both as they are. ``weights`` (a dict by
the same names) starts a layer from given values instead of its
initialisation: that is how a fitted network's layers seed a new one
(transfer learning). Pickling stores weights as NumPy arrays and drops
caches, so a layer built on a GPU loads anywhere.

**Caching rules.** ``forward(X, training=True)`` may keep what ``backward``
needs in attributes whose names start with ``_cache`` (and reuse work arrays
from one batch to the next through :meth:`Layer._work`, in training only).
``forward(X, training=False)`` never changes ``params`` or ``state``. The
estimators predict through :meth:`Layer.placed` copies made per call, so
whatever an inference pass caches stays on the copy: a fitted layer is never
changed by prediction, and concurrent predictions are safe.

**What solvers must know.** :attr:`Layer.stochastic` is True for a layer
whose training forward draws random numbers (dropout): its loss is not a
deterministic function of the weights, which L-BFGS refuses.
:attr:`Layer.keeps_running_state` is True for a layer whose ``state`` is
updated by training forwards (batch normalization's moving statistics);
:meth:`Layer.set_running_state` sets that state from one batch, which
full-batch solvers use at the end of training.
"""

import numpy as np
from sklearn.base import BaseEstimator

from ..backend import get_backend, to_numpy


class Layer(BaseEstimator):
    """Base class of all layers.

    Attributes
    ----------
    params : dict of str to array
        Trainable parameters, in the backend's namespace (after ``build``).
    state : dict of str to array
        Non-trainable weights updated by the forward pass in training.
    grads : dict of str to array
        Gradients of the loss for each parameter, filled by ``backward``.
    input_shape_, output_shape_ : tuple of int
        One sample's input and output shape, set by ``build``.
    """

    #: whether ``backward`` must return the input gradient; the network
    #: turns it off for the layers before the first trainable one.
    need_input_grad = True

    #: parameter keys that the L2 penalty ``alpha`` applies to (weights, not biases).
    penalized = ("W",)

    #: layers without a ``trainable`` parameter have nothing to freeze.
    trainable = True

    #: whether ``state`` holds running statistics that training forwards
    #: update (batch normalization); see :meth:`set_running_state`.
    keeps_running_state = False

    #: the hyper-parameters' constraints, checked at ``build`` (scikit-learn's
    #: ``_parameter_constraints`` format).
    _parameter_constraints: dict = {}

    # -- construction -------------------------------------------------------
    def build(self, input_shape, backend, dtype, rng):
        """Check the hyper-parameters and create the weights for inputs of
        one-sample shape ``input_shape``.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one sample (no batch axis).
        backend : Backend
        dtype : numpy dtype
            Floating dtype of the weights.
        rng : numpy.random.RandomState
            Source of the initial weights (drawn even when ``weights`` gives
            them, so the layers after draw the same values either way).

        Returns
        -------
        output_shape : tuple of int

        Raises
        ------
        ValueError
            If a hyper-parameter is invalid, the input shape does not suit
            the layer, or ``weights`` does not match the layer's weights.
        """
        self._validate_params()
        self._setup()
        self.backend = backend
        self.dtype = np.dtype(dtype)
        self.input_shape_ = tuple(int(s) for s in input_shape)
        self.output_shape_ = tuple(self.output_shape(self.input_shape_))
        params = self._init_params(self.input_shape_, rng)
        state = self._init_state(self.input_shape_)
        given = getattr(self, "weights", None)
        if given is not None:
            params, state = self._given_weights(given, params, state)
        self.params = {k: backend.asarray(np.asarray(v), dtype=self.dtype)
                       for k, v in params.items()}
        self.state = {k: backend.asarray(np.asarray(v), dtype=self.dtype)
                      for k, v in state.items()}
        self.grads = {}
        return self.output_shape_

    def _setup(self):
        """Derive the working form of the hyper-parameters (attributes ending
        in ``_``, e.g. a kernel size as a pair) after they are checked."""

    def _given_weights(self, given, params, state):
        """``weights`` checked against the initial ``params`` and ``state``."""
        expected = {**params, **state}
        if not isinstance(given, dict) or set(given) != set(expected):
            raise ValueError(
                f"{self.describe()}: weights must be a dict with the keys "
                f"{sorted(expected)}, got "
                f"{sorted(given) if isinstance(given, dict) else type(given).__name__}."
            )
        for key, init in expected.items():
            shape = np.shape(given[key])
            if shape != np.shape(init):
                raise ValueError(
                    f"{self.describe()}: weights[{key!r}] has shape {shape}, but this "
                    f"layer on inputs of shape {self.input_shape_} needs {np.shape(init)}."
                )
        # Copies: training updates the weights in place, and the given arrays
        # belong to the specification, which fit must not change.
        return ({k: np.array(to_numpy(given[k]), copy=True) for k in params},
                {k: np.array(to_numpy(given[k]), copy=True) for k in state})

    def _init_params(self, input_shape, rng):
        """Return a dict of initial parameters as NumPy arrays (none by default)."""
        return {}

    def _init_state(self, input_shape):
        """Return a dict of initial non-trainable weights (none by default)."""
        return {}

    def output_shape(self, input_shape):
        """One sample's output shape for one sample's ``input_shape``."""
        return tuple(input_shape)

    @property
    def stochastic(self):
        """Whether the training forward draws random numbers (e.g. dropout
        with a positive rate), so the training loss is not a deterministic
        function of the weights."""
        return False

    def set_running_state(self, X):
        """Set the running ``state`` from the batch ``X`` alone (its exact
        statistics, no moving average) and return the training-mode output.

        Layers that keep running state override it; for the others this is
        the training forward. Full-batch solvers call it once at the end of
        training, so that inference reproduces the training forward on the
        training data.
        """
        return self.forward(X, training=True)

    @property
    def xp(self):
        """The array namespace of the layer's backend."""
        return self.backend.xp

    @property
    def n_params(self):
        """Number of scalars in ``params`` (0 before ``build``)."""
        return _size(getattr(self, "params", {}))

    @property
    def n_state(self):
        """Number of scalars in ``state`` (0 before ``build``)."""
        return _size(getattr(self, "state", {}))

    def describe(self):
        """Short description for the summary table, e.g. ``Dense(128)``."""
        return type(self).__name__

    def get_weights(self):
        """Copies of the built layer's weights as NumPy arrays, by name.

        Returns
        -------
        weights : dict of str to numpy.ndarray
            ``params`` and ``state``; what the ``weights`` parameter takes.
        """
        return {k: np.array(to_numpy(v), copy=True)
                for k, v in {**self.params, **self.state}.items()}

    # -- computation --------------------------------------------------------
    def forward(self, X, training=False):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError

    def _work(self, name, shape, dtype, zero=False):
        """A work array kept from one training batch to the next.

        Fresh multi-megabyte arrays at every mini-batch cost page faults (the
        last batch's are still alive when the next are made). The training
        loop runs forward, backward and the update batch after batch, so a
        layer may write each batch's im2col matrix, output or input gradient
        over the last batch's: callers use this in training only (never for
        what ``forward(training=False)`` returns). ``zero``: a new array starts
        at zero (a padded buffer whose border is never written stays zero).
        """
        work = self.__dict__.setdefault("_cache_work", {})
        shape = tuple(shape)
        a = work.get(name)
        if a is None or tuple(a.shape) != shape or a.dtype != dtype:
            a = (self.xp.zeros if zero else self.xp.empty)(shape, dtype=dtype)
            work[name] = a
        return a

    # -- placement and pickling ----------------------------------------------
    def placed(self, backend, copy_weights=False):
        """A shallow copy of the built layer on ``backend``; ``self`` is not changed.

        For inference, the copy shares the weight arrays when ``backend`` is
        the layer's own (else holds converted copies); with ``copy_weights``
        its weights are always its own (a copy to train further). It starts
        without caches, work arrays or gradients, and whatever its forward
        caches stays on it.
        """
        twin = object.__new__(type(self))   # not copy.copy: __getstate__ converts to NumPy
        vars(twin).update(vars(self))
        for key in [k for k in vars(twin) if k.startswith("_cache")]:
            delattr(twin, key)
        twin.grads = {}
        if backend != self.backend or copy_weights:
            xp = backend.xp
            twin.params = {k: xp.asarray(backend.asarray(v), copy=True)
                           for k, v in self.params.items()}
            twin.state = {k: xp.asarray(backend.asarray(v), copy=True)
                          for k, v in self.state.items()}
            twin.backend = backend
            twin.__dict__.pop("_sampler", None)   # a random stream of another backend
        return twin

    def to(self, backend):
        """Move the weights to ``backend`` (a :class:`Backend` or a name)."""
        if isinstance(backend, str) or backend is None:
            backend = get_backend(backend)
        if backend != self.backend:
            self.params = {k: backend.asarray(v) for k, v in self.params.items()}
            self.state = {k: backend.asarray(v) for k, v in self.state.items()}
            self.grads = {}
            self.backend = backend
            self._clear_cache()
        return self

    def _clear_cache(self):
        for key in [k for k in vars(self) if k.startswith("_cache")]:
            delattr(self, key)

    def __getstate__(self):
        state = {k: v for k, v in super().__getstate__().items()
                 if not k.startswith("_cache")}
        for key in ("params", "state"):
            if key in state:
                state[key] = {k: to_numpy(v).copy() for k, v in state[key].items()}
        if "grads" in state:
            state["grads"] = {}
        if state.get("backend") is not None:
            state["backend"] = get_backend("numpy")
        return state

    def __repr__(self, N_CHAR_MAX=700):
        text = self.describe()
        return text if self.trainable else f"{text} (frozen)"


def _size(arrays):
    return int(sum(int(np.prod(a.shape)) for a in arrays.values()))
