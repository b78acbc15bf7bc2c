"""Authentication against the real registry: htpasswd (Basic) and token auth (tokens from the
test token service the registry trusts), credentials from Docker config, credential
helpers, podman's auth file and identity tokens; TLS with a CA bundle; the write side of
the client. No secret ever reaches the output, even with -v."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_util import (
    IDENTITY_TOKEN,
    LINUX_AMD64,
    LINUX_ARM64,
    PASSWORD,
    USER,
    Registry,
    arch_env,
    basic_auth_entry,
    client_for,
    credential_helper,
    docker_config,
    push_image,
    push_multiarch,
    running,
    sha256,
    start_registry,
)

from kubectl_arch.registry import auth

BIN = Path(sys.executable).parent / "kubectl-arch"
CREDENTIAL = auth.Credential(USER, PASSWORD)
B64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def assert_no_secret(proc: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in (PASSWORD, B64, IDENTITY_TOKEN, *secrets):
        assert secret not in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = start_registry(tmp_path_factory.mktemp("basic"), auth="htpasswd")
    push_image(client_for(registry, credentials=CREDENTIAL), f"{registry.host}/team/app:1", LINUX_ARM64)
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = start_registry(tmp_path_factory.mktemp("token"), auth="token")
    client = client_for(registry, credentials=CREDENTIAL)
    for name in ("public/a:1", "public/b:1", "public/c:1"):
        push_multiarch(client, f"{registry.host}/{name}", [LINUX_AMD64, LINUX_ARM64])
    push_image(client, f"{registry.host}/private/app:1", LINUX_AMD64)
    yield registry
    registry.stop()


# -- Basic (htpasswd) -------------------------------------------------------------------------


def test_basic_without_credentials(basic_registry: Registry, tmp_path: Path) -> None:
    host = basic_registry.host
    proc = run(arch_env(tmp_path), "inspect", f"{host}/team/app:1")
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: image {host}/team/app:1: {host} requires a user name and password (Basic auth) for team/app "
        f"and none is stored; log in with: docker login {host}\n"
    )


def test_basic_with_docker_config_auths(basic_registry: Registry, tmp_path: Path) -> None:
    host = basic_registry.host
    docker_config(tmp_path / "docker", {"auths": {f"https://{host}/v1/": basic_auth_entry()}})
    proc = run(arch_env(tmp_path), "-vv", "inspect", "-o", "json", f"{host}/team/app:1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["platforms"][0]["architecture"] == "arm64"
    assert_no_secret(proc)


def test_a_docker_config_that_is_a_symbolic_link(basic_registry: Registry, tmp_path: Path) -> None:
    """Dotfile managers link ~/.docker/config.json: it is read through the link."""
    host = basic_registry.host
    real = tmp_path / "dotfiles" / "docker.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"auths": {host: basic_auth_entry()}}))
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").symlink_to(real)
    proc = run(arch_env(tmp_path), "inspect", f"{host}/team/app:1")
    assert proc.returncode == 0, proc.stderr
    # A FIFO in its place is an error, not a hang.
    (tmp_path / "docker" / "config.json").unlink()
    os.mkfifo(tmp_path / "docker" / "config.json")
    fifo = run(arch_env(tmp_path), "inspect", f"{host}/team/app:1")
    assert fifo.returncode == 3
    assert fifo.stderr == (
        f"error: image {host}/team/app:1: {tmp_path / 'docker' / 'config.json'}: not a regular file (a FIFO)\n"
    )


def test_basic_wrong_password(basic_registry: Registry, tmp_path: Path) -> None:
    host = basic_registry.host
    docker_config(tmp_path / "docker", {"auths": {host: basic_auth_entry(USER, "wrong-Pa55word")}})
    proc = run(arch_env(tmp_path), "-v", "inspect", f"{host}/team/app:1")
    assert proc.returncode == 3
    # The credentials were sent and refused: not "are you logged in?".
    assert proc.stderr.splitlines()[-1] == (
        f"error: image {host}/team/app:1: 401 Unauthorized from {host} (UNAUTHORIZED: authentication required): "
        f"the credentials from {tmp_path / 'docker' / 'config.json'} auths['{host}'] were rejected for "
        f"{host}/team/app; check them, or log in again (docker login {host})"
    )
    assert_no_secret(proc, "wrong-Pa55word", base64.b64encode(f"{USER}:wrong-Pa55word".encode()).decode())


def test_credential_helpers(basic_registry: Registry, tmp_path: Path) -> None:
    host = basic_registry.host
    bin_dir = tmp_path / "bin"
    log = tmp_path / "helper.log"
    credential_helper(bin_dir, "testhelper", {host: (USER, PASSWORD)}, log)
    env = arch_env(tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    docker_config(tmp_path / "docker", {"credHelpers": {host: "testhelper"}})
    proc = run(env, "-v", "inspect", f"{host}/team/app:1")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == f"{host}\n"  # asked once, for this host
    assert_no_secret(proc)
    # credsStore: the same helper for every registry.
    docker_config(tmp_path / "docker", {"credsStore": "testhelper", "auths": {host: {}}})
    assert run(env, "inspect", f"{host}/team/app:1", "--refresh").returncode == 0
    # A helper that is not installed is named.
    docker_config(tmp_path / "docker", {"credHelpers": {host: "nope"}})
    missing = run(env, "inspect", f"{host}/team/app:1", "--refresh")
    assert missing.returncode == 3
    assert missing.stderr == (
        f"error: image {host}/team/app:1: credential helper docker-credential-nope (from "
        f"{tmp_path / 'docker' / 'config.json'} credHelpers) is not on PATH\n"
    )
    # A helper that fails says why.
    broken = bin_dir / "docker-credential-broken"
    broken.write_text("#!/bin/sh\necho 'error getting credentials - keychain is locked' >&2\nexit 1\n")
    broken.chmod(0o755)
    docker_config(tmp_path / "docker", {"credHelpers": {host: "broken"}})
    failing = run(env, "inspect", f"{host}/team/app:1", "--refresh")
    assert failing.returncode == 3
    assert failing.stderr == (
        f"error: image {host}/team/app:1: credential helper docker-credential-broken failed for {host}: "
        "error getting credentials - keychain is locked\n"
    )
    # A helper without credentials for the host: anonymous, which this registry refuses.
    docker_config(tmp_path / "docker", {"credsStore": "testhelper"})
    credential_helper(bin_dir, "testhelper", {}, log)
    anonymous = run(env, "inspect", f"{host}/team/app:1", "--refresh")
    assert anonymous.returncode == 3
    assert "requires a user name and password" in anonymous.stderr


def test_podman_auth_file(basic_registry: Registry, tmp_path: Path) -> None:
    host = basic_registry.host
    auth_file = tmp_path / "auth.json"
    # A namespaced key is more specific than the host's and wins.
    auth_file.write_text(
        json.dumps({"auths": {host: basic_auth_entry(USER, "wrong"), f"{host}/team": basic_auth_entry()}})
    )
    proc = run(arch_env(tmp_path, REGISTRY_AUTH_FILE=str(auth_file)), "inspect", f"{host}/team/app:1")
    assert proc.returncode == 0, proc.stderr


# -- token auth ---------------------------------------------------------------------------------


def test_token_anonymous_pull_and_batched_scopes(token_registry: Registry, tmp_path: Path) -> None:
    issuer = token_registry.issuer
    assert issuer is not None
    host = token_registry.host
    before = len(issuer.requests)
    logged = len(token_registry.access_log())
    proc = run(arch_env(tmp_path), "-v", "inspect", "-o", "json", *(f"{host}/public/{n}:1" for n in "abc"))
    assert proc.returncode == 0, proc.stderr
    asked = issuer.requests[before:]
    # One token for the three repositories: the first request learnt the challenge.
    assert len(asked) == 1
    assert sorted(asked[0].scopes) == [f"repository:public/{n}:pull" for n in "abc"]
    assert asked[0].authorization is None
    manifests = [r for r in token_registry.access_log()[logged:] if "/manifests/" in r[1]]
    assert [r[2] for r in manifests].count(401) == 1
    tokens = [line for line in proc.stderr.splitlines() if "/token?" in line]
    assert len(tokens) == 1


def test_token_private_repository(token_registry: Registry, tmp_path: Path) -> None:
    host = token_registry.host
    issuer = token_registry.issuer
    assert issuer is not None
    anonymous = run(arch_env(tmp_path), "inspect", f"{host}/private/app:1")
    assert anonymous.returncode == 3
    assert anonymous.stderr == (
        f"error: image {host}/private/app:1: 401 Unauthorized from {host} (UNAUTHORIZED: authentication "
        f"required): authentication required for {host}/private/app; are you logged in (docker login {host})?\n"
    )
    docker_config(tmp_path / "docker", {"auths": {host: basic_auth_entry()}})
    before = len(issuer.requests)
    proc = run(arch_env(tmp_path), "-vv", "inspect", f"{host}/private/app:1")
    assert proc.returncode == 0, proc.stderr
    assert issuer.requests[before].authorization == f"Basic {B64}"
    assert_no_secret(proc)
    docker_config(tmp_path / "docker", {"auths": {host: basic_auth_entry(USER, "nope-Wrong")}})
    refused = run(arch_env(tmp_path), "inspect", "--refresh", f"{host}/private/app:1")
    assert refused.returncode == 3
    assert refused.stderr == (
        f"error: image {host}/private/app:1: {host}: the token service 127.0.0.1:{issuer.port} refused access with "
        "credentials from "
        f"{tmp_path / 'docker' / 'config.json'} auths['{host}'] (401: UNAUTHORIZED: bad credentials); "
        f"check the credentials (docker login {host})\n"
    )


def test_token_identity_token(token_registry: Registry, tmp_path: Path) -> None:
    host = token_registry.host
    issuer = token_registry.issuer
    assert issuer is not None
    docker_config(
        tmp_path / "docker",
        {"auths": {host: {"auth": base64.b64encode(b"alice:").decode(), "identitytoken": IDENTITY_TOKEN}}},
    )
    before = len(issuer.requests)
    proc = run(arch_env(tmp_path), "-vv", "inspect", f"{host}/private/app:1")
    assert proc.returncode == 0, proc.stderr
    (asked,) = issuer.requests[before:]
    assert asked.method == "POST"
    assert asked.form["grant_type"] == ["refresh_token"]
    assert asked.form["refresh_token"] == [IDENTITY_TOKEN]
    assert asked.authorization is None
    assert_no_secret(proc)
    # The same through a credential helper answering "<token>".
    bin_dir = tmp_path / "bin"
    credential_helper(bin_dir, "tok", {host: ("<token>", IDENTITY_TOKEN)})
    docker_config(tmp_path / "docker", {"credHelpers": {host: "tok"}})
    env = arch_env(tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    assert run(env, "inspect", "--refresh", f"{host}/private/app:1").returncode == 0


def test_push_side_with_tokens(token_registry: Registry, tmp_path: Path) -> None:
    """What a build needs: chunked and monolithic uploads, cross-repository mounts, manifest
    PUT and HEAD, tag and manifest deletion."""
    host = token_registry.host
    client = client_for(token_registry, credentials=CREDENTIAL)
    from kubectl_arch.registry.reference import parse

    target = parse(f"{host}/build/out:1")
    data = b"x" * 100_000
    digest = client.push_blob(target, data, chunk_size=30_000)
    assert digest == sha256(data)
    assert client.blob_exists(target, digest)
    assert client.get_blob(target, digest, limit=200_000) == data
    # Mount it into another repository without uploading it again.
    other = parse(f"{host}/build/other:1")
    assert not client.blob_exists(other, digest)
    assert client.push_blob(other, data, mount_from="build/out") == digest
    assert client.blob_exists(other, digest)
    pushed = push_image(client, f"{host}/build/out:1", LINUX_ARM64)
    head = client.head_manifest(target)
    assert head is not None and head[0] == pushed.digest
    with pytest.raises(Exception) as refused:
        client.delete_tag(target)
    assert "does not support deleting tags" in str(refused.value)
    client.delete_manifest(target.with_digest(pushed.digest))
    proc = run(arch_env(tmp_path), "inspect", f"{host}/build/out:1")
    assert proc.returncode == 3 and "404 Not Found" in proc.stderr
    # Anonymous users may not push (the token service grants pull only).
    anonymous = client_for(token_registry)
    with pytest.raises(Exception) as denied:
        anonymous.push_blob(parse(f"{host}/build/anon:1"), b"data")
    assert "401 Unauthorized" in str(denied.value)


# -- TLS --------------------------------------------------------------------------------------


def test_tls_registry_with_a_ca_bundle(tmp_path: Path) -> None:
    with running(tmp_path / "tls", tls=True) as registry:
        push_image(client_for(registry), f"{registry.host}/app:1", LINUX_AMD64)
        env = arch_env(tmp_path)
        untrusted = run(env, "inspect", f"{registry.host}/app:1")
        assert untrusted.returncode == 3
        assert untrusted.stderr == (
            f"error: image {registry.host}/app:1: TLS certificate of {registry.host} is not trusted; give its CA "
            f"with --registry-ca-file, or mark the host with --insecure-registry {registry.host}\n"
        )
        ca = str(registry.directory / "tls.crt")
        trusted = run(env, "-v", "inspect", "--registry-ca-file", ca, f"{registry.host}/app:1")
        assert trusted.returncode == 0, trusted.stderr
        assert f"GET https://{registry.host}/v2/app/manifests/1 200" in trusted.stderr
        insecure = run(
            env, "inspect", "--refresh", "--insecure-registry", registry.host, f"{registry.host}/app:1"
        )
        assert insecure.returncode == 0, insecure.stderr


def test_helper_asked_once_per_registry(token_registry: Registry, tmp_path: Path) -> None:
    host = token_registry.host
    bin_dir, log = tmp_path / "bin", tmp_path / "helper.log"
    credential_helper(bin_dir, "store", {host: (USER, PASSWORD)}, log)
    docker_config(tmp_path / "docker", {"credsStore": "store"})
    env = arch_env(tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    refs = [f"{host}/public/{n}:1" for n in "abc"] + [f"{host}/private/app:1"]
    proc = run(env, "-v", "inspect", "-o", "json", *refs)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == f"{host}\n"
    assert_no_secret(proc)


# -- credentials per repository, registry tokens --------------------------------------------------

ROBOTS = {"robot-orga": "orga-Pa55", "robot-orgb": "orgb-Pa55"}


def robots_policy(user: str | None, repository: str, actions: list[str]) -> list[str]:
    """Each robot may pull its own organisation's repositories only (as Harbor and Quay
    robot accounts); USER may do anything."""
    if user == USER:
        return actions
    organisation = repository.split("/")[0]
    return [a for a in actions if a == "pull"] if user == f"robot-{organisation}" else []


def test_credentials_are_chosen_per_repository(tmp_path: Path) -> None:
    with running(tmp_path / "robots", auth="token", policy=robots_policy, users=ROBOTS) as registry:
        issuer = registry.issuer
        assert issuer is not None
        host = registry.host
        client = client_for(registry, credentials=CREDENTIAL)
        for organisation in ("orga", "orgb"):
            push_image(client, f"{host}/{organisation}/app:1", LINUX_ARM64)
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(
            json.dumps(
                {
                    "auths": {
                        f"{host}/orga": basic_auth_entry("robot-orga", ROBOTS["robot-orga"]),
                        f"{host}/orgb": basic_auth_entry("robot-orgb", ROBOTS["robot-orgb"]),
                    }
                }
            )
        )
        before = len(issuer.requests)
        env = arch_env(tmp_path, REGISTRY_AUTH_FILE=str(auth_file))
        proc = run(env, "-v", "inspect", "-o", "json", f"{host}/orga/app:1", f"{host}/orgb/app:1")
        assert proc.returncode == 0, proc.stderr
        sent = {}
        for asked in issuer.requests[before:]:
            user = base64.b64decode((asked.authorization or "Basic ")[6:]).decode().partition(":")[0]
            for scope in asked.scopes:
                sent.setdefault(scope, set()).add(user)
        # Each organisation's robot, and only for its own organisation.
        assert sent == {
            "repository:orga/app:pull": {"robot-orga"},
            "repository:orgb/app:pull": {"robot-orgb"},
        }
        assert_no_secret(proc, *ROBOTS.values())


def test_basic_credentials_are_chosen_per_repository(tmp_path: Path) -> None:
    from faulty_registry import Answer, faulty

    with faulty() as server:
        host = server.host
        robots = {org: basic_auth_entry(f"robot-{org}", f"{org}-Pa55")["auth"] for org in ("orga", "orgb")}
        challenge = Answer(401, b"", {"WWW-Authenticate": 'Basic realm="robots"'})
        config = json.dumps({"os": "linux", "architecture": "arm64"}).encode()
        config_digest = sha256(config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [],
            }
        ).encode()
        for org, b64 in robots.items():
            for path, body in (
                (f"/v2/{org}/app/manifests/1", manifest),
                (f"/v2/{org}/app/blobs/{config_digest}", config),
            ):
                server.on(path, challenge)
                headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
                server.on(path, Answer(200, body, headers), authorization=f"Basic {b64}")
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(
            json.dumps({"auths": {f"{host}/{org}": {"auth": b64} for org, b64 in robots.items()}})
        )
        env = arch_env(tmp_path, REGISTRY_AUTH_FILE=str(auth_file))
        proc = run(env, "inspect", "-o", "json", f"{host}/orga/app:1", f"{host}/orgb/app:1")
        assert proc.returncode == 0, proc.stderr
        for org, b64 in robots.items():
            sent = {s.headers.get("Authorization") for s in server.seen if s.path.startswith(f"/v2/{org}/")}
            assert sent <= {None, f"Basic {b64}"}, (org, sent)
            assert f"Basic {b64}" in sent


def test_registry_token_is_sent_as_bearer(tmp_path: Path) -> None:
    from faulty_registry import Answer, faulty

    token = "registry-token-Secret-123"
    with faulty() as server:
        host = server.host
        challenge = Answer(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{host}/token",service="x"'})
        config = json.dumps({"os": "linux", "architecture": "s390x"}).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha256(config),
                    "size": len(config),
                },
                "layers": [],
            }
        ).encode()
        for path, body in (("/v2/app/manifests/1", manifest), (f"/v2/app/blobs/{sha256(config)}", config)):
            server.on(path, challenge)
            server.on(
                path,
                Answer(200, body, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}),
                authorization=f"Bearer {token}",
            )
        docker_config(tmp_path / "docker", {"auths": {host: {"registrytoken": token}}})
        proc = run(arch_env(tmp_path), "-vv", "inspect", "-o", "json", f"{host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)[0]["platforms"][0]["architecture"] == "s390x"
        assert server.requests_to("/token") == []  # the token is used as it is
        assert {s.headers.get("Authorization") for s in server.seen} == {f"Bearer {token}"}
        assert_no_secret(proc, token)


def test_tags_are_fresh_by_default(tmp_path: Path) -> None:
    """A tag replaced (skopeo copy --all of a 3-platform index over an amd64-only image) is
    seen at once: tags are asked again on every run."""
    import shutil

    with running(tmp_path / "fresh") as registry:
        host = registry.host
        client = client_for(registry)
        push_image(client, f"{host}/app:1", LINUX_AMD64)
        push_multiarch(
            client, f"{host}/next:1", [LINUX_AMD64, LINUX_ARM64, {"os": "linux", "architecture": "s390x"}]
        )
        env = arch_env(tmp_path)
        first = run(env, "inspect", "-o", "json", f"{host}/app:1")
        assert [p["architecture"] for p in json.loads(first.stdout)[0]["platforms"]] == ["amd64"]
        skopeo = shutil.which("skopeo")
        assert skopeo is not None
        subprocess.run(
            [skopeo, "copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
             f"docker://{host}/next:1", f"docker://{host}/app:1"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        second = run(env, "inspect", "-o", "json", f"{host}/app:1")
        assert second.returncode == 0, second.stderr
        assert [p["architecture"] for p in json.loads(second.stdout)[0]["platforms"]] == [
            "amd64",
            "arm64",
            "s390x",
        ]
        assert second.stderr == ""
        # pin pins from the new answer as well.
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: {host}/app:1\n"
        )
        pinned = run(env, "pin", "-f", str(manifest))
        assert pinned.returncode == 0, pinned.stderr
        assert "- arm64" in pinned.stdout and "- s390x" in pinned.stdout
