"""What a fitted network offers beyond its predictions: features and layers.

:class:`NetworkFeaturesMixin` gives the network estimators (the MLPs, the
ConvNet, the layer-list networks):

- :meth:`~NetworkFeaturesMixin.transform`: the activations of the last
  hidden layer, features for a downstream scikit-learn model (as a step of a
  :class:`~sklearn.pipeline.Pipeline`);
- :meth:`~NetworkFeaturesMixin.feature_layers`: the fitted hidden layers as
  layer specifications that carry their weights, frozen or not, to seed a new
  network (transfer learning, as Keras' ``trainable = False`` base).
"""

from sklearn.base import clone
from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted

from ._dispatch import returns_input_namespace


class NetworkFeaturesMixin:
    """``transform`` and ``feature_layers`` of network estimators (a mixin)."""

    @returns_input_namespace
    def transform(self, X):
        """Activations of the last hidden layer: the features the output layer sees.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            As for :meth:`predict` (images too, for the networks that take them).

        Returns
        -------
        features : ndarray of shape (n_samples, n_hidden)
            In the compute dtype; ``n_hidden`` is the input size of the output
            layer (the last hidden layer's units). Computed in mini-batches,
            in inference mode (no dropout, batch normalization with its moving
            statistics). A network without hidden layers returns its input.
        """
        check_is_fitted(self)
        return self._forward_output(self._validated_X(X), fn=lambda xp, z: z, stop=-1)

    def fit_transform(self, X, y, **fit_params):
        """Fit to ``X, y``, then return :meth:`transform` of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        **fit_params : dict
            Passed to ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        features : ndarray of shape (n_samples, n_hidden)
        """
        return self.fit(X, y, **fit_params).transform(X)

    def feature_layers(self, trainable=False):
        """The fitted hidden layers, as specifications that carry their weights.

        Every layer but the output layer, cloned (its hyper-parameters) with
        its fitted weights (``weights=``, NumPy copies) and ``trainable`` set,
        ready to seed a new network, e.g.
        ``NeuralNetClassifier(layers=[*base.feature_layers(), Dense(32),
        Activation("relu")])``: the new network starts from these weights and,
        with ``trainable=False``, keeps them as they are while its new layers
        train (transfer learning).

        Parameters
        ----------
        trainable : bool, default=False
            False freezes the returned layers that have weights (Keras'
            ``trainable = False``: a frozen batch normalization also keeps its
            moving statistics and normalises with them); True lets them be
            fine-tuned.

        Returns
        -------
        layers : list of Layer
            Unbuilt layer specifications, independent of this estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self)
        specs = []
        for layer in self._network.layers[:-1]:
            spec = clone(layer)
            if "weights" in spec.get_params(deep=False):
                spec.set_params(weights=layer.get_weights(), trainable=bool(trainable))
            specs.append(spec)
        return specs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform's output is in the compute dtype, which follows the input.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        return tags
