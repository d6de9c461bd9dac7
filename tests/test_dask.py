"""sknets on a dask.distributed cluster: grid searches on joblib's Dask backend,
out-of-core training with dask-ml's ``Incremental`` and prediction with
``ParallelPostFit``.

One ``LocalCluster`` (two worker processes, loopback only) serves the whole
module: starting it is most of the time these tests take.
"""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknets import MLPClassifierScratch, MLPRegressorScratch

distributed = pytest.importorskip("dask.distributed")
da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        yield client


def _ran_on_workers(client, stream, at_least):
    """The tasks recorded by ``stream`` ran on the cluster's worker processes."""
    workers = set(client.scheduler_info()["workers"])
    assert len(stream.data) >= at_least
    assert {task["worker"] for task in stream.data} <= workers


def _search(n_jobs):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    est = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=15, random_state=0,
                               dtype="float64")
    grid = {"alpha": [1e-4, 1e-1], "learning_rate_init": [1e-3, 1e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)


def test_grid_search_on_local_cluster_equals_local_run(client):
    local = _search(n_jobs=1)
    with distributed.get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        remote = _search(n_jobs=-1)
    _ran_on_workers(client, stream, 4 * 3)   # the 4 x 3 fits were tasks on the cluster
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [
            f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    assert local.best_score_ > 0.6   # chance is 0.1


def _chunked(X, y, rows):
    return (da.from_array(X, chunks=(rows, X.shape[1])),
            da.from_array(y, chunks=(rows,) + y.shape[1:]))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_incremental_over_chunks_equals_a_partial_fit_loop(client, kind):
    if kind == "classifier":
        X, y = load_digits(return_X_y=True)
        X = (X / 16).astype(np.float32)
        make = lambda: MLPClassifierScratch((16,), random_state=0)   # noqa: E731
        fit_params = {"classes": np.arange(10)}
    else:
        X, y = load_diabetes(return_X_y=True)
        X, y = X.astype(np.float32), ((y - y.mean()) / y.std()).astype(np.float32)
        make = lambda: MLPRegressorScratch(hidden_layer_sizes=(16,), random_state=0)  # noqa: E731
        fit_params = {}
    rows = 150
    Xd, yd = _chunked(X, y, rows)
    assert Xd.numblocks[0] >= 3
    with distributed.get_task_stream(client) as stream:
        inc = wrappers.Incremental(make(), shuffle_blocks=False).fit(Xd, yd, **fit_params)
    _ran_on_workers(client, stream, Xd.numblocks[0])   # one partial_fit task per block
    loop = make()
    for start in range(0, len(X), rows):   # the same, by hand, one chunk in memory at a time
        loop.partial_fit(X[start:start + rows], y[start:start + rows], **fit_params)
    assert inc.estimator_.t_ == loop.t_ == len(X)   # every sample seen once
    for a, b in zip(inc.estimator_.coefs_ + inc.estimator_.intercepts_,
                    loop.coefs_ + loop.intercepts_):
        np.testing.assert_array_equal(a, b)
    # blockwise prediction: the same up to float32 rounding of the matrix products
    np.testing.assert_allclose(inc.predict(Xd).compute(), loop.predict(X), rtol=1e-6, atol=1e-6)


def test_parallel_post_fit_predicts_blockwise(client):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    clf = MLPClassifierScratch((16,), learning_rate_init=0.01, max_iter=50,
                               random_state=0).fit(X[:800], y[:800])
    Xd, _ = _chunked(X, y, 400)
    post = wrappers.ParallelPostFit(clf)
    with distributed.get_task_stream(client) as stream:
        labels = post.predict(Xd).compute()
        proba = post.predict_proba(Xd).compute()
    _ran_on_workers(client, stream, 2 * Xd.numblocks[0])
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-6)
    assert (labels[800:] == y[800:]).mean() > 0.85   # the held-out rows
