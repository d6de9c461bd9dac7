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

**Sizes before allocation.** :meth:`Layer.plan` gives the output shape,
the weights' shapes (:meth:`Layer.param_shapes`, :meth:`Layer.state_shapes`)
and what a training step keeps per sample (:meth:`Layer.activation_shapes`)
from the input shape alone: summaries and the memory estimate of a fit
(:mod:`sknets._memory`) are computed without allocating, and ``build``
refuses weights beyond the memory available before drawing them.

**Sparse input.** A layer with :attr:`Layer.accepts_sparse` (``Dense``)
takes a sparse batch as it is; a network densifies the batch, one at a time,
before any other layer.

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

from .._docstrings import inherit_docstrings
from .._html_repr import LayerDiagramMixin
from .._memory import check_weights_memory
from .._persistence import portable, restored
from ..backend import get_backend, to_numpy
from ._plan import LayerPlan, ShapeOnlyRandomState, shapes_of


class Layer(LayerDiagramMixin, BaseEstimator):
    """Base class of all layers: the layer contract.

    A layer maps a batch ``X`` of shape ``(n_samples, *input_shape_)`` to a
    batch of shape ``(n_samples, *output_shape_)`` with :meth:`forward`, and
    sends the gradient back with :meth:`backward`. Its constructor only
    stores hyper-parameters (a layer is a specification, like a scikit-learn
    estimator); :meth:`build` checks them and creates the weights. A
    subclass implements ``forward`` and ``backward``, and, as needed,
    ``output_shape``, ``_init_params`` / ``_init_state`` (its weights, as
    NumPy arrays), ``describe`` and the flags below. The module
    :mod:`sknets.layers` says more: caching rules, frozen layers, what
    solvers must know.

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

    See Also
    --------
    sknets.gradcheck.check_layer_gradients : Check ``backward`` against
        finite differences.

    Notes
    -----
    The contract, as in "Deep Learning from Scratch" (Saito, O'Reilly Japan
    2016, chapter 5): ``forward(X, training=True)`` may cache what
    ``backward`` needs in attributes whose names start with ``_cache``;
    ``forward(X, training=False)`` never changes ``params`` or ``state``;
    ``backward(dY)`` follows the last training forward, writes ``grads`` (same
    keys as ``params``; none for a frozen layer) and returns the gradient with
    respect to the input (or None when :attr:`need_input_grad` is False).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)   # the contract is written once, here

    #: Whether ``backward`` must return the input gradient; the network
    #: turns it off for the layers before the first trainable one.
    need_input_grad = True

    #: Whether ``forward`` and ``backward`` take a sparse batch (SciPy's, or
    #: CuPy's on a GPU) as it is; a network densifies the batch, one at a
    #: time, before a layer that does not (:func:`sknets._sparse.densify`).
    accepts_sparse = False

    #: Parameter keys that the L2 penalty ``alpha`` applies to (weights, not biases).
    penalized = ("W",)

    #: Layers without a ``trainable`` parameter have nothing to freeze.
    trainable = True

    #: Whether ``state`` holds running statistics that training forwards
    #: update (batch normalization); see :meth:`set_running_state`.
    keeps_running_state = False

    #: The hyper-parameters' constraints, checked at ``build`` (scikit-learn's
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
            Where the weights live (:func:`sknets.backend.get_backend`).
        dtype : numpy dtype
            Floating dtype of the weights.
        rng : numpy.random.RandomState
            Source of the initial weights (drawn even when ``weights`` gives
            them, so the layers after draw the same values either way).

        Returns
        -------
        output_shape : tuple of int
            One sample's output shape.

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
        plan = self._plan(self.input_shape_)
        self.output_shape_ = plan.output_shape
        # Weights beyond the memory there is are refused before any is drawn.
        check_weights_memory(plan, self.dtype, backend)
        params = self._init_params(self.input_shape_, rng)
        state = self._init_state(self.input_shape_)
        _check_declared(self, plan, params, state)
        given = getattr(self, "weights", None)
        if given is not None:
            params, state = self._given_weights(given, params, state)
        self.params = {k: backend.asarray(np.asarray(v), dtype=self.dtype)
                       for k, v in params.items()}
        self.state = {k: backend.asarray(np.asarray(v), dtype=self.dtype)
                      for k, v in state.items()}
        self.grads = {}
        return self.output_shape_

    # -- sizes without allocation ---------------------------------------------
    def plan(self, input_shape):
        """The layer's sizes for one sample's ``input_shape``, allocating nothing.

        Checks the hyper-parameters and the input shape as :meth:`build`
        does, then computes the output shape, the weights' shapes and what a
        training step keeps per sample (see :class:`~sknets.layers._plan.LayerPlan`).
        The summary table and the memory estimate of a fit are made of plans.

        Parameters
        ----------
        input_shape : tuple of int
            Shape of one sample (no batch axis).

        Returns
        -------
        plan : LayerPlan
            Output shape, weight shapes and per-sample activation shapes.

        Raises
        ------
        ValueError
            If a hyper-parameter is invalid or the input shape does not suit
            the layer.
        """
        self._validate_params()
        self._setup()
        return self._plan(tuple(int(s) for s in input_shape))

    def _plan(self, shape):
        return LayerPlan(self, shape, tuple(self.output_shape(shape)),
                         self.param_shapes(shape), self.state_shapes(shape),
                         list(self.activation_shapes(shape)))

    def param_shapes(self, input_shape):
        """Shapes of ``params`` by name, allocating nothing.

        Layers with weights declare them here; ``build`` checks that
        ``_init_params`` draws exactly these. The default learns them by
        running ``_init_params`` with a random state whose draws are
        zero-strided views, the layer's attributes left as they were.

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        shapes : dict of str to tuple of int
            The shape of each parameter.
        """
        saved = dict(vars(self))
        try:
            return shapes_of(self._init_params(tuple(input_shape), ShapeOnlyRandomState()))
        finally:
            vars(self).clear()
            vars(self).update(saved)

    def state_shapes(self, input_shape):
        """Shapes of ``state`` by name (default: those ``_init_state`` returns).

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        shapes : dict of str to tuple of int
            The shape of each state array.
        """
        return shapes_of(self._init_state(tuple(input_shape)))

    def activation_shapes(self, input_shape):
        """Per-sample shapes of the arrays a training step keeps for this layer.

        Its output, caches and work arrays (default: the output); used by
        the memory estimate of a fit.

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        shapes : list of tuple of int
            One sample's shape of each array.
        """
        return [tuple(self.output_shape(input_shape))]

    def size_parameter(self, input_shape):
        """The hyper-parameter that sets most of the layer's memory, for messages.

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        parameter : str or None
            ``"name=value"``; None when the size follows from the input alone.
        """
        return None

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
        """One sample's output shape for one sample's input shape.

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        output_shape : tuple of int
            One sample's output shape; the base class keeps the input's.

        Raises
        ------
        ValueError
            If the layer cannot take inputs of that shape.
        """
        return tuple(input_shape)

    @property
    def stochastic(self):
        """Whether the training forward draws random numbers (e.g. dropout
        with a positive rate), so the training loss is not a deterministic
        function of the weights."""
        return False

    def set_running_state(self, X):
        """Set the running ``state`` from one batch and return the training output.

        The state is set from the batch ``X`` alone (its exact statistics, no
        moving average). Layers that keep running state override it; for the
        others this is the training forward. Full-batch solvers call it once
        at the end of training, so that inference reproduces the training
        forward on the training data.

        Parameters
        ----------
        X : array of shape ``(n_samples, *input_shape_)``
            The batch, in the layer's namespace and dtype.

        Returns
        -------
        Y : array of shape ``(n_samples, *output_shape_)``
            The training-mode output for ``X``.
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
        """Short description for the summary table.

        Returns
        -------
        text : str
            The layer's name and main hyper-parameters, e.g. ``"Dense(128)"``.
        """
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
        """Compute the layer's output for a batch.

        Parameters
        ----------
        X : array of shape ``(n_samples, *input_shape_)``
            The batch, in the namespace of the layer's backend (``self.xp``)
            and the layer's dtype.
        training : bool, default=False
            True in training: the layer may cache what :meth:`backward` needs
            (in attributes named ``_cache*``), draw random numbers (dropout)
            and update its running ``state`` (batch normalization). False in
            inference: ``params`` and ``state`` are left as they are.

        Returns
        -------
        Y : array of shape ``(n_samples, *output_shape_)``
            The output, in the same namespace and dtype. It may share memory
            with ``X`` only where the layer documents it (e.g. reshaping).
        """
        raise NotImplementedError

    def backward(self, dY):
        """Back-propagate the gradient of the loss through the layer.

        Called after ``forward(X, training=True)`` on the same batch, whose
        cache it reads. It writes the gradient of the loss with respect to
        each parameter into ``grads`` (same keys and shapes as ``params``;
        none for a frozen layer, ``trainable=False``).

        Parameters
        ----------
        dY : array of shape ``(n_samples, *output_shape_)``
            Gradient of the loss with respect to the layer's output.

        Returns
        -------
        dX : array of shape ``(n_samples, *input_shape_)`` or None
            Gradient of the loss with respect to the layer's input; None when
            :attr:`need_input_grad` is False (the layers before the first
            trainable one need none).
        """
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
        """A shallow copy of the built layer on a backend; ``self`` is not changed.

        For inference, the copy shares the weight arrays when ``backend`` is
        the layer's own (else holds converted copies). It starts without
        caches, work arrays or gradients, and whatever its forward caches
        stays on it.

        Parameters
        ----------
        backend : Backend
            Where the copy's weights live.
        copy_weights : bool, default=False
            True: the copy's weights are always its own (a copy to train
            further), even on the layer's own backend.

        Returns
        -------
        layer : Layer
            The copy.
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
        """Move the weights to another backend, in place.

        Parameters
        ----------
        backend : Backend, str or None
            A backend, or its name (``"numpy"``, ``"cupy"``, ``"auto"``;
            None: the configured default).

        Returns
        -------
        self : Layer
            The layer, its weights on ``backend`` and its caches cleared.
        """
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
                # NumPy weights are pickled as they are (no copy): an array that a
                # fitted attribute (coefs_) shares is then stored once.
                state[key] = {k: to_numpy(v) for k, v in state[key].items()}
        if "grads" in state:
            state["grads"] = {}
        return portable(state)   # the backend and the dtype by name

    def __setstate__(self, state):
        super().__setstate__(restored(state))

    def __repr__(self, N_CHAR_MAX=700):
        text = self.describe()
        return text if self.trainable else f"{text} (frozen)"


def _check_declared(layer, plan, params, state):
    """``_init_params`` / ``_init_state`` drew the shapes the plan declares."""
    for what, drawn, declared in (("params", params, plan.param_shapes),
                                  ("state", state, plan.state_shapes)):
        if shapes_of(drawn) != declared:
            raise RuntimeError(
                f"{layer.describe()}: its initial {what} have shapes {shapes_of(drawn)}, "
                f"but the layer declares {declared} (param_shapes / state_shapes)."
            )


def _size(arrays):
    return int(sum(int(np.prod(a.shape)) for a in arrays.values()))
