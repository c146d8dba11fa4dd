"""Figure helpers: legend names as in the paper, folder discovery, partial runs."""

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.io.folders import result_folders
from simulator.plots.common import describe_delay, display_name, legend_names

SCHEMES = [{"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
           {"kind": "replication", "r": 10}, {"kind": "lt", "r": 1}, {"kind": "lt", "r": 2},
           {"kind": "lt", "r": 1, "label": "lt1-M1400"}]


@pytest.mark.parametrize(("scheme_id", "name"), [
    ("one", "One"), ("uncoded", "Uncoded"), ("rep2", "2-Rep"), ("rep10", "10-Rep"),
    ("lt1", "LT-1"), ("lt2", "LT-2"), ("lt1-M1400", "lt1-M1400"), ("fast", "fast"),
])
def test_legend_names_follow_the_paper(scheme_id, name):
    assert display_name(scheme_id, legend_names(SCHEMES)) == name


def test_delay_descriptions():
    assert describe_delay({"dist": "exponential", "rate": 0.2}) == "Exp(0.2)"
    assert describe_delay({"dist": "pareto", "scale": 1.0, "shape": 1.0}) == "Pareto(1, 1)"
    assert describe_delay({"dist": "empirical", "path": "/a/b/d.csv"}) == "empirical (d.csv)"


def test_result_folders_skip_staging_folders(tmp_path):
    for name in ("a", "b/c", ".a.tmp-1"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "tail.csv").write_text("scheme,t,tail\n")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "executions.csv").write_text("scheme\n")
    found = [p.relative_to(tmp_path).as_posix() for p in result_folders(tmp_path)]
    assert found == ["a", "b/c", "x"]
    assert result_folders(tmp_path / "a") == [tmp_path / "a"]


def test_plot_reports_unreadable_results_in_one_line(tmp_path):
    (tmp_path / "tail.csv").write_text("scheme,t,tail\nlt1,0.0,1.0\n")  # no config.yaml
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "meta.json: missing" in result.stderr
