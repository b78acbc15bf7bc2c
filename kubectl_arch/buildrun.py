"""Run builder commands: one job per platform (or one for all), concurrently, each line of
their output on stderr prefixed with the job's name (``[linux/arm64] ...``).

What is printed never holds a build argument's value: command lines show
``--build-arg KEY=REDACTED``, and the values (of four characters or more) are replaced in the
builders' output as well. Each builder runs in a process group of its own; an interrupt
(Ctrl-C) stops the running builders with everything they started (SIGTERM to their groups,
SIGKILL to what is left a second later: a builder that ignores SIGTERM is not left running)
before the run exits (:mod:`.procs`).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import NamedTuple, TypeVar

from . import log, procs
from .builders import REDACTED, Step

T = TypeVar("T")
MIN_SECRET = 4  # shorter values ("1", "dev") are too common in output to be masked there

BUILDER_GRACE = 1.0  # seconds between SIGTERM and SIGKILL when a build is interrupted


class Outcome(NamedTuple):
    name: str  # "linux/arm64", or "linux/amd64,linux/arm64" for one multi-platform invocation
    error: str  # "" when every step succeeded
    seconds: float


def _quote(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)


def _masked(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
    return log.redact(text)


def stop_all() -> None:
    """Stop every builder still running (SIGTERM to its group, SIGKILL after a grace
    period), and every other child of the run."""
    from . import procs

    procs.stop_all()


def run_steps(name: str, steps: Sequence[Step], cwd: str | None = None) -> Outcome:
    """Run ``steps`` one after the other, stopping at the first that fails."""
    start = time.monotonic()
    prefix = f"[{name}] "
    for step in steps:
        log.line(f"{prefix}$ {_masked(_quote(step.shown), step.secrets)}")
        env = {**os.environ, **step.env}
        try:
            proc = subprocess.Popen(
                list(step.argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                process_group=0,  # so that stopping it stops what it started too
            )
        except OSError as exc:
            return Outcome(name, f"{step.argv[0]}: {exc.strerror or exc}", time.monotonic() - start)
        procs.started(proc, BUILDER_GRACE)
        try:
            assert proc.stdout is not None
            last = ""
            for raw in proc.stdout:
                text = _masked(raw.decode("utf-8", "replace").rstrip("\r\n"), step.secrets)
                if text.strip():
                    last = text.strip()
                log.line(prefix + text)
            code = proc.wait()
        except BaseException:
            procs.stop(proc, BUILDER_GRACE)
            raise
        finally:
            procs.finished(proc)
        if code != 0:
            why = f": {last}" if last else ""
            return Outcome(
                name, f"{step.purpose} failed ({step.argv[0]} exited {code}){why}", time.monotonic() - start
            )
    return Outcome(name, "", time.monotonic() - start)


def run_all(jobs: Sequence[tuple[str, Callable[[], T]]], concurrency: int) -> list[T]:
    """Call every job, ``concurrency`` at a time; results in the order of ``jobs``."""
    if concurrency <= 1 or len(jobs) <= 1:
        return [job() for _, job in jobs]
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="build")
    try:
        futures = [pool.submit(job) for _, job in jobs]
        pending = set(futures)
        while pending:
            # A timeout, so that the main thread keeps taking signals (Ctrl-C) at once.
            _, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
        return [f.result() for f in futures]
    except BaseException:
        stop_all()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
