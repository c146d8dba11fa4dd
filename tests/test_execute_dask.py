"""``ltsim execute`` on dask.distributed: a LocalCluster of 2 workers (threads, fast start)."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from ltsim.execution.backends.dask import DaskBackend
from ltsim.execution.master import run_execution
from tests.helpers import cancel_check, small_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dask_backend():
    backend = DaskBackend(None, concurrency=16, processes=False, n_workers=2)
    yield backend
    backend.close()


def test_dask_decodes_the_direct_sum_and_survives_a_raising_worker(dask_backend):
    cfg = small_config(trials=1, seed=12, fail={"workers": [3]},
                       schemes=[{"kind": "one"}, {"kind": "replication", "r": 2},
                                {"kind": "lt", "r": 1, "symbols_per_worker": 3},
                                {"kind": "uncoded"}])
    run = run_execution(cfg, dask_backend)
    status = {r["scheme"]: r for r in run.executions}
    for scheme in ("one", "rep2", "lt1"):
        assert status[scheme]["status"] == "ok", status[scheme]
        assert status[scheme]["rel_error"] <= 1e-9
    assert status["uncoded"]["status"] == "incomplete"
    assert any(t["status"] == "failed" and t["worker"] == 3 for t in run.tasks)


def test_dask_cancel_stops_sleeping_tasks(dask_backend):
    cancel_check(dask_backend)


def test_units_and_statuses_match_the_plan_on_local_and_dask(dask_backend):
    """The same plan on both backends: the same tasks and planned units; a finished task did
    all its units, a cancelled one fewer (none counted twice)."""
    from ltsim.execution.backends import make_backend

    cfg = small_config(trials=2)
    with make_backend("local", concurrency=16) as local:
        tables = {"local": run_execution(cfg, local).tasks,
                  "dask": run_execution(cfg, dask_backend).tasks}
    plans = {}
    for name, rows in tables.items():
        plans[name] = sorted((r["scheme"], r["trial"], r["worker"], r["planned_units"])
                             for r in rows)
        for r in rows:
            assert r["status"] in ("done", "cancelled", "failed"), r
            if r["status"] == "done":
                assert r["units"] == r["planned_units"], (name, r)
            else:
                assert r["units"] < r["planned_units"], (name, r)
        assert any(r["status"] == "cancelled" for r in rows), name
    assert plans["local"] == plans["dask"]


def test_the_default_local_cluster_has_a_thread_per_logical_worker(dask_backend):
    """meta.json records the cluster's threads; the LocalCluster started without --address
    runs every logical worker at once."""
    info = dask_backend.describe()
    assert info["cluster_threads"] == dask_backend.capacity().count >= 16


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # the fixture's cluster
def test_an_undersized_cluster_is_refused_unless_queueing_is_allowed(tmp_path):
    """--address on a cluster with fewer threads than logical workers: one line, exit 2,
    nothing written; with --allow-queueing one warning line and meta.json says so."""
    import json

    from click.testing import CliRunner
    from distributed import LocalCluster

    from ltsim.cli import main

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("name: tiny\nworkload: {kind: gaussian_kernel, m: 4, dim: 2, seed: 1}\n"
                   "trials: 1\nseed: 3\ndelay: {dist: exponential, rate: 100}\ntimeout: 20\n"
                   "schemes: [{kind: uncoded}]\n")
    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        args = ["execute", str(cfg), "--backend", "dask", "--address", address, "-o", str(out),
                "-q"]
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.splitlines() == [
            "ltsim: error: --address: the cluster has 1 thread and the execution needs 4 "
            "concurrent workers; tasks would queue (latency measuring queueing, not "
            "stragglers): start workers with more threads (dask worker --nthreads N) or pass "
            f"--allow-queueing, got {address!r}"]
        assert not out.exists()
        allowed = CliRunner().invoke(main, [*args, "--allow-queueing"])
    assert allowed.exit_code == 0, allowed.output
    warnings = [line for line in allowed.stderr.splitlines() if "warning" in line]
    assert warnings == ["ltsim: warning: --address: the cluster has 1 thread and the execution "
                        "needs 4 concurrent workers; tasks queue and latency includes queueing "
                        "(--allow-queueing; meta.json records \"queueing\": true)"]
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["cluster_threads"], meta["concurrent_workers"], meta["queueing"]) == (1, 4, True)


def test_lithops_capacity_comes_from_its_config():
    """A lithops config that runs fewer calls at once than logical workers is seen (ltsim
    execute then refuses it like an undersized dask cluster)."""
    from types import SimpleNamespace

    from ltsim.execution.backends.lithops import LithopsBackend

    def capacity(config):
        backend = LithopsBackend.__new__(LithopsBackend)
        backend.executor = SimpleNamespace(config=config)
        found = backend.capacity()
        return None if found is None else found.count

    local = {"lithops": {"backend": "localhost", "mode": "localhost"},
             "localhost": {"worker_processes": 2, "max_workers": 1}}
    assert capacity(local) == 2
    aws = {"lithops": {"backend": "aws_lambda", "mode": "serverless", "chunksize": 1},
           "aws_lambda": {"worker_processes": 4, "max_workers": 1000}}
    assert capacity(aws) == 1000
    assert capacity({**aws, "lithops": {**aws["lithops"], "chunksize": 8}}) == 4000
    assert capacity({"lithops": {"backend": "aws_lambda"}, "aws_lambda": {}}) is None


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # the fixture's cluster
def test_a_cluster_of_processes_delivers_every_message():
    """Messages cross processes serialized (a list comes back a tuple): on worker processes,
    as ``ltsim execute`` starts them, every scheme decodes, each task's last result (sent
    with its end) is counted, and a finished task reports all its units."""
    backend = DaskBackend(None, concurrency=8, processes=True, n_workers=2)
    try:
        run = run_execution(small_config(trials=1, seed=5), backend)
    finally:
        backend.close()
    for row in run.executions:
        assert row["status"] == "ok" and row["rel_error"] <= 1e-9, row
    done = [t for t in run.tasks if t["status"] == "done"]
    assert done and all(t["units"] == t["planned_units"] for t in done)
