"""Smoke test of benchmarks/bench_simulator.py: its table, its docs block and its cheap
measurement functions at tiny sizes (the full benchmark is ``make bench``)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_simulator.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_simulator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_table_has_the_five_columns_and_statuses(bench):
    rows = [bench.Row("a", "1 ms", "≤ 2 ms", True), bench.Row("b", "3 ms", "≤ 2 ms", False),
            bench.Row("c | d", "x")]
    lines = bench.format_table(rows).splitlines()
    assert lines[0] == "| Measurement | Value | Target | Status | Notes |"
    assert lines[1] == "|---|---|---|---|---|"
    assert [line.split(" | ")[3] for line in lines[2:]] == ["PASS", "MISS", "—"]
    assert "c \\| d" in lines[4] and all(line.count(" | ") == 4 for line in lines[2:])
    assert bench.tally(rows) == "1 PASS, 1 MISS, 1 information rows"


def test_docs_block_is_replaced_between_the_markers(bench, tmp_path):
    page = tmp_path / "docs" / "performance.md"
    bench.write_docs("first table", page)  # created from the template
    bench.write_docs("second table", page)
    text = page.read_text()
    assert text.startswith("# Performance") and "first" not in text
    assert f"{bench.BEGIN}\nsecond table\n{bench.END}" in text
    with pytest.raises(ValueError):
        bench.replace_block("no markers here", "x")


UNITS = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}


def seconds_of(text: str) -> float:
    """Seconds of a duration cell written by ``bench.duration`` (``"12.3 µs"``)."""
    number, unit = text.split()
    return float(number) * UNITS[unit]


def plausible(seconds) -> bool:
    """Finite, positive and below a second: what a call at m = 60 takes (microseconds)."""
    return all(math.isfinite(s) and 0 < s < 1.0 for s in seconds)


@pytest.mark.slow
def test_lt_kernel_measurements_at_tiny_m(bench):
    seconds, symbols = bench.time_lt_trials(60, 1, 0.005, reps=3)
    assert len(seconds) == len(symbols) == 3 and plausible(seconds), seconds
    assert all(60 <= s <= 120 for s in symbols)  # at least k, at most all symbols
    assert bench.time_lt_trials(60, 1, 0.005, reps=3)[1] == symbols  # seeded: same trials
    _, first = bench.time_lt_trials(60, 2, 0.005, reps=2, threshold=1)
    assert first == [1, 1]
    order = bench.order_seconds(60, reps=2)
    assert len(order) == 2 and plausible(order), order
    peel, edges = bench.time_peel(60, graphs=2)
    assert len(peel) == 2 and plausible(peel), peel
    assert 60 <= edges <= 120 * 60  # at least one edge a source, at most k a symbol
    assert bench.growth_exponent([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert bench.growth_exponent([10, 100], [1.0, 100.0]) == pytest.approx(2.0)


@pytest.mark.slow
def test_lt_kernel_rows_at_tiny_m(bench):
    """Measurement 4 at m = 60: its six rows, their cells, and values that agree with the
    status, the tally and the notes."""
    rows = bench.bench_lt_kernel(60, 5)
    assert [r.item.split(",")[0].split(" (")[0] for r in rows] == [
        "4. LT-1 trial", "4. LT-2 trial", "4. LT-1 trial stopped at the 1st arrival",
        "4. lt_trial fixed cost of a call", "4. Arrival order alone", "4. Peeling decoder alone"]
    lines = bench.format_table(rows).splitlines()
    assert len(lines) == 2 + len(rows) and all(line.count(" | ") == 4 for line in lines[2:])
    values = [seconds_of(r.value) for r in rows]
    assert plausible(values), values
    lt1 = rows[0]
    assert [r.status for r in rows] == ["—"] * 6  # the kernel's target is a row 0
    assert bench.MEASURED["lt1_us"] == pytest.approx(values[0] * 1e6, rel=5e-3)
    received = float(lt1.note.split("; ")[2].split()[0])
    assert 60 <= received <= 120  # symbols of an LT-1 trial: k to n s
    assert "k=30" in rows[1].note  # LT-2 decodes m / 2 sources


def test_main_prints_the_machine_line_then_the_table(bench, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "measure_all", lambda quick: [bench.Row("m", "1 s", "≤ 2 s",
                                                                       True)])
    page = tmp_path / "performance.md"
    monkeypatch.setattr(bench, "DOCS", page)
    assert bench.main(["--quick", "--write-docs", "--out", str(tmp_path / "out.md")]) == 0
    out = capsys.readouterr().out
    first, table = out.split("\n\n")[:2]
    assert first.startswith("Machine: ") and "usable cores" in first
    for name in ("numpy", "numba", "scipy", "pandas", "dask", "distributed", "ltsim", "git"):
        assert f"{name} " in first
    assert "Command: `" in first and "--quick" in first
    assert table.splitlines()[2] == "| m | 1 s | ≤ 2 s | PASS |  |"
    assert (tmp_path / "out.md").read_text().strip() == out.strip()
    assert table in page.read_text()


def test_targets_are_ratios_to_the_yardsticks_of_the_run(bench, monkeypatch):
    """Rows 0: each target checked on its ratio to the yardsticks, not on seconds."""
    monkeypatch.setattr(bench, "YARD", {"argsort_us": 20.0, "chase_ns": 100.0,
                                        "numpy_s": 0.1, "floor_s": 0.3})
    monkeypatch.setattr(bench, "MEASURED", {
        "trial_j1_us": 200.0, "lt1_us": 120.0, "big_m": 10**6, "big_ns_per_edge": 30.0,
        "exponent": 1.3, "run1_s": 0.45, "speedup": 1.9, "execute_ratio": 2.5})
    rows = {r.item.split(",")[0]: r for r in bench.yardstick_targets()}
    assert rows["0. exp02 trial of all five schemes"].value.endswith("= 10 argsorts")
    assert rows["0. exp02 trial of all five schemes"].ok is True  # 10 <= 12
    assert rows["0. LT-1 kernel"].ok is False  # 6 argsorts > 5
    assert rows["0. LT-1 trial"].value.endswith("= 0.3 reads") and rows["0. LT-1 trial"].ok
    assert rows["0. Growth exponent of the LT-1 trial time"].ok is False
    whole = rows["0. whole `ltsim run configs/exp02.yaml --trials 1 --jobs 1`"]
    assert whole.value.endswith("= 4.5 × import numpy") and whole.ok
    assert "floor alone is 3×" in whole.note and "own share 150 ms" in whole.note
    assert rows["0. --jobs 2 over --jobs 1"].ok is True
    assert rows["0. `ltsim execute` execute-small"].ok is False
