"""The memory and disk estimates of a run (:mod:`ltsim.montecarlo.footprint`), the
refusal of runs that will not fit, and their accuracy against measurements.

The cheap tests check the formulas (linear in trials, a 1e9-trial exp02 in the hundreds of
GB), the vectorised codes' blocks against tracemalloc, and a real folder's size. The slow
test measures the peak RSS of real ``ltsim run`` processes (``ru_maxrss`` from ``os.wait4``).
``python tests/test_footprint.py`` prints the calibration table of docs/performance.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ltsim.api import budget as runner
from ltsim.cli import main
from ltsim.io import config
from ltsim.io.results import RowFormatter
from ltsim.montecarlo import footprint as fp
from ltsim.montecarlo import trials

ROOT = Path(__file__).resolve().parent.parent
GiB, MiB = 2**30, 2**20
EXP02 = ROOT / "configs" / "exp02.yaml"


def config_of(m, schemes, trials_, tau=0.005):
    """A run config as plain data."""
    return {"name": "fp", "m": m, "tau": tau, "trials": trials_, "seed": 1,
            "delay": {"dist": "exponential", "rate": 0.2}, "schemes": schemes}


def experiment(schemes, m=24, trials_=40, tau=0.01):
    return config.validate(config_of(m, schemes, trials_, tau))


FIVE = [{"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
        {"kind": "lt", "c": 0.1}, {"kind": "lt", "r": 2, "c": 0.1}]


def exp02(trials_: int):
    return config.load(EXP02, "run", {"trials": trials_, "seed": None}, ())


# --------------------------------------------------------------------------------------------
# the formulas


def test_parent_and_disk_grow_linearly_with_trials_and_workers_do_not():
    small, large = (fp.footprint(experiment(FIVE, trials_=t), 2) for t in (200_000, 400_000))
    for field in ("parent", "running", "folder", "disk"):
        ratio = getattr(large, field) / getattr(small, field)
        assert 1.9 < ratio < 2.1, (field, ratio)
    assert large.worker == small.worker and large.base == small.base
    # one process per block at most, and the parent's trials are counted once
    assert fp.footprint(experiment(FIVE, trials_=100), 64).processes == 1
    assert small.grows_with_trials and large.memory > large.parent


def test_a_billion_trials_of_exp02_need_hundreds_of_gigabytes():
    need = fp.footprint(exp02(10**9), 2)
    assert 300 * GiB < need.memory < 1500 * GiB, need.memory / GiB
    assert 150 * GiB < need.folder < 600 * GiB, need.folder / GiB
    assert 1.8 < need.disk / need.folder < 2.1  # the rows, twice while joined
    assert need.grows_with_trials and need.per_process < GiB
    # the per-process estimate alone (the old one) is three orders of magnitude short
    assert need.per_process < need.memory / 1000


def test_workers_grow_with_batch_times_workers():
    uncoded = [fp.footprint(experiment([{"kind": "uncoded"}], m=m, trials_=100)).worker
               for m in (10_000, 100_000)]
    assert 1.1 < uncoded[1] / uncoded[0] < 2  # the batch shrinks as m grows (16 MiB delays)
    lt = [fp.footprint(experiment([{"kind": "lt"}], m=m, tau=5 / m)).worker
          for m in (10**5, 10**6)]
    # LT's own buffers grow like m log m (the edges), beside a block's delays (16 MiB at
    # any m, as the batch shrinks)
    assert 7 < (lt[1] - fp.KERNEL_BYTES) / (lt[0] - fp.KERNEL_BYTES) < 13
    code = experiment([{"kind": "lt"}], m=10**5).schemes[0]
    assert 10 < code.memory_bytes(10**6) / code.memory_bytes(10**5) < 13


@pytest.mark.parametrize("scheme", [
    {"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
    {"kind": "backup"}, {"kind": "mds", "r": 10}, {"kind": "mds", "r": 50,
                                                  "symbols_per_worker": 3},
    {"kind": "ideal"}])
def test_a_block_of_a_vectorised_code_against_tracemalloc(scheme):
    """The peak bytes NumPy allocates for a block (delays, draws, temporaries) at
    m = 10^5 agree with the block's estimate within 15 %."""
    exp = experiment([scheme], m=100_000, trials_=1000, tau=5e-5)
    batch = trials.batch_size(exp)
    trials.simulate_trials(exp, 0, 1)
    tracemalloc.start()
    try:
        trials.simulate_block(exp, RowFormatter([scheme_id(exp)]), 0, batch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = fp.block_bytes(exp, batch)
    assert 0.85 < estimate / peak < 1.15, (estimate / MiB, peak / MiB)


def scheme_id(exp) -> str:
    return exp.schemes[0].scheme_id


@pytest.mark.parametrize("schemes,trials_", [(FIVE, 3000), (FIVE[:3], 20_000)])
def test_folder_estimate_against_a_real_folder(tmp_path, schemes, trials_):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config_of(24, schemes, trials_, 0.01)))
    exp = config.load(path)
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out"), "-q",
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    real = sum(f.stat().st_size for f in (tmp_path / "out").iterdir())
    estimate = fp.footprint(exp).folder
    assert 0.8 < estimate / real < 1.2, (estimate, real)


# --------------------------------------------------------------------------------------------
# refusals


@pytest.fixture
def memory_of(monkeypatch):
    def set_memory(nbytes):
        monkeypatch.setattr(runner, "available_memory", lambda: nbytes)
    return set_memory


def test_too_many_trials_for_memory_are_refused_on_the_trials(memory_of):
    memory_of(64 * GiB)
    problem = runner.memory_problem(exp02(10**9), 2)
    assert problem.startswith("trials: the run needs about ")
    assert "GiB of memory" in problem and "64.0 GiB is available" in problem
    assert problem.endswith("got 1000000000")
    assert runner.memory_problem(exp02(10**5), 2) is None


def test_too_large_m_is_refused_on_m(memory_of):
    memory_of(8 * GiB)
    problem = runner.memory_problem(experiment([{"kind": "uncoded"}], m=10**9, trials_=4), 2)
    assert problem.startswith("m: the run needs about ") and "reduce m" in problem
    assert "GiB of memory" in problem and problem.endswith("got 1000000000")


def test_too_many_trials_for_the_disk_are_refused(memory_of, monkeypatch, tmp_path):
    memory_of(64 * GiB)
    asked = []

    def free(path):
        asked.append(path)
        return tmp_path, 10 * MiB

    monkeypatch.setattr(fp, "free_disk", free)
    problem = runner.memory_problem(exp02(200_000), 2, tmp_path / "deep" / "out")
    assert asked == [tmp_path / "deep" / "out"]
    assert problem.startswith("trials: the run needs about ") and "GiB of disk" in problem
    assert f"is free in {tmp_path}" in problem and problem.endswith("got 200000")
    assert runner.memory_problem(exp02(100), 2, tmp_path) is None


def test_free_disk_looks_at_the_nearest_existing_folder(tmp_path):
    where, free = fp.free_disk(tmp_path / "not" / "yet")
    assert where == tmp_path and free > 0


def test_dry_run_prints_memory_and_disk_and_refuses_without_computing(tmp_path, memory_of):
    memory_of(16 * GiB)
    result = CliRunner().invoke(main, ["run", str(EXP02), "--trials", "1000000000",
                                       "-o", str(tmp_path / "out"), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    memory = next(line for line in lines if line.startswith("# memory: about "))
    disk = next(line for line in lines if line.startswith("# disk: about "))
    assert "MiB per process" in memory and "in the parent for 1000000000 trials" in memory
    assert "GiB in all (16.0 GiB available)" in memory
    assert "GiB for the result folder" in disk and "free in" in disk
    assert any(line.startswith("# the run would be refused: trials: ") for line in lines)
    assert not any(line.startswith("# time:") for line in lines)  # no pilot was run
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# measured: peak memory of real runs

# Runs `ltsim run CONFIG -o OUT -q --jobs 1` in this process after a one-trial run of a
# 24-worker copy of the config (which imports and loads all that a run does), and prints the
# resident memory before the real run and the peak (VmHWM: this process image's own
# high-water mark, which exec() resets, unlike ru_maxrss).
CHILD = """
import sys
from pathlib import Path
from ltsim import Experiment, simulate

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

path, out = Path(sys.argv[1]), Path(sys.argv[2])
simulate(Experiment.from_yaml(path, sets=("m=24", "tau=0.01")), trials=1, jobs=1,
         progress=False, out=out.with_name("warm"))
before = status("VmRSS:")
simulate(Experiment.from_yaml(path), jobs=1, progress=False, out=out)
print(before, status("VmHWM:"))
"""


def start_run(data: dict, folder: Path) -> tuple[subprocess.Popen, Path]:
    """Start :data:`CHILD` on the config ``data`` in ``folder``."""
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder / "config.yaml"),
                              str(folder / "out")], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    return child, folder


SIX_CHEAP = [{"kind": "one"}, {"kind": "one", "label": "one-b"}, {"kind": "uncoded"},
             {"kind": "replication", "r": 2}, {"kind": "replication", "r": 3},
             {"kind": "replication", "r": 4}]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_estimates_within_30_percent_of_real_runs(tmp_path):
    """Peak RSS of a run with ``--jobs 1`` (libraries, kernels, one block, every trial, all
    in one process) against :attr:`Footprint.memory`; what the run added to the process
    (the trials, or the block) against the estimate of that part alone; and the folder
    against :attr:`Footprint.folder`. For m = 24 with 60 000 trials of six schemes, m = 2e5
    with Uncoded and 2-Replication, and m = 2e5 with LT-1, run in parallel."""
    runs = {
        "many trials": start_run(config_of(24, SIX_CHEAP, 60_000), tmp_path / "a"),
        "m=2e5 uncoded, rep2": start_run(config_of(200_000, SIX_CHEAP[2:4], 10, 2.5e-5),
                                         tmp_path / "b"),
        "m=2e5 lt1": start_run(config_of(200_000, [{"kind": "lt"}], 1, 2.5e-5),
                               tmp_path / "c"),
    }
    for name, (child, folder) in runs.items():
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        before, peak = map(int, out.split()[-2:])
        need = fp.footprint(config.load(folder / "config.yaml"), 1)
        assert 0.7 < need.memory / peak < 1.3, (name, need.memory / MiB, peak / MiB)
        added = need.worker - fp.KERNEL_BYTES + need.parent
        assert 0.7 < added / (peak - before) < 1.3, (name, added / MiB, (peak - before) / MiB)
        written = sum(f.stat().st_size for f in (folder / "out").iterdir())
        if written > MiB:
            assert 0.7 < need.folder / written < 1.3, (name, need.folder, written)


# --------------------------------------------------------------------------------------------
# the calibration table of docs/performance.md: python tests/test_footprint.py

# Runs argv[2:] and writes its ru_maxrss (KiB, from os.wait4) to the file argv[1]; a small
# launcher, because Linux carries the RSS high-water mark of a forked parent into a child.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


class Measured:
    """A ``ltsim run`` started under :data:`LAUNCHER` in ``folder``."""

    def __init__(self, data: dict, jobs: int, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "config.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        self.experiment = config.load(path)
        self.jobs, self.out, self.report = jobs, folder / "out", folder / "maxrss"
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(self.report), sys.executable, "-m",
             "ltsim", "run", str(path), "-o", str(self.out), "-q", "--jobs", str(jobs)],
            cwd=ROOT, stderr=subprocess.PIPE)

    def result(self) -> tuple[int, int]:
        """Peak RSS (the largest process's) and the result folder's bytes."""
        _, err = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, err.decode()
        return (int(self.report.read_text()) * 1024,
                sum(f.stat().st_size for f in self.out.iterdir()))


TABLE = [
    ("m=24, 5 schemes (tiny), 200 000 trials, --jobs 1", config_of(24, FIVE, 200_000), 1),
    ("m=24, 5 schemes (tiny), 200 000 trials, --jobs 2", config_of(24, FIVE, 200_000), 2),
    ("m=1000, exp02's schemes, 20 000 trials, --jobs 1",
     config_of(1000, [{"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
                      {"kind": "lt"}, {"kind": "lt", "r": 2}], 20_000), 1),
    ("m=2e5, Uncoded, 10 trials", config_of(200_000, [{"kind": "uncoded"}], 10, 2.5e-5), 1),
    ("m=2e5, 2-Replication, 10 trials",
     config_of(200_000, [{"kind": "replication", "r": 2}], 10, 2.5e-5), 1),
    ("m=2e5, backups, 10 trials", config_of(200_000, [{"kind": "backup"}], 10, 2.5e-5), 1),
    ("m=2e5, MDS-10, 10 trials",
     config_of(200_000, [{"kind": "mds", "r": 10}], 10, 2.5e-5), 1),
    ("m=2e5, LT-1, 2 trials (tau m = 5 s)",
     config_of(200_000, [{"kind": "lt"}], 2, 2.5e-5), 1),
    ("m=2e5, LT-1, 2 trials (tau = 0.005)", config_of(200_000, [{"kind": "lt"}], 2), 1),
    ("m=1e6, Uncoded + 2-Replication, 4 trials",
     config_of(10**6, [{"kind": "uncoded"}, {"kind": "replication", "r": 2}], 4, 5e-6), 1),
    ("m=1e6, backups, 4 trials", config_of(10**6, [{"kind": "backup"}], 4, 5e-6), 1),
    ("m=1e6, LT-1, 2 trials (tau m = 5 s)", config_of(10**6, [{"kind": "lt"}], 2, 5e-6), 1),
]


def calibration_table() -> str:
    """Estimate against measurement for every configuration of :data:`TABLE`, one at a
    time, as a Markdown table."""
    lines = ["| configuration | memory estimate | peak RSS | ratio | folder estimate | "
             "folder | ratio | old estimate |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, data, jobs) in enumerate(TABLE):
            run = Measured(data, jobs, Path(tmp) / str(i))
            rss, folder = run.result()
            need = fp.footprint(run.experiment, jobs)
            if jobs > 1:  # the parent's peak: its libraries and trials, the workers gone
                estimate, what = need.base + need.parent, "parent "
            else:
                estimate, what = need.memory, ""
            old = old_estimate(run.experiment)
            disk = (f"{need.folder / MiB:.1f} MiB | {folder / MiB:.1f} MiB | "
                    f"{need.folder / folder:.2f}" if folder > MiB else "– | – | –")
            lines.append(f"| {name} | {what}{estimate / MiB:.0f} MiB | {rss / MiB:.0f} MiB | "
                         f"{estimate / rss:.2f} | {disk} | {old / MiB:.0f} MiB "
                         f"({old / rss:.2f}) |")
            print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def old_estimate(exp) -> int:
    """The estimate this module replaced: one process, one batch (3 arrays of the delays'
    shape, the codes' own per trial, 200 MiB)."""
    n = exp.n_workers
    own = {"lt": lambda s: 90 * n * s.symbols_per_worker + 12 * n * s.symbols_per_worker
           * s.soliton(n).mean + 16 * n + 8 * 2**22,
           "mds": lambda s: 32 * n * s.symbols_per_worker}
    per_trial = max((own.get(s.kind, lambda s: 0)(s) for s in exp.schemes), default=0)
    return int(trials.batch_size(exp) * n * 24 + per_trial + 200 * MiB)


if __name__ == "__main__":
    os.chdir(ROOT)
    print(calibration_table())
