"""A convolutional network classifier with scikit-learn's estimator API.

Images are **channels-last** ``(n_samples, height, width, channels)``, the one
layout used by every sknets image layer (:mod:`sknets.layers.conv`). The
estimator also takes flat rows ``(n_samples, height * width * channels)`` --
in the order ``X_images.reshape(n_samples, -1)`` gives -- so it works after any
transformer in a :class:`~sklearn.pipeline.Pipeline`; its network starts with
a :class:`~sknets.layers.Reshape` layer that turns rows back into images.

References
----------
.. [1] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based
   learning applied to document recognition", Proc. IEEE 86(11), 1998.
.. [2] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
   ICCV 2015 (He initialisation of the convolution kernels).
"""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseNetwork
from ._classifier import NetworkClassifierMixin
from ._dispatch import validation_dtypes
from ._docs import _SHARED_PARAMS_DOC
from ._features import NetworkFeaturesMixin
from ._set_output import FeatureNamesOutMixin
from ._solvers import SolverMixin
from .layers import Activation, AvgPool2D, BatchNormalization, Conv2D, Flatten, MaxPool2D, Reshape
from .layers.conv import _pair
from .mlp import _sizes_or_value, check_sizes, dense_layers

_POOLS = {"max": MaxPool2D, "avg": AvgPool2D}


def _as_image_shape(shape, name="image_shape"):
    """``(h, w)`` or ``(h, w, c)`` of positive ints as ``(h, w, c)``."""
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if (shape is None or len(shape) not in (2, 3)
            or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                       for s in shape)):
        raise ValueError(
            f"{name} must be (height, width) or (height, width, channels) of positive "
            f"ints, got {shape!r}."
        )
    return tuple(int(s) for s in shape) + ((1,) if len(shape) == 2 else ())


def infer_image_shape(n_features):
    """Default image shape for flat rows of ``n_features`` values.

    A square grayscale image ``(s, s, 1)`` when ``n_features == s * s``,
    otherwise a one-row signal ``(1, n_features, 1)``.
    """
    s = math.isqrt(n_features)
    return (s, s, 1) if s * s == n_features else (1, n_features, 1)


class ConvNetClassifier(NetworkClassifierMixin, FeatureNamesOutMixin, NetworkFeaturesMixin,
                        SolverMixin,
                        BaseNetwork):
    """Convolutional neural network classifier, written from scratch.

    The network is ``Reshape(image_shape)``, then for each entry of
    ``conv_filters`` a ``Conv2D`` + activation + pooling block (with max
    pooling the activation comes after the pooling: the same function, since
    max commutes with these non-decreasing activations, for a fraction of the
    work), then ``Flatten``, the hidden ``Dense`` + activation layers of
    ``hidden_layer_sizes`` and a ``Dense`` output layer with softmax
    cross-entropy (multiclass) or sigmoid cross-entropy (binary, multilabel).
    With ``batch_normalization``, a ``BatchNormalization`` follows every
    convolution and hidden dense layer (before its activation and pooling);
    ``dropout`` adds a ``Dropout`` after each hidden dense layer's activation.
    It is a preset: the same layers in a
    :class:`~sknets.NeuralNetClassifier` train the same way.
    Convolutions are im2col + one matrix product (:class:`~sknets.layers.Conv2D`).
    Training uses the same loop, solvers, stopping rules and fitted
    attributes as :class:`~sknets.MLPClassifierScratch`.

    Parameters
    ----------
    image_shape : (int, int), (int, int, int) or None, default=None
        One sample's ``(height, width)`` or ``(height, width, channels)``.
        ``None`` takes it from image inputs ``(n, h, w)`` / ``(n, h, w, c)``,
        and for flat rows of ``n_features`` values uses a square grayscale
        image when ``n_features`` is a perfect square, else a ``1 x
        n_features`` signal.

    conv_filters : tuple of int, default=(32, 64)
        Output channels of each convolution block (empty: no convolution).

    kernel_size : int or (int, int), default=3
        Convolution window of every block.

    stride : int or (int, int), default=1
        Convolution stride of every block.

    padding : {"same", "valid"}, int or (int, int), default="same"
        Zero padding of every convolution (see :class:`~sknets.layers.Conv2D`).

    pooling : {"max", "avg"} or None, default="max"
        Pooling after each convolution; None for none.

    pool_size : int or (int, int), default=2
        Pooling window (and stride). Limited to the feature map's size, and
        skipped where that leaves a 1x1 window, so tiny inputs (even one
        feature) still build a network.

    %(params)s

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.

    image_shape_ : tuple of int
        ``(height, width, channels)`` of one sample, as fitted.

    coefs_ : list of ndarray
        Weights of every layer with parameters, as NumPy arrays: convolution
        kernels of shape ``(kh, kw, in_channels, filters)`` (channels-last),
        then dense matrices of shape ``(n_units_in, n_units_out)``.

    intercepts_ : list of ndarray of shape (n_units_out,)
        Biases of the same layers.

    loss_ : float
        The loss (with the L2 term) at the end of the last epoch.

    best_loss_ : float or None
        Minimum training loss seen (None with early stopping).

    loss_curve_ : list of float
        Training loss at the end of each epoch.

    validation_scores_ : list of float or None
        Validation accuracy per epoch with ``early_stopping=True``.

    best_validation_score_ : float or None
        Best validation accuracy with ``early_stopping=True``.

    history_ : list of dict
        One record per epoch (see :class:`~sknets.MLPClassifierScratch`).

    t_ : int
        Number of training samples seen by the optimizer.

    n_features_in_ : int
        Number of features (``height * width * channels``) seen during fit.

    feature_names_in_ : ndarray of shape (n_features,)
        Feature names seen during fit (only when X has string column names).

    n_iter_ : int
        Number of epochs run.

    n_layers_ : int
        Number of layers with parameters, plus one (the input), as
        ``MLPClassifier`` counts.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Output activation.

    See Also
    --------
    MLPClassifierScratch : the fully connected counterpart.

    Notes
    -----
    Convolution kernels use He's uniform initialisation [1]_ (biases zero);
    hidden dense layers He's too with ReLU, Glorot's otherwise; the output
    layer Glorot's.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers:
       surpassing human-level performance on ImageNet classification", ICCV 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import ConvNetClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ConvNetClassifier(conv_filters=(8,), hidden_layer_sizes=(32,),
    ...                         max_iter=5, random_state=0).fit(X / 16, y)
    >>> clf.image_shape_
    (8, 8, 1)
    >>> clf.score(X / 16, y) > 0.9
    True
    """

    #: predict in batches of 256 rows: the im2col matrices of a batch are
    #: ``kh * kw`` times the size of its feature maps.
    _predict_batch_rows = 256

    _parameter_constraints: dict = {
        **SolverMixin._parameter_constraints,
        "image_shape": ["array-like", None],
        "conv_filters": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "stride": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "padding": [StrOptions({"same", "valid"}), Interval(Integral, 0, None, closed="left"),
                    "array-like"],
        "pooling": [StrOptions({"max", "avg"}), None],
        "pool_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_normalization": ["boolean"],
    }

    def __init__(self, image_shape=None, conv_filters=(32, 64), kernel_size=3, stride=1,
                 padding="same", pooling="max", pool_size=2, hidden_layer_sizes=(128,),
                 activation="relu", *, solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dropout=0.0,
                 batch_normalization=False, backend=None, dtype=None):
        self.image_shape = image_shape
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.pooling = pooling
        self.pool_size = pool_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.backend = backend
        self.dtype = dtype

    # ------------------------------------------------------------ architecture
    _architecture_params = BaseNetwork._architecture_params + (
        "image_shape", "conv_filters", "kernel_size", "stride", "padding", "pooling",
        "pool_size", "hidden_layer_sizes", "activation", "dropout", "batch_normalization")

    def _architecture(self):
        arch = super()._architecture()
        for name in ("conv_filters", "hidden_layer_sizes"):
            arch[name] = _sizes_or_value(getattr(self, name))
        return arch

    def _encoding_names(self):
        return super()._encoding_names() + ("image_shape_",)

    def _image_shape_for(self, n_features):
        """The image shape for flat rows of ``n_features`` values."""
        if self.image_shape is not None:
            shape = _as_image_shape(self.image_shape)
        else:
            fitted = getattr(self, "image_shape_", None)
            if fitted is not None and math.prod(fitted) == n_features:
                return fitted
            return infer_image_shape(n_features)
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={tuple(self.image_shape)} holds {math.prod(shape)} values per "
                f"sample, but X has {n_features} features per sample."
            )
        return shape

    def _hidden_layers(self, input_shape):
        if len(input_shape) == 1:
            image = self._image_shape_for(input_shape[0])
        else:
            image = _as_image_shape(input_shape, "input_shape")
        layers = [Reshape(image)]
        shape = image
        pool_h, pool_w = _pair(self.pool_size, "pool_size")
        for filters in check_sizes(self.conv_filters, "conv_filters"):
            conv = Conv2D(filters, self.kernel_size, stride=self.stride, padding=self.padding)
            shape = conv.output_shape(shape)
            block = [conv] + ([BatchNormalization()] if self.batch_normalization else [])
            act = Activation(self.activation)
            window = (min(pool_h, shape[0]), min(pool_w, shape[1]))
            if self.pooling is None or window == (1, 1):
                block.append(act)
            else:
                pool = _POOLS[self.pooling](window)
                shape = pool.output_shape(shape)
                # max commutes with every (non-decreasing) activation here:
                # activating the pooled map gives the same network, with
                # pool_size times fewer activations to compute.
                block += [pool, act] if self.pooling == "max" else [act, pool]
            layers += block
        layers.append(Flatten())
        init = "he_uniform" if self.activation == "relu" else "glorot_uniform"
        factor = 2.0 if self.activation == "logistic" else 6.0
        return layers + dense_layers(
            check_sizes(self.hidden_layer_sizes, "hidden_layer_sizes"), self.activation,
            dropout=self.dropout, batch_normalization=self.batch_normalization,
            initializer=init, init_factor=factor)

    # -------------------------------------------------------------- validation
    def _flatten_images(self, X, fitting):
        """Image arrays ``(n, h, w[, c])`` to flat rows; other inputs untouched.

        Returns the rows and the image shape the input implies (or None).
        """
        ndim = getattr(X, "ndim", None)
        if ndim is None and isinstance(X, (list, tuple)):
            probe = np.asarray(X)
            if probe.ndim > 2:
                X, ndim = probe, probe.ndim
        if ndim is None or ndim <= 2 or sp.issparse(X):
            return X, None
        if ndim > 4:
            raise ValueError(
                f"X must be flat rows (n_samples, n_features) or images (n_samples, height, "
                f"width) / (n_samples, height, width, channels); got an array of shape "
                f"{tuple(X.shape)}."
            )
        shape = _as_image_shape(tuple(X.shape[1:]), "X's image shape")
        expected = None
        if self.image_shape is not None:
            expected = _as_image_shape(self.image_shape)
        elif not fitting:
            expected = self.image_shape_
        if expected is not None and shape != expected:
            raise ValueError(
                f"X holds images of shape {tuple(X.shape[1:])}, but "
                f"{type(self).__name__} expects images of shape {expected} "
                "(height, width, channels) or flat rows of "
                f"{math.prod(expected)} values."
            )
        n = X.shape[0]
        if isinstance(X, np.ndarray):
            return X.reshape(n, -1), shape
        from array_api_compat import array_namespace

        return array_namespace(X).reshape(X, (n, math.prod(shape))), shape

    def _validate_X_y(self, X, y, reset):
        X, images = self._flatten_images(X, fitting=reset)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=validation_dtypes(X), reset=reset)
        if reset:
            self.image_shape_ = images or self._image_shape_for(X.shape[1])
        return X, y

    def _validated_X(self, X):
        X, _ = self._flatten_images(X, fitting=False)
        return validate_data(self, X, accept_sparse=["csr", "csc"],
                             dtype=validation_dtypes(X), reset=False)

    # --------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None):
        """Fit the network to images ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
(n_samples, height, width) or (n_samples, height, width, channels)
            Flat rows (``height * width * channels`` values each, channels-last
            order) or image arrays; converted to ``dtype`` for the computation.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or indicator rows for multilabel.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On NaN/inf input, invalid hyper-parameters, input shapes that do
            not fit ``image_shape``, a kernel larger than the padded image, a
            single class, or divergence
            (:class:`~sknets.exceptions.DivergenceError`).
        """
        self._validate_params()
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)


_PARAMS_DOC = _SHARED_PARAMS_DOC.strip().replace(
    "hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)\n"
    "        The ith element is the number of units in the ith hidden layer.",
    "hidden_layer_sizes : array-like of shape (n_hidden,), default=(128,)\n"
    "        Units of the dense layers after the convolutions (and their Flatten).",
)
ConvNetClassifier.__doc__ = ConvNetClassifier.__doc__.replace("%(params)s", _PARAMS_DOC)
