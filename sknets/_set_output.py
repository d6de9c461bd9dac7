"""``set_output`` and ``get_feature_names_out`` for the estimators with ``transform``.

scikit-learn's own machinery, not a copy of it:
:class:`~sklearn.utils._set_output._SetOutputMixin` wraps the ``transform``
and ``fit_transform`` that a class defines in its own body, so that their
output follows ``set_output(transform=...)`` or, unset, the global
``sklearn.set_config(transform_output=...)``; and
:class:`~sklearn.base.ClassNamePrefixFeaturesOutMixin` names the features
``<lowercased class name>0 .. <n - 1>``, as :class:`~sklearn.decomposition.PCA`
names its components. :class:`FeatureNamesOutMixin` defines ``transform`` and
``fit_transform`` that hand over to the next class in the MRO (the
network's :class:`~sknets._features.NetworkFeaturesMixin`), so that
``_SetOutputMixin`` wraps them. Put it before that mixin::

    class BaseMLP(FeatureNamesOutMixin, NetworkFeaturesMixin, BaseNetwork): ...
"""

import math

from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils._set_output import _SetOutputMixin

from ._features import NetworkFeaturesMixin


class FeatureNamesOutMixin(ClassNamePrefixFeaturesOutMixin, _SetOutputMixin):
    """``set_output`` and ``get_feature_names_out`` of network estimators (a mixin).

    ``get_feature_names_out()`` gives ``["<name>0", ..., "<name><n-1>"]`` for
    the ``n`` features of :meth:`transform` (the last hidden layer's units),
    e.g. ``mlpclassifierscratch0``; ``set_output(transform="pandas")`` (or
    ``"polars"``) makes :meth:`transform` and :meth:`fit_transform` return a
    DataFrame with these columns and the input's index.
    """

    def transform(self, X):
        return super().transform(X)

    transform.__doc__ = NetworkFeaturesMixin.transform.__doc__

    def fit_transform(self, X, y, **fit_params):
        return super().fit_transform(X, y, **fit_params)

    fit_transform.__doc__ = NetworkFeaturesMixin.fit_transform.__doc__

    @property
    def _n_features_out(self):
        """Number of :meth:`transform` features: the output layer's input size
        (an ``AttributeError`` before fit, which ``check_is_fitted`` reads as
        not fitted)."""
        return math.prod(self._network.layers[-1].input_shape_)
