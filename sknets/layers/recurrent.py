"""Recurrent layers: SimpleRNN, GRU and LSTM with backpropagation through time.

Input ``(n_samples, timesteps, features)`` (channels-last), output the last
hidden state ``(n_samples, units)`` or, with ``return_sequences=True``, every
hidden state ``(n_samples, timesteps, units)``. The initial state is zero.

Every layer computes its gates' pre-activations ``x_t @ W + b + h_{t-1} @ U``
from two products: the input projections of all timesteps at once, one
matrix product ``(n_samples * timesteps, features) @ (features, gates *
units)`` before the loop, and inside the loop over time only the recurrent
product ``h_{t-1} @ U``, vectorized over the batch (on NumPy, small ones on
one BLAS thread: :func:`~sknets.layers._sequence.loop_blas_threads`).
Backpropagation through time [1]_ runs the loop backwards for the hidden
state's gradient alone; the gradients of ``W``, ``U`` and the biases, and the
input gradient, are again one matrix product each over all timesteps.

Weights: ``W`` of shape ``(features, gates * units)``, ``U`` of shape
``(units, gates * units)``, ``b`` of shape ``(gates * units,)``; the gates
in PyTorch's order (LSTM ``i, f, g, o``; GRU ``r, z, n``). ``W`` starts
Glorot-uniform, each gate's block of ``U`` orthogonal [3]_, the biases at zero
(the LSTM's forget gate at one [4]_): Keras' defaults.

References
----------
.. [1] P. J. Werbos, "Backpropagation through time: what it does and how to
   do it", Proceedings of the IEEE 78(10), 1990.
.. [2] PyTorch documentation, ``torch.nn.RNN``, ``torch.nn.LSTM`` and
   ``torch.nn.GRU`` (the equations below), https://pytorch.org/docs/stable/nn.html.
.. [3] A. M. Saxe, J. L. McClelland and S. Ganguli, "Exact solutions to the
   nonlinear dynamics of learning in deep linear neural networks", ICLR 2014.
.. [4] R. Jozefowicz, W. Zaremba and I. Sutskever, "An empirical exploration
   of recurrent network architectures", ICML 2015.
"""

from numbers import Integral

import numpy as np
from array_api_compat import device as _device
from sklearn.utils._param_validation import Interval, StrOptions

from ..initializers import glorot_uniform, orthogonal
from ._base import Layer
from ._sequence import check_sequence_shape, loop_blas_threads, sigmoid
from .activations import ACTIVATIONS, DERIVATIVES


class _Recurrent(Layer):
    """Shared parts of the recurrent layers (not for direct use)."""

    #: number of gate blocks in ``W``, ``U`` and ``b``.
    _n_gates = 1

    penalized = ("W", "U")

    _parameter_constraints = {
        "units": [Interval(Integral, 1, None, closed="left")],
        "return_sequences": ["boolean"],
        "trainable": ["boolean"],
        "weights": [dict, None],
    }

    def output_shape(self, input_shape):
        timesteps, _ = check_sequence_shape(self, input_shape)
        return (timesteps, self.units) if self.return_sequences else (self.units,)

    def _init_params(self, input_shape, rng):
        _, features = check_sequence_shape(self, input_shape)
        g, u = self._n_gates, self.units
        W, _ = glorot_uniform(rng, features, g * u, (features, g * u), (0,))
        return {"W": W, "U": orthogonal(rng, u, g), "b": np.zeros(g * u)}

    def describe(self):
        extra = ", return_sequences=True" if self.return_sequences else ""
        return f"{type(self).__name__}({self.units}{extra})"

    def forward(self, X, training=False):
        with loop_blas_threads(self.backend, X.shape[0] * self.units ** 2 * self._n_gates):
            return self._forward(X, training)

    def backward(self, dY):
        if not (self.trainable or self.need_input_grad):
            return None
        with loop_blas_threads(self.backend, dY.shape[0] * self.units ** 2 * self._n_gates):
            return self._backward(dY)

    # -- the loop's two ends: input projections before, gradients after ------
    def _project(self, X):
        """``X @ W + b`` for every timestep: ``(n, timesteps, gates * units)``."""
        xp = self.xp
        n, t, f = X.shape
        A = xp.reshape(X, (n * t, f)) @ self.params["W"]
        A += self.params["b"]
        return xp.reshape(A, (n, t, -1))

    def _empty(self, shape, like):
        return self.xp.empty(shape, dtype=like.dtype, device=_device(like))

    def _zeros(self, shape, like):
        return self.xp.zeros(shape, dtype=like.dtype, device=_device(like))

    def _output(self, H):
        """The layer's output from the hidden states ``H`` ``(n, timesteps + 1, units)``
        (``H[:, 0]`` is the zero initial state)."""
        return H[:, 1:, :] if self.return_sequences else H[:, -1, :]

    def _upstream(self, dY, t, dh):
        """The hidden state's gradient at step ``t`` from the output's and the
        next step's (``dh``)."""
        if self.return_sequences:
            return dY[:, t, :] if dh is None else dh + dY[:, t, :]
        return dY if dh is None else dh

    def _finish_backward(self, dA, dG, H):
        """Weight and input gradients from the gradients of the input
        pre-activations ``dA`` and of the recurrent products ``dG`` (both
        ``(n, timesteps, gates * units)``, the same array when they are equal),
        each one matrix product over all timesteps."""
        xp = self.xp
        n, t, gu = dA.shape
        dA2 = xp.reshape(dA, (n * t, gu))
        if self.trainable:
            X = self._cache_X
            Hprev = xp.reshape(H[:, :-1, :], (n * t, self.units))
            dG2 = dA2 if dG is dA else xp.reshape(dG, (n * t, gu))
            self.grads["W"] = xp.reshape(X, (n * t, X.shape[2])).T @ dA2
            self.grads["U"] = Hprev.T @ dG2
            self.grads["b"] = xp.sum(dA2, axis=0)
            if "b_rec" in self.params:
                self.grads["b_rec"] = xp.sum(dG2, axis=0)
        if not self.need_input_grad:
            return None
        return xp.reshape(dA2 @ self.params["W"].T, (n, t, -1))


class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer (Elman network).

    ``h_t = activation(x_t @ W + b + h_{t-1} @ U)``, PyTorch's ``nn.RNN`` [2]_
    with its two biases ``b_ih + b_hh`` as one ``b``.

    Parameters
    ----------
    units : int
        Size of the hidden state (the output's last axis).
    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
    return_sequences : bool, default=False
        False: output the last hidden state ``(n_samples, units)``; True:
        every hidden state ``(n_samples, timesteps, units)``.
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (features, units), "U": (units, units), "b": (units,)}``.

    Notes
    -----
    Input ``(n_samples, timesteps, features)``; any number of timesteps at
    ``forward`` (one included), whatever the length the layer was built for.
    """

    _parameter_constraints = {
        **_Recurrent._parameter_constraints,
        "activation": [StrOptions({"tanh", "relu", "logistic", "identity"})],
    }

    def __init__(self, units, activation="tanh", return_sequences=False, trainable=True,
                 weights=None):
        self.units = units
        self.activation = activation
        self.return_sequences = return_sequences
        self.trainable = trainable
        self.weights = weights

    def describe(self):
        act = "" if self.activation == "tanh" else f", {self.activation}"
        seq = ", return_sequences=True" if self.return_sequences else ""
        return f"SimpleRNN({self.units}{act}{seq})"

    def _forward(self, X, training):
        xp, act = self.xp, ACTIVATIONS[self.activation]
        A = self._project(X)
        n, t, u = A.shape
        U = self.params["U"]
        H = self._empty((n, t + 1, u), A)
        H[:, 0, :] = 0.0
        h = H[:, 0, :]
        for s in range(t):
            h = act(xp, A[:, s, :] + h @ U)
            H[:, s + 1, :] = h
        if training:
            self._cache_X, self._cache_H = X, H
        return self._output(H)

    def _backward(self, dY):
        H, U, d_act = self._cache_H, self.params["U"], DERIVATIVES[self.activation]
        n, t1, u = H.shape
        dA = self._empty((n, t1 - 1, u), H)
        dh = None
        for s in range(t1 - 2, -1, -1):
            da = d_act(self.xp, H[:, s + 1, :], self._upstream(dY, s, dh))
            dA[:, s, :] = da
            dh = da @ U.T
        return self._finish_backward(dA, dA, H)


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014), with PyTorch's ``nn.GRU`` equations [2]_.

    With ``σ`` the logistic function and ``⊙`` the element-wise product::

        r_t = σ(x_t W_r + b_r + h_{t-1} U_r + c_r)
        z_t = σ(x_t W_z + b_z + h_{t-1} U_z + c_z)
        n_t = tanh(x_t W_n + b_n + r_t ⊙ (h_{t-1} U_n + c_n))
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    The reset gate applies after the recurrent product (PyTorch's form, and
    Keras' ``reset_after=True``), so all three recurrent products are one
    ``h_{t-1} @ U``.

    Parameters
    ----------
    units : int
        Size of the hidden state.
    return_sequences : bool, default=False
        False: output the last hidden state ``(n_samples, units)``; True:
        every hidden state ``(n_samples, timesteps, units)``.
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (features, 3 * units), "U": (units, 3 * units),
        "b": (3 * units,), "b_rec": (3 * units,)}``, gates in the order
        ``r, z, n``: ``b`` is PyTorch's ``b_ih`` (the ``b`` above), ``b_rec``
        its ``b_hh`` (the ``c``); ``W`` and ``U`` are ``weight_ih_l0.T`` and
        ``weight_hh_l0.T``.

    Notes
    -----
    Input ``(n_samples, timesteps, features)``; any number of timesteps at
    ``forward`` (one included).

    References
    ----------
    .. [5] K. Cho, B. van Merrienboer, C. Gulcehre, D. Bahdanau, F. Bougares,
       H. Schwenk and Y. Bengio, "Learning phrase representations using RNN
       encoder-decoder for statistical machine translation", EMNLP 2014.
    """

    _n_gates = 3

    def __init__(self, units, return_sequences=False, trainable=True, weights=None):
        self.units = units
        self.return_sequences = return_sequences
        self.trainable = trainable
        self.weights = weights

    def _init_params(self, input_shape, rng):
        params = super()._init_params(input_shape, rng)
        params["b_rec"] = np.zeros(3 * self.units)
        return params

    def _forward(self, X, training):
        xp = self.xp
        A = self._project(X)
        n, t, _ = A.shape
        u = self.units
        U, c = self.params["U"], self.params["b_rec"]
        H = self._empty((n, t + 1, u), A)
        H[:, 0, :] = 0.0
        if training:
            RZ, N, GN = (self._empty((n, t, k), A) for k in (2 * u, u, u))
        h = H[:, 0, :]
        for s in range(t):
            a = A[:, s, :]
            g = h @ U
            g += c
            rz = sigmoid(xp, a[:, :2 * u] + g[:, :2 * u])
            gn = g[:, 2 * u:]
            nn = xp.tanh(a[:, 2 * u:] + rz[:, :u] * gn)
            h = nn + rz[:, u:] * (h - nn)
            H[:, s + 1, :] = h
            if training:
                RZ[:, s, :], N[:, s, :], GN[:, s, :] = rz, nn, gn
        if training:
            self._cache_X, self._cache_H = X, H
            self._cache_gates = RZ, N, GN
        return self._output(H)

    def _backward(self, dY):
        H, U = self._cache_H, self.params["U"]
        RZ, N, GN = self._cache_gates
        n, t, u = N.shape
        dA = self._empty((n, t, 3 * u), H)
        dG = self._empty((n, t, 3 * u), H)
        dh = None
        for s in range(t - 1, -1, -1):
            dh = self._upstream(dY, s, dh)
            rz, nn = RZ[:, s, :], N[:, s, :]
            r, z = rz[:, :u], rz[:, u:]
            dan = dh * (1.0 - z) * (1.0 - nn * nn)
            drz = self.xp.concat([dan * GN[:, s, :], dh * (H[:, s, :] - nn)], axis=1)
            drz = drz * rz * (1.0 - rz)
            dA[:, s, :2 * u], dA[:, s, 2 * u:] = drz, dan
            dG[:, s, :2 * u], dG[:, s, 2 * u:] = drz, dan * r
            dh = dh * z + dG[:, s, :] @ U.T
        return self._finish_backward(dA, dG, H)


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), with
    PyTorch's ``nn.LSTM`` equations [2]_.

    With ``σ`` the logistic function and ``⊙`` the element-wise product::

        i_t = σ(x_t W_i + h_{t-1} U_i + b_i)
        f_t = σ(x_t W_f + h_{t-1} U_f + b_f)
        g_t = tanh(x_t W_g + h_{t-1} U_g + b_g)
        o_t = σ(x_t W_o + h_{t-1} U_o + b_o)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    Parameters
    ----------
    units : int
        Size of the hidden and cell states.
    return_sequences : bool, default=False
        False: output the last hidden state ``(n_samples, units)``; True:
        every hidden state ``(n_samples, timesteps, units)``.
    trainable : bool, default=True
        False freezes the layer: ``fit`` leaves its weights as they are.
    weights : dict or None, default=None
        Initial ``{"W": (features, 4 * units), "U": (units, 4 * units),
        "b": (4 * units,)}``, gates in the order ``i, f, g, o``: PyTorch's
        ``weight_ih_l0.T``, ``weight_hh_l0.T`` and ``b_ih + b_hh``.

    Notes
    -----
    Input ``(n_samples, timesteps, features)``; any number of timesteps at
    ``forward`` (one included). The forget gate's bias starts at one [4]_.

    References
    ----------
    .. [5] S. Hochreiter and J. Schmidhuber, "Long short-term memory",
       Neural Computation 9(8), 1997.
    """

    _n_gates = 4

    def __init__(self, units, return_sequences=False, trainable=True, weights=None):
        self.units = units
        self.return_sequences = return_sequences
        self.trainable = trainable
        self.weights = weights

    def _init_params(self, input_shape, rng):
        params = super()._init_params(input_shape, rng)
        params["b"][self.units:2 * self.units] = 1.0
        return params

    def _gate_affine(self, like):
        """``(scale, shift)`` with ``gates = tanh(pre * scale) * scale + shift``:
        the logistic function on ``i, f, o`` (``σ(x) = tanh(x/2)/2 + 1/2``) and
        tanh on ``g``, in three whole-array operations."""
        cached = getattr(self, "_cache_affine", None)
        if cached is None or cached[0].dtype != like.dtype:
            u = self.units
            scale = np.full(4 * u, 0.5)
            scale[2 * u:3 * u] = 1.0
            shift = np.where(scale == 0.5, 0.5, 0.0)
            cached = tuple(self.backend.asarray(v, dtype=like.dtype) for v in (scale, shift))
            self._cache_affine = cached
        return cached

    def _forward(self, X, training):
        xp = self.xp
        A = self._project(X)
        n, t, _ = A.shape
        u = self.units
        U = self.params["U"]
        scale, shift = self._gate_affine(A)
        H = self._empty((n, t + 1, u), A)
        H[:, 0, :] = 0.0
        if training:
            GATES, C = self._empty((n, t, 4 * u), A), self._zeros((n, t + 1, u), A)
        h, c = H[:, 0, :], self._zeros((n, u), A)
        for s in range(t):
            gates = xp.tanh((A[:, s, :] + h @ U) * scale) * scale + shift
            c = gates[:, u:2 * u] * c + gates[:, :u] * gates[:, 2 * u:3 * u]
            h = gates[:, 3 * u:] * xp.tanh(c)
            H[:, s + 1, :] = h
            if training:
                GATES[:, s, :], C[:, s + 1, :] = gates, c
        if training:
            self._cache_X, self._cache_H, self._cache_gates = X, H, (GATES, C)
        return self._output(H)

    def _backward(self, dY):
        xp = self.xp
        H, U = self._cache_H, self.params["U"]
        GATES, C = self._cache_gates
        n, t, gu = GATES.shape
        u = self.units
        scale, shift = self._gate_affine(H)
        dA = self._empty((n, t, gu), H)
        dh = dc = None
        for s in range(t - 1, -1, -1):
            dh = self._upstream(dY, s, dh)
            gates = GATES[:, s, :]
            i, f, g, o = (gates[:, k * u:(k + 1) * u] for k in range(4))
            tc = xp.tanh(C[:, s + 1, :])
            dcs = dh * o * (1.0 - tc * tc)
            dc = dcs if dc is None else dc + dcs
            dgates = xp.concat([dc * g, dc * C[:, s, :], dc * i, dh * tc], axis=1)
            # gates = tanh(pre * scale) * scale + shift: d gates / d pre is
            # (1 - tanh²) * scale², i.e. σ(1 - σ) on i, f, o and 1 - g² on g
            th = (gates - shift) / scale
            dpre = dgates * (1.0 - th * th) * (scale * scale)
            dA[:, s, :] = dpre
            dc = dc * f
            dh = dpre @ U.T
        return self._finish_backward(dA, dA, H)
