"""What each engine's speculation costs at its defaults and at the best of the settings tried,
beside LT-2, 2-Replication and Uncoded, on the systems of ``configs/speculation-*.yaml``: a
Markdown table per result folder (mean and p99 latency, mean worker-seconds).

Given sweep folders (``configs/speculation-<engine>[-slow].sweep.yaml``), one table per
system instead: every engine's defaults against the best setting its sweep found, beside
LT-2 and 2-Replication at the defaults' point.

Usage::

    python scripts/speculation_table.py results/speculation-slow-machines results/speculation-pbs
    python scripts/speculation_table.py results/speculation-{cubed,spark,flink,hadoop,late}
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ltsim.codes.backup import POLICIES

ENGINES = ("cubed", "spark", "flink", "hadoop", "late")
POLICY_DEFAULTS = {engine: {k: f.default for k, f in model.model_fields.items()}
                   for engine, model in POLICIES.items()}


def engine_of(scheme: dict) -> str | None:
    policy = scheme.get("policy")
    return None if not policy else policy["engine"]


def table(folder: Path) -> str:
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    summary = pd.read_csv(folder / "summary.csv").set_index("scheme")
    ids = [s.get("label") or (f"backup-{engine_of(s)}" if engine_of(s) else None)
           for s in config["schemes"]]
    lines = [f"**{config['name']}** ({config['workers']} workers, {config['trials']} trials)",
             "", "| rule | setting | mean (s) | p99 (s) | worker-seconds |",
             "|---|---|---|---|---|"]

    def row(name: str, setting: str, sid: str) -> str:
        r = summary.loc[sid]
        return (f"| {name} | {setting} | {r['mean']:.3g} | {r['p99']:.3g} | "
                f"{r['worker_seconds']:.4g} |")

    for engine in ENGINES:
        mine = [(sid, s) for sid, s in zip(ids, config["schemes"], strict=True)
                if engine_of(s) == engine]
        default = next((sid for sid, s in mine if not s.get("label")), None)
        if default is None:
            continue
        best = min(mine, key=lambda item: summary.loc[item[0], "mean"])
        lines.append(row(engine, "defaults", default))
        if best[0] != default:
            base = next(s for sid, s in mine if sid == default)["policy"]
            keys = {k: v for k, v in best[1]["policy"].items() if base.get(k) != v}
            setting = ", ".join(f"{k} {v:g}" for k, v in keys.items())
            lines.append(row(engine, f"best tried: {setting}", best[0]))
    for sid, name in (("backup", "ltsim's generic backup rule"), ("lt2", "LT-2"),
                      ("rep2", "2-Replication"), ("uncoded", "Uncoded")):
        if sid in summary.index:
            lines.append(row(name, "", sid))
    return "\n".join(lines)


def settings_row(engine: str, setting: str, points: pd.DataFrame, rule) -> str:
    """A row of :func:`settings_table`: the rule's numbers at one point, LT-2's and
    2-Replication's means at the same point."""
    point = points[points["point"] == rule["point"]].set_index("scheme")
    return (f"| {engine} | {setting} | {rule['mean']:.3g} ± {rule['sem']:.2g} | "
            f"{rule['p99']:.3g} | {rule['worker_seconds']:.4g} | "
            f"{point.loc['lt2', 'mean']:.3g} | {point.loc['rep2', 'mean']:.3g} |")


def settings_table(folders: list[Path]) -> str:
    """Sweeps of the engines' settings on one system: a row per engine with its defaults'
    point and the point of lowest mean latency of its rule (mean ± its standard error, p99,
    worker-seconds), and LT-2's and 2-Replication's means at the same points."""
    lines = ["| engine | setting | mean ± SE (s) | p99 (s) | worker-seconds | LT-2 mean | "
             "2-Rep mean |", "|---|---|---|---|---|---|---|"]
    for folder in folders:
        points = pd.read_csv(folder / "points.csv")
        keys = [k for k in points.columns if ".policy." in k]
        rule = points[points["scheme"].str.startswith("backup")]
        engine = rule["scheme"].iloc[0].removeprefix("backup-")
        defaults = {k: POLICY_DEFAULTS[engine][k.rsplit(".", 1)[1]] for k in keys}
        at_default = rule[np.all([np.isclose(rule[k], v) for k, v in defaults.items()],
                                 axis=0)]
        best = rule.loc[rule["mean"].idxmin()]
        if not at_default.empty:
            lines.append(settings_row(engine, "defaults", points, at_default.iloc[0]))
        changed = {k.rsplit(".", 1)[1]: best[k] for k in keys
                   if not np.isclose(best[k], defaults[k])}
        setting = ", ".join(f"{k} {v:g}" for k, v in changed.items()) or "defaults"
        lines.append(settings_row(engine, f"best of {points['point'].nunique()}: {setting}",
                                  points, best))
    base = yaml.safe_load((folders[0] / "sweep.yaml").read_text(encoding="utf-8"))["base"]
    system = "slow machines" if base.get("classes") else "PBS delays"
    return "\n".join([f"**{system}** ({base['m']} workers, {base['trials']} trials a point)",
                      "", *lines])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+",
                        help="results of speculation-*.yaml, or of speculation-*.sweep.yaml")
    args = parser.parse_args(argv)
    if all((folder / "points.csv").exists() for folder in args.folders):
        print(settings_table(args.folders))
    else:
        print("\n\n".join(table(folder) for folder in args.folders))


if __name__ == "__main__":
    main()
