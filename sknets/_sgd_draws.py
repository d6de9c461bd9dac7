"""The random draws of scikit-learn's plain SGD, reproduced for the perceptron.

scikit-learn's ``Perceptron`` orders the samples of each epoch with its own
xorshift Fisher-Yates shuffle and draws its validation split and shuffling
seeds from ``random_state`` in a fixed sequence; doing the same here gives
the same sample order, hence the same weights, for the same
``random_state``.
"""

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state

#: scikit-learn's bound for the seeds it draws (``np.iinfo(np.int32).max``).
_MAX_INT = np.iinfo(np.int32).max


def sgd_shuffle_permutation(n, seed):
    """The permutation scikit-learn's SGD applies to the sample order each epoch.

    ``SequentialDataset.shuffle(seed)`` runs a Fisher-Yates shuffle driven by
    a 32-bit xorshift generator (``sklearn.utils._random.our_rand_r``) seeded
    with the same ``seed`` every epoch, so each epoch applies the same
    permutation to the previous epoch's order: ``order = order[perm]``.

    Parameters
    ----------
    n : int
        Number of samples.
    seed : int
        The ``seed`` scikit-learn passes to its plain SGD.

    Returns
    -------
    perm : ndarray of shape (n,), dtype intp
    """
    ind = list(range(n))
    s = int(seed) & 0xFFFFFFFF
    for i in range(n - 1):
        if s == 0:  # our_rand_r never runs from 0
            s = 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s % 2147483648) % (n - i)
        ind[i], ind[j] = ind[j], ind[i]
    return np.asarray(ind, dtype=np.intp)


def validation_split_and_seeds(y, sample_weight, n_problems, *, random_state,
                               early_stopping, validation_fraction):
    """The held-out mask and each problem's shuffling seed, drawn as scikit-learn
    draws them.

    Two classes (``n_problems == 1``, ``fit_binary``): ``make_dataset`` draws
    its own seed first, then the validation split, then the shuffling seed.
    More classes (``BaseSGDClassifier._fit_multiclass``): the split on the
    multiclass labels, then one seed per class
    (``random_state.randint(MAX_INT, size=n_classes)``), from which each
    binary problem draws as ``fit_binary`` does (``make_dataset``'s seed,
    then its shuffling seed).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The labels (the split is stratified on them).
    sample_weight : ndarray of shape (n_samples,)
    n_problems : int
        1 for two classes, else the number of classes.
    random_state : int, RandomState instance or None
        The estimator's ``random_state`` (an instance is drawn from, as
        scikit-learn draws from it).
    early_stopping : bool
    validation_fraction : float

    Returns
    -------
    validation_mask : ndarray of shape (n_samples,), dtype bool
        True on the held-out rows (none without early stopping).
    seeds : ndarray of shape (n_problems,), dtype int64
        The ``seed`` scikit-learn passes to its plain SGD for each problem.

    Raises
    ------
    ValueError
        If the held-out rows all have zero weight or a split is empty.
    """
    split = dict(random_state=random_state, early_stopping=early_stopping,
                 validation_fraction=validation_fraction)
    if n_problems == 1:
        rng = check_random_state(random_state)
        rng.randint(1, np.iinfo(np.int32).max)
        mask = _split_mask(y, sample_weight, **split)
        return mask, np.array([rng.randint(_MAX_INT)], dtype=np.int64)
    mask = _split_mask(y, sample_weight, **split)
    class_seeds = check_random_state(random_state).randint(_MAX_INT, size=n_problems)
    seeds = np.empty(n_problems, dtype=np.int64)
    for k, class_seed in enumerate(class_seeds):
        rng = check_random_state(class_seed)
        rng.randint(1, np.iinfo(np.int32).max)   # make_dataset's seed
        seeds[k] = rng.randint(_MAX_INT)
    return mask, seeds


def _split_mask(y, sample_weight, *, random_state, early_stopping, validation_fraction):
    """Boolean mask of the held-out rows (none without early stopping)."""
    n_samples = y.shape[0]
    mask = np.zeros(n_samples, dtype=bool)
    if not early_stopping:
        return mask
    cv = StratifiedShuffleSplit(test_size=validation_fraction, random_state=random_state)
    idx_train, idx_val = next(cv.split(np.zeros((n_samples, 1)), y))
    if not np.any(sample_weight[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a"
            " different random state."
        )
    if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
        raise ValueError(
            f"Splitting {n_samples} samples into a train set and a validation set with "
            f"validation_fraction={validation_fraction!r} led to an empty set "
            f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either "
            "change validation_fraction, increase number of samples, or disable "
            "early_stopping."
        )
    mask[idx_val] = True
    return mask
