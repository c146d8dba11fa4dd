"""``ltsim validate``: check configs of either kind, every file reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..io import config
from ..util.validation import ConfigError


def validate_files(paths: list[Path], show: bool) -> Iterator[tuple[str, bool]]:
    """One ``(text, ok)`` per file: ``PATH: ok (...)`` (or the resolved config with ``show``)
    for a valid config, ``ltsim: error: PATH: <key>: <rule>, got <value>`` for an invalid
    one. The kind of each file (run config, execute config, sweep file) is told from its
    keys; a sweep file is valid when every one of its points is."""
    import yaml

    from ..io.sweep import load_sweep

    for path in paths:
        try:
            data = config.read_config(Path(path))
            if isinstance(data, dict) and "base" in data:
                sweep = load_sweep(Path(path))
                if show:
                    yield f"# {path} (ltsim sweep)\n" + yaml.safe_dump(
                        sweep.resolved, sort_keys=False).rstrip(), True
                else:
                    yield (f"{path}: ok (ltsim sweep file, {len(sweep.points)} points over "
                           f"{', '.join(sweep.keys)})"), True
                continue
            kind = config.config_kind(data)
            cfg = config.validate(data, base_dir=Path(path).parent, kind=kind)
        except ConfigError as exc:
            yield f"ltsim: error: {path}: {exc}", False
            continue
        if show:
            yield f"# {path} ({config.model_of(kind).command})\n" + yaml.safe_dump(
                cfg.resolved(), sort_keys=False).rstrip(), True
        else:
            yield (f"{path}: ok ({config.model_of(kind).command} config, "
                   f"{len(cfg.schemes)} schemes, {cfg.trials} trials)"), True
