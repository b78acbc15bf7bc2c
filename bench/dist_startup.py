"""Start-up of the krew release install against the pip install, pinning one small Deployment.

Builds the linux archive for this machine's CPU with ``release/build.py`` (only this Python's
compiled dependencies; wheels come from PyPI or pip's cache), installs it as krew does
(unpacked, ``bin/kubectl-arch`` linked to it), runs it once to unpack its payload into a
private cache, then times ``kubectl-arch pin --platform linux/arm64 -f bench/data/deployment.yaml``
through the release's script against the pip-installed ``kubectl-arch`` on ``PATH``, both with
up-to-date bytecode and the same interpreter: ``python3`` is the venv's python, as the pip
install's is (the unpacked payload comes first on its import path, so nothing is imported from
the venv; a bare interpreter may run site hooks that would blur the comparison). Goal: ratio at
most 1.10. It also times the first run of a fresh install (unpacking the payload), for
information.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import benchlib as b

GOAL = 1.10
INPUT = b.DATA / "deployment.yaml"
PIN_ARGS = ["pin", "--platform", "linux/arm64", "-f", str(INPUT)]
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def build(out: Path) -> Path:
    arch = ARCH.get(platform.machine())
    if arch is None or sys.platform != "linux":
        raise b.BenchError(f"no release archive for {sys.platform}/{platform.machine()}")
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    proc = subprocess.run(
        [sys.executable, str(b.REPO_ROOT / "release" / "build.py"), "--out", str(out),
         "--platforms", f"linux/{arch}", "--pythons", python],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise b.BenchError(f"release/build.py failed:\n{proc.stderr}")
    [archive] = out.glob("*.tar.gz")
    return archive


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=21)
    args.add_argument("--first-runs", type=int, default=5, help="fresh installs timed (default 5)")
    opts = args.parse_args()
    pip_installed = b.require("kubectl-arch")
    python = Path(sys.executable)

    with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp_name:
        tmp = Path(tmp_name)
        archive = build(tmp / "dist")
        store = tmp / "store"
        with tarfile.open(archive) as tar:
            tar.extractall(store, filter="data")
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        (bin_dir / "kubectl-arch").symlink_to(store / "kubectl-arch")
        # python3 from the venv's own bin directory: a link to it elsewhere would not be
        # recognised as the venv's interpreter (pyvenv.cfg is looked up beside the link).
        path = os.pathsep.join([str(bin_dir), str(python.parent), "/usr/bin", "/bin"])
        env = dict(os.environ, PATH=path)
        env["XDG_CACHE_HOME"] = str(tmp / "cache")

        expected = b.check_output([pip_installed, *PIN_ARGS])
        if b.check_output([str(bin_dir / "kubectl-arch"), *PIN_ARGS], env=env) != expected:
            raise b.BenchError("the release install's output differs from the pip install's")

        first: list[float] = []
        for i in range(opts.first_runs):
            fresh = dict(env, XDG_CACHE_HOME=str(tmp / f"first-{i}"))
            first.append(b.run_once([str(bin_dir / "kubectl-arch"), *PIN_ARGS], env=fresh).wall)

        baseline = b.Series("kubectl-arch pin (pip install)", [pip_installed, *PIN_ARGS])
        subject = b.Series("kubectl-arch pin (krew release)", [str(bin_dir / "kubectl-arch"), *PIN_ARGS], env)
        b.interleave([baseline, subject], opts.runs, opts.warmup)
        size = archive.stat().st_size / 1e6
        print(f"archive: {archive.name} ({size:.1f} MB); python3: {python}\n")
        b.print_table([baseline, subject])
        median = b.ms(statistics.median(first))
        print(f"\nfirst run of a fresh install (unpacking): median {median} of {len(first)}")
    print(b.goal_line("release startup", subject, baseline, GOAL))


if __name__ == "__main__":
    b.main_wrapper(main)
