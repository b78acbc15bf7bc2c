"""The child processes a run has started (credential helpers, builders), each the leader of a
process group of its own, so that an interrupt (Ctrl-C) ends them with everything they started
instead of leaving them running after the run has exited.

:func:`started` and :func:`finished` bracket a child's life; :func:`stop_all` (called where
the interrupt lands, in the main thread, before the process exits) sends SIGTERM to every
running group and SIGKILL to those still there after the child's grace period (builders: a
second, to let them clean up; credential helpers: none, they are killed at once, as when they
time out). Once stopping has begun, a child started by another
thread is killed at once. Standard library only; nothing here is imported until a child runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from typing import Any

_running: dict[int, tuple[subprocess.Popen[Any], float]] = {}
_lock = threading.Lock()
_stopping = False


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        with contextlib.suppress(OSError):
            proc.send_signal(sig)


def started(proc: subprocess.Popen[Any], grace: float = 0.0) -> None:
    """Remember ``proc`` (started with ``start_new_session`` or ``process_group=0``), to be
    given ``grace`` seconds between SIGTERM and SIGKILL on an interrupt."""
    with _lock:
        if not _stopping:
            _running[proc.pid] = (proc, grace)
            return
    _signal_group(proc, signal.SIGKILL)


def finished(proc: subprocess.Popen[Any]) -> None:
    with _lock:
        _running.pop(proc.pid, None)


def _alive(proc: subprocess.Popen[Any]) -> bool:
    """Whether anything of ``proc``'s group still runs (its leader reaped when it has ended;
    zombies, which an init that does not reap leaves behind, do not count)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc.poll()
    try:
        entries = os.listdir("/proc")
    except OSError:  # no procfs: ask the kernel (zombies count there)
        try:
            os.killpg(proc.pid, 0)
        except OSError:
            return False
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(proc.pid).encode() and fields[0] != b"Z":
            return True
    return False


def stop(proc: subprocess.Popen[Any], grace: float) -> None:
    """End one child's group: SIGTERM, SIGKILL to what is left after ``grace`` seconds."""
    finished(proc)
    _signal_group(proc, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end and _alive(proc):
        time.sleep(0.05)
    if _alive(proc):
        _signal_group(proc, signal.SIGKILL)


def stop_all() -> None:
    """End every running child's group: SIGTERM, then SIGKILL to what is left after its
    grace period (none: SIGKILL at once). Returns when they are gone or killed."""
    global _stopping
    with _lock:
        _stopping = True
        children = list(_running.values())
        _running.clear()
    polite = [proc for proc, grace in children if grace > 0]
    for proc, grace in children:
        _signal_group(proc, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    if polite:
        end = time.monotonic() + max(grace for _, grace in children)
        while time.monotonic() < end and any(_alive(p) for p in polite):
            time.sleep(0.05)
    for proc, _ in children:
        if _alive(proc):
            _signal_group(proc, signal.SIGKILL)
