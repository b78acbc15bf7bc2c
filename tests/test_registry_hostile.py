"""Registries that misbehave, from scripted servers on 127.0.0.1: where credentials go after
redirects and through proxies, what reaches the terminal, how long giving up takes, what
content is refused. Every outcome is asserted exactly: exit code, error line, which request
carried which Authorization."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faulty_registry import Answer, FaultyRegistry, faulty
from registry_util import arch_env, docker_config, free_port

BIN = Path(sys.executable).parent / "kubectl-arch"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
PASSWORD = "hunter2-Secret"
BASIC = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_of(platform: dict[str, str]) -> bytes:
    return json.dumps({**platform, "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def manifest_of(config: bytes, config_type: str = OCI_CONFIG, **extra: object) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": digest(config), "size": len(config)},
        "layers": [],
        **extra,
    }
    return json.dumps(document).encode()


def serve_image(server: FaultyRegistry, name: str, tag: str, platform: dict[str, str]) -> bytes:
    """A single-platform image under ``name:tag`` (and by digest); its manifest bytes."""
    config = config_of(platform)
    manifest = manifest_of(config)
    server.on(f"/v2/{name}/manifests/{tag}", Answer(200, manifest, {"Content-Type": OCI_MANIFEST}))
    server.on(
        f"/v2/{name}/manifests/{digest(manifest)}", Answer(200, manifest, {"Content-Type": OCI_MANIFEST})
    )
    server.on(f"/v2/{name}/blobs/{digest(config)}", Answer(200, config))
    return manifest


def serve_index(server: FaultyRegistry, name: str, tag: str, entries: list[dict]) -> bytes:
    data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    server.on(f"/v2/{name}/manifests/{tag}", Answer(200, data, {"Content-Type": OCI_INDEX}))
    return data


def entry(manifest: bytes, platform: dict[str, str] | None = None, **extra: object) -> dict:
    out: dict = {"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest), **extra}
    if platform is not None:
        out["platform"] = platform
    return out


def ended(pid: int) -> bool:
    """Whether process ``pid`` is gone (or a zombie that only its reaper still has to collect)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def pod(image: str) -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        f"  - name: a\n    image: {image}\n"
    )


# -- credentials go only where they belong --------------------------------------------------------


def test_a_challenge_after_a_redirect_belongs_to_the_other_host(tmp_path: Path) -> None:
    """The registry redirects blob downloads to storage that wants a Bearer token of its own:
    the registry's password never goes there, the storage's token never comes back."""
    with faulty() as registry, faulty() as storage:
        docker = docker_config(tmp_path / "docker", {"auths": {registry.host: {"auth": BASIC[6:]}}})
        env = arch_env(tmp_path, DOCKER_CONFIG=str(docker))
        config = config_of({"os": "linux", "architecture": "arm64"})
        manifest = manifest_of(config)
        basic_challenge = Answer(401, b"", {"WWW-Authenticate": 'Basic realm="registry"'})
        registry.on("/v2/app/manifests/1", basic_challenge)
        registry.on(
            "/v2/app/manifests/1", Answer(200, manifest, {"Content-Type": OCI_MANIFEST}), authorization=BASIC
        )
        location = f"http://127.0.0.1:{storage.port}/blobs/config"
        registry.on(f"/v2/app/blobs/{digest(config)}", basic_challenge)
        registry.on(
            f"/v2/app/blobs/{digest(config)}", Answer(307, b"", {"Location": location}), authorization=BASIC
        )
        storage_challenge = (
            f'Bearer realm="http://127.0.0.1:{storage.port}/token",service="storage",scope="blob:read"'
        )
        storage.on("/blobs/config", Answer(401, b"", {"WWW-Authenticate": storage_challenge}))
        storage.on("/blobs/config", Answer(200, config), authorization="Bearer storage-Token")
        storage.on("/token", Answer(200, json.dumps({"token": "storage-Token"}).encode()))
        serve_image(registry, "other", "1", {"os": "linux", "architecture": "amd64"})
        registry.on("/v2/other/manifests/1", basic_challenge)
        other = manifest_of(config_of({"os": "linux", "architecture": "amd64"}))
        registry.on(
            "/v2/other/manifests/1", Answer(200, other, {"Content-Type": OCI_MANIFEST}), authorization=BASIC
        )
        proc = run(env, "inspect", "-o", "json", f"{registry.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["platforms"][0]["architecture"] == "arm64"
        # The storage got no credential of the registry: its own anonymous token only.
        assert [s.headers.get("Authorization") for s in storage.requests_to("/blobs/config")] == [
            None,
            "Bearer storage-Token",
        ]
        (asked,) = storage.requests_to("/token")
        assert "Authorization" not in asked.headers and "account" not in asked.path
        assert "scope=blob%3Aread" in asked.path and "service=storage" in asked.path
        # The registry only ever saw its own Basic credentials, never the storage's token.
        assert {s.headers.get("Authorization") for s in registry.seen} <= {None, BASIC}
        # Its challenge is still its own: the next run's requests answer it with Basic.
        again = run(env, "inspect", "-o", "json", f"{registry.host}/other:1")
        assert again.returncode == 0, again.stderr
        assert {s.headers.get("Authorization") for s in registry.seen} <= {None, BASIC}


def test_a_redirected_host_that_refuses_is_named(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as storage:
        docker = docker_config(tmp_path / "docker", {"auths": {registry.host: {"auth": BASIC[6:]}}})
        config = config_of({"os": "linux", "architecture": "arm64"})
        registry.on("/v2/app/manifests/1", Answer(200, manifest_of(config), {"Content-Type": OCI_MANIFEST}))
        location = f"http://127.0.0.1:{storage.port}/blobs/config"
        registry.on(f"/v2/app/blobs/{digest(config)}", Answer(307, b"", {"Location": location}))
        storage.on("/blobs/config", Answer(401, b"", {"WWW-Authenticate": 'Basic realm="storage"'}))
        proc = run(arch_env(tmp_path, DOCKER_CONFIG=str(docker)), "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: 401 Unauthorized from 127.0.0.1:{storage.port} (where "
            f"{registry.host} redirected blob {digest(config)}): it wants credentials, and {registry.host}'s are "
            "never sent to another host; ask the registry's operator\n"
        )
        assert [s.headers.get("Authorization") for s in storage.seen] == [None]


def test_loopback_registries_are_never_proxied(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as proxy:
        serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        env = arch_env(tmp_path, HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url, http_proxy=proxy_url)
        proc = run(env, "inspect", "-o", "json", f"{registry.host}/app:1", f"localhost:{registry.port}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert proxy.seen == []


def test_a_proxy_that_is_down_is_named(tmp_path: Path) -> None:
    dead = free_port()
    env = arch_env(tmp_path, HTTPS_PROXY=f"http://user:proxy-Secret@127.0.0.1:{dead}")
    proc = run(env, "inspect", "--request-timeout", "3s", "registry.example.com/team/app:1")
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: image registry.example.com/team/app:1: cannot reach proxy http://REDACTED@127.0.0.1:{dead} (from "
        "$HTTPS_PROXY) for registry.example.com: connection refused; check the proxy, or add registry.example.com "
        "to NO_PROXY\n"
    )


def test_no_user_info_of_a_redirect_is_printed(tmp_path: Path) -> None:
    with faulty() as registry:
        config = config_of({"os": "linux", "architecture": "arm64"})
        registry.on("/v2/app/manifests/1", Answer(200, manifest_of(config), {"Content-Type": OCI_MANIFEST}))
        dead = free_port()
        location = f"http://storage-user:storage-Secret@127.0.0.1:{dead}/blob"
        registry.on(f"/v2/app/blobs/{digest(config)}", Answer(302, b"", {"Location": location}))
        proc = run(arch_env(tmp_path), "-v", "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr.splitlines()[-1] == (
            f"error: image {registry.host}/app:1: cannot reach 127.0.0.1:{dead}: connection refused"
        )
        assert "storage-Secret" not in proc.stderr and "storage-user" not in proc.stderr


# -- remote text is data ----------------------------------------------------------------------------


def test_escape_sequences_from_a_registry_never_reach_the_terminal(tmp_path: Path) -> None:
    with faulty() as registry:
        message = "denied\x1b]0;pwned\x07\r\nerror: forged line\u202e"
        body = json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode()
        registry.on("/v2/app/manifests/1", Answer(403, body))
        proc = run(arch_env(tmp_path), "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: 403 Forbidden from {registry.host} (DENIED: "
            "denied\\x1b]0;pwned\\x07\\r\\nerror: forged line\\u202e): access to "
            f"{registry.host}/app denied; do your credentials grant access to this repository?\n"
        )


@pytest.mark.parametrize("field", ["os", "architecture", "variant", "os.version"])
def test_a_platform_that_is_not_a_label_value_is_refused(tmp_path: Path, field: str) -> None:
    with faulty() as registry:
        image = serve_image(registry, "app", "x", {"os": "linux", "architecture": "amd64"})
        platform = {"os": "linux", "architecture": "arm64", field: "arm64\nlinux/riscv64"}
        listed = serve_index(
            registry,
            "app",
            "1",
            [entry(image, {"os": "linux", "architecture": "amd64"}), entry(image, platform)],
        )
        ref = f"{registry.host}/app:1"
        env = arch_env(tmp_path)
        proc = run(env, "inspect", ref)
        assert (proc.returncode, proc.stdout) == (1, "")
        assert proc.stderr == (
            f"error: image {ref}: manifest {digest(listed)} entry 1 declares {field} 'arm64\\nlinux/riscv64', which "
            "is not a valid "
            "label value (at most 63 letters, digits, '-', '_' or '.'); the image must be fixed\n"
        )
        pinned = run(env, "pin", "-f", "-", stdin=pod(ref))
        assert (pinned.returncode, pinned.stdout) == (1, "")
        assert "riscv64\n" not in pinned.stderr
        checked = run(env, "check", "-f", "-", "--nodes-file", str(tmp_path / "none.json"), stdin=pod(ref))
        assert checked.returncode == 1 and "\nlinux/riscv64" not in checked.stdout + checked.stderr


# -- correct answers from registries as they are -----------------------------------------------------


@pytest.mark.parametrize("status", [405, 501, 404])
def test_head_not_supported_falls_back_to_get(tmp_path: Path, status: int) -> None:
    with faulty() as registry:
        manifest = serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        env = arch_env(tmp_path)
        assert run(env, "inspect", f"{registry.host}/app:1").returncode == 0
        # HEAD answered with `status`, GET with the manifest (as Nexus does for 404).
        registry.on("/v2/app/manifests/1", Answer(status), method="HEAD")
        registry.seen.clear()
        proc = run(env, "inspect", "-o", "json", f"{registry.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["digest"] == digest(manifest)
        assert [(s.method, s.path) for s in registry.seen] == [
            ("HEAD", "/v2/app/manifests/1"),
            ("GET", "/v2/app/manifests/1"),
        ]
        # A tag that neither finds is not found.
        registry.on(
            "/v2/app/manifests/1", Answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}')
        )
        gone = run(env, "inspect", f"{registry.host}/app:1")
        assert gone.returncode == 3
        assert gone.stderr == (
            f"error: image {registry.host}/app:1: 404 Not Found from {registry.host} (MANIFEST_UNKNOWN: gone): "
            "manifest 1 not found; is the name right? (a private repository may also answer 404 without credentials)\n"
        )


def test_unusable_platforms_come_from_the_config(tmp_path: Path) -> None:
    with faulty() as registry:
        amd64 = serve_image(registry, "app", "amd64", {"os": "linux", "architecture": "amd64"})
        arm64 = serve_image(registry, "app", "arm64", {"os": "linux", "architecture": "arm64"})
        serve_index(
            registry,
            "app",
            "1",
            [
                entry(amd64, {"os": "linux", "architecture": "amd64"}),
                entry(arm64, {"os": "", "architecture": ""}),
            ],
        )
        ref = f"{registry.host}/app:1"
        env = arch_env(tmp_path)
        proc = run(env, "inspect", "-o", "json", ref)
        assert proc.returncode == 0, proc.stderr
        assert [(p["os"], p["architecture"]) for p in json.loads(proc.stdout)[0]["platforms"]] == [
            ("linux", "amd64"),
            ("linux", "arm64"),
        ]
        pinned = run(env, "pin", "-f", "-", stdin=pod(ref))
        assert pinned.returncode == 0, pinned.stderr
        assert '- ""' not in pinned.stdout and "- arm64" in pinned.stdout


def test_artifacts_are_not_platforms(tmp_path: Path) -> None:
    with faulty() as registry:
        amd64 = serve_image(registry, "app", "amd64", {"os": "linux", "architecture": "amd64"})
        empty = b"{}"
        sbom = manifest_of(empty, "application/vnd.oci.empty.v1+json", artifactType="application/spdx+json")
        registry.on(f"/v2/app/manifests/{digest(sbom)}", Answer(200, sbom, {"Content-Type": OCI_MANIFEST}))
        arm64 = {"os": "linux", "architecture": "arm64"}
        serve_index(
            registry,
            "app",
            "1",
            [
                entry(amd64, {"os": "linux", "architecture": "amd64"}),
                # An SBOM tagged linux/arm64, as an artifact descriptor says it is.
                entry(sbom, arm64, artifactType="application/spdx+json"),
                # The same, without a platform: its manifest's config says it is no image.
                entry(sbom),
            ],
        )
        ref = f"{registry.host}/app:1"
        env = arch_env(tmp_path)
        proc = run(env, "inspect", "-o", "json", ref)
        assert proc.returncode == 0, proc.stderr
        assert [p["architecture"] for p in json.loads(proc.stdout)[0]["platforms"]] == ["amd64"]
        pinned = run(env, "pin", "-f", "-", stdin=pod(ref))
        assert pinned.returncode == 0, pinned.stderr
        assert "- arm64" not in pinned.stdout and "- amd64" in pinned.stdout
        # An index with artifacts and attestations only has nothing to run: a problem of the
        # image (exit 1), not of the registry.
        serve_index(registry, "app", "sboms", [entry(sbom, arm64, artifactType="application/spdx+json")])
        none = run(env, "inspect", f"{registry.host}/app:sboms")
        assert (none.returncode, none.stdout) == (1, "")
        assert none.stderr.startswith(f"error: image {registry.host}/app:sboms: sha256:")
        assert none.stderr.endswith(
            " lists no platform to run (only attestations or artifacts, or a config without os/architecture)\n"
        )


def test_unknown_variants_are_kept_as_given(tmp_path: Path) -> None:
    with faulty() as registry:
        image = serve_image(registry, "app", "x", {"os": "linux", "architecture": "arm64"})
        serve_index(
            registry, "app", "1", [entry(image, {"os": "linux", "architecture": "arm64", "variant": "armv8"})]
        )
        proc = run(arch_env(tmp_path), "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].split()[0] == "PLATFORM"
        assert proc.stdout.splitlines()[2].split()[0] == "linux/arm64/armv8"


def test_digests_use_the_algorithm_the_registry_names(tmp_path: Path) -> None:
    with faulty() as registry:
        config = config_of({"os": "linux", "architecture": "arm64"})
        manifest = manifest_of(config)
        sha512 = "sha512:" + hashlib.sha512(manifest).hexdigest()
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": sha512}
        registry.on("/v2/app/manifests/1", Answer(200, manifest, headers))
        registry.on(f"/v2/app/manifests/{sha512}", Answer(200, manifest, headers))
        registry.on(f"/v2/app/blobs/{digest(config)}", Answer(200, config))
        ref = f"{registry.host}/app:1"
        env = arch_env(tmp_path)
        proc = run(env, "inspect", "-o", "json", ref)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["digest"] == sha512
        pinned = run(env, "pin", "--digests", "-f", "-", stdin=pod(ref))
        assert pinned.returncode == 0, pinned.stderr
        assert f"image: {ref}@{sha512}\n" in pinned.stdout
        # The reference it wrote can be resolved (and is verified with sha512).
        again = run(env, "inspect", "-o", "json", f"{ref}@{sha512}")
        assert again.returncode == 0, again.stderr
        # A digest of an algorithm it does not know is refused by name.
        registry.on(
            "/v2/app/manifests/2",
            Answer(
                200, manifest, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": "blake3:" + "a" * 64}
            ),
        )
        refused = run(env, "inspect", f"{registry.host}/app:2")
        assert refused.returncode == 3
        assert refused.stderr == (
            f"error: image {registry.host}/app:2: manifest {registry.host}/app:2 from {registry.host}: digest "
            "algorithm 'blake3' is not supported (sha256, sha512); refusing the answer; refusing content that does "
            "not match its digest\n"
        )
        serve_index(
            registry,
            "app",
            "3",
            [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "blake3:" + "b" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        )
        entry_refused = run(env, "inspect", f"{registry.host}/app:3")
        assert entry_refused.returncode == 3
        assert entry_refused.stderr.endswith(
            "entry 0: unsupported digest algorithm 'blake3' (supported: sha256, sha512)\n"
        )


# -- bounded time and memory -------------------------------------------------------------------------


def test_a_dripping_registry_fails_after_about_the_timeout(tmp_path: Path) -> None:
    with faulty() as registry:
        manifest = manifest_of(config_of({"os": "linux", "architecture": "arm64"}))
        registry.on(
            "/v2/app/manifests/1",
            Answer(200, manifest, {"Content-Type": OCI_MANIFEST}, drip=0.5, head_first=True),
        )
        registry.on("/v2/slow/manifests/1", Answer(200, manifest, {"Content-Type": OCI_MANIFEST}, drip=0.5))
        for name in ("app", "slow"):
            start = time.monotonic()
            proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "2s", f"{registry.host}/{name}:1")
            elapsed = time.monotonic() - start
            assert proc.returncode == 3
            assert proc.stderr == (
                f"error: image {registry.host}/{name}:1: cannot reach {registry.host}: no complete answer within 2s "
                "(see --request-timeout)\n"
            )
            assert len(registry.requests_to(f"/v2/{name}/manifests/1")) == 1  # a timeout is not retried
            assert elapsed < 4, elapsed


def test_a_dripping_api_server_fails_after_about_the_timeout(tmp_path: Path) -> None:
    with faulty() as server:
        nodes = json.dumps({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
        server.on(
            "/api/v1/nodes",
            Answer(200, nodes, {"Content-Type": "application/json"}, drip=0.5, head_first=True),
        )
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", "drip")
        env = arch_env(tmp_path, KUBECONFIG=str(kubeconfig))
        start = time.monotonic()
        proc = run(env, "nodes", "--request-timeout", "2s")
        elapsed = time.monotonic() - start
        assert proc.returncode == 3
        assert proc.stderr == (
            f'error: API server http://{server.host} (context "drip") did not answer within 2s (--request-timeout); '
            "check the server URL in the kubeconfig and the context (--context) and the network, or raise --request-timeout\n"
        )
        assert elapsed < 5, elapsed


def test_request_timeouts_too_long_for_a_socket_are_refused(tmp_path: Path) -> None:
    for command in (["inspect", "nginx"], ["nodes"]):
        proc = run(arch_env(tmp_path), *command, "--request-timeout", "100000000000s")
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == (
            "error: Invalid value for '--request-timeout': '100000000000s' is too long: at most 24h\n"
            f"See 'kubectl arch {command[0]} --help' for usage.\n"
        )


def test_an_unresponsive_registry_fails_in_seconds(tmp_path: Path) -> None:
    """Six images on a registry that accepts connections and never answers: one error each
    after one request timeout (10 s by default; a timeout is not retried), not minutes."""
    with faulty() as registry:
        for i in range(6):
            registry.on(f"/v2/app{i}/manifests/1", Answer(stall=300))
        refs = [f"{registry.host}/app{i}:1" for i in range(6)]
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", *refs)
        elapsed = time.monotonic() - start
        assert proc.returncode == 3
        assert proc.stderr.splitlines() == [
            f"error: image {ref}: cannot reach {registry.host}: no complete answer within 10s (see --request-timeout)"
            for ref in refs
        ]
        assert len(registry.seen) == 1  # the first request; the others fail at once
        assert 9.5 < elapsed < 14, elapsed


def test_json_nesting_and_sizes_are_one_line_errors(tmp_path: Path) -> None:
    with faulty() as registry:
        deep = b"[" * 200_000 + b"]" * 200_000
        registry.on("/v2/deep/manifests/1", Answer(200, deep, {"Content-Type": OCI_INDEX}))
        registry.on(
            "/v2/huge/manifests/1", Answer(200, b"[" + b"1," * 3_000_000 + b"1]", {"Content-Type": OCI_INDEX})
        )
        registry.on(
            "/v2/number/manifests/1",
            Answer(200, b'{"schemaVersion": ' + b"9" * 5000 + b"}", {"Content-Type": OCI_INDEX}),
        )
        registry.on(
            "/v2/error/manifests/1", Answer(500, b'{"errors": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        )
        env = arch_env(tmp_path)
        host = registry.host
        proc = run(env, "inspect", f"{host}/deep:1", f"{host}/huge:1", f"{host}/number:1", f"{host}/error:1")
        assert proc.returncode == 3
        lines = proc.stderr.splitlines()
        assert len(lines) == 4 and all(line.startswith("error: image ") for line in lines), proc.stderr
        assert lines[0].endswith(": JSON nests too deeply")
        assert (
            lines[1]
            == f"error: image {host}/huge:1: http://{host}/v2/huge/manifests/1: answer larger than 4194304 bytes; refusing it"
        )
        assert lines[2].endswith(": a number in it is too long")
        assert lines[3] == f"error: image {host}/error:1: 500 from {host} for manifest 1"
        assert "Traceback" not in proc.stderr


# -- credential helpers ------------------------------------------------------------------------------


def test_a_hanging_credential_helper_is_ended_with_its_children(tmp_path: Path) -> None:
    with faulty() as registry:
        serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        registry.on("/v2/app/manifests/1", Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'}))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        pid_file = tmp_path / "child.pid"
        helper = bin_dir / "docker-credential-hang"
        helper.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n")
        helper.chmod(0o755)
        docker_config(tmp_path / "docker", {"credHelpers": {registry.host: "hang"}})
        env = arch_env(tmp_path)
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
        start = time.monotonic()
        proc = run(env, "inspect", "--request-timeout", "2s", f"{registry.host}/app:1")
        assert time.monotonic() - start < 8
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: credential helper docker-credential-hang (from "
            f"{tmp_path / 'docker' / 'config.json'} credHelpers) did not answer within 2s; it was stopped "
            "(see --request-timeout)\n"
        )
        time.sleep(0.2)
        assert ended(int(pid_file.read_text()))
        # A helper that prints without end is stopped too.
        endless = bin_dir / "docker-credential-endless"
        endless.write_text("#!/bin/sh\nexec yes\n")
        endless.chmod(0o755)
        docker_config(tmp_path / "docker", {"credHelpers": {registry.host: "endless"}})
        flood = run(env, "inspect", f"{registry.host}/app:1")
        assert flood.returncode == 3
        assert flood.stderr.endswith(
            "credential helper docker-credential-endless (from "
            f"{tmp_path / 'docker' / 'config.json'} credHelpers) printed more than 1048576 "
            "bytes; it was stopped\n"
        )
        # And one answering deep JSON is a one-line error.
        deep = bin_dir / "docker-credential-deep"
        deep.write_text("#!/usr/bin/env python3\nprint('[' * 100000 + ']' * 100000)\n")
        deep.chmod(0o755)
        docker_config(tmp_path / "docker", {"credHelpers": {registry.host: "deep"}})
        nested = run(env, "inspect", f"{registry.host}/app:1")
        assert nested.returncode == 3
        assert nested.stderr.endswith(
            "credential helper docker-credential-deep answered something other than JSON credentials\n"
        )


def test_a_deep_docker_config_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text('{"auths": ' + "[" * 100000 + "]" * 100000 + "}")
    with faulty() as registry:
        registry.on("/v2/app/manifests/1", Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'}))
        proc = run(arch_env(tmp_path), "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: {tmp_path / 'docker' / 'config.json'}: JSON nests too deeply\n"
        )


# -- clear errors ------------------------------------------------------------------------------------


def test_a_plain_http_registry_reached_over_https() -> None:
    from kubectl_arch.registry.client import Client, RegistryError
    from kubectl_arch.registry.reference import parse

    with faulty() as registry:
        serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        client = Client()
        host = client.host(registry.host)
        host.probe_tls = False  # as for any host that is not loopback
        host.scheme = "https"
        with pytest.raises(RegistryError) as failed:
            client.get_manifest(parse(f"{registry.host}/app:1"))
        assert str(failed.value) == (
            f"{registry.host} does not speak TLS (it answered in plain HTTP); if it is a plain-HTTP registry, reach "
            f"it with --insecure-registry {registry.host}"
        )


def test_an_invalid_reference_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(arch_env(tmp_path), "inspect", "Bad:Ref")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "error: invalid image reference 'Bad:Ref': repository name must be lower-case\n"


# -- the write path: credentials only to the registry's own host -----------------------------------


def basic_registry_for_uploads(registry: FaultyRegistry, location: str) -> None:
    """A registry that wants Basic credentials, has no blob yet, and hands out ``location``
    (on another host) for uploads."""
    challenge = Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'})
    registry.otherwise = [challenge]
    for path in ("/v2/app/blobs/uploads/", f"/v2/app/blobs/{digest(b'hello')}"):
        registry.on(path, challenge)
    registry.on(f"/v2/app/blobs/{digest(b'hello')}", Answer(404), authorization=BASIC)
    registry.on("/v2/app/blobs/uploads/", Answer(202, b"", {"Location": location}), authorization=BASIC)


class Fixed:
    """A credential store that holds alice's password for every registry."""

    def get(self, registry: str, repository: str = "") -> object:
        from kubectl_arch.registry.auth import Credential

        return Credential("alice", PASSWORD, source="test")


@pytest.mark.parametrize("chunked", [False, True])
def test_an_upload_location_on_another_host_gets_no_credentials(chunked: bool) -> None:
    from kubectl_arch.registry.client import Client, Options
    from kubectl_arch.registry.reference import parse

    with faulty() as registry, faulty() as other:
        basic_registry_for_uploads(registry, f"http://{other.host}/upload/1?_state=s")
        other.on("/upload/1", Answer(202, b"", {"Location": f"http://{other.host}/upload/2"}), method="PATCH")
        other.on("/upload/1", Answer(201), method="PUT")
        other.on("/upload/2", Answer(202, b"", {"Location": f"http://{other.host}/upload/2"}), method="PATCH")
        other.on("/upload/2", Answer(201), method="PUT")
        client = Client(Options(timeout=5), Fixed())  # type: ignore[arg-type]
        pushed = client.push_blob(
            parse(f"{registry.host}/app:1"), b"hello", chunk_size=3 if chunked else None
        )
        assert pushed == digest(b"hello")
        expected = ["PATCH", "PATCH", "PUT"] if chunked else ["PUT"]
        assert [s.method for s in other.seen] == expected
        assert [s.headers.get("Authorization") for s in other.seen] == [None] * len(expected)
        assert {s.headers.get("Authorization") for s in registry.seen} == {None, BASIC}


def test_a_mount_that_falls_back_to_a_copy_sends_no_credentials_elsewhere() -> None:
    from kubectl_arch.registry.client import Client, Options
    from kubectl_arch.registry.reference import parse

    with faulty() as registry, faulty() as other:
        basic_registry_for_uploads(registry, f"http://{other.host}/upload/1")
        # The mount is refused (202: start an upload instead), so the blob is copied.
        registry.on("/v2/source/blobs/" + digest(b"hello"), Answer(200, b"hello"), authorization=BASIC)
        other.on("/upload/1", Answer(201), method="PUT")
        client = Client(Options(timeout=5), Fixed())  # type: ignore[arg-type]
        client.mount_blob(parse(f"{registry.host}/app:1"), digest(b"hello"), "source")
        assert [(s.method, s.headers.get("Authorization")) for s in other.seen] == [("PUT", None)]


# -- loopback, one definition; proxies ----------------------------------------------------------------


def test_names_under_localhost_are_proxied_and_never_get_credentials_in_clear(tmp_path: Path) -> None:
    """*.localhost is not loopback (as for Go): it goes through the proxy, in HTTPS, and a
    realm there in plain HTTP never gets the registry's password."""
    with faulty() as registry, faulty() as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        docker = docker_config(
            tmp_path / "docker",
            {"auths": {"reg.localhost:5000": {"auth": BASIC[6:]}, registry.host: {"auth": BASIC[6:]}}},
        )
        env = arch_env(tmp_path, DOCKER_CONFIG=str(docker), HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url)
        proxied = run(env, "inspect", "reg.localhost:5000/app:1")
        assert proxied.returncode == 3
        assert proxied.stderr == (
            f"error: image reg.localhost:5000/app:1: proxy {proxy_url} (from $HTTPS_PROXY) answered 404 Not Found "
            "when asked for reg.localhost:5000; check the proxy, or add reg.localhost to NO_PROXY\n"
        )
        assert [(s.method, s.path) for s in proxy.seen] == [("CONNECT", "reg.localhost:5000")]
        registry.on(
            "/v2/app/manifests/1",
            Answer(401, b"", {"WWW-Authenticate": 'Bearer realm="http://auth.localhost/token",service="r"'}),
        )
        refused = run(env, "inspect", f"{registry.host}/app:1")
        assert refused.returncode == 3
        assert refused.stderr == (
            f"error: image {registry.host}/app:1: {registry.host} asks for credentials to be sent in plain HTTP to "
            "auth.localhost; refusing\n"
        )
        assert len(proxy.seen) == 1  # nothing more: the password went nowhere
        assert all("Authorization" not in s.headers for s in proxy.seen)


def test_ipv4_mapped_loopback_is_loopback(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as proxy:
        serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        env = arch_env(tmp_path, HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url)
        proc = run(env, "inspect", "-o", "json", f"[::ffff:127.0.0.1]:{registry.port}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["platforms"][0]["architecture"] == "arm64"
        assert proxy.seen == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("socks5://127.0.0.1:1080", "is a SOCKS proxy, which kubectl-arch does not support; use an HTTP or HTTPS proxy"),
        ("socks5h://127.0.0.1:1080", "is a SOCKS proxy, which kubectl-arch does not support; use an HTTP or HTTPS proxy"),
        ("http://[::1", "is not a valid proxy URL (invalid IPv6 URL)"),
        ("http://proxy:notaport", "is not a valid proxy URL (port could not be cast to integer value as 'notaport')"),
    ],
)  # fmt: skip
def test_an_unusable_proxy_variable_is_named(tmp_path: Path, value: str, why: str) -> None:
    proc = run(arch_env(tmp_path, HTTPS_PROXY=value), "inspect", "registry.example.com/team/app:1")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"error: image registry.example.com/team/app:1: $HTTPS_PROXY ({value!r}) {why}\n"


def test_a_proxy_that_wants_credentials_is_named_and_not_retried(tmp_path: Path) -> None:
    with faulty() as proxy:
        refused = Answer(407, b"", {"Proxy-Authenticate": 'Basic realm="corp"'})
        proxy.on("registry.example.com:443", refused, method="CONNECT")
        proxy.on("http://registry.example.com/v2/app/manifests/1", refused)
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        env = arch_env(tmp_path, HTTPS_PROXY=proxy_url, HTTP_PROXY=proxy_url)
        for args in ([], ["--insecure-registry", "registry.example.com"]):
            proxy.seen.clear()
            proc = run(env, "inspect", *args, "registry.example.com/app:1")
            assert proc.returncode == 3
            assert proc.stderr == (
                f"error: image registry.example.com/app:1: proxy {proxy_url} (from $HTTPS_PROXY) answered 407 Proxy "
                "Authentication Required when asked for registry.example.com; give the proxy's user and password in "
                "$HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT), or add registry.example.com to NO_PROXY\n"
            )
            assert [s.method for s in proxy.seen] == ["CONNECT"]  # once: a 407 is not retried


# -- remote text is data, at -v too --------------------------------------------------------------------


def test_verbose_lines_never_carry_control_characters(tmp_path: Path) -> None:
    with faulty() as registry:
        registry.on(
            "/v2/app/manifests/1",
            Answer(
                307,
                b"",
                {"Location": "/v2/app/manifests/\x1b]0;PWNED-LOCATION\x07x"},
                reason="Moved \x1b]0;R\x07",
            ),
        )
        registry.on("/v2/app/manifests/2", Answer(404, b"", reason="Not \x1b[2J\x1b]0;R\x07Found"))
        proc = run(arch_env(tmp_path), "-v", "inspect", f"{registry.host}/app:1", f"{registry.host}/app:2")
        assert proc.returncode == 3
        assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
        lines = proc.stderr.splitlines()
        assert f"GET http://{registry.host}/v2/app/manifests/1 307 Moved \\x1b]0;R\\x07 in" in " ".join(lines)
        assert any(
            line.startswith(f"GET http://{registry.host}/v2/app/manifests/\\x1b]0;PWNED-LOCATION\\x07x 404 ")
            for line in lines
        )
        assert any(
            line.startswith(f"GET http://{registry.host}/v2/app/manifests/2 404 Not \\x1b[2J")
            for line in lines
        )


# -- artifacts tagged with a platform ------------------------------------------------------------------


def test_an_sbom_tagged_with_a_platform_is_not_a_platform(tmp_path: Path) -> None:
    """The SBOMs' descriptors carry a platform and no artifactType: only their manifests say
    what they are (an artifactType, or the empty config), so the index's entries are opened."""
    with faulty() as registry:
        amd64 = serve_image(registry, "app", "amd64", {"os": "linux", "architecture": "amd64"})
        empty = b"{}"
        typed = manifest_of(empty, "application/vnd.oci.empty.v1+json", artifactType="application/spdx+json")
        untyped = manifest_of(empty, "application/vnd.oci.empty.v1+json")
        for sbom in (typed, untyped):
            registry.on(
                f"/v2/app/manifests/{digest(sbom)}", Answer(200, sbom, {"Content-Type": OCI_MANIFEST})
            )
        serve_index(
            registry,
            "app",
            "1",
            [
                entry(amd64, {"os": "linux", "architecture": "amd64"}),
                entry(typed, {"os": "linux", "architecture": "arm64"}),
                entry(untyped, {"os": "linux", "architecture": "s390x"}),
            ],
        )
        ref = f"{registry.host}/app:1"
        env = arch_env(tmp_path)
        proc = run(env, "inspect", "-o", "json", ref)
        assert proc.returncode == 0, proc.stderr
        assert [(p["os"], p["architecture"]) for p in json.loads(proc.stdout)[0]["platforms"]] == [
            ("linux", "amd64")
        ]
        # The index and its three entries' manifests, nothing else (no config blob).
        assert [(s.method, s.path) for s in registry.seen] == [
            ("GET", "/v2/app/manifests/1"),
            *(("GET", f"/v2/app/manifests/{digest(m)}") for m in (amd64, typed, untyped)),
        ]
        registry.seen.clear()
        pinned = run(env, "pin", "-f", "-", stdin=pod(ref))
        assert pinned.returncode == 0, pinned.stderr
        assert "            - amd64\n  containers:" in pinned.stdout
        assert "- arm64" not in pinned.stdout and "- s390x" not in pinned.stdout
        # A warm run: the tag asked again (this registry's HEAD says no digest: a GET), the
        # entries' manifests from the cache.
        assert [(s.method, s.path) for s in registry.seen] == [
            ("HEAD", "/v2/app/manifests/1"),
            ("GET", "/v2/app/manifests/1"),
        ]


def test_trusting_platforms_costs_the_index_only_and_keeps_what_the_index_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit's inspector (trust_platforms) takes an OCI index's entries with a platform for
    the images they say they are, without opening them; artifacts and attestations the index
    names stay out, and an entry without a platform is still opened (its config says)."""
    from kubectl_arch import registry

    with faulty() as server:
        amd64 = serve_image(server, "app", "amd64", {"os": "linux", "architecture": "amd64"})
        arm64 = serve_image(server, "app", "arm64", {"os": "linux", "architecture": "arm64"})
        s390x = serve_image(server, "app", "s390x", {"os": "linux", "architecture": "s390x"})
        sbom = manifest_of(b"{}", "application/vnd.oci.empty.v1+json", artifactType="application/spdx+json")
        serve_index(
            server,
            "app",
            "1",
            [
                entry(amd64, {"os": "linux", "architecture": "amd64"}),
                entry(arm64, {"os": "linux", "architecture": "arm64"}),
                entry(sbom, {"os": "linux", "architecture": "ppc64le"}, artifactType="application/spdx+json"),
                entry(b"att", {"os": "unknown", "architecture": "unknown"}),
                entry(s390x),  # no platform: opened, then its config read
            ],
        )
        for key, value in arch_env(tmp_path).items():
            monkeypatch.setenv(key, value)
        ref = f"{server.host}/app:1"
        trusting = registry.open_inspector(registry.Settings(trust_platforms=True))
        try:
            (info,) = trusting.inspect_all([ref]).values()
        finally:
            trusting.client.close()
        assert not isinstance(info, Exception), info
        assert [(p.platform.architecture, p.digest) for p in info.platforms] == [
            ("amd64", digest(amd64)),
            ("arm64", digest(arm64)),
            ("s390x", digest(s390x)),
        ]
        config = json.loads(s390x)["config"]["digest"]
        assert [(s.method, s.path) for s in server.seen] == [
            ("GET", "/v2/app/manifests/1"),
            ("GET", f"/v2/app/manifests/{digest(s390x)}"),
            ("GET", f"/v2/app/blobs/{config}"),
        ]


def test_an_index_that_vouches_for_its_images_costs_one_request(tmp_path: Path) -> None:
    """BuildKit's attestations name the images they attest, and Docker schema 2 manifests have
    no artifacts: such entries are taken as they are, without opening them."""
    with faulty() as registry:
        amd64 = serve_image(registry, "app", "amd64", {"os": "linux", "architecture": "amd64"})
        arm64 = serve_image(registry, "app", "arm64", {"os": "linux", "architecture": "arm64"})
        attestation = {"vnd.docker.reference.type": "attestation-manifest"}
        unknown = {"os": "unknown", "architecture": "unknown"}
        serve_index(
            registry,
            "app",
            "1",
            [
                entry(amd64, {"os": "linux", "architecture": "amd64"}),
                entry(arm64, {"os": "linux", "architecture": "arm64"}),
                entry(
                    b"a", unknown, annotations={**attestation, "vnd.docker.reference.digest": digest(amd64)}
                ),
                entry(
                    b"b", unknown, annotations={**attestation, "vnd.docker.reference.digest": digest(arm64)}
                ),
            ],
        )
        docker_list = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                "manifests": [
                    entry(amd64, {"os": "linux", "architecture": "amd64"}, mediaType=DOCKER_MANIFEST),
                    entry(arm64, {"os": "linux", "architecture": "arm64"}, mediaType=DOCKER_MANIFEST),
                ],
            }
        ).encode()
        registry.on(
            "/v2/app/manifests/2",
            Answer(
                200,
                docker_list,
                {"Content-Type": "application/vnd.docker.distribution.manifest.list.v2+json"},
            ),
        )
        proc = run(
            arch_env(tmp_path), "inspect", "-o", "json", f"{registry.host}/app:1", f"{registry.host}/app:2"
        )
        assert proc.returncode == 0, proc.stderr
        for answer in json.loads(proc.stdout):
            assert [p["architecture"] for p in answer["platforms"]] == ["amd64", "arm64"]
        assert sorted((s.method, s.path) for s in registry.seen) == [
            ("GET", "/v2/app/manifests/1"),
            ("GET", "/v2/app/manifests/2"),
        ]


# -- one image's fault is its own ------------------------------------------------------------------------


def test_one_hostile_registry_costs_only_its_own_images(tmp_path: Path) -> None:
    with faulty() as good, faulty() as bracket, faulty() as redirecting, faulty() as surrogate:
        serve_image(good, "app", "1", {"os": "linux", "architecture": "arm64"})
        bracket.otherwise = [Answer(401, b"", {"WWW-Authenticate": 'Bearer realm="http://[bad/token"'})]
        redirecting.otherwise = [Answer(307, b"", {"Location": f"http://{bracket.host}/x"})]
        config = config_of({"os": "linux", "architecture": "amd64"})
        bad_type = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "\ud800",
                "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
                "layers": [],
            }
        ).encode()
        surrogate.on("/v2/app/manifests/1", Answer(200, bad_type, {"Content-Type": OCI_MANIFEST}))
        refs = [f"{s.host}/app:1" for s in (good, bracket, redirecting, surrogate)]
        env = arch_env(tmp_path)
        proc = run(env, "inspect", "-o", "json", *refs)
        assert proc.returncode == 3
        assert [a["reference"] for a in json.loads(proc.stdout)] == [refs[0]]
        assert proc.stderr.splitlines() == [
            f"error: image {refs[1]}: {bracket.host} named an invalid token realm 'http://[bad/token'",
            f"error: image {refs[2]}: {bracket.host} named an invalid token realm 'http://[bad/token'",
            f"error: image {refs[3]}: manifest {digest(bad_type)} has unsupported media type '\\ud800'",
        ]
        # pin --on-unknown-image=skip pins the rest.
        docs = "---\n".join(pod(r).replace("name: p\n", f"name: p{i}\n") for i, r in enumerate(refs))
        pinned = run(env, "pin", "--on-unknown-image=skip", "-f", "-", stdin=docs)
        assert pinned.returncode == 0, pinned.stderr
        assert pinned.stdout.count("nodeAffinity") == 1


def test_a_fault_of_the_program_in_one_look_up_is_that_image_s_error(tmp_path: Path) -> None:
    from kubectl_arch.registry.cache import Cache
    from kubectl_arch.registry.client import Client
    from kubectl_arch.registry.images import ImageError, ImageInfo, Inspector

    with faulty() as good, faulty() as broken:
        serve_image(good, "app", "1", {"os": "linux", "architecture": "arm64"})

        class Faulty(Client):
            def head_manifest(self, ref, accept=""):  # type: ignore[no-untyped-def]
                if ref.registry == broken.host:
                    raise KeyError("a bug")
                return super().head_manifest(ref)

            def get_manifest(self, ref, accept=""):  # type: ignore[no-untyped-def]
                if ref.registry == broken.host:
                    raise KeyError("a bug")
                return super().get_manifest(ref)

        inspector = Inspector(Faulty(), Cache(str(tmp_path / "cache")))
        answers = inspector.inspect_all([f"{good.host}/app:1", f"{broken.host}/app:1"])
        assert isinstance(answers[f"{good.host}/app:1"], ImageInfo)
        failed = answers[f"{broken.host}/app:1"]
        assert isinstance(failed, ImageError) and failed.exit_code == 3
        assert str(failed) == f"image {broken.host}/app:1: unexpected KeyError while looking it up: 'a bug'"


# -- bounded time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "headers"),
    [("HTTP/1.1", {"Connection": "close"}), ("HTTP/1.0", {})],
)
def test_an_answer_that_ends_its_connection_cannot_outlast_the_timeout(
    tmp_path: Path, version: str, headers: dict[str, str]
) -> None:
    """http.client closes such a connection before the body is read; the deadline stays on
    the socket the body comes from."""
    with faulty() as registry:
        manifest = manifest_of(config_of({"os": "linux", "architecture": "arm64"}))
        dripping = Answer(
            200,
            manifest,
            {"Content-Type": OCI_MANIFEST, **headers},
            drip=0.5,
            head_first=True,
            version=version,
        )
        registry.on("/v2/app/manifests/1", dripping)
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "2s", f"{registry.host}/app:1")
        assert time.monotonic() - start < 4
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: cannot reach {registry.host}: no complete answer within 2s "
            "(see --request-timeout)\n"
        )
        nodes = json.dumps({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}).encode()
        registry.on(
            "/api/v1/nodes",
            Answer(
                200,
                nodes,
                {"Content-Type": "application/json", **headers},
                drip=0.5,
                head_first=True,
                version=version,
            ),
        )
        kubeconfig = registry.kubeconfig(tmp_path / "kubeconfig", "close")
        start = time.monotonic()
        listed = run(arch_env(tmp_path, KUBECONFIG=str(kubeconfig)), "nodes", "--request-timeout", "2s")
        assert time.monotonic() - start < 4
        assert listed.returncode == 3
        assert listed.stderr == (
            f'error: API server http://{registry.host} (context "close") did not answer within 2s '
            "(--request-timeout); check the server URL in the kubeconfig and the context (--context) and the network, or raise --request-timeout\n"
        )


def test_headers_cut_by_the_deadline_are_no_answer(tmp_path: Path) -> None:
    with faulty() as registry:
        registry.on(
            "/v2/app/manifests/1",
            Answer(200, b"", {"Content-Type": OCI_MANIFEST, "X-Long": "a" * 400}, drip=0.01),
        )
        proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "1s", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: cannot reach {registry.host}: no complete answer within 1s "
            "(see --request-timeout)\n"
        )


def test_a_registry_that_stalls_after_its_first_answer_fails_in_about_the_timeout(tmp_path: Path) -> None:
    """Forty images; the first request is answered, every later one stalls: the requests in
    flight time out together, and those waiting for a slot or a retry are not sent."""
    with faulty() as registry:
        registry.otherwise = [Answer(404), Answer(stall=60)]
        refs = [f"{registry.host}/app{i}:1" for i in range(40)]
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "2s", *refs)
        elapsed = time.monotonic() - start
        assert proc.returncode == 3
        lines = proc.stderr.splitlines()
        assert len(lines) == 40
        stalled = f"cannot reach {registry.host}: no complete answer within 2s (see --request-timeout)"
        assert sum(line.endswith(stalled) for line in lines) == 39
        assert len(registry.seen) <= 1 + 16  # the first, then one slot-full at most
        assert elapsed < 5, elapsed


def test_nested_indexes_labelled_as_manifests_count_against_the_depth(tmp_path: Path) -> None:
    with faulty() as registry:
        leaf = serve_image(registry, "app", "leaf", {"os": "linux", "architecture": "amd64"})
        below = {"mediaType": OCI_MANIFEST, "digest": digest(leaf), "size": len(leaf)}
        for _ in range(50):
            level = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [below]}).encode()
            registry.on(f"/v2/app/manifests/{digest(level)}", Answer(200, level, {"Content-Type": OCI_INDEX}))
            below = {"mediaType": OCI_MANIFEST, "digest": digest(level), "size": len(level)}  # no platform
        registry.on("/v2/app/manifests/1", Answer(200, level, {"Content-Type": OCI_INDEX}))
        proc = run(arch_env(tmp_path), "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == f"error: image {registry.host}/app:1: indexes nested more than 4 deep\n"
        assert len(registry.seen) == 6  # the top and five levels below, the fifth one too many


# -- TLS on loopback -----------------------------------------------------------------------------------


def test_a_loopback_registry_behind_tls(tmp_path: Path) -> None:
    """HTTPS first, as Docker and crane do: a loopback registry that speaks TLS (and closes
    plain-HTTP connections without a word) is reached, its certificate checked."""
    from registry_util import self_signed

    keys = self_signed("127.0.0.1", "127.0.0.1")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(keys.cert_pem)
    with faulty(tls=keys) as registry:
        serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        env = arch_env(tmp_path)
        untrusted = run(env, "inspect", f"{registry.host}/app:1")
        assert untrusted.returncode == 3
        assert untrusted.stderr == (
            f"error: image {registry.host}/app:1: TLS certificate of {registry.host} is not trusted; give its CA "
            f"with --registry-ca-file, or mark the host with --insecure-registry {registry.host}\n"
        )
        for flags in (["--registry-ca-file", str(ca)], ["--insecure-registry", registry.host]):
            proc = run(env, "-v", "inspect", "--refresh", *flags, f"{registry.host}/app:1")
            assert proc.returncode == 0, proc.stderr
            assert f"GET https://{registry.host}/v2/app/manifests/1 200 OK" in proc.stderr
            assert "Warning" not in proc.stderr
    with faulty() as plain:
        serve_image(plain, "app", "1", {"os": "linux", "architecture": "arm64"})
        proc = run(arch_env(tmp_path), "-v", "inspect", f"{plain.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines()[0].startswith(
            f"{plain.host} does not speak TLS: plain HTTP (asked in "
        )
        assert proc.stderr.splitlines()[1].startswith(f"GET http://{plain.host}/v2/app/manifests/1 200 OK")


# -- token services --------------------------------------------------------------------------------------


def test_token_services_that_redirect_are_followed(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as other:
        token = json.dumps({"token": "T0ken"}).encode()
        registry.otherwise = [
            Answer(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{registry.host}/token"'})
        ]
        manifest = serve_image(registry, "app", "1", {"os": "linux", "architecture": "arm64"})
        for path in ("/v2/app/manifests/1", f"/v2/app/manifests/{digest(manifest)}"):
            registry.on(
                path, Answer(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{registry.host}/token"'})
            )
            registry.on(
                path, Answer(200, manifest, {"Content-Type": OCI_MANIFEST}), authorization="Bearer T0ken"
            )
        config = config_of({"os": "linux", "architecture": "arm64"})
        registry.on(f"/v2/app/blobs/{digest(config)}", Answer(200, config), authorization="Bearer T0ken")
        docker = docker_config(tmp_path / "docker", {"auths": {registry.host: {"auth": BASIC[6:]}}})
        env = arch_env(tmp_path, DOCKER_CONFIG=str(docker))
        # Same host: the credentials follow.
        registry.on("/token", Answer(307, b"", {"Location": "/token2"}))
        registry.on("/token2", Answer(200, token))
        same = run(env, "inspect", f"{registry.host}/app:1")
        assert same.returncode == 0, same.stderr
        assert [s.headers.get("Authorization") for s in registry.requests_to("/token2")] == [BASIC]
        # Another host: followed, without them.
        registry.on("/token", Answer(302, b"", {"Location": f"http://{other.host}/issue"}))
        other.on("/issue", Answer(200, token))
        elsewhere = run(env, "inspect", "--refresh", f"{registry.host}/app:1")
        assert elsewhere.returncode == 0, elsewhere.stderr
        assert [s.headers.get("Authorization") for s in other.seen] == [None]
        # A token service that answers something else is named with its port.
        registry.on("/token", Answer(500))
        failed = run(env, "inspect", "--refresh", f"{registry.host}/app:1")
        assert failed.returncode == 3
        assert failed.stderr == (
            f"error: image {registry.host}/app:1: {registry.host}: its token service {registry.host} answered 500\n"
        )


def test_a_dripping_token_service_is_named(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as tokens:
        registry.otherwise = [
            Answer(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/token",service="r"'})
        ]
        tokens.on("/token", Answer(200, b'{"token": "t"}', drip=0.5))
        refs = [f"{registry.host}/app{i}:1" for i in range(3)]
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "2s", *refs)
        assert time.monotonic() - start < 5
        assert proc.returncode == 3
        assert proc.stderr.splitlines() == [
            f"error: image {ref}: {registry.host}: cannot reach its token service {tokens.host}: no complete answer "
            "within 2s (see --request-timeout)"
            for ref in refs
        ]


# -- secrets typed or printed ------------------------------------------------------------------------------


def test_a_credential_helper_s_complaint_is_redacted(tmp_path: Path) -> None:
    with faulty() as registry:
        registry.on("/v2/app/manifests/1", Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'}))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        helper = bin_dir / "docker-credential-secretfail"
        helper.write_text(
            "#!/bin/sh\necho 'error: could not decrypt: password=hunter2-SECRET token "
            "ghp_AbCdEf0123456789SECRET' >&2\nexit 1\n"
        )
        helper.chmod(0o755)
        docker_config(tmp_path / "docker", {"credHelpers": {registry.host: "secretfail"}})
        env = arch_env(tmp_path)
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
        proc = run(env, "inspect", f"{registry.host}/app:1")
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {registry.host}/app:1: credential helper docker-credential-secretfail failed for "
            f"{registry.host}: error: could not decrypt: password=REDACTED token REDACTED\n"
        )


def test_a_password_in_a_reference_is_not_echoed(tmp_path: Path) -> None:
    proc = run(arch_env(tmp_path), "inspect", "user:PASSWORD@registry.example.com/app:1")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: invalid image reference 'REDACTED@registry.example.com/app:1': an image reference holds no user "
        "name or password (log in with docker login)\n"
    )
