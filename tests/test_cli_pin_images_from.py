"""``pin --images-from FILE``: images named in a build artifacts file are replaced with the
built references, and their platforms come from those references."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from integration_util import KUBECTL_ARCH
from registry_util import Populated, arch_env

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: 'busybox:1.36'
      containers:
      - name: web
        image: "nginx:dev"   # the one built
      - name: logs
        image: fluent/fluent-bit:3.1
"""
NGINX = "docker.io/library/nginx:1.27@sha256:" + "a" * 64
BUSYBOX = "registry.example.com/tools/busybox:2@sha256:" + "b" * 64
PINNED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/os
                operator: In
                values:
                - linux
              - key: kubernetes.io/arch
                operator: In
                values:
                - arm64
      initContainers:
      - name: init
        image: 'busybox:1.36'
      containers:
      - name: web
        image: "NGINX"   # the one built
      - name: logs
        image: fluent/fluent-bit:3.1
""".replace("NGINX", NGINX)


def arch(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=arch_env(tmp_path),
        timeout=120,
        check=False,
    )


def artifacts(path: Path, *builds: tuple[str, str]) -> Path:
    path.write_text(json.dumps({"builds": [{"imageName": n, "tag": t} for n, t in builds]}))
    return path


def test_offline_replaces_matching_images_only(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(MANIFEST)
    artifacts(
        tmp_path / "build.json",
        ("docker.io/library/nginx", NGINX),
        ("ghcr.io/org/unused", "ghcr.io/org/unused:v1"),
    )
    proc = arch(tmp_path, "pin", "--platform", "linux/arm64", "-f", "app.yaml", "--images-from", "build.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == PINNED
    assert proc.stderr == (
        "warning: --images-from build.json builds[1]: ghcr.io/org/unused matches no image of the manifests\n"
    )
    # idempotent: the output pinned again with the same file is the same bytes
    (tmp_path / "out.yaml").write_text(proc.stdout)
    again = arch(
        tmp_path, "pin", "--platform", "linux/arm64", "-f", "out.yaml", "--images-from", "build.json"
    )
    assert again.stdout == PINNED
    # --check sees the change; --in-place makes it
    check = arch(tmp_path, "pin", "--platform", "linux/arm64", "-f", "app.yaml", "--images-from", "build.json",
                 "--check")  # fmt: skip
    assert check.returncode == 1
    inplace = arch(tmp_path, "pin", "--platform", "linux/arm64", "-f", "app.yaml", "--images-from", "build.json",
                   "--in-place")  # fmt: skip
    assert inplace.returncode == 0, inplace.stderr
    assert (tmp_path / "app.yaml").read_text() == PINNED


def test_later_files_and_several_images(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(MANIFEST)
    artifacts(tmp_path / "a.json", ("nginx", NGINX))
    artifacts(tmp_path / "b.json", ("registry.example.com/tools/busybox", BUSYBOX))
    proc = arch(tmp_path, "pin", "--platform", "linux/arm64", "-f", "app.yaml", "--images-from", "a.json",
                "--images-from", "b.json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f'image: "{NGINX}"' in proc.stdout
    assert "image: 'busybox:1.36'" in proc.stdout  # docker.io/library/busybox is another image


def test_platforms_come_from_the_built_reference(tmp_path: Path, populated_registry: Populated) -> None:
    reg = populated_registry
    built = f"{reg.ref('single/oci')}:1@{reg.images['single/oci:1'].digest}"  # linux/arm64 only
    manifest = (
        MANIFEST.replace('"nginx:dev"', f"{reg.ref('single/oci')}:dev")
        .replace("'busybox:1.36'", reg.ref("library/multi:1"))
        .replace("fluent/fluent-bit:3.1", reg.ref("library/multi:1"))
    )
    (tmp_path / "app.yaml").write_text(manifest)
    artifacts(tmp_path / "build.json", (reg.ref("single/oci"), built))
    proc = arch(tmp_path, "pin", "-f", "app.yaml", "--images-from", "build.json", "--lock", "platforms.lock")
    assert proc.returncode == 0, proc.stderr
    assert f"image: {built}   # the one built" in proc.stdout
    assert "                - arm64\n      initContainers:" in proc.stdout
    lock = json.loads((tmp_path / "platforms.lock").read_text())
    assert built in json.dumps(lock)
    # the lock file answers for the built reference: same output with no network
    locked = arch(
        tmp_path, "pin", "-f", "app.yaml", "--images-from", "build.json", "--locked", "platforms.lock"
    )
    assert (locked.returncode, locked.stdout) == (0, proc.stdout), locked.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "error: --images-from build.json: no such file or directory"),
        ("{", "error: --images-from build.json: not valid JSON (Expecting property name enclosed in double "
              "quotes: line 1 column 2)"),
        ('{"images": []}', 'error: --images-from build.json: expected {"builds": [{"imageName": ..., "tag": ...}]}'),
        ('{"builds": [{"imageName": "nginx"}]}', "error: --images-from build.json builds[0]: tag must be a "
                                                  "non-empty string"),
        ('{"builds": [{"imageName": "nginx:1", "tag": "nginx:2"}]}', "error: --images-from build.json builds[0]: "
         "imageName 'nginx:1' must be a name without tag or digest"),
        ('{"builds": [{"imageName": "nginx", "tag": "Nginx:2"}]}', "error: --images-from build.json builds[0]: "
         "tag: invalid image reference 'Nginx:2': repository name must be lower-case"),
        ('{"builds": [{"imageName": "nginx", "tag": "httpd:2"}]}', "error: --images-from build.json builds[0]: "
         "tag 'httpd:2' is not an image of 'nginx'"),
    ],
)  # fmt: skip
def test_bad_artifacts_files(tmp_path: Path, content: str | None, message: str) -> None:
    (tmp_path / "app.yaml").write_text(MANIFEST)
    if content is not None:
        (tmp_path / "build.json").write_text(content)
    proc = arch(tmp_path, "pin", "--platform", "linux/arm64", "-f", "app.yaml", "--images-from", "build.json",
                "--in-place")  # fmt: skip
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines() == [message]
    assert (tmp_path / "app.yaml").read_text() == MANIFEST


def test_under_kpt_from_the_function_config(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "app.yaml").write_text(MANIFEST)
    build = artifacts(tmp_path / "build.json", ("nginx", NGINX))
    proc = subprocess.run(
        ["kpt", "fn", "eval", "--exec", "kubectl-arch pin", str(package), "--", "platform=linux/arm64",
         f"images-from={build}"],
        capture_output=True, text=True, env=arch_env(tmp_path), timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f'image: "{NGINX}"' in (package / "app.yaml").read_text()
