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
            assert len(registry.requests_to(f"/v2/{name}/manifests/1")) == 2  # a timeout is retried once
            assert elapsed < 6.5, elapsed


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
            "check the context and the network, or raise --request-timeout\n"
        )
        assert elapsed < 5, elapsed


def test_request_timeouts_too_long_for_a_socket_are_refused(tmp_path: Path) -> None:
    for command in (["inspect", "nginx"], ["nodes"]):
        proc = run(arch_env(tmp_path), *command, "--request-timeout", "100000000000s")
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == "error: --request-timeout: '100000000000s' is too long: at most 24h\n"


def test_an_unresponsive_registry_fails_in_seconds(tmp_path: Path) -> None:
    """Six images on a registry that accepts connections and never answers: one error each
    after one request timeout and its one retry (10 s each by default), not minutes."""
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
        assert len(registry.seen) == 2  # the first request and its retry; the others fail at once
        assert 19 < elapsed < 25, elapsed


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
        client.host(registry.host).scheme = "https"  # as for any host that is not loopback
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
