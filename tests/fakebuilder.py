#!/usr/bin/env python3
"""A stand-in for docker (and its buildx), podman and ko, for tests on machines without a
container engine: installed on PATH under those names, it appends its argv (and the env
variables a builder reads) to ``$FAKE_LOG`` as a JSON line and pushes small deterministic
images with kubectl-arch's registry client, as the real tool would push what it built.

``python fakebuilder.py push REF PLATFORM[,PLATFORM...]`` pushes directly (for custom
builder scripts): one platform, a single image; several, an index.

``FAKE_FAIL=linux/arm64`` makes builds for that platform fail; ``FAKE_BUILDS=arm64:amd64``
makes builds asked for arm64 produce amd64 images, as a builder that ignores the platform.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubectl_arch.registry.client import Client
from kubectl_arch.registry.reference import parse

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _platform(text: str) -> dict[str, str]:
    parts = text.split("/")
    built = dict(p.split(":", 1) for p in os.environ.get("FAKE_BUILDS", "").split(",") if ":" in p)
    out = {"os": parts[0], "architecture": built.get(parts[1], parts[1])}
    if len(parts) > 2:
        out["variant"] = parts[2]
    return out


def push_image(client: Client, reference: str, platform: str, by_digest: bool = False) -> dict[str, object]:
    if platform in os.environ.get("FAKE_FAIL", "").split(","):
        print(f"fake build for {platform} failed", file=sys.stderr)
        sys.exit(1)
    ref = parse(reference)
    plat = _platform(platform)
    layer = f"layer for {platform}\n".encode()
    layer_digest = client.push_blob(ref, layer)
    config = {**plat, "rootfs": {"type": "layers", "diff_ids": [layer_digest]}, "config": {}}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = client.push_blob(ref, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": len(layer),
            }
        ],
    }
    data = json.dumps(manifest).encode()
    digest = client.put_manifest(ref._replace(tag="") if by_digest else ref, data, OCI_MANIFEST)
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(data), "platform": plat}


def push(reference: str, platforms: list[str]) -> None:
    client = Client()
    if len(platforms) == 1:
        push_image(client, reference, platforms[0])
        return
    ref = parse(reference)
    entries = [push_image(client, reference, p, by_digest=True) for p in platforms]
    data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    client.put_manifest(ref, data, OCI_INDEX)


def option(argv: list[str], *names: str) -> str:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return ""


def state_file(ref: str) -> Path:
    return Path(os.environ["FAKE_STATE"]) / ref.replace("/", "_").replace(":", "_")


def main() -> int:
    tool = os.path.basename(sys.argv[0]).removesuffix(".py")
    argv = sys.argv[1:]
    if tool == "fakebuilder" and argv[:1] == ["push"]:
        push(argv[1], argv[2].split(","))
        return 0
    if "FAKE_LOG" in os.environ:
        record = {"tool": tool, "argv": argv, "KO_DOCKER_REPO": os.environ.get("KO_DOCKER_REPO")}
        with open(os.environ["FAKE_LOG"], "a") as log:
            log.write(json.dumps(record) + "\n")
    if tool == "docker" and argv[:2] == ["buildx", "version"]:
        print("github.com/docker/buildx v0.17.1 fake")
        return 0
    if tool == "docker" and argv[:2] == ["buildx", "build"]:
        if "--push" not in argv:
            print("ERROR: no --push", file=sys.stderr)
            return 1
        push(option(argv, "-t"), option(argv, "--platform").split(","))
        return 0
    if tool in ("docker", "podman") and argv[:1] == ["build"]:
        state_file(option(argv, "-t")).write_text(option(argv, "--platform"))
        print(f"built {option(argv, '-t')}")
        return 0
    if tool in ("docker", "podman") and argv[:1] == ["push"]:
        ref = next(a for a in argv[1:] if not a.startswith("-"))
        push(ref, [state_file(ref).read_text()])
        return 0
    if tool == "ko" and argv[:1] == ["build"]:
        repo = os.environ["KO_DOCKER_REPO"]
        push(f"{repo}:{option(argv, '--tags')}", option(argv, "--platform").split(","))
        print(f"{repo}:{option(argv, '--tags')}")
        return 0
    print(f"fake {tool}: unexpected arguments {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
