"""The scripts behind README numbers still run and print their tables."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def script(*args):
    out = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_which_code_prints_one_row_per_tau_mu():
    text = script("scripts/which_code.py", "--trials", "3")
    rows = [line for line in text.splitlines() if line.startswith("| 0") or line.startswith("| 1")]
    assert len(rows) == 7 and all(row.rstrip().endswith("|") for row in rows)
    assert "fastest" in text


def test_published_code_variant_on_a_tiny_config(tiny_config):
    text = script("scripts/published_code_variant.py", tiny_config)
    assert "paper's text (ltsim)" in text and "published code" in text
    assert "m/r workers" in text  # LT-2 is in the tiny config


def test_compare_execution_table(tmp_path):
    for name, rows in (("real", "one,20,1.0,0.5,0.1118,1.5"),
                       ("sim", "one,5000,1.1,0.4,0.0057,1.4")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.csv").write_text("scheme,trials,mean,std,sem,p99\n" + rows)
        (tmp_path / name / "config.yaml").write_text("schemes:\n  - {kind: one}\n")
    text = script("scripts/compare_execution.py", tmp_path / "real", tmp_path / "sim")
    assert "| One | 1.0000 ± 0.1118 | 1.1000 | -0.9 |" in text
