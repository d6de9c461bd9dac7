"""Grid searches of sknets estimators on a dask.distributed cluster (joblib's Dask backend)."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknets import MLPClassifierScratch

distributed = pytest.importorskip("dask.distributed")


def _search(n_jobs):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    est = MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=15, random_state=0,
                               dtype="float64")
    grid = {"alpha": [1e-4, 1e-1], "learning_rate_init": [1e-3, 1e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)


def test_grid_search_on_local_cluster_equals_local_run():
    local = _search(n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        workers = list(client.scheduler_info()["workers"])
        assert len(workers) == 2
        with distributed.get_task_stream(client) as stream, \
                joblib.parallel_config(backend="dask"):
            remote = _search(n_jobs=-1)
    # the 4 x 3 fits really ran as tasks on the cluster's worker processes
    assert len(stream.data) >= 4 * 3
    assert {task["worker"] for task in stream.data} <= set(workers)
    for key in ["mean_test_score", "std_test_score", "rank_test_score"] + [
            f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    assert local.best_score_ > 0.6   # chance is 0.1
