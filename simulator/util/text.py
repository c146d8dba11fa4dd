"""Reading user files: bounded in size, UTF-8 text, one-line reasons on failure."""

from __future__ import annotations

from pathlib import Path


class UnreadableFile(ValueError):
    """A file that cannot be read as bounded UTF-8 text; ``str()`` is one line."""


def shown(path: Path | str, limit: int = 120) -> str:
    """``path`` for a one-line message: printable, at most ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return text if len(text) <= limit else "..." + text[3 - limit :]


def reason(exc: BaseException) -> str:
    """The gist of an exception, on one line, without the file name it may repeat."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: byte {exc.start} is {exc.object[exc.start]:#04x}"
    return " ".join(str(exc).split()) or exc.__class__.__name__


def read_text(path: Path, limit: int, what: str = "file") -> str:
    """The text of ``path``, refusing what is not a regular, UTF-8, NUL-free file of at most
    ``limit`` bytes.

    Parameters
    ----------
    path : Path
        The file.
    limit : int
        Largest size accepted, in bytes.
    what : str
        What the file is, for messages ("config file", "delay samples", ...).

    Raises
    ------
    UnreadableFile
        With a one-line reason that does not repeat ``path`` (callers put it in front).
    """
    try:
        if not path.exists():
            raise UnreadableFile(f"{what} not found")
        if not path.is_file():
            raise UnreadableFile(f"{what} is not a regular file")
        size = path.stat().st_size
        if size > limit:
            raise UnreadableFile(f"{what} is {size} bytes; the limit is {limit}")
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read the {what} ({reason(exc)})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not a UTF-8 text file (byte {exc.start} is "
                             f"{raw[exc.start]:#04x})") from None
    if "\x00" in text:
        raise UnreadableFile("not a text file (contains NUL bytes)")
    return text
