"""A generative adversarial network as a scikit-learn estimator.

:class:`GenerativeAdversarialNetwork` follows scikit-learn's generative
estimators (:class:`~sklearn.mixture.GaussianMixture`,
:class:`~sklearn.neighbors.KernelDensity`): ``fit(X)`` then
``sample(n_samples)``. With class labels, ``fit(X, y)`` trains a
conditional GAN and ``sample`` returns ``(X_new, y_new)``. The generator
and the discriminator are lists of :mod:`sknets.layers` specifications, as
:class:`~sknets.NeuralNetClassifier`'s ``layers`` (nested parameters
``generator__0__units``; ``fit`` builds clones). The alternating training is
:class:`sknets._gan_trainer.GANTrainer`'s.
"""

import warnings
from numbers import Integral, Real

import array_api_compat
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _get_feature_names, check_array, check_is_fitted, column_or_1d

from ._base import BaseNetwork
from ._dispatch import (
    _to_numpy_tree,
    dispatch_backend,
    float_dtype_name,
    host_copy,
    take_rows,
    to_namespace,
    validation_dtypes,
)
from ._gan_io import GANInputs, output_shape
from ._gan_trainer import GANConfig, GANFitState, GANTrainer
from ._html_repr import GANDiagramMixin
from ._layer_lists import LayerListsMixin
from ._persistence import VersionedPickleMixin
from .backend import get_backend, is_array, to_numpy
from .callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from .layers import Activation, Dense, Dropout, Flatten
from .metrics import c2st_score
from .network import Sequential

#: rows per generator forward pass in ``sample``.
SAMPLE_BATCH_ROWS = 2048


def _default_generator():
    return [Dense(128), Activation("leaky_relu"), Dense(256), Activation("leaky_relu")]


def _default_discriminator():
    return [Dense(256), Activation("leaky_relu"), Dropout(0.3),
            Dense(128), Activation("leaky_relu"), Dropout(0.3)]


#: Fitted arrays that follow fit's input namespace under array-API dispatch
#: (NumPy otherwise; string class labels stay NumPy).
_NAMESPACE_ATTRIBUTES = ("data_min_", "data_max_", "class_prior_", "classes_")


class GenerativeAdversarialNetwork(VersionedPickleMixin, GANDiagramMixin, LayerListsMixin,
                                   CallbackSupportMixin, BaseEstimator):
    """Generative adversarial network: ``fit(X[, y])``, then ``sample(n)``.

    A generator maps standard normal noise (and, for a conditional model,
    a one-hot class label) to samples; a discriminator scores samples as
    real or generated. They are trained against each other [1]_: the
    discriminator on sigmoid cross-entropy with one-sided label smoothing,
    the generator on the non-saturating loss ``-log D(G(z))``, each with
    Adam at the usual GAN settings [3]_. Given class labels, ``fit`` trains a
    conditional GAN [2]_: the labels are fed to both networks and ``sample``
    draws samples of requested classes.

    The data are scaled feature by feature to ``[-1, 1]`` (the range of the
    generator's ``tanh`` output) and back, so generated samples lie in the
    training data's range; features constant in the training data are
    generated at that constant.

    Parameters
    ----------
    generator : list of Layer or of (str, Layer), default=None
        The generator's hidden layers (:mod:`sknets.layers` specifications;
        a ``(name, layer)`` pair names one for nested parameters such as
        ``generator__0__units``). Its input is one sample of
        ``latent_dim`` (+ the number of classes) values. The estimator adds
        the output: a ``Dense`` layer of ``n_features`` units and ``tanh``
        (after a ``Flatten`` for non-flat outputs), or, when the layers
        already output one sample's shape of image-like ``X``, ``tanh``
        alone. None means ``[Dense(128), Activation("leaky_relu"),
        Dense(256), Activation("leaky_relu")]``.
    discriminator : list of Layer or of (str, Layer), default=None
        The discriminator's hidden layers; its input is one sample (flat
        rows with the one-hot label appended, or image-like samples with one
        constant channel per class appended; a first ``Dense`` layer gets a
        ``Flatten`` before it). The estimator adds a
        ``Dense(1)`` logit (after a ``Flatten`` for non-flat outputs). None
        means ``[Dense(256), Activation("leaky_relu"), Dropout(0.3),
        Dense(128), Activation("leaky_relu"), Dropout(0.3)]``.
    latent_dim : int, default=32
        Size of the noise vector ``z``.
    label_smoothing : float in [0, 1), default=0.1
        The discriminator's target for real samples is
        ``1 - label_smoothing`` (one-sided smoothing [4]_; fakes stay 0).
    discriminator_steps, generator_steps : int, default=1
        The discriminator takes ``discriminator_steps`` steps (each on its
        own batch of real samples), then the generator ``generator_steps``
        steps, and so on (Algorithm 1 of [1]_ with ``k`` steps).
    learning_rate_init : float, default=2e-4
        Adam's step size for the generator (and the discriminator, unless
        ``discriminator_learning_rate`` is set).
    discriminator_learning_rate : float or None, default=None
        The discriminator's own step size (two time-scale updates).
    beta_1, beta_2, epsilon : float, default=0.5, 0.999, 1e-8
        Adam's moment decay rates and stability term (``beta_1=0.5`` as in
        DCGAN [3]_).
    batch_size : int, default=64
        Real samples per discriminator step (and generated ones per step);
        clipped to the number of training samples.
    max_iter : int, default=200
        Epochs: passes of the discriminator over the training samples.
    validation_fraction : float in (0, 1) or None, default=None
        Hold out this fraction of ``X`` (stratified by ``y``) and measure,
        after each epoch, the classifier two-sample test
        (:func:`sknets.metrics.c2st_score`) of as many generated samples
        (the same noise every epoch) against it: ``valid_c2st`` in
        ``history_`` and the table. The generator of the best epoch (lowest
        ``valid_c2st``) is kept at the end.
    random_state : int, RandomState instance or None, default=None
        Initial weights, sample order, noise, the validation split and,
        unless given to ``sample``, the samples drawn.
    verbose : bool or int, default=False
        Print a table row per epoch (losses, the discriminator's mean
        outputs, ``valid_c2st``, seconds), as the other estimators do.
    backend : {"numpy", "cupy", "auto"} or None, default=None
        Where to compute; None uses ``X``'s namespace and device under
        scikit-learn's array-API dispatch (e.g. array_api_strict, CuPy), else
        ``sknets.get_config()["backend"]``.
    dtype : {"float32", "float64"} or None, default=None
        Compute dtype; None follows ``X`` (float32 stays float32, anything
        else becomes float64).

    Attributes
    ----------
    generator_ : Sequential
        The fitted generator, NumPy weights (in ``fit``'s input namespace
        and device when fitted under array-API dispatch, as every fitted
        array); ``generator_.summary()`` prints its layers. Its outputs are in ``[-1, 1]`` (use
        :meth:`sample` for samples in the data's scale).
    discriminator_ : Sequential
        The fitted discriminator; ``discriminator_.feature_layers()``
        returns its hidden layers with their weights, frozen, to seed
        another network (e.g. ``NeuralNetClassifier``'s ``layers``).
    classes_ : ndarray of shape (n_classes,)
        Class labels of a conditional model (absent for an unconditional one).
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data, from which ``sample``
        draws labels.
    data_min_, data_max_ : ndarray of shape (n_features,)
        Per-feature range of the training data. Fitted under array-API
        dispatch, these arrays (and a numeric ``classes_``) are in the
        input's namespace and on its device; a pickle holds NumPy arrays
        only.
    input_shape_ : tuple of int
        One sample's shape as fitted (``(n_features,)`` for flat rows).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)
        Defined when ``X`` has string feature names.
    history_ : list of dict
        One record per epoch: ``epoch``, ``d_loss``, ``g_loss``, ``d_real``
        and ``d_fake`` (the discriminator's mean output on real and
        generated samples), ``valid_c2st`` (with a validation split),
        ``dur`` (seconds).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int or None
        The epoch whose weights were kept when they are not the last
        (validation split, divergence, collapse); None otherwise.
    stop_reason_ : str
        Why training stopped.

    See Also
    --------
    sklearn.mixture.GaussianMixture : ``fit``/``sample`` of a density model.
    sknets.metrics.c2st_score, sknets.metrics.precision_recall_knn :
        measures of generated samples.

    Notes
    -----
    GAN training is not a minimisation: the losses do not decrease
    steadily. Training stops early, with a
    :class:`~sklearn.exceptions.ConvergenceWarning` and the weights of the
    last sound epoch, when a loss or a weight becomes non-finite or a mean
    loss explodes, or when the game collapses (the discriminator rejects
    every generated sample for several epochs). If the very first epoch
    diverges, :class:`~sknets.DivergenceError` is raised and the estimator
    is left as it was: a fit builds its fitted state apart and commits it
    in one step. Ctrl-C stops training after the current batch, commits
    that model and raises ``KeyboardInterrupt`` again; ``sample`` never
    changes the estimator. With scikit-learn's callbacks
    (``set_callbacks``, scikit-learn >= 1.9) the fit reports its epochs and
    their batches as tasks, a callback may stop it at the end of an epoch,
    and ``fitted_estimator`` is a frozen copy that can ``sample``.

    References
    ----------
    .. [1] I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley,
       S. Ozair, A. Courville and Y. Bengio, "Generative adversarial nets",
       NeurIPS 2014.
    .. [2] M. Mirza and S. Osindero, "Conditional generative adversarial
       nets", arXiv:1411.1784, 2014.
    .. [3] A. Radford, L. Metz and S. Chintala, "Unsupervised representation
       learning with deep convolutional generative adversarial networks",
       ICLR 2016.
    .. [4] T. Salimans, I. Goodfellow, W. Zaremba, V. Cheung, A. Radford and
       X. Chen, "Improved techniques for training GANs", NeurIPS 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknets import GenerativeAdversarialNetwork
    >>> X, y = load_digits(return_X_y=True)
    >>> gan = GenerativeAdversarialNetwork(max_iter=5, random_state=0).fit(X / 16, y)
    >>> X_new, y_new = gan.sample(4, y=[0, 1, 2, 3], random_state=0)
    >>> X_new.shape, y_new.tolist()
    ((4, 64), [0, 1, 2, 3])
    >>> bool(X_new.min() >= 0 and X_new.max() <= 1)
    True
    """

    _layer_lists: dict = {"generator": _default_generator,
                          "discriminator": _default_discriminator}

    _parameter_constraints: dict = {
        "generator": [list, tuple, None],
        "discriminator": [list, tuple, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "discriminator_steps": [Interval(Integral, 1, None, closed="left")],
        "generator_steps": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "discriminator_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "backend": [StrOptions({"numpy", "cupy", "auto"}), None],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64}),
                  None],
    }

    def __init__(self, generator=None, discriminator=None, *, latent_dim=32,
                 label_smoothing=0.1, discriminator_steps=1, generator_steps=1,
                 learning_rate_init=2e-4, discriminator_learning_rate=None, beta_1=0.5,
                 beta_2=0.999, epsilon=1e-8, batch_size=64, max_iter=200,
                 validation_fraction=None, random_state=None, verbose=False, backend=None,
                 dtype=None):
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.label_smoothing = label_smoothing
        self.discriminator_steps = discriminator_steps
        self.generator_steps = generator_steps
        self.learning_rate_init = learning_rate_init
        self.discriminator_learning_rate = discriminator_learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.backend = backend
        self.dtype = dtype

    # ------------------------------------------------------------ validation
    def _validate_X(self, X):
        """Flat float rows of ``X`` (any sample shape), one sample's shape and
        the feature names (the estimator is not changed). Under array-API
        dispatch ``X`` stays in its namespace and on its device."""
        X = host_copy(X)
        names = _get_feature_names(X)
        shape = None
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if not sp.issparse(X) and not hasattr(X, "iloc") and getattr(X, "ndim", 2) > 2:
            shape = tuple(int(s) for s in X.shape[1:])
            xp = np if isinstance(X, np.ndarray) else array_api_compat.array_namespace(X)
            X = xp.reshape(X, (X.shape[0], -1))
        X = check_array(X, dtype=validation_dtypes(X), input_name="X", estimator=self)
        return X, shape or (X.shape[1],), names

    def _validate_y(self, y, n):
        """Class labels on the host: the classes, their frequencies and codes."""
        y = host_copy(y)
        y = column_or_1d(to_numpy(y) if is_array(y) else y, warn=True)
        if y.shape[0] != n:
            raise ValueError(f"X has {n} samples but y has {y.shape[0]}.")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        codes = encoder.transform(y)
        prior = np.bincount(codes, minlength=len(encoder.classes_)) / n
        return encoder.classes_, prior, codes

    # ------------------------------------------------------------- building
    def _build(self, io, backend, dtype, rng):
        """The generator and the discriminator, built on ``backend``."""
        g_layers = self._cloned_layers("generator")
        hidden = output_shape(g_layers, io.generator_input_shape, dtype)
        if len(io.sample_shape) > 1 and hidden == io.sample_shape:
            g_layers += [Activation("tanh"), Flatten()]
        else:
            g_layers += ([Flatten()] if len(hidden) > 1 else []) + [
                Dense(io.n_features), Activation("tanh")]
        generator = Sequential(g_layers).build(io.generator_input_shape, backend, dtype, rng)
        d_layers = self._cloned_layers("discriminator")
        if len(io.discriminator_input_shape) > 1 and d_layers and isinstance(d_layers[0], Dense):
            d_layers.insert(0, Flatten())   # dense layers on image-like samples
        if len(output_shape(d_layers, io.discriminator_input_shape, dtype)) > 1:
            d_layers.append(Flatten())
        d_layers.append(Dense(1))
        discriminator = Sequential(d_layers).build(io.discriminator_input_shape, backend,
                                                   dtype, rng)
        for layer in discriminator.layers:   # the generator learns through every layer
            layer.need_input_grad = True
        return generator, discriminator

    @staticmethod
    def _scaled(X, backend, dtype):
        """``X`` scaled feature by feature to ``[-1, 1]`` (constant features to
        0), in ``X``'s namespace and dtype, then moved to ``backend`` in
        ``dtype``; also the range (``data_min, data_max``, in ``X``'s
        namespace) and the mask of non-constant features (NumPy; None when
        every feature varies)."""
        xp = np if isinstance(X, np.ndarray) else array_api_compat.array_namespace(X)
        lo, hi = xp.min(X, axis=0), xp.max(X, axis=0)
        span = hi - lo
        varies = span > 0
        scaled = xp.where(varies, 2 * (X - lo) / xp.where(varies, span, xp.ones_like(span)) - 1,
                          xp.zeros_like(X))
        mask = to_numpy(varies)   # read back once per fit
        return (backend.asarray(scaled, dtype=dtype), lo, hi,
                None if mask.all() else mask)

    def _unscale(self, T, backend):
        """Generated rows ``T`` (in ``[-1, 1]``, on ``backend``) in the data's
        range, in ``T``'s dtype."""
        xp = backend.xp
        lo, hi = backend.asarray(self.data_min_), backend.asarray(self.data_max_)
        X = lo + (T + 1) / 2 * (hi - lo)
        return xp.astype(xp.minimum(xp.maximum(X, lo), hi), T.dtype)

    # ------------------------------------------------------------------ fit
    @with_callbacks
    def fit(self, X, y=None):
        """Train the generator and the discriminator on ``X`` (and labels ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training samples: flat rows, or samples of any shape (e.g.
            channels-last images ``(n_samples, height, width, channels)``),
            which ``sample`` then returns in the same shape. Sparse input is
            not supported.
        y : array-like of shape (n_samples,), default=None
            Class labels: given, a conditional GAN is trained.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On NaN/inf input, invalid hyper-parameters (the estimator's or a
            layer's), layers that do not fit the shapes, continuous ``y``,
            or a validation split too small;
            :class:`~sknets.DivergenceError` if the first epoch diverges.
        TypeError
            On sparse ``X`` or layer lists holding something else than layers.
        KeyboardInterrupt
            Re-raised after Ctrl-C, once the model trained up to the last
            completed batch is committed (usable; a warning says so), so that
            a loop or a search around ``fit`` stops too. Any other error
            leaves the estimator as it was.
        """
        self._validate_params()
        self._named_layers(param="generator")
        self._named_layers(param="discriminator")
        X_in, y_in = X, y   # what callbacks see
        X, sample_shape, names = self._validate_X(X)
        # Under array-API dispatch (and backend=None) training runs in X's
        # namespace, on its device; the fitted arrays and the samples follow
        # X's namespace whatever the backend.
        out = dispatch_backend(X)
        backend = out if self.backend is None and out is not None else get_backend(self.backend)
        encoding = {"n_features_in_": X.shape[1], "input_shape_": sample_shape}
        if names is not None:
            encoding["feature_names_in_"] = names
        codes = None
        if y is not None:
            encoding["classes_"], encoding["class_prior_"], codes = self._validate_y(
                y, X.shape[0])
        dtype = np.dtype(float_dtype_name(X) if self.dtype is None else self.dtype)
        rng = check_random_state(self.random_state)
        n_classes = 0 if codes is None else len(encoding["classes_"])
        X_val = codes_val = None
        if self.validation_fraction is not None:
            X, X_val, codes, codes_val = self._split(X, codes, rng)
        X_dev, data_min, data_max, mask = self._scaled(X, backend, dtype)
        del X   # training reads the scaled copy on the backend only
        encoding.update(data_min_=data_min, data_max_=data_max)
        io = GANInputs(self.latent_dim, n_classes, sample_shape, mask, backend, dtype, rng)
        state = GANFitState(*self._build(io, backend, dtype, rng), dtype, encoding,
                            attribute_backend=out)
        onehot = None if codes is None else backend.asarray(np.eye(n_classes)[codes], dtype=dtype)
        quality = None if X_val is None else self._quality(io, X_val, codes_val, encoding, rng)
        tasks = FitTasks(self, X_in, y_in, None, self.max_iter,
                         snapshot=lambda: self._fitted_attributes(state.snapshot()))
        config = GANConfig.from_params(self.get_params(deep=False), random_state=rng)
        trainer = GANTrainer(state, config, io, tasks, quality)
        interrupted = trainer.run(X_dev, onehot)
        # The fitted networks users read: NumPy weights, or in fit's input
        # namespace under array-API dispatch (as the other fitted arrays).
        home = get_backend("numpy") if out is None else out
        for network in (state.network, state.discriminator):
            if network.backend != home:
                network.to(home)
        # The engine's commit and Ctrl-C contract (the GAN is not a BaseNetwork:
        # no predict, two networks; those two methods only need ``_state``).
        BaseNetwork._commit(self, self._fitted_attributes(state))
        tasks.end()
        if interrupted:
            BaseNetwork._reraise_interrupt(self, state)
        return self

    def _fitted_attributes(self, state):
        """Every fitted attribute of ``state``, by name (what the commit sets)."""
        out = state.attribute_backend
        encoding = {key: to_namespace(value, out) if key in _NAMESPACE_ATTRIBUTES else value
                    for key, value in state.encoding.items()}
        return dict(encoding, _state=state, generator_=state.network,
                    discriminator_=state.discriminator, history_=state.history,
                    n_iter_=state.n_iter, best_epoch_=state.best_epoch,
                    stop_reason_=state.stop_reason)

    def __sklearn_is_fitted__(self):
        return "_state" in vars(self)

    def _split(self, X, codes, rng):
        idx = np.arange(X.shape[0])
        train, val = train_test_split(idx, test_size=self.validation_fraction,
                                      random_state=rng, stratify=codes)
        if len(val) < 10:
            raise ValueError(
                f"The validation set is too small ({len(val)} samples; the two-sample test "
                "needs at least 10). Increase 'validation_fraction' or the size of your "
                "dataset.")
        return (take_rows(X, train), to_numpy(take_rows(X, val)),
                None if codes is None else codes[train], None if codes is None else codes[val])

    def _quality(self, io, X_val, codes_val, encoding, rng):
        """``quality(generator)``: C2ST of generated samples against ``X_val``,
        from the same noise (and the validation labels) at every epoch."""
        z = io.noise(X_val.shape[0], np.random.RandomState(rng.randint(2**31 - 1)))
        C = None if codes_val is None else io.backend.asarray(
            np.eye(io.n_classes)[codes_val], dtype=io.dtype)
        seed = int(rng.randint(2**31 - 1))
        data_min, data_max = to_numpy(encoding["data_min_"]), to_numpy(encoding["data_max_"])
        span = data_max - data_min

        def quality(generator):
            T = to_numpy(io.generate(generator, X_val.shape[0], C, z=z))
            return c2st_score(X_val, data_min + (T + 1) / 2 * span, random_state=seed)

        return quality

    # --------------------------------------------------------------- sample
    def sample(self, n_samples=1, y=None, random_state=None):
        """Generate samples (and, for a conditional model, their labels).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        y : array-like of shape (n_samples,) or a label, default=None
            Conditional models only: the class of each sample (one label is
            repeated ``n_samples`` times). None draws the labels from the
            training data's class frequencies (``class_prior_``).
        random_state : int, RandomState instance or None, default=None
            Draws the labels and the noise; None uses the estimator's
            ``random_state`` (as ``GaussianMixture.sample``: with an int, the
            same samples at every call). The estimator is not changed.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features) or (n_samples, ...)
            Generated samples in the training data's range and sample shape,
            in the compute dtype: NumPy, or, for a model fitted under
            scikit-learn's array-API dispatch, in the namespace and on the
            device of ``fit``'s input. They are generated on ``backend`` when
            set, else where such a model was fitted, else on
            ``sknets.get_config()["backend"]``.
        y_new : ndarray of shape (n_samples,)
            Conditional models only: the samples' class labels (numeric
            labels in ``X_new``'s namespace).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            If ``n_samples`` is not a positive int, ``y`` is given to an
            unconditional model, has another length than ``n_samples`` or
            holds labels not seen in ``fit``.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        conditional = hasattr(self, "classes_")
        codes = self._sample_codes(n_samples, y, rng) if conditional else None
        if not conditional and y is not None:
            raise ValueError("y was given, but this model was fitted without labels (an "
                             "unconditional GAN); fit(X, y) trains a conditional one.")
        backend = self._sample_backend()
        xp = backend.xp
        generator = self.generator_.placed(backend)
        n_classes = int(self.classes_.shape[0]) if conditional else 0
        span = to_numpy(self.data_max_) - to_numpy(self.data_min_)
        io = GANInputs(self.latent_dim, n_classes, self.input_shape_,
                       None if np.all(span > 0) else (span > 0), backend, self._state.dtype, rng)
        out = []
        for s in gen_batches(n_samples, SAMPLE_BATCH_ROWS):
            C = None if codes is None else backend.asarray(np.eye(n_classes)[codes[s]],
                                                           dtype=io.dtype)
            out.append(io.generate(generator, s.stop - s.start, C))
        X_new = self._unscale(out[0] if len(out) == 1 else xp.concat(out, axis=0), backend)
        if len(self.input_shape_) > 1:
            X_new = xp.reshape(X_new, (n_samples,) + tuple(self.input_shape_))
        home = self._state.attribute_backend   # None: NumPy
        X_new = to_namespace(X_new, home)
        if not conditional:
            return X_new
        return X_new, to_namespace(to_numpy(self.classes_)[codes], home)

    def _sample_backend(self):
        """Where ``sample`` generates: ``backend`` when set; else, for a model
        fitted under array-API dispatch, its input's namespace; else
        ``sknets.get_config()["backend"]``. A model loaded where its backend is
        unavailable (fitted with ``backend="cupy"``, loaded without CuPy)
        generates where its weights are, with a warning."""
        if self.backend is None and self._state.attribute_backend is not None:
            return self._state.attribute_backend
        try:
            return get_backend(self.backend)
        except (ImportError, RuntimeError) as exc:
            current = self.generator_.backend
            warnings.warn(f"{exc} Sampling with the {current.name!r} backend instead.",
                          UserWarning, stacklevel=3)
            return current

    def _sample_codes(self, n_samples, y, rng):
        classes = to_numpy(self.classes_)
        if y is None:
            return rng.choice(len(classes), size=n_samples, p=to_numpy(self.class_prior_))
        y = np.asarray(host_copy(y))
        if y.ndim == 0:
            y = np.repeat(y, n_samples)
        y = column_or_1d(y)
        if y.shape[0] != n_samples:
            raise ValueError(f"y has {y.shape[0]} labels but n_samples={n_samples}; give one "
                             "label per sample, or one label for all.")
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(f"y contains labels not seen in fit: {unknown.tolist()}; the "
                             f"classes are {classes.tolist()}.")
        return np.searchsorted(classes, y)

    def __getstate__(self):
        # A pickle holds NumPy arrays only, whatever namespace or device the
        # model was fitted on (the networks and the fitted state convert
        # their own): it loads and samples on a machine without CuPy.
        state = super().__getstate__()
        return {k: _to_numpy_tree(v) for k, v in state.items()}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.non_deterministic = False
        tags.array_api_support = True
        return tags
