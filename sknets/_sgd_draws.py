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


def validation_split_and_seed(est, y, sample_weight, n_outputs):
    """The held-out mask and the shuffling seed, drawn as scikit-learn draws them.

    ``est`` is the perceptron (its ``random_state``, ``early_stopping`` and
    ``validation_fraction``); ``n_outputs`` is 1 for two classes, else the
    number of one-vs-rest problems.
    """
    rng = check_random_state(est.random_state)
    if n_outputs == 1:
        # fit_binary: make_dataset draws its own seed first, then the split,
        # then the shuffling seed.
        rng.randint(1, np.iinfo(np.int32).max)
        mask = _validation_mask(est, y, sample_weight)
        return mask, int(rng.randint(_MAX_INT))
    # one-vs-rest: the split, then one seed per problem; the shared order is
    # that of the first problem.
    mask = _validation_mask(est, y, sample_weight)
    rng = check_random_state(est.random_state)
    seeds = rng.randint(_MAX_INT, size=n_outputs)
    first = check_random_state(seeds[0])
    first.randint(1, np.iinfo(np.int32).max)
    return mask, int(first.randint(_MAX_INT))


def _validation_mask(est, y, sample_weight):
    """Boolean mask of the held-out rows (none without early stopping)."""
    n_samples = y.shape[0]
    mask = np.zeros(n_samples, dtype=bool)
    if not est.early_stopping:
        return mask
    cv = StratifiedShuffleSplit(test_size=est.validation_fraction,
                                random_state=est.random_state)
    idx_train, idx_val = next(cv.split(np.zeros((n_samples, 1)), y))
    if not np.any(sample_weight[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a"
            " different random state."
        )
    if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
        raise ValueError(
            f"Splitting {n_samples} samples into a train set and a validation set with "
            f"validation_fraction={est.validation_fraction!r} led to an empty set "
            f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either "
            "change validation_fraction, increase number of samples, or disable "
            "early_stopping."
        )
    mask[idx_val] = True
    return mask
