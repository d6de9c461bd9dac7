"""ONNX graphs of sknets layers, for :mod:`sknets.onnx`.

One converter per layer class, in :data:`LAYER_CONVERTERS`: a function
``convert(graph, layer, weights, x)`` that writes the layer's **inference**
form into the graph (dropout is the identity; batch normalization the affine
map of its moving statistics) and returns the output :class:`Tensor`.
``weights`` are the layer's ``params`` and ``state`` as NumPy arrays.

Layout. sknets is channels-last everywhere; ONNX's ``Conv`` and pooling
operators are channels-first. A :class:`Tensor` remembers which layout it is
in: convolution and pooling ask for channels-first, dense and shape layers
for channels-last, element-wise layers take either, so a run of
convolution/normalization/activation/pooling layers pays one ``Transpose``
at each end, not one per layer. The converters of new layers (sequence
layers: ``channels-first`` of a ``(n, steps, features)`` tensor is
``(n, features, steps)``, what ``Conv`` takes for 1-D) use the same calls:
:meth:`Graph.channels_first` and :meth:`Graph.channels_last`.
"""

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, numpy_helper

from .exceptions import NotExportableError
from .layers import (
    Activation,
    AvgPool2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    Reshape,
)
from .layers.activations import LEAKY_SLOPE
from .layers.conv import _padding_amounts

_PROTO = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


@dataclass(frozen=True)
class Tensor:
    """A value of the graph: its name, one sample's logical (channels-last)
    shape, and whether it is stored channels-first."""

    name: str
    shape: tuple
    channels_first: bool = False


class Graph:
    """The ONNX graph being written, through skl2onnx's scope and container.

    Parameters
    ----------
    scope, container :
        skl2onnx's conversion scope (unique names) and model container.
    dtype : numpy dtype
        float32 or float64: the type of every floating value in the graph.
    """

    def __init__(self, scope, container, dtype):
        self.scope, self.container = scope, container
        self.dtype = np.dtype(dtype)
        self.proto = _PROTO[self.dtype]

    def const(self, value, seed="const", dtype=None):
        """A constant (an initializer) holding ``value``; returns its name.

        Floating values take the graph's dtype unless ``dtype`` says
        otherwise; strings become an ONNX string tensor.
        """
        name = self.scope.get_unique_variable_name(seed)
        value = np.asarray(value)
        if value.dtype.kind in "OUS":
            strings = [str(v).encode("utf-8") for v in value.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(value.shape), strings)
            return name
        if dtype is None:
            dtype = self.dtype if value.dtype.kind == "f" else value.dtype
        # np.array, not np.ascontiguousarray: that makes a scalar one-dimensional
        tensor = numpy_helper.from_array(np.array(value, dtype=dtype, order="C"), name)
        self.container.add_initializer(name, tensor.data_type, list(value.shape), tensor)
        return name

    def op(self, op_type, inputs, seed=None, output=None, domain="", **attrs):
        """Add one node; returns the name of its (single) output."""
        if output is None:
            output = self.scope.get_unique_variable_name(seed or op_type.lower())
        return self.ops(op_type, inputs, [output], domain=domain, **attrs)[0]

    def ops(self, op_type, inputs, outputs, domain="", **attrs):
        """Add one node with several outputs, given by name (``None``: a new
        name); returns their names."""
        outputs = [self.scope.get_unique_variable_name(op_type.lower()) if out is None else out
                   for out in outputs]
        self.container.add_node(op_type, list(inputs), outputs, op_domain=domain,
                                name=self.scope.get_unique_operator_name(op_type), **attrs)
        return outputs

    def reduce(self, op_type, x, axes=None, keepdims=1, seed=None):
        """``ReduceMean``/``ReduceMax``... of ``x`` over ``axes`` (None: all):
        the axes are an attribute before opset 18 and an input from it on."""
        seed = seed or op_type.lower()
        if axes is None:
            return self.op(op_type, [x], seed, keepdims=keepdims)
        opset = self.container.target_opset
        if opset is None or opset >= 18:
            axes = self.const(np.array(axes, dtype=np.int64), "axes")
            return self.op(op_type, [x, axes], seed, keepdims=keepdims)
        return self.op(op_type, [x], seed, axes=list(axes), keepdims=keepdims)

    def ints(self, values, seed="ints"):
        """An int64 constant (shapes, axes, indices); returns its name."""
        return self.const(np.array(values, dtype=np.int64), seed)

    def cast(self, name, to):
        return self.op("Cast", [name], "cast", to=to)

    # -- layout ----------------------------------------------------------------
    def channels_first(self, x):
        """``x`` stored channels-first: ``(n, c, d1, ..., dk)`` for a sample
        shape ``(d1, ..., dk, c)``."""
        if x.channels_first or len(x.shape) < 2:
            return x
        rank = len(x.shape) + 1
        perm = [0, rank - 1] + list(range(1, rank - 1))
        return Tensor(self.op("Transpose", [x.name], "to_channels_first", perm=perm),
                      x.shape, True)

    def channels_last(self, x):
        """``x`` stored channels-last (sknets' layout)."""
        if not x.channels_first:
            return x
        rank = len(x.shape) + 1
        perm = [0] + list(range(2, rank)) + [1]
        return Tensor(self.op("Transpose", [x.name], "to_channels_last", perm=perm),
                      x.shape, False)

    def per_channel(self, values, x):
        """A per-channel constant shaped to broadcast against ``x``."""
        values = np.asarray(values)
        if x.channels_first:
            values = values.reshape((-1,) + (1,) * (len(x.shape) - 1))
        return self.const(values)


def _not_exportable(layer, why):
    raise NotExportableError(f"{layer.describe()} cannot be exported to ONNX: {why}.")


# ---------------------------------------------------------------- converters
def convert_dense(graph, layer, weights, x):
    x = graph.channels_last(x)
    y = graph.op("MatMul", [x.name, graph.const(weights["W"], "W")], "dense")
    y = graph.op("Add", [y, graph.const(weights["b"], "b")], "dense_bias")
    return Tensor(y, layer.output_shape_)


def _step(graph, x):
    positive = graph.op("Greater", [x, graph.const(np.zeros((), graph.dtype))], "positive")
    return graph.cast(positive, graph.proto)


def _leaky_relu(graph, x):
    return graph.op("LeakyRelu", [x], "leaky_relu", alpha=LEAKY_SLOPE)


#: the ONNX form of each activation of :data:`sknets.layers.ACTIVATIONS`: an
#: operator name, or a function ``(graph, input name) -> output name``.
ACTIVATION_OPS = {
    "identity": "Identity",
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "leaky_relu": _leaky_relu,
    "step": _step,
}


def convert_activation(graph, layer, weights, x):
    op = ACTIVATION_OPS.get(layer.activation)
    if op is None:
        _not_exportable(layer, f"no ONNX form of the activation {layer.activation!r} "
                               "(add one to sknets._onnx_layers.ACTIVATION_OPS)")
    y = op(graph, x.name) if callable(op) else graph.op(op, [x.name], layer.activation)
    return Tensor(y, layer.output_shape_, x.channels_first)


def convert_dropout(graph, layer, weights, x):
    return x   # inverted dropout is the identity at inference


def convert_batch_normalization(graph, layer, weights, x):
    # Inference form: the moving statistics make it an affine map per channel,
    # computed here in float64 and stored in the graph's dtype.
    inv_std = 1.0 / np.sqrt(weights["moving_variance"].astype(np.float64) + layer.epsilon)
    scale = weights["gamma"] * inv_std
    shift = weights["beta"] - weights["moving_mean"] * scale
    y = graph.op("Mul", [x.name, graph.per_channel(scale, x)], "bn_scale")
    y = graph.op("Add", [y, graph.per_channel(shift, x)], "bn_shift")
    return Tensor(y, layer.output_shape_, x.channels_first)


def convert_conv2d(graph, layer, weights, x):
    x = graph.channels_first(x)
    (pt, pb), (pl, pr) = _padding_amounts(layer.padding, layer.input_shape_[:2],
                                          layer.kernel_size_, layer.stride_)
    kernel = np.transpose(weights["W"], (3, 2, 0, 1))   # (kh, kw, c, f) -> (f, c, kh, kw)
    y = graph.op("Conv", [x.name, graph.const(kernel, "kernel"), graph.const(weights["b"], "b")],
                 "conv", kernel_shape=list(layer.kernel_size_), strides=list(layer.stride_),
                 pads=[pt, pl, pb, pr])
    return Tensor(y, layer.output_shape_, True)


def _convert_pool(op_type):
    def convert(graph, layer, weights, x):
        x = graph.channels_first(x)
        # sknets crops what whole windows do not cover: ONNX's floor mode, no padding.
        y = graph.op(op_type, [x.name], op_type.lower(), kernel_shape=list(layer.pool_size_),
                     strides=list(layer.stride_))
        return Tensor(y, layer.output_shape_, True)
    return convert


def convert_global_avg_pool2d(graph, layer, weights, x):
    x = graph.channels_first(x)
    y = graph.op("GlobalAveragePool", [x.name], "global_avg_pool")   # (n, c, 1, 1)
    return Tensor(graph.op("Flatten", [y], "flat", axis=1), layer.output_shape_)


def convert_flatten(graph, layer, weights, x):
    x = graph.channels_last(x)
    return Tensor(graph.op("Flatten", [x.name], "flatten", axis=1), layer.output_shape_)


def convert_reshape(graph, layer, weights, x):
    x = graph.channels_last(x)
    shape = graph.const(np.array((-1,) + tuple(layer.output_shape_), dtype=np.int64), "shape")
    return Tensor(graph.op("Reshape", [x.name, shape], "reshape"), layer.output_shape_)


#: layer class -> converter ``(graph, layer, weights, x) -> Tensor``, by exact
#: class: a subclass may compute something else, so it needs its own entry.
LAYER_CONVERTERS = {
    Dense: convert_dense,
    Activation: convert_activation,
    Dropout: convert_dropout,
    BatchNormalization: convert_batch_normalization,
    Conv2D: convert_conv2d,
    MaxPool2D: _convert_pool("MaxPool"),
    AvgPool2D: _convert_pool("AveragePool"),
    GlobalAvgPool2D: convert_global_avg_pool2d,
    Flatten: convert_flatten,
    Reshape: convert_reshape,
}


def layer_converter(layer):
    """The converter of ``layer``'s class, else :class:`NotExportableError`."""
    convert = LAYER_CONVERTERS.get(type(layer))
    if convert is not None:
        return convert
    known = ", ".join(sorted(c.__name__ for c in LAYER_CONVERTERS))
    raise NotExportableError(
        f"{type(layer).__name__} layers cannot be exported to ONNX yet (exportable: "
        f"{known}); add a converter with sknets.onnx.register_layer_converter."
    )


def convert_layers(graph, layers, x):
    """Write ``[(layer, weights)]`` in order from ``x``; the channels-last output."""
    for layer, weights in layers:
        x = layer_converter(layer)(graph, layer, weights, x)
    return graph.channels_last(x)
