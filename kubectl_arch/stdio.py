"""The standard streams of a run, as coreutils and kubectl treat them.

- A stream the caller closed (``>&-``, ``2>&-``, ``<&-``) is held open on ``/dev/null``
  the other way round, so that no file the run opens takes its descriptor, and using it
  fails as it would on the closed descriptor (``Bad file descriptor``).
- A failed write to stdout (``>/dev/full``, a closed stdout, a full disk) ends the run with
  one line, ``error: write error (stdout): No space left on device`` (exit 2), as coreutils
  say ``write error: ...``; a closed pipe (``| head``) stays ``BrokenPipeError``, a quiet end.
- A failed write to stderr is dropped: diagnostics nobody can read do not turn a run into a
  failure, and an error that ends the run keeps its exit code though its line is lost.
- A failed read of stdin (closed, a directory) is an input error naming ``<stdin>``.

:func:`install` replaces ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` with streams of the
same encoding and buffering over descriptors 0, 1 and 2; only the console entry points call it.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from .errors import EXIT_INPUT, Error, InputError


class WriteError(Error):
    """Stdout could not be written (exit 2)."""

    exit_code = EXIT_INPUT


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


class _Out(io.FileIO):
    def write(self, data: Any) -> int:
        try:
            return super().write(data) or 0
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(f"write error (stdout): {_reason(exc)}") from None


class _Err(io.FileIO):
    def write(self, data: Any) -> int:
        try:
            written = super().write(data)
        except OSError:
            return len(memoryview(data))
        return len(memoryview(data)) if written is None else written


class _In(io.FileIO):
    def readinto(self, buffer: Any) -> int:
        try:
            return super().readinto(buffer) or 0
        except OSError as exc:
            raise InputError(f"<stdin>: cannot read: {_reason(exc)}") from None

    def readall(self) -> bytes:
        try:
            return super().readall()
        except OSError as exc:
            raise InputError(f"<stdin>: cannot read: {_reason(exc)}") from None


def _hold(fd: int, flags: int) -> None:
    """Put ``/dev/null`` on ``fd`` when the caller closed it, opened with ``flags`` (the other
    direction, so that using it still fails)."""
    try:
        os.fstat(fd)
        return
    except OSError:
        pass
    held = os.open(os.devnull, flags)
    if held != fd:
        os.dup2(held, fd)
        os.close(held)


def install() -> None:
    """Guard descriptors 0, 1 and 2 as the module says."""
    _hold(0, os.O_WRONLY)
    _hold(1, os.O_RDONLY)
    _hold(2, os.O_RDONLY)
    old_in, old_out, old_err = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(_In(0, "r", closefd=False)),
        encoding=getattr(old_in, "encoding", None) or "utf-8",
        errors=getattr(old_in, "errors", None) or "strict",
    )
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_Out(1, "w", closefd=False)),
        encoding=getattr(old_out, "encoding", None) or "utf-8",
        errors=getattr(old_out, "errors", None) or "strict",
        line_buffering=bool(getattr(old_out, "line_buffering", False)),
    )
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(_Err(2, "w", closefd=False)),
        encoding=getattr(old_err, "encoding", None) or "utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
