"""Plots of trained networks, as scikit-learn-style Display objects.

Each Display holds the numbers to draw; ``from_estimator`` reads them from a
fitted estimator and calls :meth:`plot`, which draws on ``ax`` (a new figure
if None) and sets ``ax_`` and ``figure_``, like
:class:`sklearn.metrics.RocCurveDisplay`. Decision boundaries are drawn by
scikit-learn's own :class:`sklearn.inspection.DecisionBoundaryDisplay`.

matplotlib is an optional dependency: ``pip install "sknets[plot]"``.

Examples
--------
>>> from sknets.plotting import LossCurveDisplay       # doctest: +SKIP
>>> disp = LossCurveDisplay.from_estimator(clf)          # doctest: +SKIP
>>> disp.figure_.savefig("loss.png")                     # doctest: +SKIP
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["FilterDisplay", "LossCurveDisplay"]


def _pyplot():
    """matplotlib.pyplot, imported on first use."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'sknets.plotting needs matplotlib: pip install "sknets[plot]"'
        ) from exc
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


class LossCurveDisplay:
    """Training and validation loss per epoch, with the best epoch marked.

    Parameters
    ----------
    train_loss : array-like of shape (n_epochs,)
        Training loss of each epoch.
    valid_loss : array-like of shape (n_epochs,) or None, default=None
        Validation loss of each epoch (with ``early_stopping=True``).
    epochs : array-like of shape (n_epochs,) or None, default=None
        Epoch numbers; default ``1 .. n_epochs``.
    best_epoch : int or None, default=None
        Epoch to mark (the one whose weights the model keeps).
    estimator_name : str or None, default=None
        Used in the title.
    xlabel : str, default="epoch"
        Label of the x axis ("iteration" for L-BFGS).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    train_line_, valid_line_ : matplotlib Line2D (``valid_line_`` may be None)
    best_line_ : matplotlib Line2D or None
        The vertical line at ``best_epoch``.
    """

    def __init__(self, *, train_loss, valid_loss=None, epochs=None, best_epoch=None,
                 estimator_name=None, xlabel="epoch"):
        self.train_loss = np.asarray(train_loss, dtype=float)
        self.valid_loss = None if valid_loss is None else np.asarray(valid_loss, dtype=float)
        self.epochs = (np.arange(1, len(self.train_loss) + 1) if epochs is None
                       else np.asarray(epochs))
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name
        self.xlabel = xlabel

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **plot_kwargs):
        """Plot the loss curves recorded by a fitted sknets estimator.

        Parameters
        ----------
        estimator : fitted sknets estimator (or a Pipeline ending in one)
            The estimator whose ``history_`` is drawn.
            Reads ``history_`` (``loss_curve_`` for L-BFGS) and ``best_epoch_``.
        ax : matplotlib Axes or None, default=None
            Where to draw; None makes a new figure.
            Where to draw; a new figure if None.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If it recorded no loss.
        """
        if hasattr(estimator, "steps"):      # a Pipeline: its final estimator
            estimator = estimator.steps[-1][1]
        check_is_fitted(estimator)
        history = getattr(estimator, "history_", None) or []
        name = type(estimator).__name__
        if getattr(estimator, "solver", None) == "lbfgs":
            history = []   # its records are iterations: plotted from loss_curve_
        if history:
            valid = ([h["valid_loss"] for h in history]
                     if all("valid_loss" in h for h in history) else None)
            disp = cls(train_loss=[h["train_loss"] for h in history], valid_loss=valid,
                       epochs=[h["epoch"] for h in history],
                       best_epoch=getattr(estimator, "best_epoch_", None),
                       estimator_name=name)
        else:
            curve = getattr(estimator, "loss_curve_", None)
            if not curve:
                raise ValueError(f"{name} recorded no loss curve to plot.")
            disp = cls(train_loss=curve, estimator_name=name, xlabel="iteration")
        return disp.plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, log_scale=False, train_kw=None, valid_kw=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; None makes a new figure.
        log_scale : bool, default=False
            Logarithmic loss axis.
        train_kw, valid_kw : dict or None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for each curve.

        Returns
        -------
        self : LossCurveDisplay
            The display, with ``ax_`` and ``figure_`` set.
        """
        ax = _axes(ax)
        self.train_line_, = ax.plot(self.epochs, self.train_loss,
                                    **{"label": "train loss", **(train_kw or {})})
        self.valid_line_ = None
        if self.valid_loss is not None:
            self.valid_line_, = ax.plot(self.epochs, self.valid_loss,
                                        **{"label": "validation loss", **(valid_kw or {})})
        self.best_line_ = None
        if self.best_epoch is not None:
            self.best_line_ = ax.axvline(self.best_epoch, color="gray", linestyle="--",
                                         label=f"best epoch ({self.best_epoch})")
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("loss")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class FilterDisplay:
    """The kernels of a convolution layer, as a grid of small images.

    The filters are tiled into one image (one tile per filter, separated by a
    blank line) drawn with a single ``imshow`` on ``ax``. Each filter is
    scaled to ``[0, 1]`` on its own. One-channel kernels are drawn with
    ``cmap``, three-channel kernels as RGB, others as their channel mean.

    Parameters
    ----------
    filters : ndarray of shape (kh, kw, in_channels, n_filters)
        Kernels in channels-last layout (``ConvNetClassifier.coefs_[0]``).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    image_ : matplotlib AxesImage
    mosaic_ : ndarray
        The tiled image that was drawn.
    """

    def __init__(self, *, filters):
        filters = np.asarray(filters, dtype=float)
        if filters.ndim != 4:
            raise ValueError(
                "filters must have shape (kh, kw, in_channels, n_filters), got "
                f"{filters.shape}."
            )
        self.filters = filters

    @classmethod
    def from_estimator(cls, estimator, *, layer=0, ax=None, **plot_kwargs):
        """Plot the kernels of a fitted ConvNet's convolution layer.

        Parameters
        ----------
        estimator : fitted ConvNetClassifier (or a Pipeline ending in one)
            The network whose convolution kernels are drawn.
        layer : int, default=0
            Which convolution layer (0: the first one).
        ax : matplotlib Axes or None, default=None
            Where to draw; None makes a new figure.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FilterDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If it has no such convolution layer.
        """
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        check_is_fitted(estimator)
        kernels = [W for W in getattr(estimator, "coefs_", []) if np.ndim(W) == 4]
        if layer >= len(kernels):
            raise ValueError(
                f"{type(estimator).__name__} has {len(kernels)} convolution layer(s); "
                f"layer={layer} does not exist."
            )
        return cls(filters=kernels[layer]).plot(ax=ax, **plot_kwargs)

    def _mosaic(self, n_cols):
        kh, kw, c_in, n = self.filters.shape
        f = self.filters
        if c_in not in (1, 3):
            f = f.mean(axis=2, keepdims=True)
        lo = f.min(axis=(0, 1, 2), keepdims=True)
        span = f.max(axis=(0, 1, 2), keepdims=True) - lo
        f = (f - lo) / np.where(span > 0, span, 1.0)
        n_cols = n_cols or int(np.ceil(np.sqrt(n)))
        n_rows = int(np.ceil(n / n_cols))
        channels = f.shape[2]
        mosaic = np.full((n_rows * (kh + 1) - 1, n_cols * (kw + 1) - 1, channels), np.nan)
        for i in range(n):
            r, c = divmod(i, n_cols)
            mosaic[r * (kh + 1):r * (kh + 1) + kh, c * (kw + 1):c * (kw + 1) + kw] = f[..., i]
        if channels == 1:
            return mosaic[..., 0]
        # RGB: blank separators white (imshow does not mask NaN in RGB)
        return np.where(np.isnan(mosaic), 1.0, mosaic)

    def plot(self, ax=None, *, cmap="gray", n_cols=None, title=None):
        """Draw the filters.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; None makes a new figure.
        cmap : str, default="gray"
            Colour map of one-channel kernels.
        n_cols : int or None, default=None
            Filters per row; default about ``sqrt(n_filters)``.
        title : str or None, default=None
            Default: ``"n_filters filters kh x kw"``.

        Returns
        -------
        self : FilterDisplay
            The display, with ``ax_`` and ``figure_`` set.
        """
        ax = _axes(ax)
        self.mosaic_ = self._mosaic(n_cols)
        self.image_ = ax.imshow(self.mosaic_, cmap=cmap, interpolation="nearest")
        ax.set_axis_off()
        kh, kw, _, n = self.filters.shape
        ax.set_title(title if title is not None else f"{n} filters {kh}x{kw}")
        self.ax_, self.figure_ = ax, ax.figure
        return self
