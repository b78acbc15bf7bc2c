"""``kubectl-arch pin`` as a kpt KRM function, against ``cat`` as the identity function.

Both run through ``kpt fn eval --exec`` on a package holding Argo CD's install.yaml, so the
difference is what the function itself costs. Goal: pin's median wall time at most 1.3 times
the identity's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import benchlib as b
from pinned import count_pinned, load_all, workloads

GOAL = 1.3
PLATFORMS = "linux/amd64,linux/arm64"


def main() -> None:
    opts = b.parser(__doc__.splitlines()[0], runs=7).parse_args()
    kpt = b.require("kpt")
    # kpt (Go) refuses to run a program found through a relative PATH entry such as
    # ".venv/bin": put the directory of the kubectl-arch found on PATH first, absolute.
    arch = Path(b.require("kubectl-arch")).absolute()
    env = {**os.environ, "PATH": f"{arch.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    b.require("cat")
    source = b.require_corpus("krm", b.ARGO_INSTALL)
    expected = len(workloads(load_all(source.read_bytes())))

    with tempfile.TemporaryDirectory(prefix="bench-kpt-") as tmp:
        pkg = Path(tmp) / "pkg"
        pkg.mkdir()
        shutil.copyfile(source, pkg / "install.yaml")
        baseline = b.Series(
            "kpt fn eval --exec cat PKG -o stdout",
            [kpt, "fn", "eval", "--exec", "cat", str(pkg), "-o", "stdout"],
            env,
        )
        subject = b.Series(
            f'kpt fn eval --exec "kubectl-arch pin" PKG -o stdout -- platform={PLATFORMS}',
            [
                kpt,
                "fn",
                "eval",
                "--exec",
                "kubectl-arch pin",
                str(pkg),
                "-o",
                "stdout",
                "--",
                f"platform={PLATFORMS}",
            ],
            env,
        )
        for s, want in ((baseline, 0), (subject, expected)):
            out = b.check_output(s.argv, env=env)
            items = load_all(out)
            got = count_pinned(out)
            if got != want or len(workloads(items)) != expected:
                raise b.BenchError(
                    f"{s.label}: {got} of {len(workloads(items))} workloads pinned, expected {want}"
                )
        print(f"kubectl-arch: {arch}")
        print(f"package: a copy of {source} ({source.stat().st_size / 1e6:.2f} MB)")
        print(f"outputs verified: identity pins 0, pin pins all {expected} Deployments/StatefulSets\n")
        b.interleave([baseline, subject], opts.runs, opts.warmup)
    b.print_table([baseline, subject])
    print()
    print(b.goal_line("krm", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
