"""ONNX export of fitted sknets estimators, through skl2onnx.

Importing this module registers a converter, a shape calculator and (for the
classifiers) skl2onnx's classifier parser for every public estimator, so that
``skl2onnx.to_onnx(estimator, X[:1])`` works, alone or with the estimator as
the last step of a scikit-learn :class:`~sklearn.pipeline.Pipeline`::

    import sknets.onnx  # registers the converters
    from skl2onnx import to_onnx
    onx = to_onnx(make_pipeline(StandardScaler(), MLPClassifierScratch()).fit(X, y),
                  X[:1].astype(np.float32))

or, the same in one call, :func:`to_onnx`. The graph is the network's
inference form, layer by layer (:mod:`sknets._onnx_layers`,
:mod:`sknets._onnx_sequence`), for every layer of :mod:`sknets.layers`:
dropout is the identity, batch normalization the affine map of its moving
statistics, channels-last images and sequences are computed by ONNX's
channels-first ``Conv`` and pooling (2-D or 1-D) between two transposes,
``SimpleRNN``/``GRU``/``LSTM`` (and ``Bidirectional``) by ONNX's ``RNN``,
``GRU`` and ``LSTM`` operators, ``Residual`` by its layers' graph plus
``Add``, ``Embedding`` by ``Gather``, ``UpSampling2D`` by ``Resize``.

Outputs follow skl2onnx's conventions for scikit-learn's models:

- classifiers: ``label`` (int64 for integer, boolean or integral float
  labels, string for strings; ``(n, n_labels)`` indicator rows for
  multilabel) and ``probabilities`` ``(n, n_classes)`` (``predict_proba``),
  turned into a list of dicts by skl2onnx's ZipMap unless the option
  ``zipmap`` is False (options ``zipmap``, ``nocl`` and
  ``output_class_labels`` as for ``MLPClassifier``);
  :class:`~sknets.PerceptronClassifier` gives its ``decision_function``
  scores instead of probabilities (two columns ``[-z, z]`` for two classes),
  as skl2onnx does for :class:`~sklearn.linear_model.Perceptron`;
- regressors: ``variable`` of shape ``(n, n_outputs)``.

The graph computes in float32, or in float64 when the input is float64
(not with a recurrent layer: onnxruntime has no float64 kernels of ONNX's
``RNN``, ``GRU`` and ``LSTM``, so such a network exports in float32 only).
What has no ONNX form here (a layer without a converter, labels that are
neither integers nor strings, an unfitted estimator) raises
:class:`~sknets.exceptions.NotExportableError` (or
:class:`~sklearn.exceptions.NotFittedError`) before anything is written.
Converters of new layers go into :func:`register_layer_converter`.

References
----------
.. [1] ONNX operators: https://onnx.ai/onnx/operators/
.. [2] skl2onnx, "Implement a new converter":
   https://onnx.ai/sklearn-onnx/auto_tutorial/plot_icustom_converter.html
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np

try:
    import skl2onnx
    from onnx import TensorProto, numpy_helper
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_proto_type,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:   # pragma: no cover - the optional extra is missing
    raise ImportError(
        "sknets.onnx needs skl2onnx and onnx (and onnxruntime to run the models): "
        "pip install 'sknets[onnx]'."
    ) from exc
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier, is_regressor
from sklearn.utils.validation import check_is_fitted

from . import (
    ConvNetClassifier,
    MLPClassifierScratch,
    MLPRegressorScratch,
    NeuralNetClassifier,
    NeuralNetRegressor,
    PerceptronClassifier,
)
from ._onnx_layers import LAYER_CONVERTERS, Graph, Tensor, convert_layers, layer_converter
from ._onnx_sequence import SEQUENCE_CONVERTERS
from .backend import to_numpy
from .exceptions import NotExportableError

__all__ = ["to_onnx", "register", "register_layer_converter", "NotExportableError"]

ESTIMATORS = (MLPClassifierScratch, MLPRegressorScratch, ConvNetClassifier,
              NeuralNetClassifier, NeuralNetRegressor, PerceptronClassifier)

#: the options of the classifiers' converter, as skl2onnx's MLPClassifier has them.
CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False],
                      "output_class_labels": [False, True]}

#: the classes registered with skl2onnx by :func:`register`.
_REGISTERED = set()

#: the lowest opset the graphs are written for.
MIN_OPSET = 13


@dataclass
class FittedNetwork:
    """What the converters need from a fitted estimator.

    Attributes
    ----------
    layers : list of (Layer, dict of str to ndarray)
        The built layers in order, each with its weights (``params`` and
        ``state``) as NumPy arrays.
    head : str
        What follows the logits: ``"softmax"``, ``"binary"``,
        ``"multilabel"``, ``"single"`` (a classifier fitted on one class),
        ``"scores"`` (the perceptron), ``"identity"`` or ``"exp"``
        (regressors).
    n_features : int
        Input features per sample (flat rows).
    n_outputs : int
        Logits per sample.
    """

    layers: list
    head: str
    n_features: int
    n_outputs: int


def read_fitted(estimator):
    """The fitted network of ``estimator``, as :class:`FittedNetwork`.

    The one place that reads the estimators' internals (the network and the
    label encoding), so that a change of the engine's names is one change here.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    NotExportableError
        If its output has no ONNX form here.
    """
    check_is_fitted(estimator)
    network = estimator._network
    layers = [(layer, layer.get_weights()) for layer in network.layers]
    n_outputs = int(network.output_shape_[-1])
    activation = getattr(estimator, "out_activation_", None)
    if isinstance(estimator, PerceptronClassifier):
        head = "scores"
    elif is_classifier(estimator) and activation == "softmax":
        head = "softmax"
    elif is_classifier(estimator) and activation == "logistic":
        if estimator._label_binarizer.y_type_.startswith("multilabel"):
            head = "multilabel"
        else:
            head = "single" if len(to_numpy(estimator.classes_)) == 1 else "binary"
    elif is_regressor(estimator) and activation in ("identity", "exp"):
        head = activation
    else:
        raise NotExportableError(
            f"{type(estimator).__name__} with the output {activation!r} cannot be exported "
            "to ONNX."
        )
    return FittedNetwork(layers, head, int(estimator.n_features_in_), n_outputs)


# --------------------------------------------------------------------- graph
def _compute_dtype(operator):
    """float64 for a float64 input, else float32."""
    proto = guess_proto_type(operator.inputs[0].type)
    return np.float64 if proto == TensorProto.DOUBLE else np.float32


def _logits(graph, operator, fitted):
    """The network's logits ``(n, n_outputs)`` from the operator's input(s)."""
    names = []
    for var in operator.inputs:
        name = var.full_name
        if guess_proto_type(var.type) != graph.proto:
            name = graph.cast(name, graph.proto)
        names.append(name)
    x = names[0] if len(names) == 1 else graph.op("Concat", names, "features", axis=1)
    # Flat rows whatever the input's shape (images (n, h, w, c) included):
    # the network starts from rows, as the estimators do.
    shape = graph.const(np.array([-1, fitted.n_features], dtype=np.int64), "rows")
    x = graph.op("Reshape", [x, shape], "rows")
    return convert_layers(graph, fitted.layers, Tensor(x, (fitted.n_features,))).name


def _label_classes(scope, estimator):
    """The labels as an int64 or a string array (skl2onnx's label types)."""
    return _as_labels(get_label_classes(scope, estimator), estimator)


def _as_labels(classes, estimator):
    classes = np.asarray(to_numpy(classes))
    kind = classes.dtype.kind
    if kind == "O" and all(isinstance(c, str) for c in classes):
        return classes.astype(str)
    if kind == "O" and all(isinstance(c, (Integral, np.bool_)) for c in classes):
        kind = "i"
    if kind in "iub" or (kind == "f" and np.all(np.mod(classes, 1) == 0)):
        return classes.astype(np.int64)
    if kind in "US":
        return classes.astype(str)
    raise NotExportableError(
        f"{type(estimator).__name__} with the labels {classes!r} cannot be exported to ONNX: "
        "ONNX labels are int64 or strings. Fit on integer or string labels."
    )


def _probabilities(graph, head, z, n_outputs):
    """``predict_proba`` (or the perceptron's scores) from the logits ``z``."""
    if head == "softmax":
        return graph.op("Softmax", [z], "proba", axis=1)
    if head == "multilabel":
        return graph.op("Sigmoid", [z], "proba")
    if head == "binary":
        # sigmoid(-z), not 1 - sigmoid(z): what predict_proba computes.
        negative = graph.op("Sigmoid", [graph.op("Neg", [z], "neg")], "proba_neg")
        return graph.op("Concat", [negative, graph.op("Sigmoid", [z], "proba_pos")],
                        "proba", axis=1)
    if head == "scores":
        if n_outputs == 1:   # two classes: [-z, z], as skl2onnx's linear classifiers
            return graph.op("Concat", [graph.op("Neg", [z], "neg"), z], "scores", axis=1)
        return z
    # "single": one class, probability one
    ones = numpy_helper.from_array(np.ones(1, dtype=graph.dtype))
    return graph.op("ConstantOfShape", [graph.op("Shape", [z], "shape")], "proba",
                    value=ones)


def _convert_classifier(scope, operator, container):
    estimator = operator.raw_operator
    fitted = read_fitted(estimator)
    _check_opset(container)
    graph = Graph(scope, container, _compute_dtype(operator))
    z = _logits(graph, operator, fitted)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    graph.op("Identity", [_probabilities(graph, fitted.head, z, fitted.n_outputs)], output=proba)
    if fitted.head == "multilabel":
        # the indicator rows of predict: probability > 0.5, as LabelBinarizer decodes
        half = graph.const(np.array(0.5, dtype=graph.dtype))
        graph.op("Cast", [graph.op("Greater", [proba, half], "on")], output=label,
                 to=TensorProto.INT64)
        return
    # ties go to the first class, as NumPy's argmax (and LabelBinarizer) decide
    index = graph.op("ArgMax", [proba], "index", axis=1, keepdims=0)
    classes = graph.const(_label_classes(scope, estimator), "classes")
    graph.op("Gather", [classes, index], output=label, axis=0)


def _convert_regressor(scope, operator, container):
    fitted = read_fitted(operator.raw_operator)
    _check_opset(container)
    graph = Graph(scope, container, _compute_dtype(operator))
    z = _logits(graph, operator, fitted)
    op = "Exp" if fitted.head == "exp" else "Identity"
    graph.op(op, [z], output=operator.outputs[0].full_name)


def _check_opset(container):
    opset = container.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise NotExportableError(
            f"sknets networks are exported for ONNX opset {MIN_OPSET} or later, "
            f"target_opset={opset} was asked for."
        )


# ------------------------------------------------------------------- shapes
def _float_type(operator):
    return DoubleTensorType if _compute_dtype(operator) == np.float64 else FloatTensorType


def _classifier_shapes(operator):
    estimator = operator.raw_operator
    fitted = read_fitted(estimator)
    n = operator.inputs[0].get_first_dimension()
    if fitted.head == "multilabel":
        operator.outputs[0].type = Int64TensorType([n, fitted.n_outputs])
        n_cols = fitted.n_outputs
    else:
        classes = _label_classes(operator.scope_inst, estimator)
        label_type = StringTensorType if classes.dtype.kind == "U" else Int64TensorType
        operator.outputs[0].type = label_type([n])
        n_cols = len(classes) if fitted.head != "single" else 1
    operator.outputs[1].type = _float_type(operator)([n, n_cols])


def _regressor_shapes(operator):
    fitted = read_fitted(operator.raw_operator)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _float_type(operator)([n, fitted.n_outputs])


# -------------------------------------------------------------- registration
def register(estimator_class):
    """Register ``estimator_class`` (an sknets estimator class, or a subclass
    of one that computes as its base does) with skl2onnx.

    The public estimators are registered when :mod:`sknets.onnx` is imported.

    Parameters
    ----------
    estimator_class : type
        A classifier or regressor whose fitted network
        (:func:`read_fitted`) is the whole model.

    Returns
    -------
    estimator_class : type
        The class, registered (usable as a class decorator).

    Raises
    ------
    TypeError
        If it is neither a classifier nor a regressor class of sknets.
    """
    if not (isinstance(estimator_class, type) and issubclass(estimator_class, ESTIMATORS)):
        raise TypeError(f"register() takes an sknets estimator class, got {estimator_class!r}.")
    alias = f"Sknets{estimator_class.__module__}.{estimator_class.__qualname__}"
    if issubclass(estimator_class, ClassifierMixin):
        update_registered_converter(estimator_class, alias, _classifier_shapes,
                                    _convert_classifier, options=CLASSIFIER_OPTIONS)
    else:
        update_registered_converter(estimator_class, alias, _regressor_shapes,
                                    _convert_regressor)
    _REGISTERED.add(estimator_class)
    return estimator_class


def register_layer_converter(layer_class, converter):
    """Add (or replace) the ONNX converter of a layer class.

    Parameters
    ----------
    layer_class : type
        A :class:`~sknets.layers.Layer` subclass (matched exactly, not its
        subclasses).
    converter : callable
        ``converter(graph, layer, weights, x) -> Tensor``: writes the layer's
        inference form with ``graph.op`` / ``graph.const`` from the input
        :class:`~sknets._onnx_layers.Tensor` ``x`` (see
        :mod:`sknets._onnx_layers`); ``weights`` are the layer's ``params``
        and ``state`` as NumPy arrays.
    """
    LAYER_CONVERTERS[layer_class] = converter


def _sknets_parts(model):
    """The sknets estimators in ``model`` (itself, or steps of a meta-estimator)."""
    parts = [model]
    if isinstance(model, BaseEstimator):
        parts += [v for v in model.get_params(deep=True).values()
                  if isinstance(v, BaseEstimator)]
    return [p for p in parts if isinstance(p, ESTIMATORS)]


def to_onnx(estimator, X, *, zipmap=True, dtype=np.float32, target_opset=None, options=None,
            **kwargs):
    """Convert a fitted estimator (or a pipeline ending in one) to ONNX.

    :func:`skl2onnx.to_onnx` with the sknets converters registered, checked
    beforehand: every layer of every sknets network in ``estimator`` must
    have a converter.

    Parameters
    ----------
    estimator : estimator
        A fitted sknets estimator, or a scikit-learn pipeline ending in one.
    X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        Data like the estimator's input; only its type and shape are used
        (the first row), e.g. images ``(n, height, width, channels)``.
    zipmap : bool or "columns", default=True
        The ``zipmap`` option of skl2onnx for the sknets classifiers in the
        model: False gives the probabilities as one tensor.
    dtype : numpy dtype or None, default=np.float32
        Type of a numeric ``X``'s input in the graph (and of the
        computation); None keeps ``X``'s own. A network with a recurrent
        layer exports in float32 only.
    target_opset : int or None, default=None
        ONNX opset (at least 13); None for skl2onnx's default.
    options : dict or None, default=None
        Further skl2onnx options, ``{model or class or id: {name: value}}``.
    **kwargs
        Passed to :func:`skl2onnx.to_onnx`.

    Returns
    -------
    onx : onnx.ModelProto
        The model (``onx.SerializeToString()`` for onnxruntime).

    Raises
    ------
    NotExportableError
        If a layer or an estimator has no ONNX form, or a recurrent layer
        would compute in float64.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> import numpy as np, onnxruntime
    >>> from sklearn.datasets import load_iris
    >>> from sknets import MLPClassifierScratch
    >>> from sknets.onnx import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifierScratch((8,), max_iter=50, random_state=0).fit(X, y)
    >>> onx = to_onnx(clf, X, zipmap=False)
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> label, proba = session.run(None, {"X": X[:5].astype(np.float32)})
    >>> bool((label == clf.predict(X[:5])).all())
    True
    """
    opts = {}
    for part in _sknets_parts(estimator):
        if type(part) not in _REGISTERED:
            raise NotExportableError(
                f"{type(part).__name__} is not registered for ONNX export; if it computes as "
                f"its sknets base class does, call sknets.onnx.register({type(part).__name__})."
            )
        fitted = read_fitted(part)
        for layer, _ in fitted.layers:
            layer_converter(layer)
        if is_classifier(part) and fitted.head != "multilabel":
            _as_labels(part.classes_, part)
        if is_classifier(part):
            opts[type(part)] = {"zipmap": zipmap}
    opts.update(options or {})
    if hasattr(X, "iloc"):
        X = X.iloc[:1]
    else:
        X = np.asarray(X)[:1]
        if dtype is not None and X.dtype.kind in "biuf":
            X = X.astype(dtype)
    return skl2onnx.to_onnx(estimator, X, target_opset=target_opset, options=opts or None,
                            **kwargs)


LAYER_CONVERTERS.update(SEQUENCE_CONVERTERS)
for _cls in ESTIMATORS:
    register(_cls)
del _cls
