"""Grid search on a dask.distributed LocalCluster of worker processes (issue #15).

Each test starts its own cluster (two spawned worker processes, one thread
each), so that pytest-xdist can run them in any worker; the timeouts bound
every wait.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import time
from collections import Counter

import dask
import distributed
import numpy as np
import pytest
import sklearn
import skorch  # noqa: F401  (torch and skorch are in the test extra: import, not skip)
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

from sklearn_focal import (
    FocalClassifier,
    FocalPosteriorRecovery,
    FocalTemperatureScaling,
    OneBitGLM,
    TemperatureScaling,
)

pytestmark = pytest.mark.slow

GAMMAS = [0.0, 0.5, 1.0, 2.0]


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=120) > 0).astype(np.int64)
    return X, y


def _network():
    return FocalClassifier(
        hidden_layer_sizes=(8,), max_epochs=4, batch_size=32, lr=0.05, random_state=0
    )


def _searches():
    cv = StratifiedKFold(2)
    return {
        "network": GridSearchCV(
            _network(), {"gamma": GAMMAS}, cv=cv, scoring="neg_log_loss", refit=False
        ),
        "calibrator": GridSearchCV(
            FocalPosteriorRecovery(LogisticRegression(), gamma=0.0, cv=2),
            {"gamma": GAMMAS},
            cv=cv,
            scoring="neg_log_loss",
            refit=False,
        ),
    }


def _cluster(n_workers):
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="1GiB",
        silence_logs=50,
    )


def _torch_threads_in_worker():
    """torch's intra-op threads inside a worker task, around a fit."""
    import torch

    X, y = _data()
    before = torch.get_num_threads()
    _network().fit(X, y)
    return before, torch.get_num_threads(), os.cpu_count()


def test_grid_search_on_local_cluster_equals_local_run():
    X, y = _data()
    local = {name: search.fit(X, y) for name, search in _searches().items()}
    start = time.monotonic()
    with _cluster(2) as cluster, distributed.Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        workers = set(client.scheduler_info()["workers"])
        remote, tasks = {}, {}
        for name, search in _searches().items():
            with parallel_config(backend="dask", wait_for_workers_timeout=60):
                with distributed.get_task_stream(client) as stream:
                    remote[name] = search.fit(X, y)
            tasks[name] = Counter(task["worker"] for task in stream.data)
        # Both worker processes took tasks (the scheduler may place a short
        # search on one worker alone, so the two searches are counted together).
        taken = set().union(*(set(counts) for counts in tasks.values()))
        assert taken == workers and len(workers) == 2, tasks
        # torch in a worker process uses the worker's one thread, not every
        # core (distributed's nanny starts workers with OMP_NUM_THREADS=1).
        before, after, cores = client.submit(_torch_threads_in_worker).result(60)
        assert (before, after) == (1, 1), (before, after, cores)
    assert time.monotonic() - start < 120
    for name in local:
        a, b = local[name].cv_results_, remote[name].cv_results_
        assert [p["gamma"] for p in b["params"]] == GAMMAS
        assert a["params"] == b["params"]
        for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name} {key}")
        assert np.all(np.isfinite(b["mean_test_score"])), name
        # The scores depend on gamma: equal results are not four copies.
        assert np.unique(b["mean_test_score"]).size > 1, name


def _one_bit_search():
    glm = (
        OneBitGLM()
        .set_fit_request(threshold=True, offset=False, sample_weight=False)
        .set_score_request(threshold=True)
    )
    return GridSearchCV(glm, {"fit_intercept": [False, True]}, cv=KFold(3))


def test_one_bit_glm_grid_search_with_routed_thresholds_on_a_cluster():
    # The thresholds are sample-aligned metadata: routed to every fold's fit
    # and score on the workers exactly as in a local run.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 2))
    threshold = rng.uniform(-2.0, 3.0, size=600)
    latent = X @ np.array([1.5, -0.5]) + 0.5 + 0.8 * rng.normal(size=600)
    y = (latent >= threshold).astype(float)
    with sklearn.config_context(enable_metadata_routing=True):
        local = _one_bit_search().fit(X, y, threshold=threshold)
        with _cluster(2) as cluster, distributed.Client(cluster, timeout=60):
            with parallel_config(backend="dask", wait_for_workers_timeout=60):
                remote = _one_bit_search().fit(X, y, threshold=threshold)
    a, b = local.cv_results_, remote.cv_results_
    assert a["params"] == b["params"]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # the data have an intercept: the search must see it (scores differ)
    assert b["mean_test_score"][1] > b["mean_test_score"][0]
    assert remote.best_params_ == {"fit_intercept": True}
    np.testing.assert_array_equal(
        remote.best_estimator_.coef_, local.best_estimator_.coef_
    )


class _DiesInFit(ClassifierMixin, BaseEstimator):
    """Kills its worker process in fit, as an out-of-memory kill would."""

    def __init__(self, gamma=0.0):
        self.gamma = gamma

    def fit(self, X, y):
        if self.gamma == 1.0:
            os._exit(1)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_worker_death_mid_search_raises_instead_of_hanging():
    """A worker process that exits in fit ends the search with an error.

    The task that killed its worker errs with KilledWorker; joblib then drops
    the batches still pending, and GridSearchCV raises the error of the first
    batch in submission order: KilledWorker, or FutureCancelledError for a
    batch dropped after the failure (measured with distributed 2026.8 and
    joblib 1.6: the latter here, as the dying task is not the first).
    """
    X, y = _data()
    search = GridSearchCV(_DiesInFit(), {"gamma": GAMMAS}, cv=2)
    start = time.monotonic()
    # One death is enough to give up on a task (the default retries it on
    # three more workers, each of which it kills too).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with _cluster(2) as cluster, distributed.Client(cluster, timeout=60):
            with parallel_config(backend="dask", wait_for_workers_timeout=60):
                with pytest.raises(
                    (
                        distributed.scheduler.KilledWorker,
                        distributed.client.FutureCancelledError,
                    )
                ):
                    search.fit(X, y)
    assert time.monotonic() - start < 120


@pytest.mark.parametrize(
    "make",
    [
        _network,
        lambda: FocalPosteriorRecovery(_network(), gamma="auto"),
        lambda: TemperatureScaling(LogisticRegression()),
        lambda: FocalTemperatureScaling(LogisticRegression()),
        lambda: OneBitGLM(),
    ],
    ids=[
        "FocalClassifier",
        "FocalPosteriorRecovery",
        "TemperatureScaling",
        "FocalTemperatureScaling",
        "OneBitGLM",
    ],
)
def test_unfitted_estimators_pickle_small(make):
    # What the search sends to a worker for every task: the unfitted estimator.
    assert len(pickle.dumps(make())) < 4096


def test_constructing_and_pickling_creates_no_cuda_context():
    """Nothing before fit touches CUDA: a parent that forks workers stays clean.

    torch's functions that would initialize CUDA are replaced by ones that
    fail, so the check means something on a machine without a GPU too;
    torch.manual_seed (seeded fits) defers CUDA seeding until CUDA is used.
    """
    code = textwrap.dedent(
        """
        import pickle
        import torch

        def forbidden(name):
            def call(*args, **kwargs):
                raise AssertionError(f"torch.cuda.{name} called")

            return call

        # (is_available and device_count create no context; torch's own
        # optimizer code calls them.)
        for name in ("_lazy_init", "init", "current_device", "set_device",
                     "synchronize", "get_rng_state", "set_rng_state"):
            setattr(torch.cuda, name, forbidden(name))
        from sklearn.base import clone
        from sklearn.model_selection import GridSearchCV
        import numpy as np
        from sklearn_focal import FocalClassifier, FocalPosteriorRecovery

        clf = FocalClassifier(hidden_layer_sizes=(4,), max_epochs=1,
                              random_state=0, device="cpu")
        search = GridSearchCV(FocalPosteriorRecovery(clf), {"gamma": [0.0, 1.0]})
        clone(pickle.loads(pickle.dumps(search))).get_params()
        X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
        clf.fit(X, np.arange(20) % 2)  # seeded CPU fit: torch.manual_seed
        assert not torch.cuda.is_initialized()
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_cluster_commands_of_the_user_guide_exist():
    """The scaling-out page's `dask scheduler` / `dask worker` options exist,
    and the removed `dask-scheduler` / `dask-worker` scripts are gone."""
    from importlib.metadata import entry_points, version

    def help_text(command):
        result = subprocess.run(
            [sys.executable, "-m", "dask", command, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    worker = help_text("worker")
    for option in ("--nthreads", "--nworkers", "--memory-limit"):
        assert option in worker
    assert "--port" in help_text("scheduler")
    scripts = {e.name for e in entry_points(group="console_scripts")}
    major_minor = tuple(int(part) for part in version("distributed").split(".")[:2])
    if major_minor >= (2026, 6):
        assert not scripts & {"dask-scheduler", "dask-worker"}
