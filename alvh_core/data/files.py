"""Opening files a server reads on behalf of anonymous visitors, safely.

Every file the app reads from a data folder or its cache folder goes
through here.  A file is read only when it is a regular file inside the
folder it was asked from (a link that leads out, a loop of links, a FIFO, a
device or a folder is refused before anything is read), it is opened
without following a last link and without blocking, its type is checked
again on the open descriptor, and at most a stated number of bytes is
read.  JSON from the cache is bounded in size and nesting before it is
parsed.  Errors are :class:`UnsafeFileError` with a one-line message that
names the file by the name it was asked for, never by the server's path.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

#: A data file (a Cboe history, a chain, a VIX futures file) is never larger than this.
MAX_DATA_FILE_BYTES = 50 * 1024 * 1024
#: A small JSON file of the cache folder (a saved copy's metadata, the shared back-off state).
MAX_CACHE_JSON_BYTES = 64 * 1024
#: Nesting deeper than this is no file the app wrote.
MAX_JSON_DEPTH = 16


class UnsafeFileError(ValueError):
    """A file that is not to be read: missing, not a regular file, outside its folder, or too large."""


def inside(folder: Path, *parts: str) -> Path:
    """The real path of ``folder/parts…`` when it is a regular file inside ``folder`` (links resolved, and
    they must stay inside); :class:`UnsafeFileError` otherwise.  ``parts`` are names, never absolute."""
    label = "/".join(parts)
    if any(Path(p).is_absolute() or ".." in Path(p).parts for p in parts):
        label = Path(parts[-1]).name  # what was asked, without the server's folders
        raise UnsafeFileError(f"{label}: not a file name inside the folder")
    try:
        root = Path(folder).resolve(strict=True)
        target = root.joinpath(*parts).resolve(strict=True)
        info = target.stat()
    except (OSError, RuntimeError):  # missing, no permission, a loop of links (RuntimeError before 3.13)
        raise UnsafeFileError(f"{label}: no such file") from None
    if not target.is_relative_to(root):
        raise UnsafeFileError(f"{label}: leads outside the folder")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"{label}: not a regular file")
    return target


def find_inside(folder: Path, *parts: str) -> Path | None:
    """:func:`inside`, or None where the file cannot be read."""
    try:
        return inside(folder, *parts)
    except UnsafeFileError:
        return None


def read_bytes(path: Path, max_bytes: int = MAX_DATA_FILE_BYTES, label: str | None = None) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them (more is refused, not cut).

    Opened without blocking (a FIFO cannot hold the thread) and without following a last link; the type
    and size are checked on the open file, so a file swapped after a check is checked again."""
    label = label or Path(path).name
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnsafeFileError(f"{label}: cannot be opened ({exc.strerror or exc.__class__.__name__})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"{label}: not a regular file")
        if info.st_size > max_bytes:
            raise UnsafeFileError(f"{label}: larger than {_size(max_bytes)}; not read")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise UnsafeFileError(f"{label}: larger than {_size(max_bytes)}; not read")
        return b"".join(chunks)
    except OSError as exc:
        raise UnsafeFileError(f"{label}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        os.close(fd)


def read_file_in(folder: Path, *parts: str, max_bytes: int = MAX_DATA_FILE_BYTES) -> bytes:
    """:func:`inside` then :func:`read_bytes`: the one way a data folder's file is read."""
    return read_bytes(inside(folder, *parts), max_bytes, "/".join(parts))


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """The nesting depth of JSON text, counted without parsing (stops counting past ``limit``)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def read_small_json(path: Path, max_bytes: int = MAX_CACHE_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """A small JSON file of the cache folder, bounded in size and nesting before it is parsed."""
    raw = read_bytes(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeFileError(f"{Path(path).name}: not UTF-8 text") from None
    if json_depth(text, max_depth) > max_depth:
        raise UnsafeFileError(f"{Path(path).name}: nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise UnsafeFileError(f"{Path(path).name}: not JSON") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def set_aside(path: Path) -> str:
    """Rename a bad cache file to ``<name>.bad`` so that nothing reads it again; the new name, or ""."""
    aside = Path(path).with_name(f"{Path(path).name}.bad")
    try:
        Path(path).replace(aside)
        return aside.name
    except OSError:
        return ""


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n >= 2**20 else f"{n // 1024} kB"
