"""Classification plumbing shared by the network classifiers.

:class:`NetworkClassifierMixin` turns a :class:`~sknets._base.BaseNetwork`
into a scikit-learn classifier: labels are encoded with a
:class:`~sklearn.preprocessing.LabelBinarizer` (one-hot for multiclass, one
column for binary, indicator rows for multilabel), the loss is softmax
cross-entropy (multiclass) or sigmoid cross-entropy (binary, multilabel), and
``predict``, ``predict_proba``, ``predict_log_proba``, ``partial_fit`` and
``score`` follow :class:`sklearn.neural_network.MLPClassifier`.

Used by :class:`~sknets.MLPClassifierScratch` and
:class:`~sknets.ConvNetClassifier`; the network estimator provides
``_validated_X(X)`` (validation at predict time) and may override
``_validate_X_y(X, y, reset)`` (validation at fit time).
"""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._dispatch import accepts_cupy, returns_input_namespace, validation_dtypes
from .backend import to_numpy
from .losses import SigmoidCrossEntropy, SoftmaxCrossEntropy, sigmoid


class NetworkClassifierMixin(ClassifierMixin):
    """Label encoding, loss choice and prediction methods of network classifiers.

    Put it before the network base class:
    ``class MyClassifier(NetworkClassifierMixin, BaseNetwork)``.
    """

    def _validate_X_y(self, X, y, reset):
        """Validate training ``X`` (2-D, dense or sparse) and ``y``."""
        return validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=validation_dtypes(X), reset=reset)

    def _validate_input(self, X, y, incremental, reset, classes=None):
        """Validate ``X, y``; encode ``y`` (a new encoding when ``reset``).

        A new encoding sets ``classes_`` and the label binarizer (from
        ``classes`` on a first ``partial_fit`` call); otherwise the labels
        are checked against ``classes_``.
        """
        if hasattr(self, "classes_"):   # encoded on the host; committed in fit's namespace
            self.classes_ = to_numpy(self.classes_)
        if incremental:
            if reset:   # the first call: the labels' type, then "classes must be passed..."
                check_classification_targets(to_numpy(y))
            _check_partial_fit_first_call(self, None if classes is None else to_numpy(classes))
        X, y = self._validate_X_y(X, y, reset)
        y = to_numpy(y)  # labels are encoded on the host
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)   # "Unknown label type: continuous..."
        if reset:
            multilabel = type_of_target(y).startswith("multilabel")
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if not incremental or multilabel else self.classes_)
            self.classes_ = self._label_binarizer.classes_
        if incremental or not reset:
            self._check_known_labels(y, incremental)
        # One class: trained as scikit-learn's MLPClassifier is (one sigmoid unit
        # whose target is 0 everywhere), and predicts that class.
        return X, self._label_binarizer.transform(y)

    def _check_known_labels(self, y, incremental):
        """A warm start needs the fitted classes; ``partial_fit`` labels among them."""
        classes = unique_labels(y)
        if not incremental:
            if set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {classes}"
                )
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {classes}."
            )

    def _encoding_names(self):
        return super()._encoding_names() + ("classes_", "_label_binarizer")

    def _make_loss(self, Y):
        if self._label_binarizer.y_type_ == "multiclass":
            return SoftmaxCrossEntropy()
        return SigmoidCrossEntropy()

    def _decode_targets(self, Y):
        return self._label_binarizer.inverse_transform(Y.ravel() if Y.shape[1] == 1 else Y)

    def _labels_from_output(self, out):
        if out.shape[1] == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def _score_from_output(self, out, y, sample_weight):
        return accuracy_score(y, self._labels_from_output(out), sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data (images too, for the networks that take them).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The labels (class labels, or a binary indicator matrix for multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss; None weighs every sample 1.
        classes : array of shape (n_classes,), default=None
            All classes across calls; required on the first call.

        Returns
        -------
        self : object
            The estimator, updated.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    score = accepts_cupy(ClassifierMixin.score)

    @returns_input_namespace
    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (indicator rows for multilabel).
        """
        check_is_fitted(self)
        return self._labels_from_output(self._forward_output(self._validated_X(X)))

    @returns_input_namespace
    def decision_function(self, X):
        """Logits of the output layer (the scores before softmax or sigmoid).

        scikit-learn's MLPClassifier has no ``decision_function``; this one
        makes the classifiers usable wherever scikit-learn expects scores
        (``roc_auc_score``, ``RocCurveDisplay``, calibration), without the
        rounding of probabilities that saturate at 0 or 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary problems, the logit of ``classes_[1]`` (positive means
            that class is predicted); otherwise one logit per class (softmax)
            or per label (multilabel).
        """
        check_is_fitted(self)
        z = self._forward_output(self._validated_X(X), fn=lambda xp, z: z)
        return z.ravel() if self.n_outputs_ == 1 else z

    @returns_input_namespace
    def predict_proba(self, X):
        """Class probabilities.

        Computed from the logits without losing a representable probability:
        for binary problems the probability of ``classes_[0]`` is
        ``sigmoid(-z)``, not ``1 - sigmoid(z)`` (which rounds to 0 once
        ``sigmoid(z)`` rounds to 1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``, in the compute dtype.
            Multilabel: the probability of each label. A model fitted on one
            class gives one column of ones.
        """
        check_is_fitted(self)
        return self._proba(self._validated_X(X))

    @returns_input_namespace
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities: ``log(predict_proba(X))``.

        As scikit-learn defines it, so the two agree exactly: equal values
        give equal logarithms (``argmax`` and ties are shared) and a
        probability that underflows to 0 gives ``-inf``. Every probability
        that the compute dtype can represent gives a finite value
        (:meth:`predict_proba` keeps them; see there).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))`` (``-inf`` where a probability underflows).
        """
        with np.errstate(divide="ignore"):
            return np.log(self._proba(self._validated_X(X)))

    def _proba(self, X):
        """:meth:`predict_proba` of validated ``X``, as NumPy."""
        if (len(self._label_binarizer.classes_) == 1
                and self._label_binarizer.y_type_ != "multilabel-indicator"):
            return np.ones((X.shape[0], 1), dtype=self._compute_dtype())
        if self.n_outputs_ == 1:
            return self._forward_output(
                X, fn=lambda xp, z: sigmoid(xp, xp.concat([-z, z], axis=1)))
        return self._forward_output(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
