"""Shared numpydoc text of the network estimators' parameters and attributes.

The MLPs, the ConvNet and the layer-list networks take the same training
parameters (scikit-learn's ``MLPClassifier`` names) and set the same fitted
attributes; their docstrings are filled from here so the text is written once.
"""

_HIDDEN_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
"""

_EXTRA_PARAMS_DOC = """
    dropout : float in [0, 1), default=0.0
        Dropout rate after each hidden dense layer's activation (a
        :class:`~sknets.layers.Dropout` layer; inverted dropout, active in
        training only). 0 adds none.

    batch_normalization : bool, default=False
        Insert :class:`~sknets.layers.BatchNormalization` between each hidden
        layer's weights and its activation (Ioffe & Szegedy, 2015).
"""

_TRAINING_PARAMS_DOC = """
    solver : {"lbfgs", "sgd", "adam", "adagrad", "rmsprop"}, default="adam"
        Weight optimizer: L-BFGS-B through :func:`scipy.optimize.minimize`,
        stochastic gradient descent (with momentum), Adam (Kingma & Ba, 2015),
        or AdaGrad (Duchi et al., 2011) and RMSprop (Tieleman & Hinton, 2012)
        as the book "Deep Learning from Scratch" writes them
        (``common/optimizer.py``: ``h += g*g`` or ``h = 0.99 h + 0.01 g*g``,
        then ``w -= lr g / (sqrt(h) + 1e-7)``; see
        :class:`sknets.optimizers.AdaGrad`, :class:`sknets.optimizers.RMSprop`).

    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases), divided by
        the number (or total weight) of samples in each batch.

    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``. Ignored by lbfgs.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule for ``solver="sgd"`` (scikit-learn's meanings).

    learning_rate_init : float, default=0.001
        Initial step size (the stochastic solvers). The book uses 0.01 for
        adagrad and rmsprop, which train slowly at 0.001.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Shuffle the samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the validation split.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress.

    verbose : bool or int, default=False
        Print a table of epochs (epoch, losses, score, learning rate, seconds)
        under a legend of its columns: with 1 (or True) every epoch of a fit
        of up to 20 epochs, else the first 10, one every ``ceil(max_iter /
        20)``, each new best validation score and the last; with 2 or more
        every epoch.

    warm_start : bool, default=False
        Continue from the previous fit's weights (the optimizer starts anew,
        as in scikit-learn). A change of a parameter that changes
        the network (its layers, sizes, activation, dropout, batch
        normalization, dtype or backend) is refused with a ``ValueError``.

    momentum : float, default=0.9
        Momentum of SGD, in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with SGD.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score
        does not improve by ``tol`` for ``n_iter_no_change`` epochs; the best
        weights seen on it are restored at the end. An epoch that makes the
        loss or the weights non-finite after a finite validation score is
        recorded (``nan`` score) and ends training with a
        ``ConvergenceWarning`` instead of
        :class:`~sknets.exceptions.DivergenceError` (scikit-learn's MLP
        records ``nan`` scores and trains on until ``n_iter_no_change`` or
        ``max_iter`` stops it).

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates.

    epsilon : float, default=1e-8
        Adam's numerical stability term.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping (stochastic solvers).

    max_fun : int, default=15000
        Maximum number of loss evaluations (lbfgs).

    backend : {"numpy", "numba", "cupy", "auto"} or None, default=None
        Array backend; ``None`` uses ``sknets.get_config()["backend"]``.
        ``"numba"``: NumPy arrays with compiled CPU kernels for convolution,
        pooling and the optimizer steps (``pip install "sknets[fast]"``; the
        same results as ``"numpy"``, compiled once per machine);
        ``"cupy"``: a CUDA GPU; ``"auto"``: CuPy when a GPU is usable, else
        NumPy.

    dtype : {"float32", "float64"} or None, default=None
        Floating type of the computation, the fitted weights and the outputs
        (``predict_proba``, ``decision_function``, regression predictions).
        ``None`` follows the training input, as scikit-learn does: float32 data
        is computed in float32, float64 data in float64, and everything else
        (integers, booleans, uint8 images, lists) is converted to float64.
        ``"float32"`` forces the faster single precision (about twice the
        speed of float64 on a CPU; the usual choice on a GPU), ``"float64"``
        the double precision in which sknets reproduces scikit-learn's
        weights to the last digits.
"""

#: the MLPs' and the ConvNet's parameters (the ConvNet's own come first)
_SHARED_PARAMS_DOC = "\n".join(
    [_HIDDEN_PARAMS_DOC.rstrip("\n"), _TRAINING_PARAMS_DOC.rstrip("\n"), _EXTRA_PARAMS_DOC])

_SHARED_ATTRS_DOC = """
    loss_ : float
        The loss (with the L2 term) at the end of the last epoch.

    best_loss_ : float or None
        Minimum training loss seen (None with early stopping).

    loss_curve_ : list of float
        Training loss at the end of each epoch (each iteration for lbfgs).

    validation_scores_ : list of float or None
        Validation score per epoch with ``early_stopping=True``.

    best_validation_score_ : float or None
        Best validation score with ``early_stopping=True``.

    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with early stopping), ``learning_rate``, ``dur`` (s),
        and ``train_loss_best`` etc. flags (best value so far). For lbfgs, one
        record per iteration with ``epoch`` (the iteration), ``train_loss``
        and ``dur``.

    best_epoch_ : int or None
        With early stopping, the epoch of the best validation score, whose
        weights the model holds; otherwise the epoch of the lowest training
        loss. None for lbfgs.

    stop_reason_ : str
        Why training stopped (no improvement, max_iter, a callback, Ctrl-C,
        or L-BFGS' message).

    t_ : int
        Number of training samples seen by the optimizer.

    coefs_ : list of ndarray of shape (n_units_in, n_units_out)
        Weight matrix of each layer, as NumPy arrays.

    intercepts_ : list of ndarray of shape (n_units_out,)
        Bias vector of each layer, as NumPy arrays.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features,)
        Feature names seen during fit (only when X has string column names).

    n_iter_ : int
        Number of epochs (iterations for lbfgs) run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Output activation.
"""


def _fill_doc(cls):
    # the placeholders stand indented in the template: the shared text's first
    # line comes without its own indentation
    cls.__doc__ = cls.__doc__.replace("%(params)s", _SHARED_PARAMS_DOC.strip()).replace(
        "%(attrs)s", _SHARED_ATTRS_DOC.strip())
    return cls
