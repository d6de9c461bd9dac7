"""Quality measures of generated samples, built on scikit-learn.

A generative model (:class:`~sknets.GenerativeAdversarialNetwork`) is judged
by comparing its samples with real ones that it did not train on:

- :func:`c2st_score`: the classifier two-sample test [1]_. A classifier
  learns to tell real samples from generated ones; its held-out accuracy is
  0.5 when it cannot (the two samples look alike to it) and 1.0 when it
  always can.
- :func:`precision_recall_knn`: the improved precision and recall of
  Kynkaanniemi et al. [2]_. Precision is the share of generated samples that
  fall inside the real data's manifold (how realistic they are), recall the
  share of real samples inside the generated data's manifold (how much of
  the data the model covers); each manifold is the union of the balls
  around its samples that reach their ``n_neighbors``-th nearest neighbour.

Both take flat rows ``(n_samples, n_features)``; samples of any other shape
(e.g. images ``(n_samples, height, width, channels)``) are flattened first.

References
----------
.. [1] D. Lopez-Paz and M. Oquab, "Revisiting classifier two-sample tests",
   ICLR 2017.
.. [2] T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila,
   "Improved precision and recall metric for assessing generative models",
   NeurIPS 2019.
.. [3] Q. Xu, G. Huang, Y. Yuan, C. Guo, Y. Sun, F. Wu and K. Weinberger,
   "An empirical study on evaluation metrics of generative adversarial
   networks", arXiv:1806.07755, 2018 (the 1-nearest-neighbour two-sample
   test as a GAN measure).
"""

from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.metrics import pairwise_distances_chunked
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils import check_array, check_random_state

__all__ = ["c2st_score", "precision_recall_knn"]


def _two_samples(X_real, X_fake, min_rows):
    """Both samples as float 2-D arrays with the same number of features."""
    arrays = []
    for name, X in (("X_real", X_real), ("X_fake", X_fake)):
        X = np.asarray(X) if not hasattr(X, "shape") else X
        if getattr(X, "ndim", 2) > 2:
            X = np.reshape(np.asarray(X), (X.shape[0], -1))
        X = check_array(X, dtype=(np.float64, np.float32), input_name=name)
        if X.shape[0] < min_rows:
            raise ValueError(f"{name} has {X.shape[0]} samples; at least {min_rows} are "
                             "needed.")
        arrays.append(X)
    if arrays[0].shape[1] != arrays[1].shape[1]:
        raise ValueError(f"X_real has {arrays[0].shape[1]} features per sample but X_fake has "
                         f"{arrays[1].shape[1]}.")
    return arrays


def c2st_score(X_real, X_fake, *, classifier=None, cv=5, random_state=None):
    """Classifier two-sample test: how well a classifier tells real from fake.

    The larger sample is subsampled (without replacement) to the size of the
    smaller, the real rows are labelled 1 and the generated rows 0, and the
    score is the mean accuracy of ``classifier`` over a stratified, shuffled
    ``cv``-fold cross-validation [1]_. Pass real samples the generator did
    not train on: a model that copies its training data then scores 1.0
    with the default classifier, not 0.5.

    Parameters
    ----------
    X_real : array-like of shape (n_real, n_features) or (n_real, ...)
        Real samples, held out from the generator's training.
    X_fake : array-like of shape (n_fake, n_features) or (n_fake, ...)
        Generated samples (e.g. ``GenerativeAdversarialNetwork.sample``).
    classifier : classifier or None, default=None
        A scikit-learn classifier, cloned for each fold. None means
        ``KNeighborsClassifier(n_neighbors=1)``: the 1-nearest-neighbour
        two-sample test, which Xu et al. [3]_ found to detect mode dropping,
        mode collapse and memorisation among GAN measures, and which costs
        one distance matrix.
    cv : int, default=5
        Number of folds (at least 2).
    random_state : int, RandomState instance or None, default=None
        Draws the subsample and shuffles the folds.

    Returns
    -------
    score : float
        Held-out accuracy in [0, 1]: about 0.5 when the generated samples
        cannot be told from real ones, 1.0 when they always can. (Values
        below 0.5 are noise, or fakes that sit closer to the real samples
        than the real samples sit to each other.)

    Raises
    ------
    ValueError
        If the samples have different numbers of features, contain NaN or
        infinity, or have fewer than ``cv`` rows; if ``cv`` is not an int of
        at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> from sknets.metrics import c2st_score
    >>> rng = np.random.RandomState(0)
    >>> real, same, far = rng.normal(size=(3, 400, 2))
    >>> round(c2st_score(real, same, random_state=0), 1)
    0.5
    >>> c2st_score(real, far + 10, random_state=0)
    1.0
    """
    if not isinstance(cv, Integral) or isinstance(cv, bool) or cv < 2:
        raise ValueError(f"cv must be an int of at least 2, got {cv!r}.")
    X_real, X_fake = _two_samples(X_real, X_fake, min_rows=cv)
    rng = check_random_state(random_state)
    n = min(X_real.shape[0], X_fake.shape[0])
    real = X_real[rng.choice(X_real.shape[0], n, replace=False)] if X_real.shape[0] > n else X_real
    fake = X_fake[rng.choice(X_fake.shape[0], n, replace=False)] if X_fake.shape[0] > n else X_fake
    X = np.concatenate([real, fake.astype(real.dtype, copy=False)], axis=0)
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    # sklearn.neighbors (and what it imports) loads on first use, not with sknets
    from sklearn.neighbors import KNeighborsClassifier

    est = KNeighborsClassifier(n_neighbors=1) if classifier is None else clone(classifier)
    folds = StratifiedKFold(n_splits=cv, shuffle=True,
                            random_state=rng.randint(np.iinfo(np.int32).max))
    return float(np.mean(cross_val_score(est, X, y, cv=folds, scoring="accuracy")))


def _radii(X, k):
    """Distance from each row of ``X`` to its ``k``-th nearest other row."""
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors()
    return dist[:, -1]


def _inside(points, centres, radii):
    """For each row of ``points``: is it within ``radii[j]`` of some ``centres[j]``?"""
    found = []
    for block in pairwise_distances_chunked(points, centres):
        found.append(np.any(block <= radii[None, :], axis=1))
    return np.concatenate(found)


def precision_recall_knn(X_real, X_fake, *, n_neighbors=3):
    """Improved precision and recall of generated samples (Kynkaanniemi et al.).

    Each sample set spans a manifold estimate: the union of balls centred on
    its samples, each reaching the centre's ``n_neighbors``-th nearest
    neighbour within the same set [2]_. Precision is the share of generated
    samples inside the real manifold, recall the share of real samples inside
    the generated manifold. Distances are Euclidean on the given features
    (the paper uses a pretrained network's embedding of images; on small
    data such as 8x8 digits the pixels themselves serve).

    Parameters
    ----------
    X_real : array-like of shape (n_real, n_features) or (n_real, ...)
        Real samples, preferably held out from the generator's training.
    X_fake : array-like of shape (n_fake, n_features) or (n_fake, ...)
        Generated samples. Use sets of similar sizes: a manifold estimated
        from fewer samples has larger balls.
    n_neighbors : int, default=3
        The ``k`` of the k-nearest-neighbour radii (the paper's choice).

    Returns
    -------
    precision : float
        Share of ``X_fake`` within the real manifold, in [0, 1].
    recall : float
        Share of ``X_real`` within the generated manifold, in [0, 1].

    Raises
    ------
    ValueError
        If the samples have different numbers of features, contain NaN or
        infinity, or either has ``n_neighbors`` rows or fewer; if
        ``n_neighbors`` is not a positive int.

    Examples
    --------
    >>> import numpy as np
    >>> from sknets.metrics import precision_recall_knn
    >>> rng = np.random.RandomState(0)
    >>> real, fake = rng.normal(size=(2, 500, 2))
    >>> [round(v, 1) for v in precision_recall_knn(real, fake)]
    [1.0, 1.0]
    >>> precision_recall_knn(real, fake + 10)
    (0.0, 0.0)
    """
    if not isinstance(n_neighbors, Integral) or isinstance(n_neighbors, bool) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive int, got {n_neighbors!r}.")
    X_real, X_fake = _two_samples(X_real, X_fake, min_rows=n_neighbors + 1)
    X_fake = X_fake.astype(X_real.dtype, copy=False)
    precision = float(np.mean(_inside(X_fake, X_real, _radii(X_real, n_neighbors))))
    recall = float(np.mean(_inside(X_real, X_fake, _radii(X_fake, n_neighbors))))
    return precision, recall
