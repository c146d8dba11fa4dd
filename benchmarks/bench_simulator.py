"""Performance benchmark of ltsim on this machine: one Markdown table of measurements.

Run from the repository root::

    .venv/bin/python benchmarks/bench_simulator.py [--quick] [--write-docs] [--out FILE]

``make bench`` runs it with ``--write-docs``, which also rewrites the block between
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` in ``docs/performance.md``. ``--quick``
runs every measurement at tiny sizes (a smoke run; its numbers mean nothing). Progress goes
to stderr, the report to stdout.

Measurements (one function each, in this order)
-----------------------------------------------
1. :func:`bench_throughput`: trials/s of exp02's Monte-Carlo loop, ``--jobs 1`` and ``2``.
2. :func:`bench_whole_run`: wall time of a whole ``ltsim run configs/exp02.yaml``, and of
   ``ltsim --help``.
3. :func:`bench_write_share`: the share of a run spent writing its result folder.
4. :func:`bench_lt_kernel`: one compiled LT trial (``lt_trial``) at m = 1000, LT-1 and LT-2,
   with its time split.
5. :func:`bench_large_m`: LT-1 at m = 10^6 in the regime tau m = 5 s, the growth of the
   trial time with m, and the peak memory of ``ltsim run`` at that m.
6. :func:`bench_reference_ratio`: speed-up over the pure-Python references of the tests.
7. :func:`bench_sum_recovery`: one sum-recovery trial (``benchmarks/bench_sumrank.py``).
8. :func:`bench_sweep`: ``ltsim sweep`` on local processes and on a Dask ``LocalCluster``.
9. :func:`bench_execute`: ``ltsim execute`` on the local and the dask backend.
11. :func:`bench_raptor`: a Raptor-1 trial (RFC 5053, K = 1000) against an LT-1 trial on
    exp02's system.
10. :func:`bench_queueing`: queueing runs of the SIGMETRICS 2020 exponential system
    (``configs/queue-rcmv-exp.sweep.yaml``): jobs x workers a second per scheme, and the
    wall time of the whole sweep at 20 trials x 1000 jobs.

and four yardsticks of the machine's speed, measured first and again last (each keeps the
smaller value; :func:`measure_yardsticks`): the targets of rows 0 are ratios to them
(:func:`yardstick_targets`), so they are checked on any machine.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import functools
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXP02 = ROOT / "configs" / "exp02.yaml"
EXECUTE_SMALL = ROOT / "configs" / "execute-small.yaml"
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# exp02's system (Fig. 2a of the paper): m = n = 1000, s = 2 symbols per worker, Robust
# Soliton c = 0.03, delta = 0.5, tau = 0.005 s, start-up delays X ~ Exp(rate 0.2).
M, SYMBOLS, C, DELTA, TAU, RATE = 1000, 2, 0.03, 0.5, 0.005, 0.2
TAU_M_PAPER = 5.0
"""tau * m of the paper's regime at any m (tau = 5e-6 s at m = 10^6)."""

# Targets.
T_TRIALS_J1, T_TRIALS_J2, T_SPEEDUP = 3000.0, 5000.0, 1.85
T_WHOLE_RUN_S = 1.0
T_WRITE_SHARE = 0.10
T_EXPONENT, T_RSS_GIB = 1.2, 1.0
T_REFERENCE = 100.0
T_SUMRANK_MS = 20.0
T_EXECUTE_RATIO = 2.0
T_QUEUE_SWEEP_S = 60.0
T_RAPTOR_RATIO = 2.0
RCMV_EXP = ROOT / "configs" / "queue-rcmv-exp.sweep.yaml"

# Targets in yardsticks of the same run (rows 0): the machine-independent form.
T_TRIAL_ARGSORTS = 12.0
"""An exp02 trial of all five schemes (``--jobs 1`` loop), in argsorts of 2000 doubles."""
T_LT1_ARGSORTS = 5.0
"""An LT-1 kernel call at m = 1000, in argsorts."""
T_READS_PER_EDGE = 0.4
"""An LT-1 trial at m = 10^6 (tau m = 5 s), per received edge, in dependent random reads."""
T_RUN1_NUMPY = 5.0
"""A whole ``ltsim run configs/exp02.yaml --trials 1 --jobs 1``, in ``python -c "import
numpy"`` commands."""

YARD: dict[str, float] = {}
"""The yardsticks, measured first and last (the smaller kept): ``argsort_us``, ``chase_ns``,
``numpy_s``, ``floor_s``."""

LIBRARIES_FLOOR = textwrap.dedent("""\
    import click, numba, numpy, pandas, pydantic, scipy.special, yaml

    @numba.njit(cache=True)
    def one(x):
        return x + 1

    one(1.0)
""")
"""The libraries' floor of ``ltsim run``: a process importing what the run path imports and
making one compiled call from numba's cache (numba loads its CPU target on a process's first
compiled call, whatever the function; loading it imports SciPy's BLAS wrappers)."""
MEASURED: dict[str, float] = {}
"""The raw numbers the rows of targets in yardsticks (:func:`yardstick_targets`) use."""


# --------------------------------------------------------------------------------------------
# the table


@dataclass
class Row:
    """One row of the result table.

    Attributes
    ----------
    item, value, target, note : str
        The cells; ``target`` is ``—`` for a row that is information only.
    ok : bool or None
        Whether the target is met; ``None`` for an information row.
    """

    item: str
    value: str
    target: str = "—"
    ok: bool | None = None
    note: str = ""

    @property
    def status(self) -> str:
        """``PASS``, ``MISS`` or ``—``."""
        return "—" if self.ok is None else ("PASS" if self.ok else "MISS")



def load_experiment(path, trials=None, sets=()):
    """The validated config of a run config file (as ``ltsim run`` reads it)."""
    from ltsim.api.experiment import Experiment

    return Experiment.from_yaml(path, sets=tuple(sets), trials=trials).config

def format_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table (``|`` inside a cell is escaped).

    Parameters
    ----------
    rows : sequence of Row

    Returns
    -------
    str
        Header, separator and one line per row, without a final newline.
    """
    lines = ["| Measurement | Value | Target | Status | Notes |", "|---|---|---|---|---|"]
    for r in rows:
        cells = [r.item, r.value, r.target, r.status, r.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def tally(rows: Sequence[Row]) -> str:
    """``"a PASS, b MISS, c information rows"``."""
    passed = sum(r.ok is True for r in rows)
    missed = sum(r.ok is False for r in rows)
    return f"{passed} PASS, {missed} MISS, {len(rows) - passed - missed} information rows"


def duration(seconds: float) -> str:
    """A duration with three significant digits in µs, ms or s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def spread(values: Sequence[float], unit: Callable[[float], str] = duration) -> str:
    """``"min a / max b"`` of repeated measurements."""
    return f"min {unit(min(values))} / max {unit(max(values))}"


def plural(count: int, noun: str) -> str:
    """``"1 trial"``, ``"3 trials"``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# child processes


def ltsim(*args: str) -> list[str]:
    """The command line of ``ltsim *args`` from this interpreter's environment."""
    exe = Path(sys.executable).parent / "ltsim"
    launcher = [str(exe)] if exe.is_file() else [sys.executable, "-m", "ltsim"]
    return [*launcher, *args]


def run_child(cmd: Sequence[str]) -> tuple[float, float]:
    """Run ``cmd`` from the repository root, stdout discarded.

    Returns
    -------
    (float, float)
        Wall seconds, and CPU seconds (user + system, from ``os.wait4``) of ``cmd`` and the
        descendants it waited for (e.g. its worker processes).

    Raises
    ------
    RuntimeError
        If ``cmd`` exits with a non-zero status (the end of its stderr is quoted).
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{shlex.join(cmd)} exited {proc.returncode}: {tail}")
    return wall, usage.ru_utime + usage.ru_stime


def run_timed(cmd: Sequence[str]) -> float:
    """Wall seconds of :func:`run_child`."""
    return run_child(cmd)[0]


# Runs argv[2:] and writes its ru_maxrss (KiB, from os.wait4) to the file argv[1]. Peak RSS
# is measured from this small parent: Linux carries the RSS high-water mark of the memory
# image replaced by exec() over into the new program's ru_maxrss, so a child forked from the
# (large) benchmark process would report at least the benchmark's own size.
RSS_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def peak_rss(cmd: Sequence[str]) -> tuple[float, int]:
    """Run ``cmd`` under :data:`RSS_LAUNCHER`.

    Returns
    -------
    (float, int)
        Wall seconds and the peak resident set size in bytes of ``cmd`` (the largest of
        it and its waited-for descendants).
    """
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        report = Path(tmp) / "maxrss"
        wall = run_timed([sys.executable, "-S", "-c", RSS_LAUNCHER, str(report), *cmd])
        return wall, int(report.read_text()) * 1024


def loop_seconds(folder: Path) -> float:
    """The Monte-Carlo loop time of a result folder: ``wall_seconds`` of its ``meta.json``
    (the engine's loop, from the first block submitted to the last one kept, including the
    rows of ``latencies.csv`` appended meanwhile; not start-up, not the final writing)."""
    return float(json.loads((folder / "meta.json").read_text())["wall_seconds"])


# --------------------------------------------------------------------------------------------
# 1-3. ltsim run on exp02


def bench_throughput(trials: int, reps: int) -> tuple[list[Row], float]:
    """Measurement 1: trials/s of exp02's Monte-Carlo loop with ``--jobs 1`` and ``--jobs 2``.

    Runs ``ltsim run configs/exp02.yaml --trials TRIALS --jobs J -o TMP --force -q``
    ``reps`` times for each J (alternating, after a warm-up run) and reads the loop time
    from ``meta.json`` (:func:`loop_seconds`).

    Returns
    -------
    (list of Row, float)
        The rows, and the fast path's seconds per trial with ``--jobs 1`` (all five
        schemes), for :func:`bench_reference_ratio`.
    """
    loops: dict[int, list[float]] = {1: [], 2: []}
    walls: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        out = Path(tmp) / "out"
        run_timed(ltsim("run", str(EXP02), "--trials", "200", "-o", str(out), "--force", "-q"))
        for _ in range(reps):
            for jobs in (1, 2):
                wall, cpu = run_child(ltsim("run", str(EXP02), "--trials", str(trials),
                                            "--jobs", str(jobs), "-o", str(out), "--force",
                                            "-q"))
                walls[jobs].append(wall)
                cores[jobs].append(cpu / wall)
                loops[jobs].append(loop_seconds(out))
    log(f"exp02 loop seconds: {loops}; cores busy: {cores}")
    rate = {j: trials / statistics.median(loops[j]) for j in loops}
    rows = []
    for jobs, target in ((1, T_TRIALS_J1), (2, T_TRIALS_J2)):
        rows.append(Row(
            f"1. exp02 Monte-Carlo loop, {trials} trials, --jobs {jobs} (median of {reps})",
            f"{rate[jobs]:.0f} trials/s", f"≥ {target:g} trials/s", rate[jobs] >= target,
            f"{trials} / loop time of meta.json (median {statistics.median(loops[jobs]):.2f} "
            f"s, {spread(loops[jobs])}); = {1e6 / rate[jobs]:.0f} µs per trial of the five "
            f"schemes; whole command median {statistics.median(walls[jobs]):.2f} s, on "
            f"{statistics.median(cores[jobs]):.2f} cores on average (its CPU time / wall)",
        ))
    speedup = rate[2] / rate[1]
    MEASURED.update(trial_j1_us=1e6 / rate[1], speedup=speedup)
    rows.append(Row(
        "1. exp02 loop speed-up, --jobs 2 over --jobs 1", f"{speedup:.2f}×",
        f"≥ {T_SPEEDUP:g}×", speedup >= T_SPEEDUP,
        "ratio of the median loop times above",
    ))
    return rows, 1.0 / rate[1]


# Prints, as JSON, the seconds a fresh process spends importing the modules of ``ltsim run``,
# loading exp02, simulating its first trial (numba loads the compiled kernels from its
# on-disk cache) and its second trial.
STARTUP_CHILD = textwrap.dedent("""\
    import json, sys, time
    t0 = time.perf_counter()
    from ltsim.api.experiment import Experiment
    from ltsim.montecarlo.trials import simulate_trials
    t1 = time.perf_counter()
    experiment = Experiment.from_yaml(sys.argv[1]).config
    t2 = time.perf_counter()
    simulate_trials(experiment, 0, 1)
    t3 = time.perf_counter()
    simulate_trials(experiment, 1, 2)
    t4 = time.perf_counter()
    print(json.dumps({"imports": t1 - t0, "config": t2 - t1, "first": t3 - t2,
                      "second": t4 - t3}))
""")


def startup_split(reps: int) -> dict[str, float]:
    """Median seconds, over ``reps`` fresh processes, of the steps of :data:`STARTUP_CHILD`."""
    runs = []
    for _ in range(reps):
        out = subprocess.run([sys.executable, "-c", STARTUP_CHILD, str(EXP02)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def bench_whole_run(trials: int | None, reps: int) -> list[Row]:
    """Measurement 2: wall time of a whole ``ltsim run configs/exp02.yaml`` (its 500 trials,
    all cores, warm numba cache), median of ``reps``; and ``ltsim --help`` start-up.

    ``trials`` overrides the config's (``--quick``); ``None`` keeps it.
    """
    extra = [] if trials is None else ["--trials", str(trials)]
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        out = Path(tmp) / "out"
        cmd = ltsim("run", str(EXP02), "-o", str(out), "--force", "-q", *extra)
        run_timed(cmd)  # warm: numba's on-disk cache and the OS page cache
        walls, loops = [], []
        for _ in range(reps):
            walls.append(run_timed(cmd))
            loops.append(loop_seconds(out))
        jobs = json.loads((out / "meta.json").read_text())["jobs"]
        one = ltsim("run", str(EXP02), "--trials", "1", "--jobs", "1", "-o", str(out),
                    "--force", "-q")
        run_timed(one)
        ones = [run_timed(one) for _ in range(reps)]
    MEASURED["run1_s"] = statistics.median(ones)
    split = startup_split(reps)
    help_cmd = ltsim("--help")
    run_timed(help_cmd)
    helps = [run_timed(help_cmd) for _ in range(reps)]
    wall, loop = statistics.median(walls), statistics.median(loops)
    log(f"exp02 whole run: {walls}; --help: {helps}")
    return [
        Row(f"2. exp02 whole `ltsim run`, {trials or 500} trials, --jobs {jobs} (default), "
            f"warm (median of {reps})", f"{wall:.2f} s", f"≤ {T_WHOLE_RUN_S:g} s",
            wall <= T_WHOLE_RUN_S,
            f"{spread(walls)}; Monte-Carlo loop {loop:.2f} s of it (meta.json), the rest is "
            "interpreter start-up, imports, config, process pool and writing"),
        Row(f"2. exp02 whole `ltsim run --trials 1 --jobs 1`, warm (median of {reps})",
            duration(MEASURED["run1_s"]),
            note=f"{spread(ones)}; interpreter start-up, imports, config, one trial, writing"),
        Row(f"2. Start-up of the run path in a fresh process (median of {reps})",
            duration(split["imports"] + split["first"]),
            note=f"importing ltsim.api and its libraries {duration(split['imports'])}"
                 f" + exp02's first trial {duration(split['first'])} (numba loads the "
                 f"kernels from its cache; the second trial takes {duration(split['second'])})"
                 f"; loading the config {duration(split['config'])}"),
        Row(f"2. `ltsim --help` start-up (median of {reps})", duration(statistics.median(helps)),
            note=f"{spread(helps)}; interpreter, click and the command modules"),
    ]


@contextlib.contextmanager
def timing_calls(targets: Sequence[tuple[object, str, str]],
                 spent: collections.Counter) -> Iterator[None]:
    """Wrap the callables ``getattr(owner, name)`` so that ``spent[label]`` accumulates their
    wall seconds while the block runs; the originals are restored after."""
    with contextlib.ExitStack() as stack:
        for owner, name, label in targets:
            original = getattr(owner, name)

            def wrapper(*args, _original=original, _label=label, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    spent[_label] += time.perf_counter() - start

            stack.enter_context(mock.patch.object(owner, name, functools.wraps(original)(
                wrapper)))
        yield


def bench_write_share(trials: int) -> list[Row]:
    """Measurement 3: the share of a ``trials``-trial exp02 run spent on its result folder.

    Nothing in ``meta.json`` records the writing, so the run is made in this process
    (``ltsim.api.simulate.simulate_into`` with one process, the code path of ``ltsim run
    --jobs 1``) with the write calls of ``ltsim.io.results`` timed in place: the
    formatting of the ``latencies.csv`` rows (``RowFormatter``), appending them to the part
    files (``LatencyWriter.append_rows``), joining the parts (``LatencyWriter.finish``),
    computing ``summary.csv`` and ``tail.csv`` (``result_frames``) and writing the tables,
    ``config.yaml`` and ``meta.json`` (``write_tables``, after ``provenance.meta`` gathered
    the versions and the git revision).
    """
    from ltsim.api.executors import Where
    from ltsim.api.reporter import SILENT
    from ltsim.api.simulate import simulate_into
    from ltsim.io import provenance, results

    experiment = load_experiment(EXP02, trials)
    spent: collections.Counter = collections.Counter()
    calls = [(results.RowFormatter, "__call__", "format rows"),
             (results.LatencyWriter, "append_rows", "append rows"),
             (results.LatencyWriter, "finish", "join latencies.csv"),
             (provenance, "meta", "meta.json contents (versions, git)"),
             (results, "result_frames", "summary + tail"),
             (results, "write_tables", "write tables")]
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        warm, target = Path(tmp) / "warm", Path(tmp) / "out"
        simulate_into(load_experiment(EXP02, 200), warm, Where(1), None, None, SILENT,
                      config_file=EXP02)
        with timing_calls(calls, spent):
            start = time.perf_counter()
            simulate_into(experiment, target, Where(1), None, None, SILENT,
                          config_file=EXP02)
            total = time.perf_counter() - start
        loop = loop_seconds(target)
    writing = sum(spent.values())
    share = writing / total
    log(f"writing: {dict(spent)} of {total:.2f} s")
    parts = ", ".join(f"{label} {duration(spent[label])}" for *_, label in calls)
    return [Row(
        f"3. Writing the result folder, share of a {trials}-trial exp02 run (--jobs 1)",
        f"{share:.1%}", f"≤ {T_WRITE_SHARE:.0%}", share <= T_WRITE_SHARE,
        f"{duration(writing)} of {duration(total)} (run in-process with the write calls of "
        f"ltsim.io.results timed in place; loop {duration(loop)}): {parts}",
    )]


# --------------------------------------------------------------------------------------------
# 4-5. the compiled LT trial


def time_lt_trials(m: int, r: int, tau: float, reps: int, threshold: int = 0,
                   seed: int = 2021) -> tuple[list[float], list[int]]:
    """Seconds of ``reps`` calls of the compiled LT trial, as ``LTCode.simulate`` makes them.

    The system has n = m workers, ``SYMBOLS`` symbols each, k = m / r sources, unit time
    ``tau`` and fresh Exp(``RATE``) delays every trial (drawn outside the timing). One
    untimed call loads the kernel first.

    Parameters
    ----------
    threshold : int
        0 for the online decoder; 1 stops at the first arrival, which leaves the degrees,
        the setup (arrival times, heap) and one symbol's neighbours.

    Returns
    -------
    (list of float, list of int)
        Seconds per call, and the symbols received at the stop.
    """
    from ltsim.codes.lt.soliton import RobustSoliton
    from ltsim.codes.lt.trial import Workspace, guide_table, lt_trial

    k = m // r
    soliton = RobustSoliton(k, C, DELTA)
    cdf, guide = soliton.cdf, guide_table(soliton.cdf)
    space = Workspace(m, SYMBOLS, k, soliton.mean)
    unit = np.full(m, tau)
    delays_rng, code_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    seconds, symbols = [], []
    for rep in range(reps + 1):
        delays = delays_rng.exponential(1.0 / RATE, m)
        start = time.perf_counter_ns()
        out = lt_trial(delays, unit, r, SYMBOLS, k, cdf, guide, False, threshold, code_rng,
                       space)
        elapsed = (time.perf_counter_ns() - start) * 1e-9
        if rep:
            seconds.append(elapsed)
            symbols.append(out[1])
    return seconds, symbols


def time_peel(m: int, graphs: int, seed: int = 7) -> tuple[list[float], float]:
    """Seconds of the compiled online peeling decoder alone (``peeling.peel``) on ``graphs``
    LT-1 code graphs of exp02's system, each fed in its arrival order; and the mean number
    of edges it read (those of the symbols received until decoding completed)."""
    from ltsim.codes.lt import LTCode
    from ltsim.codes.lt.peeling import peel

    code = LTCode(kind="lt", r=1, symbols_per_worker=SYMBOLS, c=C, delta=DELTA)
    rng = np.random.default_rng(seed)
    unit = np.full(m, TAU)
    seconds, edges = [], []
    for rep in range(graphs + 1):
        delays = rng.exponential(1.0 / RATE, m)
        graph = code.sample_code(m, rng, delays, unit)
        order = np.argsort(code.arrival_times(graph, delays, unit), kind="stable")
        start = time.perf_counter_ns()
        used = peel(graph.ptr, graph.nbrs, order, m, m * SYMBOLS)
        elapsed = (time.perf_counter_ns() - start) * 1e-9
        if rep:
            seconds.append(elapsed)
            got = order[:used] if used > 0 else order
            edges.append(float(np.sum(graph.ptr[got + 1] - graph.ptr[got])))
    return seconds, statistics.fmean(edges)


def order_seconds(m: int, reps: int, seed: int = 11) -> list[float]:
    """Seconds of the LT trial's arrival order alone: ``lt.trial.radix_order`` of the
    arrival times of ``m`` workers offering ``SYMBOLS`` symbols each (delays plus running
    costs, laid out worker by worker as the kernel lays them), without degrees, neighbours or
    decoding."""
    from ltsim.codes.lt.trial import radix_order

    size = m * SYMBOLS
    keys = np.empty((2, size), dtype=np.uint64)
    ints = np.empty((2, size), dtype=np.int64)
    count = np.empty(256, dtype=np.int64)
    rng = np.random.default_rng(seed)
    radix_order(np.ones(4), 4, keys[0], keys[1], ints[0], ints[1], count)  # compile
    seconds = []
    for _ in range(reps):
        times = (rng.exponential(1.0 / RATE, m)[:, None] + np.cumsum(
            TAU * rng.integers(1, 20, (m, SYMBOLS)), axis=1)).ravel()
        start = time.perf_counter_ns()
        radix_order(times, size, keys[0], keys[1], ints[0], ints[1], count)
        seconds.append((time.perf_counter_ns() - start) * 1e-9)
    return seconds


def bench_lt_kernel(m: int, reps: int) -> list[Row]:
    """Measurement 4: median time of one compiled LT trial (``lt_trial``: degrees, arrivals,
    neighbours and online peeling in one call) on exp02's system, LT-1 and LT-2, and its
    split: the trial stopped at the first arrival (degrees and setup), and the decoder
    alone on graphs of the same system (``peeling.peel``)."""
    lt1, used1 = time_lt_trials(m, 1, TAU, reps)
    lt2, used2 = time_lt_trials(m, 2, TAU, reps)
    setup, _ = time_lt_trials(m, 1, TAU, reps, threshold=1)
    tiny, _ = time_lt_trials(4, 1, TAU, reps, threshold=1)
    order = order_seconds(m, reps)
    peel_s, edges = time_peel(m, max(reps // 5, 3))
    t1, t2, t0, tt, th, tp = (statistics.median(x) for x in (lt1, lt2, setup, tiny, order,
                                                               peel_s))
    MEASURED["lt1_us"] = t1 * 1e6
    log(f"lt_trial m={m}: LT-1 {t1 * 1e6:.1f} µs, LT-2 {t2 * 1e6:.1f} µs, setup "
        f"{t0 * 1e6:.1f} µs, call {tt * 1e6:.1f} µs, order {th * 1e6:.1f} µs, peel "
        f"{tp * 1e6:.1f} µs")
    return [
        Row(f"4. LT-1 trial, compiled kernel, m={m} (median of {reps})", duration(t1),
            note=
            f"lt_trial: k={m}, n={m}, s={SYMBOLS}, c={C}, δ={DELTA}, τ={TAU}, Exp({RATE}); "
            f"p90 {duration(float(np.percentile(lt1, 90)))}; "
            f"{statistics.fmean(used1):.0f} symbols received on average; its target is row 0, "
            "in argsorts"),
        Row(f"4. LT-2 trial, compiled kernel, m={m} (median of {reps})", duration(t2),
            note=f"k={m // 2}; p90 {duration(float(np.percentile(lt2, 90)))}; "
                 f"{statistics.fmean(used2):.0f} symbols received on average"),
        Row(f"4. LT-1 trial stopped at the 1st arrival, m={m} (median of {reps})",
            duration(t0),
            note=f"threshold=1: the {m * SYMBOLS} degrees, arrival times, their sort and one "
                 f"symbol; the other {duration(max(t1 - t0, 0.0))} of a trial go to the "
                 f"arrivals (neighbours, peeling)"),
        Row(f"4. lt_trial fixed cost of a call (m=4, stopped at the 1st arrival, median of "
            f"{reps})",
            duration(tt), note="the Python wrapper (PCG64 state read and written back "
                               "through its dict) and numba's dispatch of 19 arguments"),
        Row(f"4. Arrival order alone (the kernel's radix sort), m={m} (median of {reps})",
            duration(th),
            note=f"measured alone: lt.trial.radix_order of the {m * SYMBOLS} arrival times of "
                 f"{m} workers; {th / (m * SYMBOLS) * 1e9:.0f} ns per symbol"),
        Row(f"4. Peeling decoder alone (peeling.peel), LT-1, m={m} (median of "
            f"{len(peel_s)})",
            duration(tp),
            note=f"measured alone, on separately drawn graphs fed in arrival order; {edges:.0f}"
                 f" edges read, {tp / edges * 1e9:.0f} ns per edge, including the decoder's "
                 "allocation of its state"),
    ]


def large_m_split(m: int, trial: float) -> Row:
    """An information row: the LT-1 trial at ``m`` (``trial`` seconds) split into the part
    up to the first arrival (of which the arrival order, measured alone) and the rest."""
    first = time_lt_trials(m, 1, TAU_M_PAPER / m, 1, threshold=1)[0][0]
    order = order_seconds(m, 1)[0]
    rest = trial - first
    return Row(f"5. LT-1 trial in parts, m={exponent_label(m)}, τ·m = 5 s (1 trial each)",
               f"{duration(first)} + {duration(rest)}",
               note="degrees, arrival times and their order (stopped at the 1st arrival; the "
                    f"radix sort alone {duration(order)}) + the rest: neighbours and online "
                    "peeling (the median trial above minus the first part)")


def growth_exponent(ms: Sequence[int], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(m)."""
    return float(np.polyfit(np.log(ms), np.log(seconds), 1)[0])


def exponent_label(m: int) -> str:
    """``10^k`` for a power of ten, else the number."""
    k = round(math.log10(m))
    return f"10^{k}" if 10**k == m else str(m)


def bench_large_m(plan: Sequence[tuple[int, int]], old_regime: bool) -> list[Row]:
    """Measurement 5: LT-1 trials in the paper's regime tau m = 5 s at the sizes and
    repetitions of ``plan`` (m = 10^6 carries the target), the growth exponent over them,
    the old regime tau = 0.005 at the largest m (``old_regime``), and the peak RSS of a whole
    ``ltsim run`` (2 trials, LT-1 only, ``--jobs 1``) at the largest m."""
    from ltsim.codes.lt.soliton import mean_degree

    rows, sizes, medians = [], [], []
    big = plan[-1][0]
    for m, reps in plan:
        seconds, used = time_lt_trials(m, 1, TAU_M_PAPER / m, reps)
        t = statistics.median(seconds)
        sizes.append(m)
        medians.append(t)
        edges = statistics.fmean(used) * mean_degree(m, C, DELTA)
        log(f"LT-1 m={m}, tau m = 5: {seconds}")
        note = (f"τ={TAU_M_PAPER / m:.3g} s; {spread(seconds)}; {statistics.fmean(used):.0f} "
                f"symbols received ≈ {edges:.3g} edges (× mean degree "
                f"{mean_degree(m, C, DELTA):.1f}) → {t / edges * 1e9:.0f} ns per edge")
        MEASURED.update(big_m=m, big_ns_per_edge=t / edges * 1e9)
        rows.append(Row(f"5. LT-1 trial, m={exponent_label(m)}, τ·m = 5 s (median of "
                        f"{reps})", duration(t), note=note))
    if big == 10**6:
        rows.append(large_m_split(big, medians[-1]))
    exponent = growth_exponent(sizes, medians)
    MEASURED["exponent"] = exponent
    edge_exponent = growth_exponent(sizes, [m * mean_degree(m, C, DELTA) for m in sizes])
    span = f"m={exponent_label(sizes[0])}..{exponent_label(sizes[-1])}"
    rows.append(Row(
        f"5. Growth exponent of the LT-1 trial time, {span}, τ·m = 5 s", f"{exponent:.2f}",
        f"≤ {T_EXPONENT:g}", exponent <= T_EXPONENT,
        "least-squares slope of log time vs log m over the rows above; the code's edges "
        f"(m × mean degree) grow with exponent {edge_exponent:.2f}",
    ))
    if old_regime:
        seconds, used = time_lt_trials(big, 1, TAU, 1)
        rows.append(Row(f"5. LT-1 trial, m={exponent_label(big)}, τ = 0.005 (old regime, 1 "
                        "trial)", duration(seconds[0]),
                        note=f"{used[0]} symbols received: high-degree symbols arrive late, "
                             "so more symbols of lower degree are needed"))
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        config = Path(tmp) / "big.yaml"
        config.write_text(textwrap.dedent(f"""\
            name: bench-big
            m: {big}
            tau: {TAU_M_PAPER / big!r}
            trials: 2
            seed: 3
            delay: {{dist: exponential, rate: {RATE}}}
            schemes:
              - {{kind: lt, r: 1}}
        """))
        wall, rss = peak_rss(ltsim("run", str(config), "-o", str(Path(tmp) / "out"), "--jobs",
                                   "1", "--force", "-q"))
        loop = loop_seconds(Path(tmp) / "out")
    gib = rss / 2**30
    log(f"peak RSS ltsim run m={big}: {gib:.2f} GiB in {wall:.1f} s")
    rows.append(Row(
        f"5. Peak RSS of `ltsim run`, m={exponent_label(big)}, τ={TAU_M_PAPER / big:.3g}, "
        "2 trials, LT-1 only, --jobs 1", f"{gib:.2f} GiB", f"≤ {T_RSS_GIB:g} GiB",
        gib <= T_RSS_GIB,
        f"ru_maxrss of the child via os.wait4 from a small launcher; the run took "
        f"{wall:.1f} s, its loop {loop:.1f} s",
    ))
    return rows


# --------------------------------------------------------------------------------------------
# 6. the pure-Python references


def bench_reference_ratio(fast_per_trial: float, trials: int, m: int | None = None
                          ) -> list[Row]:
    """Measurement 6: seconds per trial of the pure-Python references of the five exp02
    schemes (``tests/reference_codes.py::scheme_reference``, whose LT path peels with
    ``tests/reference.py::peel_reference`` from scratch after every arrival) against the
    fast path's seconds per trial ``fast_per_trial`` (measurement 1, ``--jobs 1``).

    The references are checked against the fast path's latencies of the same trials.
    ``m`` overrides exp02's m (``--quick``).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ltsim.montecarlo.trials import simulate_trials
    from tests.reference_codes import scheme_reference

    experiment = load_experiment(EXP02, sets=() if m is None else (f"m={m}",))
    fast = simulate_trials(experiment, 0, trials)
    per_trial, per_scheme = [], collections.Counter()
    agree = True
    for trial in range(trials):
        start = time.perf_counter()
        for index, scheme in enumerate(experiment.schemes):
            began = time.perf_counter()
            ref = scheme_reference(experiment, index, trial)
            per_scheme[scheme.scheme_id] += time.perf_counter() - began
            agree &= math.isclose(ref["latency"], fast[index].latency[trial], rel_tol=1e-12)
        per_trial.append(time.perf_counter() - start)
    ref_s = statistics.median(per_trial)
    ratio = ref_s / fast_per_trial
    log(f"references: {per_trial} s per trial, {dict(per_scheme)}")
    shares = ", ".join(f"{sid} {duration(t / trials)}" for sid, t in per_scheme.items())
    return [Row(
        f"6. Speed-up over the pure-Python references, exp02, per trial (median of "
        f"{plural(trials, 'trial')})",
        f"{ratio:.0f}×", f"≥ {T_REFERENCE:g}×", ratio >= T_REFERENCE,
        f"reference {duration(ref_s)} per trial ({shares}) vs fast path "
        f"{duration(fast_per_trial)} per trial (row 1, --jobs 1); latencies "
        + ("agree" if agree else "DISAGREE") + " on these trials",
    )]


# --------------------------------------------------------------------------------------------
# 7. sum-recovery


def bench_sum_recovery(n: int, d: int, trials: int, warmup: int) -> list[Row]:
    """Measurement 7: one trial of the sum-recovery code at ``n``, ``d`` under Exp(0.2)
    delays, by ``benchmarks/bench_sumrank.py``'s ``bench`` (its default block update)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import bench_sumrank

    from ltsim.codes.sum_recovery.blas import BLAS_AVAILABLE as blas

    bench_sumrank.arrivals.run_trial(np.zeros(3), bench_sumrank.U, 1, None,
                                     np.random.default_rng(0))  # load the kernels
    r = bench_sumrank.bench("exp", n, d, trials, warmup, 2022, blas)
    wall, cpu = r["trial"]
    log(f"sum-recovery n={n} d={d}: {r}")
    return [Row(
        f"7. Sum-recovery trial, n={n}, d={d}, Exp(0.2) (median of {trials})", f"{wall:.1f} ms",
        f"≤ {T_SUMRANK_MS:g} ms", wall <= T_SUMRANK_MS,
        f"bench_sumrank.bench, {'BLAS' if blas else 'compiled-kernel'} block update: CPU "
        f"{cpu:.1f} ms; sampling {r['sampling'][0]:.2f} ms + decoding {r['decoding'][0]:.1f} "
        f"ms alone; {r['count']:.0f} symbols at the stop",
    )]


# --------------------------------------------------------------------------------------------
# 8-9. distributed engines


def bench_sweep(trials: int) -> list[Row]:
    """Measurement 8: ``ltsim sweep`` of a 3x3 grid of exp02 (tau x delay rate) at
    ``trials`` trials a point, with ``--jobs 2`` and on a 2-worker Dask ``LocalCluster``
    started here (``--address``)."""
    import logging

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        sweep = Path(tmp) / "grid.sweep.yaml"
        sweep.write_text(textwrap.dedent(f"""\
            name: bench-grid
            base: {EXP02}
            grid:
              tau: [0.0005, 0.005, 0.05]
              delay.rate: [0.02, 0.2, 2.0]
            trials: {trials}
        """))
        common = ["-q", "--force"]
        local = run_timed(ltsim("sweep", str(sweep), "-o", str(Path(tmp) / "local"),
                                "--jobs", "2", *common))
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster:
            dask = run_timed(ltsim("sweep", str(sweep), "-o", str(Path(tmp) / "dask"),
                                   "--address", cluster.scheduler_address, *common))
    log(f"sweep: local {local:.2f} s, dask {dask:.2f} s")
    what = f"3×3 grid of exp02, {trials} trials a point"
    return [
        Row(f"8. `ltsim sweep` --jobs 2, {what}", f"{local:.2f} s",
            note="whole command, 9 points run one after the other on one process pool"),
        Row(f"8. `ltsim sweep` --address (2-worker dask LocalCluster), {what}",
            f"{dask:.2f} s", note="whole command; the cluster was started beforehand"),
        Row("8. Sweep on dask over --jobs 2", f"{dask / local:.2f}×",
            note="ratio of the two wall times above (cluster overhead)"),
    ]


def bench_execute(trials: int, reps: int) -> list[Row]:
    """Measurement 9: ``ltsim execute configs/execute-small.yaml --trials TRIALS`` on
    ``--backend local`` and ``--backend dask`` (its own LocalCluster), ``reps`` times each in
    turn: the ratio of the median wall times (the latencies and lags of the last runs)."""
    import pandas as pd

    walls: dict[str, list[float]] = {"local": [], "dask": []}
    loops: dict[str, list[float]] = {"local": [], "dask": []}
    means, lags = {}, {}
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        for _ in range(reps):
            for backend in ("local", "dask"):
                out = Path(tmp) / backend
                walls[backend].append(run_timed(ltsim(
                    "execute", str(EXECUTE_SMALL), "--backend", backend, "--trials",
                    str(trials), "-o", str(out), "--force", "-q")))
                loops[backend].append(loop_seconds(out))
                summary = pd.read_csv(out / "summary.csv")
                means[backend] = dict(zip(summary["scheme"], summary["mean"], strict=True))
                tasks = pd.read_csv(out / "tasks.csv")
                lags[backend] = float((tasks["start"] - tasks["submitted"]).mean())
    log(f"execute walls {walls}, loops {loops}")
    walls = {b: statistics.median(v) for b, v in walls.items()}
    loops = {b: statistics.median(v) for b, v in loops.items()}
    ratio = walls["dask"] / walls["local"]
    MEASURED["execute_ratio"] = ratio
    log(f"execute: {walls}, meta {loops}, means {means}, lags {lags}")
    latencies = ", ".join(f"{sid} {means['local'][sid]:.3g} / {means['dask'][sid]:.3g}"
                          for sid in means["local"])
    return [Row(
        f"9. `ltsim execute` execute-small, {plural(trials, 'trial')}: dask over local "
        f"(median of {reps})",
        f"{ratio:.2f}×", f"≤ {T_EXECUTE_RATIO:g}×", ratio <= T_EXECUTE_RATIO,
        f"median of {plural(reps, 'run')} each, in turn: whole commands local "
        f"{walls['local']:.1f} s, "
        f"dask {walls['dask']:.1f} s "
        f"(LocalCluster start-up included); executions alone (meta.json wall_seconds): "
        f"local {loops['local']:.1f} s, dask {loops['dask']:.1f} s = "
        f"{loops['dask'] / loops['local']:.2f}×",
    ), Row(
        "9. `ltsim execute` mean latency per scheme, local / dask (s)", latencies,
        note="summary.csv of the last run of each: the measured time to F(x), per scheme",
    ), Row(
        "9. `ltsim execute` task dispatch lag, local / dask",
        f"{duration(lags['local'])} / {duration(lags['dask'])}",
        note="mean over all tasks of tasks.csv of start − submitted: from the master's "
             "submission to the task's body starting on a worker (before its injected delay)",
    )]


# --------------------------------------------------------------------------------------------
# yardsticks of the machine


def bench_queueing(trials: int, jobs: int, sweep_trials: int) -> list[Row]:
    """Measurement 10: the SIGMETRICS 2020 exponential system as a queueing run.

    Each scheme of ``configs/queue-rcmv-exp.sweep.yaml`` alone at λ = 0.3 (``trials`` x
    ``jobs`` jobs, one process, after a small run that loads the compiled kernels): jobs x
    workers simulated a second. Then the sweep (every scheme, ``sweep_trials`` trials of
    ``jobs`` jobs, warm-up ``jobs / 10``) at its lowest and highest rate by ``ltsim sweep
    --jobs 2``, scaled to its 9 rates and 20 trials x 1000 jobs (the time is linear in the
    jobs simulated)."""
    import yaml

    from ltsim import Experiment, simulate

    sweep = yaml.safe_load(RCMV_EXP.read_text(encoding="utf-8"))
    base = dict(sweep["base"], trials=trials, jobs=jobs, warmup=jobs // 10)
    base["arrivals"] = dict(base["arrivals"], rate=0.3)
    workers = int(base["workers"])
    rows = []
    for scheme in base["schemes"]:
        experiment = Experiment.from_dict(dict(base, schemes=[scheme]))
        simulate(experiment.replace(trials=1, jobs=10, warmup=0), progress=False, jobs=1)
        start = time.perf_counter()
        simulate(experiment, progress=False, jobs=1)
        seconds = time.perf_counter() - start
        per_job = seconds / (trials * jobs)
        name = ", ".join(f"{k} {v}" for k, v in scheme.items() if k != "kind")
        label = scheme["kind"] + (f" ({name})" if name else "")
        log(f"queueing {label}: {per_job * 1e6:.0f} µs a job")
        rows.append(Row(f"10. Queueing, RCMV-exp λ = 0.3, {label}",
                        f"{workers / per_job:,.0f} jobs×workers/s",
                        note=f"{per_job * 1e6:,.0f} µs a job; {trials} × {jobs} jobs, "
                             "one process"))
    grid = sweep["grid"]["arrivals.rate"]
    grid = [grid[0], grid[-1]]  # the lowest and highest rates; the time per job hardly varies
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        path = Path(tmp) / "rcmv.sweep.yaml"
        path.write_text(yaml.safe_dump({"name": "bench-rcmv",
                                        "base": dict(base, trials=sweep_trials),
                                        "grid": {"arrivals.rate": grid}}), encoding="utf-8")
        wall = run_timed(ltsim("sweep", str(path), "-o", str(Path(tmp) / "out"), "--jobs", "2",
                               "-q", "--force"))
    scale = 20 * 1000 / (sweep_trials * jobs) * len(sweep["grid"]["arrivals.rate"]) / len(grid)
    whole = wall * scale
    log(f"queueing sweep: {wall:.1f} s measured, {whole:.0f} s scaled")
    return [*rows, Row(
        "10. `ltsim sweep` of queue-rcmv-exp, 20 trials × 1000 jobs, --jobs 2",
        f"{whole:.0f} s", f"≤ {T_QUEUE_SWEEP_S:.0f} s", whole <= T_QUEUE_SWEEP_S,
        note=f"{wall:.1f} s measured at {sweep_trials} × {jobs} jobs, λ = {grid[0]:g} and "
             f"{grid[-1]:g}, "
             f"scaled ×{scale:g}; LT's exact decoding at k = 10^4 is nearly all of it")]


def bench_raptor(trials: int, rounds: int = 3) -> list[Row]:
    """Measurement 11: exp02's system (m = n = 1000) with Raptor-1 alone and LT-1 alone,
    ``trials`` trials on one process after a warm-up run, ``rounds`` times in turn: the
    median seconds a trial, and their ratio.
    The Raptor trial decides over the rationals and reports the GF(2) answer too (two
    searches); ``field: gf2`` alone is measured beside it."""
    from ltsim import Experiment, simulate

    base = load_experiment(EXP02)
    common = dict(m=base.m, tau=base.tau, trials=trials, seed=base.seed,
                  delay={"dist": "exponential", "rate": RATE})
    schemes = (("lt1", {"kind": "lt", "r": 1}), ("raptor1", {"kind": "raptor"}),
               ("raptor1-gf2", {"kind": "raptor", "field": "gf2"}))
    experiments = {name: Experiment(schemes=[scheme], **common) for name, scheme in schemes}
    for experiment in experiments.values():
        simulate(experiment.replace(trials=2), progress=False, jobs=1)
    runs: dict[str, list[float]] = {name: [] for name in experiments}
    for _ in range(rounds):  # in turn, so that a busy moment does not fall on one alone
        for name, experiment in experiments.items():
            start = time.perf_counter()
            simulate(experiment, progress=False, jobs=1)
            runs[name].append((time.perf_counter() - start) / trials)
    log(f"raptor row, seconds a trial: {runs}")
    times = {name: statistics.median(values) for name, values in runs.items()}
    ratio = times["raptor1"] / times["lt1"]
    return [
        Row("11. Raptor-1 trial (K = 1000, rationals + GF(2)), exp02, one process",
            f"{times['raptor1'] * 1e3:.2f} ms",
            note=f"LT-1 {times['lt1'] * 1e3:.2f} ms; Raptor-1 over GF(2) alone "
                 f"{times['raptor1-gf2'] * 1e3:.2f} ms; {trials} trials each, medians of "
                 f"{rounds} rounds in turn"),
        Row("11. Raptor-1 trial over an LT-1 trial", f"{ratio:.2f}×",
            f"≤ {T_RAPTOR_RATIO:g}×", ratio <= T_RAPTOR_RATIO,
            note="decisions by inactivation from one peeling, the further symbols reduced "
                 "and inserted one at a time; the peeling and the residuals' bases over the "
                 "rationals are what is left"),
    ]


def pointer_chase_ns(megabytes: int, steps: int, seed: int = 0) -> float:
    """Nanoseconds per dependent random read in an int32 array of ``megabytes`` MiB: a walk
    around one random cycle (Sattolo), each read's address given by the previous read."""
    import numba

    @numba.njit(cache=False)
    def chase(nxt, count):
        i = 0
        for _ in range(count):
            i = nxt[i]
        return i

    size = megabytes * 2**20 // 4
    perm = np.random.default_rng(seed).permutation(size).astype(np.int32)
    nxt = np.empty(size, dtype=np.int32)
    nxt[perm] = np.roll(perm, -1)
    chase(nxt, 10)
    start = time.perf_counter()
    chase(nxt, steps)
    return (time.perf_counter() - start) / steps * 1e9


def argsort_us(size: int = 2000, reps: int = 2000, seed: int = 0) -> float:
    """Median microseconds of ``np.argsort`` of ``size`` random doubles."""
    values = np.random.default_rng(seed).random(size)
    times = []
    for _ in range(reps):
        start = time.perf_counter_ns()
        np.argsort(values)
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e3


def measure_yardsticks(megabytes: int, steps: int, reps: int) -> None:
    """Measure the yardsticks (:data:`YARD`): ``np.argsort`` of 2000 doubles (compute, in
    cache), the latency of a dependent random read far beyond the caches (memory), a whole
    ``python -c "import numpy"`` (a process start with the numeric stack) and the libraries'
    floor of ``ltsim run`` (:data:`LIBRARIES_FLOOR`). Called first and again last: each
    yardstick keeps the smaller of its two values, the machine at its quietest during the
    run (a yardstick taken while the machine is busy would flatter every ratio)."""
    found = {"argsort_us": argsort_us(), "chase_ns": pointer_chase_ns(megabytes, steps)}
    command = [sys.executable, "-c", "import numpy"]
    run_timed(command)
    found["numpy_s"] = statistics.median(run_timed(command) for _ in range(reps))
    with tempfile.TemporaryDirectory(prefix="ltsim-bench-") as tmp:
        script = Path(tmp) / "floor.py"  # a file, so that numba can cache ``one``
        script.write_text(LIBRARIES_FLOOR)
        command = [sys.executable, str(script)]
        run_timed(command)
        found["floor_s"] = statistics.median(run_timed(command) for _ in range(reps))
    log(f"yardsticks measured: {found}")
    for key, value in found.items():
        YARD[key] = min(value, YARD.get(key, math.inf))


def bench_yardsticks(megabytes: int, steps: int) -> list[Row]:
    """The rows of the yardsticks (:func:`measure_yardsticks`)."""
    return [
        Row("Yardstick: np.argsort of 2000 random doubles (median of 2000; the smaller of "
            "the first and last measurement, as every yardstick)",
            f"{YARD['argsort_us']:.1f} µs", note="compute speed of this machine, data in cache"),
        Row(f"Yardstick: dependent random read in {megabytes} MiB (pointer chase)",
            f"{YARD['chase_ns']:.0f} ns", note=f"{steps} reads around one random cycle: memory "
                                               "latency seen by a linked-list walk beyond the "
                                               "caches"),
        Row('Yardstick: `python -c "import numpy"`, whole command (median)',
            duration(YARD["numpy_s"]), note="interpreter start-up and the numeric stack"),
        Row("Yardstick: the libraries' floor of `ltsim run`, whole command (median)",
            f"{duration(YARD['floor_s'])} = {YARD['floor_s'] / YARD['numpy_s']:.3g}"
            " × import numpy",
            note="import click, numba, NumPy, pandas, pydantic, SciPy special, PyYAML and make "
                 "one compiled call from numba's cache (numba's CPU target loads on the first "
                 "one); no ltsim code"),
    ]


def yardstick_targets() -> list[Row]:
    """Rows 0: the speed targets as ratios to the yardsticks of the same run, so that they
    are checked on any machine (from :data:`MEASURED` and :data:`YARD`)."""
    argsort, chase, numpy_s = YARD["argsort_us"], YARD["chase_ns"], YARD["numpy_s"]
    rows = []

    def ratio_row(item, value, ratio, unit, target, ok, note):
        rows.append(Row(f"0. {item}", f"{value} = {ratio:.3g} {unit}", target, ok, note))

    if "trial_j1_us" in MEASURED:
        x = MEASURED["trial_j1_us"] / argsort
        ratio_row("exp02 trial of all five schemes, --jobs 1 loop",
                  duration(MEASURED["trial_j1_us"] * 1e-6), x, "argsorts",
                  f"≤ {T_TRIAL_ARGSORTS:g} argsorts", x <= T_TRIAL_ARGSORTS, "row 1")
    if "lt1_us" in MEASURED:
        x = MEASURED["lt1_us"] / argsort
        ratio_row("LT-1 kernel, m = 1000", duration(MEASURED["lt1_us"] * 1e-6), x, "argsorts",
                  f"≤ {T_LT1_ARGSORTS:g} argsorts", x <= T_LT1_ARGSORTS, "row 4")
    if "big_ns_per_edge" in MEASURED:
        x = MEASURED["big_ns_per_edge"] / chase
        ratio_row(f"LT-1 trial, m = {exponent_label(int(MEASURED['big_m']))}, τ·m = 5 s, per "
                  "received edge", f"{MEASURED['big_ns_per_edge']:.0f} ns", x, "reads",
                  f"≤ {T_READS_PER_EDGE:g} reads", x <= T_READS_PER_EDGE, "row 5")
    if "exponent" in MEASURED:
        x = MEASURED["exponent"]
        rows.append(Row("0. Growth exponent of the LT-1 trial time, τ·m = 5 s", f"{x:.2f}",
                        f"≤ {T_EXPONENT:g}", x <= T_EXPONENT, "row 5 (no yardstick: a slope)"))
    if "run1_s" in MEASURED:
        x = MEASURED["run1_s"] / numpy_s
        ratio_row("whole `ltsim run configs/exp02.yaml --trials 1 --jobs 1`",
                  duration(MEASURED["run1_s"]), x, "× import numpy",
                  f"≤ {T_RUN1_NUMPY:g}×", x <= T_RUN1_NUMPY,
                  f"row 2; the libraries' floor alone is {YARD['floor_s'] / numpy_s:.3g}×, "
                  f"ltsim's own share {duration(MEASURED['run1_s'] - YARD['floor_s'])}")
    if "speedup" in MEASURED:
        x = MEASURED["speedup"]
        rows.append(Row("0. --jobs 2 over --jobs 1, 5000-trial exp02 loop", f"{x:.2f}×",
                        f"≥ {T_SPEEDUP:g}×", x >= T_SPEEDUP, "row 1 (a ratio already)"))
    if "execute_ratio" in MEASURED:
        x = MEASURED["execute_ratio"]
        rows.append(Row("0. `ltsim execute` execute-small, dask over local", f"{x:.2f}×",
                        f"≤ {T_EXECUTE_RATIO:g}×", x <= T_EXECUTE_RATIO,
                        "row 9 (a ratio already)"))
    return rows


# --------------------------------------------------------------------------------------------
# report


def cpu_model() -> str:
    """The CPU model name of ``/proc/cpuinfo`` (else the platform's processor string)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> float:
    """The 1-minute load average (NaN where unknown)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def git_short() -> str:
    """Short hash of the checkout's HEAD, with ``+changes`` if tracked files differ."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" +changes" if dirty.strip() else "")


def versions() -> str:
    """Versions of Python, the libraries that set the speed, ltsim and the git revision."""
    found = [f"Python {platform.python_version()}"]
    for name in ("numpy", "numba", "scipy", "pandas", "dask", "distributed", "ltsim"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found) + f", git {git_short()}"


def describe_run(load_start: float, load_end: float, command: str) -> str:
    """The line before the table: machine, versions and the exact command."""
    day = datetime.date.today().isoformat()
    return (f"Machine: {cpu_model()}, {usable_cores()} usable cores, 1-min load average "
            f"{load_start:.2f} at start and {load_end:.2f} at end ({day}). Versions: "
            f"{versions()}. Command: `{command}`")


def replace_block(text: str, block: str) -> str:
    """``text`` with the lines between the :data:`BEGIN` and :data:`END` markers replaced by
    ``block``.

    Raises
    ------
    ValueError
        If the markers are missing, repeated or out of order.
    """
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"expected one {BEGIN} followed by one {END}")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{block.strip()}\n{END}{tail}"


PAGE_TEMPLATE = f"""# Performance

```
make bench      # .venv/bin/python benchmarks/bench_simulator.py --write-docs
```

{BEGIN}
{END}
"""


def write_docs(block: str, path: Path = DOCS) -> None:
    """Put ``block`` between the markers of ``path`` (created from a template if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else PAGE_TEMPLATE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_block(text, block), encoding="utf-8")


def shown(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def measure_all(quick: bool) -> list[Row]:
    """Every measurement, full size or (``quick``) tiny."""
    rows: list[Row] = []
    q = quick
    megabytes, steps = (4, 2**14) if q else (256, 2**21)
    log("yardsticks")
    measure_yardsticks(megabytes, steps, reps=1 if q else 5)
    log("1. exp02 throughput")
    throughput, fast_per_trial = bench_throughput(trials=200 if q else 5000, reps=1 if q else 5)
    rows += throughput
    log("2. exp02 whole run")
    rows += bench_whole_run(trials=50 if q else None, reps=1 if q else 5)
    log("3. writing share")
    rows += bench_write_share(trials=200 if q else 5000)
    log("4. LT kernel at m = 1000")
    rows += bench_lt_kernel(M, reps=20 if q else 500)
    log("5. LT-1 at large m")
    plan = [(10**3, 3), (3000, 2), (10**4, 2)] if q else [(10**4, 20), (10**5, 5), (10**6, 3)]
    rows += bench_large_m(plan, old_regime=not q)
    log("6. pure-Python references")
    rows += bench_reference_ratio(fast_per_trial, trials=1 if q else 3, m=100 if q else None)
    log("7. sum-recovery")
    rows += bench_sum_recovery(n=200 if q else 1000, d=10, trials=3 if q else 40,
                               warmup=1 if q else 5)
    log("8. sweep")
    rows += bench_sweep(trials=20 if q else 500)
    log("9. execute")
    rows += bench_execute(trials=1 if q else 3, reps=1 if q else 3)
    log("11. raptor")
    rows += bench_raptor(trials=20 if q else 300, rounds=1 if q else 3)
    log("10. queueing")
    rows += bench_queueing(trials=1 if q else 2, jobs=20 if q else 1000,
                           sweep_trials=2 if q else 20)
    log("yardsticks again")
    measure_yardsticks(megabytes, steps, reps=1 if q else 5)
    rows += bench_yardsticks(megabytes, steps)
    return yardstick_targets() + rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) the report; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that every measurement runs (numbers "
                             "meaningless)")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite the table block of docs/performance.md")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    command = shlex.join([shown(sys.executable), *(sys.argv if argv is None else
                                                    ["benchmarks/bench_simulator.py", *argv])])
    load_start = load_average()
    started = time.perf_counter()
    rows = measure_all(args.quick)
    elapsed = time.perf_counter() - started
    report = "\n\n".join([
        describe_run(load_start, load_average(), command),
        format_table(rows),
        f"{tally(rows)}; the benchmark took {elapsed:.0f} s"
        + (" (--quick: tiny sizes, numbers not meaningful)" if args.quick else ""),
    ])
    print(report, flush=True)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")
    if args.write_docs:
        write_docs(report, DOCS)
        log(f"wrote {shown(str(DOCS))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
