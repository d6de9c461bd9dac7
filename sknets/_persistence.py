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

import warnings

from sklearn.exceptions import InconsistentVersionWarning

#: the state key holding the version that saved it.
VERSION_KEY = "_sknets_version"

#: what a state without ``VERSION_KEY`` was saved by.
UNVERSIONED = "unknown (a version before versioned pickles)"


def _current_version():
    import sknets   # at call time: this module is imported while sknets is

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
