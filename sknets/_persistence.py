"""Versioned pickles: a saved estimator remembers the sknets version that saved it.

scikit-learn stores ``_sklearn_version`` in the pickles of its own estimators
and warns with :class:`~sklearn.exceptions.InconsistentVersionWarning` when
one is loaded under another version; it does so only for classes in
``sklearn.*``. :class:`VersionedPickleMixin` does the same for sknets: the
state (``__getstate__``, what :mod:`pickle`, :mod:`joblib`, :func:`copy.deepcopy`
and ``skops.io`` save) holds ``_sknets_version``, and loading a state saved
by another version, or by one before versioned pickles, warns with
:class:`InconsistentSknetsVersionWarning` (a subclass, so filters on
scikit-learn's warning catch it too).
"""

import inspect
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import InconsistentVersionWarning

#: the state key holding the version that saved it.
VERSION_KEY = "_sknets_version"

#: what a state without ``VERSION_KEY`` was saved by.
UNVERSIONED = "unknown (a version before versioned pickles)"


def _current_version():
    import sknets  # at call time: this module is imported while sknets is

    return sknets.__version__


class InconsistentSknetsVersionWarning(InconsistentVersionWarning):
    """An sknets estimator is loaded under another sknets version than the
    one that saved it.

    Parameters
    ----------
    estimator_name : str
        The estimator's class name.
    current_sknets_version : str
        The running sknets version.
    original_sknets_version : str
        The version that saved it.

    Notes
    -----
    The base class's ``current_sklearn_version`` and
    ``original_sklearn_version`` hold the same sknets versions, so handlers
    written for :class:`~sklearn.exceptions.InconsistentVersionWarning` read
    the versions that matter here.
    """

    def __init__(self, *, estimator_name, current_sknets_version, original_sknets_version):
        super().__init__(estimator_name=estimator_name,
                         current_sklearn_version=current_sknets_version,
                         original_sklearn_version=original_sknets_version)
        self.current_sknets_version = current_sknets_version
        self.original_sknets_version = original_sknets_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sknets version "
            f"{self.original_sknets_version} when using sknets version "
            f"{self.current_sknets_version}. Its fitted state may not match this version's "
            "code: predictions may be wrong or fail. Refit it, or load it with the version "
            "that saved it. See 'Saving models' in sknets' README."
        )


class VersionedPickleMixin:
    """Store the sknets version in the pickled state; warn on loading another one.

    Put it first among the bases of an estimator (before the class whose
    ``__getstate__`` builds the state).
    """

    def __getstate__(self):
        state = super().__getstate__()
        return {**state, VERSION_KEY: _current_version()}

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop(VERSION_KEY, UNVERSIONED)
        current = _current_version()
        if saved != current:
            warnings.warn(InconsistentSknetsVersionWarning(
                estimator_name=type(self).__name__, current_sknets_version=current,
                original_sknets_version=saved), stacklevel=2)
        super().__setstate__(state)


# ------------------------------------------------------------ portable states
# The states of the objects inside a fitted estimator (layers, the network,
# the fitted state) hold names and arrays, no library objects: the backend by
# its name, a dtype by its name. pickle needs none of this, but skops.io
# rebuilds only the types it is told to trust, and a NumPy dtype object or a
# backend (which holds a module) would be types beyond sknets' own.

def portable(state):
    """``state`` (a ``__getstate__`` dict) with ``backend`` and ``dtype`` as names."""
    from .backend import Backend

    state = dict(state)
    if isinstance(state.get("backend"), Backend):
        state["backend"] = "numpy"   # a pickle holds NumPy arrays, whatever fitted it
    if isinstance(state.get("dtype"), np.dtype):
        state["dtype"] = state["dtype"].name
    return state


def restored(state):
    """The inverse of :func:`portable`, for ``__setstate__`` (a state saved
    before, with the objects themselves, is returned as it is)."""
    from .backend import get_backend

    state = dict(state)
    if isinstance(state.get("backend"), str):
        state["backend"] = get_backend(state["backend"])
    if isinstance(state.get("dtype"), str):
        state["dtype"] = np.dtype(state["dtype"])
    return state


# ------------------------------------------------------------------ skops.io
def _subclasses(cls):
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


def trusted_types():
    """The names of sknets' own types a saved sknets model holds, for skops.io.

    ``skops.io.load(file, trusted=sknets.trusted_types())`` loads a file whose
    types are all in this list (plus the NumPy, SciPy and scikit-learn types
    skops trusts by default, e.g. a ``Pipeline`` around the network) and
    refuses one that holds anything else, such as a custom layer class: list
    a file's types with ``skops.io.get_untrusted_types(file=...)`` and check
    those that are not here before adding them.

    Returns
    -------
    names : list of str
        ``"module.Class"`` of every estimator, layer, loss and optimizer class
        of sknets, the network (``sknets.network.Sequential``) and the fitted
        state (``sknets.training.state.FitState``), sorted.

    Examples
    --------
    >>> import skops.io as sio
    >>> from sklearn.datasets import load_iris
    >>> import sknets
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = sknets.MLPClassifierScratch((8,), max_iter=300, random_state=0).fit(X, y)
    >>> blob = sio.dumps(clf)
    >>> set(sio.get_untrusted_types(data=blob)) <= set(sknets.trusted_types())
    True
    >>> loaded = sio.loads(blob, trusted=sknets.trusted_types())
    >>> bool((loaded.predict(X) == clf.predict(X)).all())
    True
    """
    import sknets

    from ._base import BaseNetwork
    from .layers import Layer
    from .losses import Loss
    from .network import Sequential
    from .optimizers import BaseOptimizer
    from .training.state import FitState

    classes = {Sequential, FitState}
    classes |= {getattr(sknets, name) for name in sknets.__all__
                if isinstance(getattr(sknets, name), type)
                and issubclass(getattr(sknets, name), BaseEstimator)}
    for base in (BaseNetwork, Layer, Loss, BaseOptimizer):
        classes |= _subclasses(base) - {base}
    # what a fitted model can hold: concrete classes of sknets itself
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in classes
                  if cls.__module__.startswith("sknets.") and not cls.__name__.startswith("_")
                  and "<locals>" not in cls.__qualname__ and not inspect.isabstract(cls))
