"""Versioned pickles: the sknets version is saved, and loading under another one warns."""

import copy
import inspect
import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone, is_regressor
from sklearn.datasets import load_iris
from sklearn.exceptions import InconsistentVersionWarning

import sknets
from sknets._persistence import VERSION_KEY, InconsistentSknetsVersionWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [obj for name in sknets.__all__
              if inspect.isclass(obj := getattr(sknets, name)) and issubclass(obj, BaseEstimator)]


def _fitted(cls):
    X, y = load_iris(return_X_y=True)
    params = {"max_iter": 5, "random_state": 0}
    if "hidden_layer_sizes" in inspect.signature(cls).parameters:
        params["hidden_layer_sizes"] = (4,)
    if "conv_filters" in inspect.signature(cls).parameters:
        params["conv_filters"] = (2,)
    est = cls(**params)
    # regressors learn a continuous target; classifiers and the (conditional)
    # GAN take the class labels
    return est.fit(X, X[:, 0] if is_regressor(est) else y), X


def _outputs(est, X):
    """``predict(X)``, or what a generative model (``sample``, no ``predict``)
    generates: ``sample(20, random_state=0)``'s samples, then labels."""
    if hasattr(est, "predict"):
        return est.predict(X)
    X_new, y_new = est.sample(20, random_state=0)
    return np.column_stack([X_new, y_new])


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_same_version_loads_silently_with_identical_predictions(cls):
    est, X = _fitted(cls)
    blob = pickle.dumps(est)
    assert est.__getstate__()[VERSION_KEY] == sknets.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(blob)
        copied = copy.deepcopy(est)
    assert VERSION_KEY not in vars(loaded)   # the version lives in the state only
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))
    np.testing.assert_array_equal(_outputs(copied, X), _outputs(est, X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_another_version_warns(cls, monkeypatch):
    est, X = _fitted(cls)
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    saved = sknets.__version__
    monkeypatch.setattr(sknets, "__version__", "99.0.0")
    buffer.seek(0)
    with pytest.warns(InconsistentSknetsVersionWarning,
                      match=rf"{cls.__name__} from sknets version {re.escape(saved)} ") as rec:
        loaded = joblib.load(buffer)
    warning = rec[0].message
    assert isinstance(warning, InconsistentVersionWarning)   # scikit-learn's filters catch it
    assert (warning.original_sknets_version, warning.current_sknets_version) == (saved, "99.0.0")
    assert "when using sknets version 99.0.0" in str(warning)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))   # still loads


def test_a_state_without_version_warns():
    est, _ = _fitted(sknets.MLPClassifierScratch)
    state = est.__getstate__()
    del state[VERSION_KEY]
    fresh = clone(est)
    with pytest.warns(InconsistentSknetsVersionWarning, match="before versioned pickles"):
        fresh.__setstate__(state)
