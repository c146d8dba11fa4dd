"""Figure helpers: legend names as in the paper, folder discovery, partial runs."""

import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.io.folders import result_folders
from ltsim.plots.common import describe_delay, display_name, legend_names

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


NARROW = """name: narrow
m: 24
tau: 0.01
trials: 40
seed: 3
delay: {dist: shifted_exponential, shift: 5.0, rate: 1.0}
schemes:
  - {kind: one}
  - {kind: uncoded}
  - {kind: replication, r: 2}
  - {kind: ideal}
"""
"""Latencies of 5 to 15 s, less than a decade: matplotlib's default log labels would be
minor ones such as ``6×10⁰``."""


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Plot a run of :data:`NARROW`; the files written and each figure by its stem."""
    import ltsim.plots.tail as tail

    folder = tmp_path_factory.mktemp("plots") / "narrow"
    cfg = folder.parent / "narrow.yaml"
    cfg.write_text(NARROW)
    ran = CliRunner().invoke(main, ["run", str(cfg), "-o", str(folder), "--jobs", "1",
                                    "--quiet"])
    assert ran.exit_code == 0, ran.stderr
    figures = {}
    original = tail.save_figure

    def keep(fig, where, stem, *args, **kwargs):
        fig.canvas.draw()  # tick labels are computed at drawing time
        figures[stem] = fig
        return original(fig, where, stem, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tail, "save_figure", keep)
        written = tail.plot_tail(folder)
    return folder, written, figures


def test_tail_and_cost_are_written_as_png_and_pdf(drawn):
    folder, written, figures = drawn
    names = sorted(p.name for p in written)
    assert names == ["cost.pdf", "cost.png", "tail.pdf", "tail.png"]
    for name in names:
        head = (folder / name).read_bytes()[:5]
        assert head == (b"%PDF-" if name.endswith(".pdf") else b"\x89PNG\r"), name
    assert set(figures) == {"tail", "cost"}


def test_tail_and_cost_name_the_bound_alike(drawn):
    _, _, figures = drawn
    legends = {stem: [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
               for stem, fig in figures.items()}
    assert legends["tail"] == legends["cost"] == ["One", "Uncoded", "2-Rep", "Ideal (bound)"]


def tick_labels(axis) -> dict[float, str]:
    """The non-empty tick labels of ``axis`` within its view, major and minor, by value."""
    low, high = sorted(axis.get_view_interval())
    ticks = list(zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True))
    ticks += zip(axis.get_minorticklocs(), axis.get_minorticklabels(), strict=True)
    return {float(v): t.get_text() for v, t in ticks if low <= v <= high and t.get_text()}


def test_cost_ticks_are_plain_numbers(drawn):
    _, _, figures = drawn
    ax = figures["cost"].axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    low, high = ax.get_ylim()
    assert 1 < high / low < 10  # the case that drew "6×10⁰" labels
    for axis in (ax.xaxis, ax.yaxis):
        assert axis.get_scale() == "log"
        labels = tick_labels(axis)
        assert len(labels) >= 2, labels  # a range within a decade is still readable
        for value, text in labels.items():
            assert "10^" not in text and "times" not in text and "$" not in text, text
            assert float(text) == pytest.approx(value, rel=1e-3), text  # a plain number
