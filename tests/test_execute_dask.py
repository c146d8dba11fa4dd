"""``ltsim execute`` on dask.distributed: a LocalCluster of 2 workers (threads, fast start)."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from simulator.execute.backends.dask import DaskBackend
from simulator.execute.master import run_execution
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
    from simulator.execute.backends import make_backend

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
