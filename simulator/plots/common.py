"""What every figure shares: figures made without pyplot, legend names, atomic saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..codes import CODES
from ..model.laws import LAWS
from ..plugins import load_plugins


class _Figures:
    """Figures made without pyplot: no backend is switched, no window opened, no global
    state kept (a notebook shows the figures it is given, a command saves them)."""

    @staticmethod
    def subplots(*args, figsize=None, layout=None, **kwargs):
        """A new figure and its axes (as ``pyplot.subplots``): a
        ``matplotlib.figure.Figure`` that a notebook shows as an image."""
        fig = _figure_class()(figsize=figsize, layout=layout)
        return fig, fig.subplots(*args, **kwargs)

    @staticmethod
    def close(fig) -> None:
        """Nothing to release: the figure is not registered with pyplot."""


def _figure_class():
    """``matplotlib.figure.Figure`` with a PNG representation for IPython (a figure made
    without pyplot has none)."""
    global _FIGURE
    if _FIGURE is None:
        from matplotlib.figure import Figure

        class ShownFigure(Figure):
            """A figure that Jupyter shows as an image."""

            def _repr_png_(self) -> bytes:
                import io

                buffer = io.BytesIO()
                self.savefig(buffer, format="png", dpi=100)
                return buffer.getvalue()

        _FIGURE = ShownFigure
    return _FIGURE


_FIGURE = None


def pyplot() -> type[_Figures]:
    """The maker of figures (a ``pyplot``-like ``subplots`` and ``close``)."""
    return _Figures


def legend_names(schemes: list[dict[str, Any]]) -> dict[str, Any]:
    """Scheme id -> the code object, from the ``schemes`` of a resolved ``config.yaml``
    (codes not registered here, plugins' included, are left out)."""
    load_plugins()
    codes = {}
    for entry in schemes or []:
        cls = CODES.get(entry.get("kind")) if isinstance(entry, dict) else None
        if cls is None:
            continue
        try:
            code = cls.model_validate(entry)
        except ValueError:
            continue
        codes[code.scheme_id] = code
    return codes


def display_name(scheme_id: str, codes: dict[str, Any]) -> str:
    """The legend name of ``scheme_id`` (``2-Rep``, ``LT-1``, a label as given)."""
    code = codes.get(scheme_id)
    return code.display_name() if code is not None else str(scheme_id)


def is_reference(scheme_id: str, codes: dict[str, Any]) -> bool:
    """Whether ``scheme_id`` is a bound (e.g. Ideal) rather than a runnable scheme."""
    code = codes.get(scheme_id)
    return bool(code is not None and code.reference)


def legend_label(scheme_id: str, codes: dict[str, Any]) -> str:
    """The legend entry of ``scheme_id`` in the figures of a run folder.

    Parameters
    ----------
    scheme_id : str
        The scheme's id, as in ``summary.csv`` and ``tail.csv``.
    codes : dict
        From :func:`legend_names`.

    Returns
    -------
    str
        :func:`display_name`, followed by `` (bound)`` for a bound such as Ideal
        (``Ideal (bound)``), so that every figure names a scheme the same way.
    """
    name = display_name(scheme_id, codes)
    return f"{name} (bound)" if is_reference(scheme_id, codes) else name


def plain_number(value: float) -> str:
    """A tick value as plain text: ``0.3``, ``20``, ``1e+06`` (``%g``), never ``3×10⁻¹``."""
    return f"{value:g}"


def plain_log_ticks(axis) -> None:
    """Give a log-scaled matplotlib ``axis`` plain ``%g`` tick labels.

    The major ticks (powers of ten) are always labelled. The minor ticks are labelled only
    when fewer than two powers of ten are in view (else the decades suffice): at 2, 3 and 5
    times a power of ten, or at every minor tick when the view spans less than a factor of
    three. The choice is made when the figure is drawn, from the final view limits.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis``, already on a log scale.
    """
    import math

    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _pos=None) -> str:
        low, high = sorted(axis.get_view_interval())
        if not (low > 0 and value > 0 and math.isfinite(high)):
            return ""
        decades = math.floor(math.log10(high) + 1e-9) - math.ceil(math.log10(low) - 1e-9) + 1
        if decades >= 2:
            return ""
        mantissa = round(value / 10.0 ** math.floor(math.log10(value) + 1e-9))
        shown = range(1, 10) if high / low < 3 else (2, 3, 5)
        return plain_number(value) if mantissa in shown else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _pos=None: plain_number(value)))
    axis.set_minor_formatter(FuncFormatter(minor))


def describe_delay(delay: dict[str, Any] | None) -> str:
    """Short text of a resolved ``delay:`` entry, e.g. ``Exp(0.2)`` or ``Pareto(1, 1)``."""
    if not isinstance(delay, dict):
        return "none"
    load_plugins()
    law = LAWS.get(delay.get("dist"))
    if law is None:
        return str(delay.get("dist"))
    if delay.get("dist") == "mixture":
        parts = [f"{c.get('weight', '?'):g} {describe_delay(c)}" if isinstance(c, dict) else "?"
                 for c in delay.get("components", [])]
        return " + ".join(parts)
    if delay.get("dist") == "empirical":
        return f"empirical ({Path(str(delay.get('path', ''))).name})"
    values = ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                       for k, v in delay.items() if k in law.parameter_names())
    return f"{law.short}({values})"


def shown_value(value: Any) -> str:
    """A swept value as a label: numbers as ``%g``, a law (``{dist: ...}`` as written in
    ``points.csv``) in short form such as ``Exp(0.2)``, anything else as written."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = str(value)
    if text.startswith("{") and "dist" in text:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        if isinstance(data, dict) and data.get("dist") in LAWS:
            return describe_delay(data)
    return text


def save_figure(fig, folder: Path, stem: str, suffixes: tuple[str, ...] = ("png", "pdf"),
                dpi: int = 150) -> list[Path]:
    """Write ``fig`` as ``folder/stem.<suffix>``, each through a temporary file renamed into
    place, with no time stamp in the files (reruns give identical bytes)."""
    written = []
    for suffix in suffixes:
        out, tmp = folder / f"{stem}.{suffix}", folder / f".{stem}.tmp.{suffix}"
        try:
            fig.savefig(tmp, dpi=dpi, format=suffix,
                        metadata={"CreationDate": None} if suffix == "pdf"
                        else {"Software": None})
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(out)
    return written
