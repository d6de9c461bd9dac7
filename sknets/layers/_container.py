"""Layers made of layers: the shared parts of ``Residual`` and ``Bidirectional``.

A container builds clones of its sub-layer specifications (its *inner*
layers, kept in ``inner_``; the specifications are never changed) and owns
their weights under prefixed names (``"0.W"``, ``"forward.U"``...) in its
own ``params`` and ``state``, which is what optimizers, snapshots, pickles
and ``weights=`` see (see :mod:`sknets.layers._sequence` for how the inner
layers get them). A frozen inner layer's weights go into the container's
``state`` (counted, never trained); a frozen container (``trainable=False``)
freezes every inner layer, as Keras does.
"""

import math

import numpy as np
from sklearn.base import clone

from ..backend import to_numpy
from ._base import Layer
from ._plan import LayerPlan, ShapeOnlyRandomState, shapes_of
from ._sequence import InnerLayersMixin


class _Container(InnerLayersMixin, Layer):
    """Shared parts of the layers made of layers (not for direct use)."""

    _inner_attrs = ("inner_",)

    #: the summary row of the container's own weights (``_own_params``), if any.
    _own_row = None

    # -- subclass hooks -------------------------------------------------------
    def _inner_specs(self):
        """``[(prefix, specification)]`` of the inner layers, in build order."""
        raise NotImplementedError

    def _own_params(self, input_shape, inner_output_shape, rng):
        """The container's own initial parameters (NumPy), e.g. a projection."""
        return {}

    # -- building -------------------------------------------------------------
    def build(self, input_shape, backend, dtype, rng):
        self._validate_params()
        self._setup()
        self.backend, self.dtype = backend, np.dtype(dtype)
        self.input_shape_ = tuple(int(s) for s in input_shape)
        self.prefixes_, self.inner_, self.inner_keys_ = [], [], []
        shapes = []
        for prefix, spec in self._inner_specs():
            layer = clone(spec)
            if not self.trainable and "trainable" in layer.get_params(deep=False):
                layer.set_params(trainable=False)
            shapes.append(layer.build(self._inner_input_shape(prefix, shapes), backend,
                                      dtype, rng))
            self.prefixes_.append(prefix)
            self.inner_.append(layer)
            self.inner_keys_.append((tuple(layer.params), tuple(layer.state)))
        self.output_shape_ = tuple(self._merge_shapes(shapes))
        params, state = {}, {}
        for prefix, layer in zip(self.prefixes_, self.inner_):
            frozen = self.trainable and not layer.trainable
            (state if frozen else params).update(
                {prefix + k: v for k, v in layer.params.items()})
            state.update({prefix + k: v for k, v in layer.state.items()})
        own = self._own_params(self.input_shape_, shapes[-1] if shapes else None, rng)
        params.update({k: backend.asarray(v, dtype=self.dtype) for k, v in own.items()})
        if self.weights is not None:
            params, state = self._given_weights(
                self.weights, {k: to_numpy(v) for k, v in params.items()},
                {k: to_numpy(v) for k, v in state.items()})
            params = {k: backend.asarray(v, dtype=self.dtype) for k, v in params.items()}
            state = {k: backend.asarray(v, dtype=self.dtype) for k, v in state.items()}
        self.params, self.state, self.grads = params, state, {}
        self.penalized = tuple(
            prefix + k for prefix, layer in zip(self.prefixes_, self.inner_)
            for k in layer.penalized if prefix + k in params) + tuple(
            k for k in own if k.endswith("W"))
        for layer in self.inner_:   # the container holds the weights from here on
            layer.params, layer.state, layer.grads = {}, {}, {}
        return self.output_shape_

    # -- sizes without allocation ----------------------------------------------
    def _plan(self, shape):
        """The inner layers' plans, their weights under the container's names
        (as :meth:`build` stores them) and the summary's nested rows."""
        saved = dict(vars(self))
        try:
            self.input_shape_ = tuple(shape)   # read by _inner_input_shape
            inner, shapes = [], []
            for prefix, spec in self._inner_specs():
                plan = spec.plan(self._inner_input_shape(prefix, shapes))
                inner.append((prefix, plan))
                shapes.append(plan.output_shape)
            output = tuple(self._merge_shapes(shapes))
            own = shapes_of(self._own_params(tuple(shape), shapes[-1] if shapes else None,
                                             ShapeOnlyRandomState()))
            label = self.describe()   # with what _own_params set (a projection)
        finally:
            vars(self).clear()
            vars(self).update(saved)
        params, state, activations, nested = {}, {}, [], []
        own_label = label
        for prefix, plan in inner:
            frozen = self.trainable and not plan.layer.trainable
            (state if frozen else params).update(
                {prefix + k: v for k, v in plan.param_shapes.items()})
            state.update({prefix + k: v for k, v in plan.state_shapes.items()})
            activations += plan.activation_shapes
            name = plan.description
            if not prefix[0].isdigit():   # a named role: "forward: GRU(64)"
                name = f"{prefix[:-1]}: {name}"
            nested.append((name, plan.output_shape, plan.n_params + plan.n_state))
            nested += [("  " + name, out, n) for name, out, n in plan.nested]
        if own and self._own_row is not None:
            nested.append((self._own_row, output, sum(math.prod(s) for s in own.values())))
        params.update(own)
        return LayerPlan(self, tuple(shape), output, params, state, activations + [output],
                         nested, own_label)

    def _inner_input_shape(self, prefix, shapes):
        """Input shape of the next inner layer, given the output shapes so far."""
        return self.input_shape_

    def _merge_shapes(self, shapes):
        return shapes[-1]

    # -- weights to and from the inner layers ----------------------------------
    def _store(self, key):
        return self.params[key] if key in self.params else self.state[key]

    def _sync(self):
        """Hand the container's weights to its inner layers (see the module docstring)."""
        for prefix, layer, (pkeys, skeys) in zip(self.prefixes_, self.inner_, self.inner_keys_):
            layer.params = {k: self._store(prefix + k) for k in pkeys}
            layer.state = {k: self.state[prefix + k] for k in skeys}
            layer.backend = self.backend

    def _collect_grads(self):
        """The inner layers' gradients under the container's names."""
        self.grads.update({prefix + k: g for prefix, layer in zip(self.prefixes_, self.inner_)
                           for k, g in layer.grads.items() if prefix + k in self.params})

    def nested_rows(self):
        """The summary table's nested rows: each inner layer, and theirs, indented.

        Returns
        -------
        rows : list of tuple
            ``(description, output shape, weight count)`` of each.
        """
        rows = []
        for prefix, layer, keys in zip(self.prefixes_, self.inner_, self.inner_keys_):
            n = sum(int(np.prod(self._store(prefix + k).shape)) for k in keys[0] + keys[1])
            label = layer.describe()
            if not prefix[0].isdigit():   # a named role: "forward: GRU(64)"
                label = f"{prefix[:-1]}: {label}"
            rows.append((label, layer.output_shape_, n))
            rows += [("  " + name, shape, count) for name, shape, count in
                     getattr(layer, "nested_rows", list)()]
        return rows

    @property
    def stochastic(self):
        """Whether an inner layer draws random numbers in training."""
        return any(spec.stochastic for _, spec in self._inner_specs())

    @property
    def keeps_running_state(self):
        """Whether an inner layer keeps running statistics (batch normalization)."""
        return any(layer.keeps_running_state for _, layer in self._inner_specs())

    def set_running_state(self, X):
        return self._run(X, lambda layer, Z: layer.set_running_state(Z), training=True)

    def _run(self, X, step, training):
        """The forward pass with ``step(layer, input)`` for each inner layer
        (``training``: whether the pass caches for ``backward``)."""
        raise NotImplementedError

    def forward(self, X, training=False):
        return self._run(X, lambda layer, Z: layer.forward(Z, training=training), training)
