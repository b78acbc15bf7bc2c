"""Code shared by the kubectl-arch benchmarks (standard library only).

Every timing script runs a baseline command and a subject command alternately (A B, then
B A, ...), so that drift in machine load hits both alike, and compares their medians.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
ARGO_INSTALL = CORPUS / "argo-cd" / "manifests" / "install.yaml"
DATA = Path(__file__).resolve().parent / "data"
TESTS = REPO_ROOT / "tests"
RECORDED_NODES = (
    REPO_ROOT / "testdata" / "nodes" / "gke-mixed.json",
    REPO_ROOT / "testdata" / "nodes" / "assorted.json",
)


class BenchError(Exception):
    """The benchmark could not run (missing tool, failing command, unexpected output)."""


class Skipped(Exception):
    """The benchmark has nothing to measure here: ``name: skipped (why) SKIPPED``, exit 0."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(why)
        self.name = name


def require_corpus(name: str, path: Path) -> Path:
    """``path`` in the shared corpus of real-world manifests (``../shared/corpus``, beside the
    checkout, as in CI); the benchmark ``name`` is skipped, saying why, when it is absent."""
    if not path.exists():
        raise Skipped(name, f"{path} is absent (the shared corpus lives beside the checkout, not in it)")
    return path


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and the children it waited for
    rss: int = 0  # peak resident set size in KiB (the largest of the process and its children)


@dataclass
class Series:
    label: str
    argv: list[str]
    env: dict[str, str] | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> int:
        """Peak resident set size over all runs, KiB."""
        return max(s.rss for s in self.samples)


def require(tool: str) -> str:
    """Resolve ``tool`` from PATH, as a shell would."""
    path = shutil.which(tool)
    if path is None:
        raise BenchError(f"{tool} not found on PATH")
    return path


def run_once(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None, ok: Sequence[int] = (0,)
) -> Sample:
    """Run ``argv`` with stdout discarded; return its wall and CPU time. An exit code not in
    ``ok`` is a BenchError."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()
            raise BenchError(f"exit {proc.returncode}: {' '.join(argv)}\n{message}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def interleave(series: Sequence[Series], runs: int, warmup: int = 2, cwd: Path | None = None) -> None:
    """Time every series ``runs`` times, alternating their order each round."""
    for _ in range(warmup):
        for s in series:
            run_once(s.argv, cwd, s.env)
    for i in range(runs):
        order = series if i % 2 == 0 else list(reversed(series))
        for s in order:
            s.samples.append(run_once(s.argv, cwd, s.env))


def check_output(argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> bytes:
    """Run ``argv`` and return its stdout; raise BenchError on a non-zero exit."""
    proc = subprocess.run(
        list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip()
        raise BenchError(f"exit {proc.returncode}: {' '.join(argv)}\n{message}")
    return proc.stdout


def print_table(series: Sequence[Series]) -> None:
    width = max(len(s.label) for s in series)
    print(f"{'command':<{width}}  {'median':>9}  {'min':>9}  {'max':>9}  {'cpu med':>9}  runs")
    for s in series:
        walls = [x.wall for x in s.samples]
        print(
            f"{s.label:<{width}}  {ms(s.wall):>9}  {ms(min(walls)):>9}  {ms(max(walls)):>9}  "
            f"{ms(s.cpu):>9}  {len(walls)}"
        )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def goal_line(name: str, subject: Series, baseline: Series, goal: float) -> str:
    """The final line of a timing script; ``bench/run.py`` collects it."""
    ratio = subject.wall / baseline.wall
    cpu_ratio = subject.cpu / baseline.cpu if baseline.cpu else float("nan")
    return (
        f"{name}: ratio {ratio:.2f} ({ms(subject.wall)} / {ms(baseline.wall)}; cpu ratio {cpu_ratio:.2f}) "
        f"goal <= {goal:.2f} {verdict(ratio <= goal)}"
    )


@contextlib.contextmanager
def node_server(
    home: Path, count: int, recorded: Sequence[Path] = RECORDED_NODES, objects: Path | None = None
) -> Iterator[dict[str, str]]:
    """The test API server (``tests/apiserver.py``) serving ``count`` clones of the recorded
    nodes over TLS with a bearer token, in pages as asked; yields the environment of a user
    whose kubeconfig (in ``home``) points at it; ``objects``: a List file of workloads it
    serves too. The server runs in a process of its own: a
    child forked from a process holding the nodes would report that process's memory as part
    of its own peak (Linux's maxrss)."""
    sys.path.insert(0, str(TESTS))
    from apiserver import make_pki

    make_pki(home / "pki")
    config = home / "kubeconfig"
    server = subprocess.Popen(
        [sys.executable, str(TESTS / "apiserver.py"), *map(str, recorded), "--replicate", str(count),
         "--pki", str(home / "pki"), "--kubeconfig", str(config),
         *(["--objects", str(objects)] if objects is not None else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdin is not None
        if not server.stdout.readline().startswith("https://"):
            raise BenchError("the test API server did not start")
        yield {"HOME": str(home), "KUBECONFIG": str(config), "PATH": os.environ.get("PATH", "")}
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


def parser(description: str, runs: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--runs", type=int, default=runs, help=f"timed runs of each command (default {runs})")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs of each command first (default 2)")
    return p


def main_wrapper(body: Callable[[], None]) -> None:
    """Run ``body()``; exit 1 with a message when the benchmark cannot run, 0 with a SKIPPED
    line when it has nothing to measure here."""
    try:
        body()
    except Skipped as exc:
        print(f"{exc.name}: skipped: {exc} SKIPPED")
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
