"""``kubectl-arch pin`` learning platforms from a real registry, a lock file, or policies for
images that cannot be looked up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from registry_util import (
    LINUX_AMD64,
    LINUX_ARM64,
    Populated,
    arch_env,
    client_for,
    push_image,
    push_multiarch,
    running,
)

BIN = Path(sys.executable).parent / "kubectl-arch"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        env=env,
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def deployment(name: str, *images: str) -> str:
    lines = [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
    ]
    for i, image in enumerate(images):
        lines += [f"      - name: c{i}", f"        image: {image}"]
    return "\n".join(lines) + "\n"


def affinity(pairs: list[tuple[str, list[str]]]) -> list[dict]:
    """Required node selector terms for (os, [arch...]) groups, as pin writes them."""
    return [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": [os]},
                {"key": "kubernetes.io/arch", "operator": "In", "values": archs},
            ]
        }
        for os, archs in pairs
    ]


def terms(doc: dict) -> list[dict]:
    spec = doc["spec"]["template"]["spec"]
    return spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]


def test_each_workload_gets_the_intersection_of_its_images(
    populated_registry: Populated, tmp_path: Path
) -> None:
    reg = populated_registry
    multi, deep, amd = (
        reg.ref("library/multi:1"),
        reg.ref("org/team/deep/path/app:2.0"),
        reg.ref("single/docker:1"),
    )
    win = reg.ref("win/server:ltsc")
    stream = "---\n".join(
        [
            deployment("a", multi, deep),
            deployment("b", multi, amd),
            deployment("c", win),
            deployment("d", deep),
        ]
    )
    proc = run(arch_env(tmp_path), "pin", stdin=stream)
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    assert terms(docs[0]) == affinity([("linux", ["amd64", "arm", "arm64"])])
    assert terms(docs[1]) == affinity([("linux", ["amd64"])])
    # Windows entries of ltsc2019 and ltsc2022: the Windows part names the host builds
    # that run one of them (2022, 23H2 and 2025 hosts run ltsc2022 images)
    assert terms(docs[2]) == [
        *affinity([("linux", ["amd64"])]),
        {
            "matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": ["windows"]},
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                {
                    "key": "node.kubernetes.io/windows-build",
                    "operator": "In",
                    "values": ["10.0.17763", "10.0.20348", "10.0.25398", "10.0.26100"],
                },
            ]
        },
    ]
    assert terms(docs[3]) == affinity([("linux", ["amd64", "arm", "arm64"])])
    # The deep image has arm/v6 and arm/v7: the workload with it only is fine on any arm node.
    assert proc.stderr == (
        "warning: <stdin> doc 1 Deployment/a: images need linux/arm/v7 or newer, but nodes carry no variant "
        "label: pinned to kubernetes.io/arch=arm, which also admits linux/arm/v6 nodes\n"
    )


def test_platform_is_an_upper_bound_with_from_registry(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    stream = deployment("a", reg.ref("library/multi:1")) + "---\n" + deployment("b", reg.ref("single/oci:1"))
    env = arch_env(tmp_path)
    proc = run(
        env, "pin", "--from-registry", "--platform", "linux/amd64,linux/arm64,linux/s390x", stdin=stream
    )
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    assert terms(docs[0]) == affinity([("linux", ["amd64", "arm64"])])
    assert terms(docs[1]) == affinity([("linux", ["arm64"])])
    refused = run(env, "pin", "--from-registry", "--platform", "linux/amd64", stdin=stream)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        "error: <stdin> doc 2 Deployment/b: its images run on linux/arm64, none of which --platform allows "
        f"(linux/amd64); containers: 'c0' {reg.ref('single/oci:1')}\n"
    )
    # --platform alone: nothing is looked up, the images are taken to support it.
    offline = run(env, "-v", "pin", "--platform", "linux/amd64", stdin=stream)
    assert offline.returncode == 0 and offline.stderr == ""


def test_images_that_share_no_platform(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    stream = deployment("a", reg.ref("single/oci:1"), reg.ref("single/docker:1"))
    proc = run(arch_env(tmp_path), "pin", stdin=stream)
    assert proc.returncode == 1
    assert proc.stderr == (
        "error: <stdin> doc 1 Deployment/a: its images share no platform ("
        f"'c0' {reg.ref('single/oci:1')}: linux/arm64; 'c1' {reg.ref('single/docker:1')}: linux/amd64)\n"
    )


def test_digests_rewrite_only_the_image_fields(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    multi = reg.ref("library/multi:1")
    digest = reg.images["library/multi:1"].digest
    untagged = f"{reg.registry.host}/single/oci"
    source = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p  # keep me\nspec:\n"
        "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "        nodeSelectorTerms:\n        - matchExpressions:\n"
        "          - {key: kubernetes.io/arch, operator: In, values: [arm64]}\n"
        f"  containers:\n  - name: a\n    image: {multi}   # the app\n"
        f"  - name: b\n    image: '{multi}'\n"
        f'  - {{name: c, image: "{multi}"}}\n'
        f"  initContainers:\n  - name: d\n    image: {multi}@{digest}\n"
    )
    path = tmp_path / "pod.yaml"
    path.write_text(source)
    env = arch_env(tmp_path)
    proc = run(env, "pin", "--digests", "-f", str(path))
    assert proc.returncode == 0, proc.stderr
    pinned = f"{multi}@{digest}"
    assert proc.stdout == source.replace(
        f"    image: {multi}   # the app", f"    image: {pinned}   # the app"
    ).replace(f"'{multi}'", f"'{pinned}'").replace(f'"{multi}"', f'"{pinned}"').replace(
        "          - {key: kubernetes.io/arch, operator: In, values: [arm64]}\n",
        "          - {key: kubernetes.io/arch, operator: In, values: [arm64]}\n"
        "          - key: kubernetes.io/os\n            operator: In\n            values:\n            - linux\n",
    )
    again = run(env, "pin", "--digests", "-f", "-", stdin=proc.stdout)
    assert again.stdout == proc.stdout  # idempotent
    # A reference without a tag gets :latest, so people and update bots see what was pinned.
    run_latest = client_for(reg.registry)
    push_image(run_latest, f"{untagged}:latest", LINUX_ARM64)
    out = run(env, "pin", "--digests", stdin=deployment("x", untagged))
    assert f"image: {untagged}:latest@sha256:" in out.stdout, out.stderr


def test_lock_then_locked_needs_no_network(tmp_path: Path) -> None:
    env = arch_env(tmp_path)
    lock = tmp_path / "platforms.lock"
    with running(tmp_path / "registry") as registry:
        client = client_for(registry)
        app = push_multiarch(client, f"{registry.host}/team/app:3", [LINUX_AMD64, LINUX_ARM64])
        tool = push_image(client, f"{registry.host}/team/tool:1", LINUX_ARM64, docker=True)
        stream = deployment("web", f"{registry.host}/team/app:3", f"{registry.host}/team/tool:1")
        first = run(env, "pin", "--lock", str(lock), stdin=stream)
        assert first.returncode == 0, first.stderr
    children = json.loads(app.data)["manifests"]
    assert json.loads(lock.read_text()) == {
        "apiVersion": "kubectl-arch.dev/v1alpha1",
        "kind": "PlatformLock",
        "images": {
            f"{registry.host}/team/app:3": {
                "digest": app.digest,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "platforms": [
                    {"os": "linux", "architecture": "amd64", "digest": children[0]["digest"],
                     "mediaType": "application/vnd.oci.image.manifest.v1+json"},
                    {"os": "linux", "architecture": "arm64", "digest": children[1]["digest"],
                     "mediaType": "application/vnd.oci.image.manifest.v1+json"},
                ],
            },
            f"{registry.host}/team/tool:1": {
                "digest": tool.digest,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "platforms": [
                    {"os": "linux", "architecture": "arm64", "digest": tool.digest,
                     "mediaType": "application/vnd.docker.distribution.manifest.v2+json"},
                ],
            },
        },
    }  # fmt: skip
    # The registry is gone, and the cache too: --locked answers alone.
    env = arch_env(tmp_path / "fresh")
    locked = run(env, "-v", "pin", "--locked", str(lock), "--digests", stdin=stream)
    assert locked.returncode == 0, locked.stderr
    assert locked.stdout == first.stdout.replace(
        f"image: {registry.host}/team/app:3", f"image: {registry.host}/team/app:3@{app.digest}"
    ).replace(f"image: {registry.host}/team/tool:1", f"image: {registry.host}/team/tool:1@{tool.digest}")
    assert locked.stderr == ""  # -v: not one request
    assert terms(yaml.safe_load(locked.stdout)) == affinity([("linux", ["arm64"])])
    # Digest references (what --digests wrote) are answered by the same entries.
    again = run(env, "pin", "--locked", str(lock), stdin=locked.stdout)
    assert again.returncode == 0 and again.stdout == locked.stdout
    missing = run(env, "pin", "--locked", str(lock), stdin=deployment("x", "nginx:1.27"))
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[0] == (
        f"error: image nginx:1.27: not in lock file {lock}; update it with kubectl arch pin --lock {lock}"
    )


def test_unknown_images(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    env = arch_env(tmp_path)
    gone = reg.ref("gone/app:1")
    stream = (
        deployment("a", reg.ref("single/oci:1")) + "---\n" + deployment("b", gone, reg.ref("single/oci:1"))
    )
    failed = run(env, "pin", stdin=stream)
    assert failed.returncode == 3
    assert failed.stdout == ""
    assert failed.stderr.splitlines() == [
        f"error: image {gone}: 404 Not Found from {reg.registry.host} (MANIFEST_UNKNOWN: manifest unknown): "
        "manifest 1 not found; is the name right? (a private repository may also answer 404 without credentials)",
        "error: 1 image(s) could not be looked up; nothing was pinned (--on-unknown-image=skip or "
        "--on-unknown-image=assume:os/arch[,...] pins the rest)",
    ]
    skipped = run(env, "pin", "--on-unknown-image=skip", stdin=stream)
    assert skipped.returncode == 0, skipped.stderr
    docs = list(yaml.safe_load_all(skipped.stdout))
    assert terms(docs[0]) == affinity([("linux", ["arm64"])])
    assert skipped.stdout.split("---\n")[1] == stream.split("---\n")[1]  # left as it was
    assert skipped.stderr == (
        "warning: <stdin> doc 2 Deployment/b: not pinned: its images could not all be looked up (image "
        f"{gone}: 404 Not Found from {reg.registry.host} (MANIFEST_UNKNOWN: manifest unknown): manifest 1 not "
        "found; is the name right? (a private repository may also answer 404 without credentials))\n"
    )
    assumed = run(env, "pin", "--on-unknown-image=assume:linux/arm64,linux/amd64", stdin=stream)
    assert assumed.returncode == 0, assumed.stderr
    assert terms(list(yaml.safe_load_all(assumed.stdout))[1]) == affinity([("linux", ["arm64"])])
    assert assumed.stderr.startswith(f"warning: image {gone}: 404 Not Found")
    assert assumed.stderr.endswith("; assuming linux/amd64,linux/arm64\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--platform", "linux/arm64", "--digests"), "error: --digests needs images looked up: add --from-registry (--platform then bounds what the registry says), or drop --platform"),
        (("--platform", "linux/arm64", "--lock", "x.lock"), "error: --lock needs images looked up: add --from-registry (--platform then bounds what the registry says), or drop --platform"),
        (("--lock", "a", "--locked", "b"), "error: --lock and --locked cannot be combined: --locked reads the file --lock writes"),
        (("--locked", "a", "--from-registry"), "error: --locked reads platforms from the lock file; it cannot be combined with --from-registry"),
        (("--on-unknown-image", "ignore"), "error: Invalid value for '--on-unknown-image': 'ignore' is not fail, skip or assume:os/arch[,os/arch...]"),
        (("--on-unknown-image", "assume:arm64"), "error: Invalid value for '--on-unknown-image': invalid platform 'arm64': expected os/arch[/variant]; did you mean linux/arm64?"),
        (("--lock", "x.lock", "--check"), "error: --lock writes a file; it cannot be combined with --check"),
        (("--locked", "/nonexistent.lock"), "error: /nonexistent.lock: no such lock file (write one with kubectl arch pin --lock /nonexistent.lock)"),
    ],
)  # fmt: skip
def test_option_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    proc = run(arch_env(tmp_path), "pin", "-f", "testdata/deploy.yaml", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == message


def test_krm_function_config_options(populated_registry: Populated, tmp_path: Path) -> None:
    reg = populated_registry
    multi = reg.ref("library/multi:1")
    items = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
        f"    - name: a\n      image: {multi}\n"
    )
    configmap = (
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: f\n  data:\n"
        "    platform: linux/arm64,linux/s390x\n    from-registry: 'true'\n    digests: 'true'\n"
    )
    env = arch_env(tmp_path)
    proc = run(env, "pin", stdin=items + configmap)
    assert proc.returncode == 0, proc.stderr
    out = yaml.safe_load(proc.stdout)
    pod = out["items"][0]["spec"]
    assert pod["containers"][0]["image"] == f"{multi}@{reg.images['library/multi:1'].digest}"
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ] == affinity([("linux", ["arm64"])])
    lock = tmp_path / "f.lock"
    typed = (
        "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  metadata:\n    name: f\n"
        f"  lock: {lock}\n  onUnknownImage: fail\n  requestTimeout: 5s\n"
    )
    assert run(env, "pin", stdin=items + typed).returncode == 0
    locked = typed.replace("  lock:", "  locked:").replace(
        "  onUnknownImage: fail\n", "  platforms: [linux/amd64]\n"
    )
    from_lock = run(env, "pin", stdin=items + locked)
    assert from_lock.returncode == 0, from_lock.stderr
    assert yaml.safe_load(from_lock.stdout)["items"][0]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"] == affinity([("linux", ["amd64"])])
    bad = typed.replace("  onUnknownImage: fail\n", "  onUnknownImage: maybe\n")
    refused = run(env, "pin", stdin=items + bad)
    assert refused.returncode == 2
    assert yaml.safe_load(refused.stdout)["results"] == [
        {
            "message": "ResourceList functionConfig PlatformPin: onUnknownImage: 'maybe' does not match "
            "'^(fail|skip|assume:.+)$'",
            "severity": "error",
        }
    ]
    contradiction = configmap.replace("from-registry: 'true'", "locked: x.lock")
    refused = run(
        env, "pin", stdin=items + contradiction.replace("    digests: 'true'\n", "    lock: y.lock\n")
    )
    assert yaml.safe_load(refused.stdout)["results"][0]["message"] == (
        "ResourceList functionConfig ConfigMap: lock and locked cannot be combined: locked reads the file lock writes"
    )
