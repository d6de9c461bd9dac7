"""A sequential network: layers applied in order, gradients in reverse."""

from ._persistence import portable, restored
from ._sparse import densify, is_sparse
from .backend import get_backend


class Sequential:
    """A stack of layers.

    Parameters
    ----------
    layers : list of Layer
        Applied in order by :meth:`forward`.

    Attributes
    ----------
    input_shape_, output_shape_ : tuple of int
        One sample's input and output shape, set by :meth:`build`.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.backend = None

    def build(self, input_shape, backend, dtype, rng):
        """Create every layer's parameters, in order, from ``rng``.

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape.
        backend : Backend
            Where the weights live.
        dtype : numpy dtype
            Floating dtype of the weights.
        rng : numpy.random.RandomState
            Source of the initial weights, drawn layer after layer.

        Returns
        -------
        self : Sequential
            The built network.
        """
        self.backend = backend
        self.input_shape_ = tuple(input_shape)
        shape = self.input_shape_
        seen_trainable = False
        for layer in self.layers:
            shape = layer.build(shape, backend, dtype, rng)
            # No layer needs the gradient of the network's own input, nor of
            # inputs that only frozen (or weightless) layers see.
            layer.need_input_grad = seen_trainable
            seen_trainable = seen_trainable or bool(layer.trainable and layer.params)
        self.output_shape_ = shape
        return self

    def forward(self, X, training=False):
        """Output of the last layer for a batch ``X`` (dense, or sparse: kept
        sparse for the layers that take it, densified, this batch only, before
        the first that does not).

        Where the backend's kernels fuse a pooling with the activation after
        it (``backend.kernels.fuses_pool_activation``), such a pair runs as
        one pass: the pooling layer applies the activation (its
        ``fuses_activation``) and the activation layer is skipped, forward
        and backward; the results are the same.

        Parameters
        ----------
        X : array or sparse matrix of shape (n_samples, ...)
            The batch, on the network's backend.
        training : bool, default=False
            A training pass (see :meth:`sknets.layers.Layer.forward`).

        Returns
        -------
        Y : array of shape (n_samples, n_outputs)
            The last layer's output (the logits).
        """
        return forward_layers(self.layers, X, self.backend, training, self._fused_pairs())

    def plan(self, input_shape):
        """Every layer's :meth:`~sknets.layers.Layer.plan`, in order, for one
        sample's input shape: output shapes and weight counts with nothing
        allocated (the layers need not be built).

        Parameters
        ----------
        input_shape : tuple of int
            One sample's input shape (no batch axis).

        Returns
        -------
        plans : list of LayerPlan
            One per layer, in order.
        """
        plans, shape = [], tuple(input_shape)
        for layer in self.layers:
            plans.append(layer.plan(shape))
            shape = plans[-1].output_shape
        return plans

    def _fused_pairs(self):
        """``{index of a pooling layer: activation}`` for the pairs that run fused."""
        if self.backend is None or not getattr(self.backend.kernels, "fuses_pool_activation",
                                               False):
            return {}
        layers = self.layers
        return {i: layers[i + 1].activation for i in range(len(layers) - 1)
                if getattr(layers[i + 1], "activation", None)
                in getattr(layers[i], "fuses_activation", ())
                and type(layers[i + 1]).__name__ == "Activation"}

    def placed(self, backend):
        """A network of placed copies of the layers, for inference (``self`` is not changed).

        Parameters
        ----------
        backend : Backend
            Where the copies compute (:meth:`sknets.layers.Layer.placed`).

        Returns
        -------
        network : Sequential
            The copy.
        """
        return self._of([layer.placed(backend) for layer in self.layers], backend)

    def copied(self, backend):
        """A copy with weights of its own, to train further (``self`` is not changed).

        Parameters
        ----------
        backend : Backend
            Where the copy's weights live.

        Returns
        -------
        network : Sequential
            The copy.
        """
        return self._of([layer.placed(backend, copy_weights=True) for layer in self.layers],
                        backend)

    def _of(self, layers, backend):
        net = Sequential(layers)
        net.backend = backend
        net.input_shape_, net.output_shape_ = self.input_shape_, self.output_shape_
        return net

    @property
    def stochastic(self):
        """The layers whose training forward draws random numbers."""
        return [layer for layer in self.layers if layer.stochastic]

    def set_running_state(self, X):
        """Set the running state of every layer that keeps one from one batch.

        One training-mode pass over ``X`` that sets the running state of
        every layer that keeps one (batch normalization) from ``X`` alone.
        See :meth:`sknets.layers.Layer.set_running_state`.

        Parameters
        ----------
        X : array of shape (n_samples, ...)
            The batch (full-batch solvers: the training data).

        Returns
        -------
        Y : array of shape (n_samples, n_outputs)
            The training-mode output.
        """
        for layer in self.layers:
            X = layer.set_running_state(_dense_unless_accepted(layer, X, self.backend))
        return X

    def backward(self, dY):
        """Back-propagate the gradient through every layer; fills their ``grads``.

        Parameters
        ----------
        dY : array of shape (n_samples, n_outputs)
            Gradient of the loss with respect to the network's output.

        Returns
        -------
        dX : array or None
            Gradient with respect to the input, or None when no layer needs it.
        """
        fused = self._fused_pairs()
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            if i - 1 not in fused:   # a fused activation's derivative is its pooling's
                dY = layer.backward(dY)
            if not layer.need_input_grad:
                break
        return dY

    @property
    def trainable_layers(self):
        """The layers whose ``params`` training updates (not frozen)."""
        return [layer for layer in self.layers if layer.trainable and layer.params]

    def penalized_weights(self):
        """The trainable weights an L2 penalty applies to.

        Returns
        -------
        pairs : list of (Layer, str)
            ``(layer, name)`` of each: the layer's ``penalized`` names, e.g.
            ``"W"`` but not biases.
        """
        return [(layer, k) for layer in self.trainable_layers
                for k in layer.penalized if k in layer.params]

    def squared_weights(self):
        """Sum of the squares of :meth:`penalized_weights`.

        Returns
        -------
        total : 0-d array or float
            On the backend; ``0.0`` when there are none.
        """
        xp = self.backend.xp
        total = 0.0
        for layer, k in self.penalized_weights():
            flat = xp.reshape(layer.params[k], (-1,))
            total = total + xp.vecdot(flat, flat)
        return total

    @property
    def params(self):
        """The trainable arrays, layer by layer (list, updated in place);
        frozen layers' are left out."""
        return [p for layer in self.trainable_layers for p in layer.params.values()]

    @property
    def grads(self):
        """Gradients matching :attr:`params`, after :meth:`backward`."""
        return [layer.grads[k] for layer in self.trainable_layers for k in layer.params]

    @property
    def n_params(self):
        """Number of scalars of all weights (trainable or not)."""
        return sum(layer.n_params + layer.n_state for layer in self.layers)

    @property
    def n_trainable(self):
        """Number of scalars that training updates by gradient."""
        return sum(layer.n_params for layer in self.trainable_layers)

    def _mutable(self):
        """The arrays training changes, layer by layer (in the order
        :meth:`set_weights` restores them): trainable parameters and the state
        (running statistics) of layers that are not frozen."""
        return [v for layer in self.layers if layer.trainable
                for store in (layer.params, layer.state) for v in store.values()]

    def release_work(self):
        """Drop what the layers keep between training batches (work arrays of
        :meth:`~sknets.layers._base.Layer._work`, the last batch's caches): a
        fitted model does not carry them."""
        for layer in self.layers:
            layer._clear_cache()

    def to(self, backend):
        """Move every layer to another backend, in place.

        Parameters
        ----------
        backend : Backend or str
            A backend or its name.

        Returns
        -------
        self : Sequential
            The network, moved.
        """
        if isinstance(backend, str) or backend is None:
            backend = get_backend(backend)
        for layer in self.layers:
            layer.to(backend)
        self.backend = backend
        return self

    def finite_flag(self):
        """Whether every array training changes is finite, without a read-back.

        Returns
        -------
        flag : 0-d boolean array or None
            On the backend (no read-back yet); None when nothing trains.
        """
        xp = self.backend.xp
        ok = None
        for p in self._mutable():
            finite = xp.all(xp.isfinite(p))
            ok = finite if ok is None else xp.logical_and(ok, finite)
        return ok

    def weights_finite(self):
        """Whether every parameter is finite (one read-back to the host).

        Returns
        -------
        finite : bool
            True when every parameter is finite.
        """
        ok = self.finite_flag()
        return True if ok is None else bool(ok)

    def get_weights(self):
        """Copy of the arrays training changes, on the backend.

        For snapshots: frozen layers' weights never change, so they are not
        copied.

        Returns
        -------
        weights : list of array
            Copies, in the network's order; :meth:`set_weights` restores them.
        """
        xp = self.backend.xp
        return [xp.asarray(p, copy=True) for p in self._mutable()]

    def set_weights(self, weights):
        """Restore the arrays saved by :meth:`get_weights` (copied again).

        Parameters
        ----------
        weights : list of array
            What :meth:`get_weights` returned.
        """
        xp = self.backend.xp
        it = iter(weights)
        for layer in self.layers:
            if not layer.trainable:
                continue
            for store in (layer.params, layer.state):
                for k in store:
                    store[k] = xp.asarray(self.backend.asarray(next(it)), copy=True)

    def summary_rows(self, input_shape=None):
        """``(layer, output shape, weight count, trainable count)`` per layer.

        A layer made of layers (``Residual``, ``Bidirectional``) is followed
        by a row per inner layer (its name indented, its trainable count
        None: its weights are counted in the container's row).

        Parameters
        ----------
        input_shape : tuple of int or None, default=None
            One sample's input shape: the rows are computed from the layers'
            plans (:meth:`plan`), without building or allocating anything.
            None: the built network's own rows.

        Returns
        -------
        rows : list of tuple
            ``(description, output shape, weight count, trainable count)``.
        """
        rows = []
        if input_shape is not None:
            for plan in self.plan(input_shape):
                rows.append(plan.summary_row())
                rows += [("  " + name, shape, n, None) for name, shape, n in plan.nested]
            return rows
        for layer in self.layers:
            rows.append((layer.describe(), layer.output_shape_, layer.n_params + layer.n_state,
                         layer.n_params if layer.trainable else 0))
            rows += [("  " + name, shape, n, None)
                     for name, shape, n in getattr(layer, "nested_rows", list)()]
        return rows

    def summary(self, print_fn=print):
        """Print and return the table of the built layers.

        Keras' ``model.summary()`` style; see :func:`format_summary`.

        Parameters
        ----------
        print_fn : callable or None, default=print
            Called with the table; None only returns it.

        Returns
        -------
        table : str
            The table.
        """
        dtype = next((layer.dtype for layer in self.layers if hasattr(layer, "dtype")), "float64")
        text = format_summary(self.summary_rows(), self.input_shape_, dtype)
        if print_fn is not None:
            print_fn(text)
        return text

    def feature_layers(self, trainable=False):
        """Every layer but the last, as specifications carrying their weights.

        Each layer is cloned (its hyper-parameters) with its weights
        (``weights=``, NumPy copies) and ``trainable`` set, ready to seed a
        new network's layer list (transfer learning). The built network is
        not changed.

        Parameters
        ----------
        trainable : bool, default=False
            False freezes the returned layers that have weights.

        Returns
        -------
        layers : list of Layer
            The specifications, in order.
        """
        from sklearn.base import clone

        specs = []
        for layer in self.layers[:-1]:
            spec = clone(layer)
            if "weights" in spec.get_params(deep=False):
                spec.set_params(weights=layer.get_weights(), trainable=bool(trainable))
            specs.append(spec)
        return specs

    def __getstate__(self):
        return portable(vars(self))   # the backend by name: "numpy"

    def __setstate__(self, state):
        vars(self).update(restored(state))


def forward_layers(layers, X, backend=None, training=False, fused=None):
    """``X`` through ``layers`` in order: a sparse batch is kept sparse for the
    layers that take it (:attr:`~sknets.layers.Layer.accepts_sparse`) and
    densified, this batch only, before the first that does not.

    Parameters
    ----------
    layers : list of Layer
        Built layers.
    X : array or sparse matrix of shape (n_samples, ...)
        The batch.
    backend : Backend or None, default=None
        Where a densified batch goes (None: where ``X`` is).
    training : bool, default=False
        A training pass (see :meth:`sknets.layers.Layer.forward`).
    fused : dict or None, default=None
        ``{index of a pooling layer: activation}``: the pairs that run as one
        pass.

    Returns
    -------
    Y : array of shape (n_samples, ...)
        The last layer's output.
    """
    fused = fused or {}
    skip = False
    for i, layer in enumerate(layers):
        if skip:   # the activation its pooling layer applied
            skip = False
            continue
        X = _dense_unless_accepted(layer, X, backend)
        if i in fused:
            X = layer.forward(X, training=training, activation=fused[i])
            skip = True
        elif not training and backend is not None and _relu_follows_dense(layers, i):
            # inference: the Dense layer's output is a fresh array, rectified
            # in place (one activation array fewer at the peak)
            X = backend.relu_over(layer.forward(X, training=False))
            skip = True
        else:
            X = layer.forward(X, training=training)
    return X


def _relu_follows_dense(layers, i):
    """Whether ``layers[i]`` is a Dense layer and ``layers[i + 1]`` its ReLU."""
    return (type(layers[i]).__name__ == "Dense" and i + 1 < len(layers)
            and type(layers[i + 1]).__name__ == "Activation"
            and layers[i + 1].activation == "relu")


def _dense_unless_accepted(layer, X, backend):
    if not layer.accepts_sparse and is_sparse(X):
        return densify(X, backend)
    return X


def format_summary(rows, input_shape, dtype):
    """Render a model summary table (Keras' ``model.summary()`` style).

    Parameters
    ----------
    rows : list of (str, tuple, int, int or None)
        Layer description, one sample's output shape, its number of weights
        and how many of them are trainable; None for the rows of a
        container's inner layers (shown with their count in parentheses,
        counted in the container's row).
    input_shape : tuple of int
        One sample's input shape.
    dtype : numpy dtype
        Parameter dtype, for the memory the weights take.

    Returns
    -------
    table : str
        The table, lines joined by newlines.
    """
    import numpy as np

    def shape_str(shape):
        return str((None,) + tuple(shape)).replace(",)", ")")

    table = [("Layer", "Output shape", "Param #"), ("Input", shape_str(input_shape), "0")]
    table += [(name, shape_str(shape), f"{n:,}" if t is not None else f"({n:,})")
              for name, shape, n, t in rows]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    line = "-" * (sum(widths) + 6)
    fmt = f"{{:<{widths[0]}}}   {{:<{widths[1]}}}   {{:>{widths[2]}}}"
    out = [fmt.format(*table[0]), line] + [fmt.format(*r) for r in table[1:]]
    total = sum(n for _, _, n, t in rows if t is not None)
    trainable = sum(t for _, _, _, t in rows if t is not None)
    nbytes = total * np.dtype(dtype).itemsize
    out += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            f"Weights memory: {_memory_text(nbytes)} ({np.dtype(dtype).name})"]
    return "\n".join(out)


def _memory_text(nbytes):
    """KiB, or GiB from one GiB on."""
    if nbytes >= 2 ** 30:
        return f"{nbytes / 2 ** 30:,.1f} GiB"
    return f"{nbytes / 1024:,.1f} KiB"
