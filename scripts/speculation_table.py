"""What each engine's speculation costs at its defaults and at the best of the settings tried,
beside LT-2, 2-Replication and Uncoded, on the systems of ``configs/speculation-*.yaml``: a
Markdown table per result folder (mean and p99 latency, mean worker-seconds).

Usage::

    python scripts/speculation_table.py results/speculation-slow-machines results/speculation-pbs
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

ENGINES = ("cubed", "spark", "flink", "hadoop", "late")


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="results of speculation-*.yaml")
    args = parser.parse_args(argv)
    print("\n\n".join(table(folder) for folder in args.folders))


if __name__ == "__main__":
    main()
