"""ONNX graphs of the sequence, container and generative layers, for :mod:`sknets.onnx`.

The converters follow :mod:`sknets._onnx_layers` (same signature, same
:class:`~sknets._onnx_layers.Tensor` layouts) and are added to its
:data:`~sknets._onnx_layers.LAYER_CONVERTERS` by :mod:`sknets.onnx`.

- ``Conv1D`` and the 1-D poolings are ONNX's ``Conv``, ``MaxPool`` and
  ``AveragePool`` with one spatial axis on the channels-first ``(n,
  channels, timesteps)`` form of sknets' ``(n, timesteps, channels)``;
  Keras' ``"same"`` and ``"causal"`` paddings are explicit ``pads`` and the
  dilation ONNX's ``dilations``.
- ``SimpleRNN``, ``GRU`` and ``LSTM`` are ONNX's ``RNN``, ``GRU`` and
  ``LSTM`` operators [1]_ on the time-major input ``(timesteps, n,
  features)``, with the weights transposed and their gate blocks reordered:
  ONNX's GRU is ``z, r, h`` (sknets and PyTorch: ``r, z, n``) and its
  ``linear_before_reset=1`` is sknets' (PyTorch's) GRU, whose reset gate
  multiplies the recurrent product *with* its bias ``b_rec``; ONNX's LSTM is
  ``i, o, f, c`` (sknets: ``i, f, g, o``) with sknets' one bias as ``Wb``
  and a zero ``Rb``. ``Bidirectional`` is one operator with
  ``direction="bidirectional"``, whose reverse direction writes its outputs
  in the input's time order, as sknets' backward copy does after its flip.
  onnxruntime implements these three operators in float32 only, so a
  float64 graph with a recurrent layer is refused
  (:class:`~sknets.exceptions.NotExportableError`).
- ``Residual`` is its layers' graph plus ``Add``; the projection shortcut
  ``X[:, ::s] @ P + p`` is a ``Conv`` with a ``1 x ... x 1`` kernel and
  strides ``s`` on channels-first input (a ``MatMul`` on flat rows).
- ``Embedding`` is ``Gather`` of its table's rows at the ids (the float
  input cast to int64, as sknets' estimators hand ids over as floats).
- ``UpSampling2D`` is ``Resize`` (``mode="nearest"``,
  ``coordinate_transformation_mode="asymmetric"``, ``nearest_mode="floor"``:
  output pixel ``i`` reads input pixel ``floor(i / size)``).
- ``MinibatchStdDev`` is ``ReduceMean``/``Sqrt`` over the batch axis: its
  statistic is over the rows of one run of the graph (sknets' ``predict``
  computes it over each prediction batch of up to 2048 rows).

References
----------
.. [1] ONNX operators: ``Conv``, ``MaxPool``, ``AveragePool``,
   ``GlobalAveragePool``, ``GlobalMaxPool``, ``RNN``, ``GRU``, ``LSTM``,
   ``Gather``, ``Resize``, ``ReduceMean``, https://onnx.ai/onnx/operators/.
"""

import numpy as np
from onnx import TensorProto

from ._onnx_layers import Tensor, _not_exportable, layer_converter
from .layers import (
    GRU,
    LSTM,
    AvgPool1D,
    Bidirectional,
    Conv1D,
    Embedding,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    MaxPool1D,
    MinibatchStdDev,
    Residual,
    SimpleRNN,
    UpSampling2D,
)
from .layers.conv1d import conv1d_length


# ------------------------------------------------------------- 1-D convolution
def convert_conv1d(graph, layer, weights, x):
    """``Conv1D`` as ONNX ``Conv`` on ``(n, channels, timesteps)``."""
    x = graph.channels_first(x)
    k, s, d = layer._geometry()
    _, (before, after) = conv1d_length(layer.input_shape_[0], k, s, layer.padding, d)
    kernel = np.transpose(weights["W"], (2, 1, 0))   # (k, c, f) -> (f, c, k)
    y = graph.op("Conv", [x.name, graph.const(kernel, "kernel"), graph.const(weights["b"], "b")],
                 "conv1d", kernel_shape=[k], strides=[s], dilations=[d], pads=[before, after])
    return Tensor(y, layer.output_shape_, True)


def _convert_pool1d(op_type):
    def convert(graph, layer, weights, x):
        x = graph.channels_first(x)
        p, s = layer._geometry()
        # "valid" windows only: ONNX's floor mode without padding
        y = graph.op(op_type, [x.name], op_type.lower(), kernel_shape=[p], strides=[s])
        return Tensor(y, layer.output_shape_, True)
    convert.__doc__ = f"A 1-D window pooling as ONNX ``{op_type}``."
    return convert


def _convert_global_pool1d(op_type):
    def convert(graph, layer, weights, x):
        x = graph.channels_first(x)
        y = graph.op(op_type, [x.name], op_type.lower())   # (n, c, 1)
        return Tensor(graph.op("Flatten", [y], "flat", axis=1), layer.output_shape_)
    convert.__doc__ = f"A global 1-D pooling as ONNX ``{op_type}``."
    return convert


# ------------------------------------------------------------------ recurrence
#: ONNX's activation of each SimpleRNN activation (identity: ``Affine`` 1, 0).
_RNN_ACTIVATIONS = {"tanh": ("Tanh", 0.0, 0.0), "relu": ("Relu", 0.0, 0.0),
                    "logistic": ("Sigmoid", 0.0, 0.0), "identity": ("Affine", 1.0, 0.0)}

#: sknets' gate blocks in ONNX's order: GRU r, z, n -> z, r, h; LSTM i, f, g, o -> i, o, f, c.
_GATE_ORDER = {SimpleRNN: [0], GRU: [1, 0, 2], LSTM: [0, 3, 1, 2]}


def _blocks(a, order, units):
    """The gate blocks of ``a``'s last axis in ``order``."""
    return np.concatenate([a[..., k * units:(k + 1) * units] for k in order], axis=-1)


def _onnx_weights(layer, weights):
    """``(W, R, B)`` of one direction in ONNX's layout: ``W`` ``(gates * units,
    features)``, ``R`` ``(gates * units, units)``, ``B`` ``(2 * gates * units,)``."""
    order, u = _GATE_ORDER[type(layer)], layer.units
    W = _blocks(weights["W"], order, u).T
    R = _blocks(weights["U"], order, u).T
    b = _blocks(weights["b"], order, u)
    b_rec = _blocks(weights["b_rec"], order, u) if "b_rec" in weights else np.zeros_like(b)
    return W, R, np.concatenate([b, b_rec])


def _recurrent(graph, cells, x, return_sequences):
    """One ONNX ``RNN``/``GRU``/``LSTM`` node for the ``[(layer, weights)]`` of
    one or two (forward, backward) directions; the output of each direction
    by name, ``(n, timesteps, units)`` or ``(n, units)``."""
    layer = cells[0][0]
    if graph.dtype != np.float32:
        _not_exportable(layer, "onnxruntime runs ONNX's RNN, GRU and LSTM operators in float32 "
                               "only; export with a float32 input (dtype=np.float32)")
    op_type = {SimpleRNN: "RNN", GRU: "GRU", LSTM: "LSTM"}[type(layer)]
    W, R, B = (np.stack(parts) for parts in zip(*(_onnx_weights(*cell) for cell in cells)))
    attrs = {"hidden_size": layer.units,
             "direction": "forward" if len(cells) == 1 else "bidirectional"}
    if op_type == "GRU":
        attrs["linear_before_reset"] = 1
    if op_type == "RNN":
        act, alpha, beta = _RNN_ACTIVATIONS[layer.activation]
        attrs.update(activations=[act] * len(cells), activation_alpha=[alpha] * len(cells),
                     activation_beta=[beta] * len(cells))
    # time-major input (timesteps, n, features), from either stored layout
    perm = [2, 0, 1] if x.channels_first else [1, 0, 2]
    xt = graph.op("Transpose", [x.name], "time_major", perm=perm)
    inputs = [xt, graph.const(W, "W"), graph.const(R, "R"), graph.const(B, "B")]
    # every output named (skl2onnx drops empty names): Y, Y_h (and the LSTM's Y_c)
    outputs = graph.ops(op_type, inputs, [None] * (3 if op_type == "LSTM" else 2), **attrs)
    y = outputs[0] if return_sequences else outputs[1]
    if return_sequences:   # Y (timesteps, directions, n, units)
        y = graph.op("Transpose", [y], "batch_major", perm=[2, 0, 1, 3])
        axis = 2
    else:                  # Y_h (directions, n, units)
        axis = 0
    return [graph.op("Gather", [y, graph.const(np.array(i, dtype=np.int64), "direction")],
                     "direction_out", axis=axis) for i in range(len(cells))]


def convert_recurrent(graph, layer, weights, x):
    """``SimpleRNN``, ``GRU`` or ``LSTM`` as the ONNX operator of the same name."""
    (y,) = _recurrent(graph, [(layer, weights)], x, layer.return_sequences)
    return Tensor(y, layer.output_shape_)


def _inner(container, weights):
    """``[(inner layer, its weights)]`` of a container, from its prefixed weights."""
    return [(layer, {k: weights[prefix + k] for k in pkeys + skeys})
            for prefix, layer, (pkeys, skeys) in zip(container.prefixes_, container.inner_,
                                                     container.inner_keys_)]


def convert_bidirectional(graph, layer, weights, x):
    """``Bidirectional`` as one recurrent operator with ``direction="bidirectional"``
    and its two outputs merged as ``merge_mode`` says."""
    cells = _inner(layer, weights)
    yf, yb = _recurrent(graph, cells, x, cells[0][0].return_sequences)
    if layer.merge_mode == "concat":
        y = graph.op("Concat", [yf, yb], "concat", axis=-1)
    elif layer.merge_mode == "mul":
        y = graph.op("Mul", [yf, yb], "mul")
    else:
        y = graph.op("Add", [yf, yb], "sum")
        if layer.merge_mode == "ave":
            y = graph.op("Mul", [y, graph.const(np.array(0.5, dtype=graph.dtype))], "ave")
    return Tensor(y, layer.output_shape_)


# ---------------------------------------------------------------- containers
def convert_residual(graph, layer, weights, x):
    """``Residual``: its layers' graph plus the (projected) input."""
    z = x
    for inner, inner_weights in _inner(layer, weights):
        z = layer_converter(inner)(graph, inner, inner_weights, z)
    shortcut = x
    if layer.shortcut_strides_ is not None:
        W, b = weights["shortcut.W"], weights["shortcut.b"]
        if len(x.shape) > 1:   # a strided 1 x ... x 1 convolution, channels-first
            x = graph.channels_first(x)
            kernel = W.T.reshape(W.shape[::-1] + (1,) * (len(x.shape) - 1))
            y = graph.op("Conv", [x.name, graph.const(kernel, "shortcut_W"),
                                  graph.const(b, "shortcut_b")], "shortcut",
                         kernel_shape=[1] * (len(x.shape) - 1),
                         strides=list(layer.shortcut_strides_))
            shortcut = Tensor(y, layer.output_shape_, True)
        else:                  # flat rows: a dense map
            y = graph.op("MatMul", [x.name, graph.const(W, "shortcut_W")], "shortcut")
            y = graph.op("Add", [y, graph.const(b, "shortcut_b")], "shortcut_bias")
            shortcut = Tensor(y, layer.output_shape_)
    if z.channels_first != shortcut.channels_first:
        z, shortcut = graph.channels_last(z), graph.channels_last(shortcut)
    y = graph.op("Add", [z.name, shortcut.name], "residual")
    return Tensor(y, layer.output_shape_, z.channels_first)


# ----------------------------------------------------------------- embedding
def convert_embedding(graph, layer, weights, x):
    """``Embedding`` as ``Gather`` of the table's rows at the int64 ids.

    ONNX's ``Gather`` rejects ids past the table but reads negative ids from
    its end, and the cast truncates non-integral ones: sknets' ``predict``
    refuses both, the graph does not check them.
    """
    x = graph.channels_last(x)
    ids = graph.cast(x.name, TensorProto.INT64)
    y = graph.op("Gather", [graph.const(weights["W"], "embeddings"), ids], "embedding", axis=0)
    return Tensor(y, layer.output_shape_)


# ---------------------------------------------------------------- generative
def convert_upsampling2d(graph, layer, weights, x):
    """``UpSampling2D`` as nearest-neighbour ``Resize`` on ``(n, c, h, w)``."""
    x = graph.channels_first(x)
    scales = graph.const(np.array([1, 1, layer.size, layer.size], dtype=np.float32), "scales",
                         dtype=np.float32)
    roi = graph.const(np.zeros(0, dtype=np.float32), "roi", dtype=np.float32)   # unused
    y = graph.op("Resize", [x.name, roi, scales], "upsampling", mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Tensor(y, layer.output_shape_, True)


def convert_minibatch_stddev(graph, layer, weights, x):
    """``MinibatchStdDev``: the mean over features of the batch's standard
    deviations, appended as one more channel."""
    x = graph.channels_last(x)
    centred = graph.op("Sub", [x.name, graph.reduce("ReduceMean", x.name, [0])], "centred")
    var = graph.reduce("ReduceMean", graph.op("Mul", [centred, centred], "squares"), [0],
                       keepdims=0)
    eps = graph.const(np.array(layer.epsilon, dtype=graph.dtype), "epsilon")
    std = graph.op("Sqrt", [graph.op("Add", [var, eps], "var_eps")], "std")
    value = graph.reduce("ReduceMean", std, keepdims=1)    # (1, ..., 1)
    shape = graph.op("Shape", [x.name], "shape")
    head = graph.op("Slice", [shape, graph.ints([0]), graph.ints([-1])], "head")
    extra = graph.op("Expand", [value, graph.op("Concat", [head, graph.ints([1])], "extra_shape",
                                                axis=0)], "extra")
    return Tensor(graph.op("Concat", [x.name, extra], "with_std", axis=-1), layer.output_shape_)


#: the converters of this module, by layer class.
SEQUENCE_CONVERTERS = {
    Conv1D: convert_conv1d,
    MaxPool1D: _convert_pool1d("MaxPool"),
    AvgPool1D: _convert_pool1d("AveragePool"),
    GlobalAvgPool1D: _convert_global_pool1d("GlobalAveragePool"),
    GlobalMaxPool1D: _convert_global_pool1d("GlobalMaxPool"),
    SimpleRNN: convert_recurrent,
    GRU: convert_recurrent,
    LSTM: convert_recurrent,
    Bidirectional: convert_bidirectional,
    Residual: convert_residual,
    Embedding: convert_embedding,
    UpSampling2D: convert_upsampling2d,
    MinibatchStdDev: convert_minibatch_stddev,
}
