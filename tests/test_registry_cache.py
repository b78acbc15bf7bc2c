"""The cache under $XDG_CACHE_HOME/kubectl-arch is private and never trusted blindly:
directories 0700 whatever the umask, nothing used from a directory another user owns,
entries that are not regular files (FIFOs, links to devices) are misses."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from registry_util import Populated, arch_env

BIN = Path(sys.executable).parent / "kubectl-arch"


def run(env: dict[str, str], *args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    def preexec() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [str(BIN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=preexec,
    )


def modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.is_dir():
            out[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return out


def tag_file(root: Path, reference: str) -> Path:
    return root / "tags" / hashlib.sha256(reference.encode()).hexdigest()


def test_directories_are_private_whatever_the_umask(populated_registry: Populated, tmp_path: Path) -> None:
    env = arch_env(tmp_path)
    proc = run(env, "inspect", populated_registry.ref("single/oci:1"), umask=0)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "cache" / "kubectl-arch"
    found = modes(root)
    assert set(found) == {".", "manifests", "manifests/sha256", "blobs", "blobs/sha256", "tags"}
    assert set(found.values()) == {0o700}
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700  # made by it, so made private
    # A cache made open by an older version (or by hand) is made private again.
    os.chmod(root / "tags", 0o777)
    assert run(env, "inspect", populated_registry.ref("single/oci:1"), umask=0).returncode == 0
    assert stat.S_IMODE((root / "tags").stat().st_mode) == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the cache to another user")
def test_a_cache_another_user_owns_is_not_used(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    image, other = reg.ref("single/oci:1"), reg.ref("single/docker:1")
    assert run(env, "inspect", image, other).returncode == 0
    root = tmp_path / "cache" / "kubectl-arch"
    # Plant an answer: the tag now "points" to the other image's manifest, which is cached.
    planted = json.loads(tag_file(root, image).read_text())
    planted["digest"] = reg.images["single/docker:1"].digest
    planted["time"] = time.time()
    tag_file(root, image).write_text(json.dumps(planted))
    for path in [root, *root.rglob("*")]:
        os.chown(path, 65534, 65534)
    proc = run(env, "inspect", "-o", "json", "--tag-cache-ttl", "1h", image)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["digest"] == reg.images["single/oci:1"].digest
    assert "note:" not in proc.stderr


def test_entries_that_are_not_regular_files_are_misses(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    image = reg.ref("single/oci:1")
    assert run(env, "inspect", image).returncode == 0
    root = tmp_path / "cache" / "kubectl-arch"
    tag = tag_file(root, image)
    tag.unlink()
    os.mkfifo(tag)  # would block a reader forever
    manifest = root / "manifests" / "sha256" / reg.images["single/oci:1"].digest.split(":")[1]
    manifest.unlink()
    manifest.symlink_to("/dev/zero")  # would be read until memory runs out
    start = time.monotonic()
    proc = run(env, "-v", "inspect", "-o", "json", "--tag-cache-ttl", "1h", image)
    assert time.monotonic() - start < 20
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["digest"] == reg.images["single/oci:1"].digest
    assert f"GET http://{reg.registry.host}/v2/single/oci/manifests/1 200" in proc.stderr
