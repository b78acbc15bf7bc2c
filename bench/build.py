"""``kubectl arch build`` with buildah, two platforms, against the same work done by hand.

The Debian ``docker-registry`` is started on 127.0.0.1 (``tests/registry_util.py``) and a
``FROM scratch`` context is built for linux/amd64 and linux/arm64 with buildah (vfs storage in
a temporary directory, chroot isolation). The baseline is what a user types without
kubectl-arch: ``buildah build`` and ``buildah push`` for each platform, then ``buildah
manifest create``, ``manifest add`` of both images and ``manifest push``. The subject is
``kubectl-arch build --builder buildah`` with ``--concurrency 1`` and ``--concurrency 2``
(which also checks each pushed image's platform and stitches the index through the registry
API). Goals: ratio <= 1.1 at concurrency 1, below 1 at concurrency 2.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import benchlib as b

TESTS = b.REPO_ROOT / "tests"
sys.path.insert(0, str(TESTS))
from registry_util import start_registry  # noqa: E402

PLATFORMS = ("linux/amd64", "linux/arm64")


def manual_script(ref: str) -> str:
    lines = ["set -e"]
    for p in PLATFORMS:
        tag = f"{ref}_manual_{p.replace('/', '_')}"
        lines.append(f"buildah build --quiet --platform {p} -t {tag} -f ctx/Containerfile ctx >/dev/null")
        lines.append(f"buildah push --quiet --tls-verify=false {tag} docker://{tag}")
    lines.append("buildah manifest rm manual-list >/dev/null 2>&1 || true")
    lines.append("buildah manifest create manual-list >/dev/null")
    for p in PLATFORMS:
        lines.append(f"buildah manifest add manual-list {ref}_manual_{p.replace('/', '_')} >/dev/null")
    lines.append(f"buildah manifest push --all --quiet --tls-verify=false manual-list docker://{ref}-manual")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = b.parser(__doc__.splitlines()[0], runs=7)
    opts = args.parse_args()
    arch = b.require("kubectl-arch")
    b.require("buildah")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        (work / "ctx").mkdir()
        (work / "ctx" / "Containerfile").write_text("FROM scratch\nCOPY app.bin /app.bin\n")
        (work / "ctx" / "app.bin").write_bytes(os.urandom(256 * 1024))
        conf = work / "storage.conf"
        conf.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{work}/graph"\nrunroot = "{work}/run"\n')
        env = {
            **os.environ,
            "CONTAINERS_STORAGE_CONF": str(conf),
            "BUILDAH_ISOLATION": "chroot",
            "XDG_CACHE_HOME": str(work / "cache"),
            "HOME": str(work),
        }
        registry = start_registry(work / "registry")
        try:
            ref = f"{registry.host}/bench/app:v1"
            (work / "manual.sh").write_text(manual_script(ref))
            manual = b.Series("buildah by hand (build, push, manifest)", ["sh", str(work / "manual.sh")], env)
            common = [arch, "build", "-t", ref, "--builder", "buildah", "--platform", ",".join(PLATFORMS)]
            common += ["--context", "ctx", "-f", "ctx/Containerfile"]
            one = b.Series("kubectl-arch build --concurrency 1", [*common, "--concurrency", "1"], env)
            two = b.Series("kubectl-arch build --concurrency 2", [*common, "--concurrency", "2"], env)
            # Both produce an index of both platforms.
            b.check_output(manual.argv, cwd=work, env=env)
            out = b.check_output(two.argv, cwd=work, env=env).decode().strip()
            for image in (f"{ref}-manual", ref):
                raw = b.check_output(
                    ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{image}"]
                )
                found = sorted(
                    f"{m['platform']['os']}/{m['platform']['architecture']}"
                    for m in json.loads(raw)["manifests"]
                )
                if found != list(PLATFORMS):
                    raise b.BenchError(f"{image}: index has {found}")
            b.interleave([manual, one, two], opts.runs, opts.warmup, cwd=work)
        finally:
            registry.stop()
    print(f"built and pushed {out}\n")
    b.print_table([manual, one, two])
    print()
    print(b.goal_line("build concurrency 1", one, manual, 1.10))
    ratio = two.wall / manual.wall
    print(
        f"build concurrency 2: ratio {ratio:.2f} ({b.ms(two.wall)} / {b.ms(manual.wall)}) goal < 1.00 "
        f"{b.verdict(ratio < 1.0)}"
    )


if __name__ == "__main__":
    b.main_wrapper(main)
