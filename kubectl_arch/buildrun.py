"""Run builder commands: one job per platform (or one for all), concurrently, each line of
their output on stderr prefixed with the job's name (``[linux/arm64] ...``)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, TypeVar

from . import log
from .builders import Step

T = TypeVar("T")


class Outcome(NamedTuple):
    name: str  # "linux/arm64", or "linux/amd64,linux/arm64" for one multi-platform invocation
    error: str  # "" when every step succeeded
    seconds: float


def _quote(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv)


def run_steps(name: str, steps: Sequence[Step], cwd: str | None = None) -> Outcome:
    """Run ``steps`` one after the other, stopping at the first that fails."""
    start = time.monotonic()
    prefix = f"[{name}] "
    for step in steps:
        log.line(f"{prefix}$ {_quote(step.argv)}")
        env = {**os.environ, **step.env}
        try:
            proc = subprocess.Popen(
                list(step.argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
            )
        except OSError as exc:
            return Outcome(name, f"{step.argv[0]}: {exc.strerror or exc}", time.monotonic() - start)
        assert proc.stdout is not None
        last = ""
        for raw in proc.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                last = text.strip()
            log.line(prefix + log.redact(text))
        code = proc.wait()
        if code != 0:
            why = f": {log.redact(last)}" if last else ""
            return Outcome(
                name, f"{step.purpose} failed ({step.argv[0]} exited {code}){why}", time.monotonic() - start
            )
    return Outcome(name, "", time.monotonic() - start)


def run_all(jobs: Sequence[tuple[str, Callable[[], T]]], concurrency: int) -> list[T]:
    """Call every job, ``concurrency`` at a time; results in the order of ``jobs``."""
    if concurrency <= 1 or len(jobs) <= 1:
        return [job() for _, job in jobs]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="build") as pool:
        futures = [pool.submit(job) for _, job in jobs]
        return [f.result() for f in futures]
