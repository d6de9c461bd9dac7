"""``summary()``: a Keras-style table of a network estimator's layers."""

from numbers import Integral

from sklearn.utils.validation import check_is_fitted

from .network import Sequential, format_summary


class SummaryMixin:
    """``summary`` of the network estimators (a mixin of ``BaseNetwork``)."""

    def summary(self, input_shape=None, n_outputs=None, print_fn=print):
        """Print and return a table of the layers (Keras' ``model.summary()`` style).

        One row per layer: its description, one sample's output shape
        (``None`` stands for the batch axis) and its parameter count; then the
        total and trainable parameter counts and the memory the weights take.

        Parameters
        ----------
        input_shape : tuple of int or None, default=None
            One sample's input shape, e.g. ``(n_features,)``. Required for an
            unfitted estimator: the rows then come from the layers' plans
            (shapes and counts, nothing built or allocated: a network of
            billions of weights is described too; the estimator is left
            unchanged). A fitted estimator describes its own network when it
            is None.
        n_outputs : int or None, default=None
            Units of the output layer when building from ``input_shape``
            (e.g. the number of classes); default: the fitted ``n_outputs_``,
            else 1.
        print_fn : callable or None, default=print
            Called with the table; ``None`` only returns it.

        Returns
        -------
        table : str
            The table, as printed.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted and ``input_shape`` is None.
        ValueError
            If ``input_shape`` or ``n_outputs`` is not made of positive ints.
        """
        if input_shape is None:
            check_is_fitted(self, "_network")
            rows, shape = self._network.summary_rows(), self._network.input_shape_
        else:
            rows, shape = self._planned_rows(input_shape, n_outputs)
        text = format_summary(rows, shape, self._compute_dtype())
        if print_fn is not None:
            print_fn(text)
        return text

    def _planned_rows(self, input_shape, n_outputs=None):
        """The summary rows and input shape of the network this estimator would
        build for ``input_shape``, from the layers' plans: nothing is built or
        allocated, so a network too large to fit in memory is described too."""
        if isinstance(input_shape, Integral):
            input_shape = (input_shape,)
        shape = tuple(input_shape)
        if n_outputs is None:
            n_outputs = getattr(self, "n_outputs_", 1)
        if not shape or not all(isinstance(d, Integral) and d > 0 for d in shape + (n_outputs,)):
            raise ValueError(
                "summary() needs input_shape as a tuple of positive ints (one sample's "
                f"shape, no batch axis) and a positive int n_outputs; got "
                f"input_shape={input_shape!r}, n_outputs={n_outputs!r}."
            )
        if len(shape) == 1:
            shape = tuple(self._input_shape(int(shape[0])))
        layers = self._build_layers(shape, int(n_outputs))
        return Sequential(layers).summary_rows(shape), shape
