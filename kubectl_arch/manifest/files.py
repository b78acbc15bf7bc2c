"""Manifest input and output: files, directories and stdin in; stdout, diffs and atomic
in-place rewrites out. Text is kept exactly as read (line endings, byte order mark)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable
from typing import NamedTuple

from ..errors import InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_BYTES = 256 * 1024 * 1024
BOM = "\ufeff"


class Source(NamedTuple):
    """One input: ``name`` as the user gave it, ``path`` None for stdin."""

    name: str
    path: str | None
    text: str
    bom: bool = False

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")


def decode(data: bytes, name: str) -> tuple[str, bool]:
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: not a text file (binary data)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start}); YAML manifests must be UTF-8") from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def _read_file(path: str, name: str) -> Source:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_BYTES:
                raise InputError(f"{name}: file too large ({size} bytes)")
            data = handle.read()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file or directory") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    text, bom = decode(data, name)
    return Source(name, path, text, bom)


def _walk(directory: str, recursive: bool) -> list[str]:
    found: list[str] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except PermissionError:
        raise InputError(f"{directory}: permission denied") from None
    for entry in entries:
        if entry.is_dir():
            if recursive:
                found.extend(_walk(entry.path, recursive))
        elif os.path.splitext(entry.name)[1].lower() in MANIFEST_SUFFIXES:
            found.append(entry.path)
    return found


def read_sources(filenames: Iterable[str], recursive: bool = False) -> list[Source]:
    """Read ``-f`` arguments like kubectl: files, directories (``-R`` to recurse), ``-`` stdin."""
    sources: list[Source] = []
    for name in filenames:
        if name == "-":
            data = sys.stdin.buffer.read()
            text, bom = decode(data, "<stdin>")
            sources.append(Source("<stdin>", None, text, bom))
            continue
        if os.path.isdir(name):
            files = _walk(name, recursive)
            if not files:
                raise InputError(f"{name}: no manifest files (*.yaml, *.yml, *.json) found")
            sources.extend(_read_file(f, f) for f in files)
        else:
            sources.append(_read_file(name, name))
    return sources


def join(texts: Iterable[str]) -> str:
    """Concatenate streams into one, with a ``---`` between files."""
    out: list[str] = []
    for text in texts:
        if out:
            if not out[-1].endswith("\n"):
                out.append("\n")
            if not text.startswith(("---\n", "---\r\n", "--- ")) and text.strip():
                out.append("---\n")
        out.append(text)
    return "".join(out)


def unified_diff(name: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: a temp file in the same directory, fsync,
    rename. Mode is kept (0644 for a new file); a symlink is followed so the link itself stays
    a link."""
    import tempfile

    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target)
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
