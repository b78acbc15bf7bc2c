"""Registry faults, from a scripted server: every failure is one clear line and exit 3, and
transient ones are retried (honouring Retry-After) before they are."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from faulty_registry import Answer, faulty
from registry_util import arch_env, docker_config

BIN = Path(sys.executable).parent / "kubectl-arch"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = json.dumps(
    {"os": "linux", "architecture": "arm64", "rootfs": {"type": "layers", "diff_ids": []}}
).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": CONFIG_DIGEST,
            "size": len(CONFIG),
        },
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
PASSWORD = "hunter2-Secret"
TOKEN = "tok.eyJzZWNyZXQiOnRydWV9.sig-TopSecret"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def manifest_answer(body: bytes = MANIFEST, **headers: str) -> Answer:
    return Answer(200, body, {"Content-Type": OCI_MANIFEST, **headers})


def ok_image(server: object, name: str = "app") -> None:
    server.on(f"/v2/{name}/manifests/1", manifest_answer())  # type: ignore[attr-defined]
    server.on(f"/v2/{name}/blobs/{CONFIG_DIGEST}", Answer(200, CONFIG))  # type: ignore[attr-defined]


def test_429_with_retry_after_then_success(tmp_path: Path) -> None:
    with faulty() as server:
        ok_image(server)
        server.on(
            "/v2/app/manifests/1",
            Answer(
                429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', {"Retry-After": "1"}
            ),
            manifest_answer(),
        )
        proc = run(arch_env(tmp_path), "inspect", "-o", "json", f"{server.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        tries = server.requests_to("/v2/app/manifests/1")
        assert len(tries) == 2
        assert tries[1].time - tries[0].time >= 0.95  # waited as asked
        assert json.loads(proc.stdout)[0]["platforms"][0]["architecture"] == "arm64"


def test_retry_after_too_long_fails_at_once(tmp_path: Path) -> None:
    with faulty() as server:
        server.on("/v2/app/manifests/1", Answer(429, b"", {"Retry-After": "3600"}))
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", f"{server.host}/app:1")
        assert time.monotonic() - start < 10
        assert proc.returncode == 3
        assert (
            proc.stderr
            == f"error: image {server.host}/app:1: {server.host} asks to retry after 3600 s (429); try again later\n"
        )


def test_500_then_success(tmp_path: Path) -> None:
    with faulty() as server:
        ok_image(server)
        server.on("/v2/app/manifests/1", Answer(500), Answer(503), manifest_answer())
        proc = run(arch_env(tmp_path), "-v", "inspect", "-o", "json", f"{server.host}/app:1")
        assert proc.returncode == 0, proc.stderr
        assert len(server.requests_to("/v2/app/manifests/1")) == 3
        assert "500 Internal Server Error" in proc.stderr and "retrying in" in proc.stderr


def test_persistent_500_gives_up(tmp_path: Path) -> None:
    with faulty() as server:
        server.on("/v2/app/manifests/1", Answer(500))
        proc = run(arch_env(tmp_path), "inspect", f"{server.host}/app:1")
        assert proc.returncode == 3
        assert len(server.requests_to("/v2/app/manifests/1")) == 3  # 1 + 2 retries
        assert proc.stderr == f"error: image {server.host}/app:1: 500 from {server.host} for manifest 1\n"


def test_401_403_404_are_not_retried(tmp_path: Path) -> None:
    with faulty() as server:
        realm = f"http://{server.host}/token"
        server.on(
            "/v2/locked/manifests/1",
            Answer(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                   {"WWW-Authenticate": f'Bearer realm="{realm}",service="faulty",scope="repository:locked:pull"'}),
        )  # fmt: skip
        server.on("/token", Answer(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode()))
        server.on(
            "/v2/denied/manifests/1",
            Answer(
                403, b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
            ),
        )
        server.on(
            "/v2/missing/manifests/1",
            Answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'),
        )
        env = arch_env(tmp_path)
        host = server.host
        proc = run(env, "-v", "inspect", f"{host}/locked:1", f"{host}/denied:1", f"{host}/missing:1")
        assert proc.returncode == 3
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert errors == [
            f"error: image {host}/locked:1: 401 Unauthorized from {host} (UNAUTHORIZED: authentication required): "
            f"authentication required for {host}/locked; are you logged in (docker login {host})?",
            f"error: image {host}/denied:1: 403 Forbidden from {host} (DENIED: requested access to the resource is "
            f"denied): access to {host}/denied denied; do your credentials grant access to this repository?",
            f"error: image {host}/missing:1: 404 Not Found from {host} (MANIFEST_UNKNOWN: manifest unknown): manifest "
            "1 not found; is the name right? (a private repository may also answer 404 without credentials)",
        ]
        # 401: the challenge answered once, then once more with a token of its own; no retries.
        assert len(server.requests_to("/v2/locked/manifests/1")) == 3
        assert len(server.requests_to("/v2/denied/manifests/1")) == 1
        assert len(server.requests_to("/v2/missing/manifests/1")) == 1
        assert TOKEN not in proc.stderr and "TopSecret" not in proc.stderr


def test_stalled_connection_times_out(tmp_path: Path) -> None:
    with faulty() as server:
        server.on("/v2/app/manifests/1", Answer(stall=6))
        start = time.monotonic()
        proc = run(arch_env(tmp_path), "inspect", "--request-timeout", "500ms", f"{server.host}/app:1")
        elapsed = time.monotonic() - start
        assert proc.returncode == 3
        assert proc.stderr == (
            f"error: image {server.host}/app:1: cannot reach {server.host}: no complete answer within 0.5s "
            "(see --request-timeout)\n"
        )
        assert len(server.requests_to("/v2/app/manifests/1")) == 1  # a timeout is not retried
        assert elapsed < 3


def test_content_that_does_not_match_its_digest(tmp_path: Path) -> None:
    with faulty() as server:
        tampered = MANIFEST.replace(b"arm64", b"amd64") + b" "
        server.on(f"/v2/app/manifests/{MANIFEST_DIGEST}", manifest_answer(tampered))
        env = arch_env(tmp_path)
        proc = run(env, "inspect", f"{server.host}/app@{MANIFEST_DIGEST}")
        assert proc.returncode == 3
        actual = "sha256:" + hashlib.sha256(tampered).hexdigest()
        assert proc.stderr == (
            f"error: image {server.host}/app@{MANIFEST_DIGEST}: manifest {MANIFEST_DIGEST} from {server.host}: "
            f"content does not match its digest (expected {MANIFEST_DIGEST}, got {actual}); refusing content that "
            "does not match its digest\n"
        )
        # By tag: a Docker-Content-Digest that disagrees with the bytes is refused too.
        server.on(
            "/v2/app/manifests/1",
            Answer(200, tampered, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST}),
        )
        by_tag = run(env, "inspect", f"{server.host}/app:1")
        assert by_tag.returncode == 3
        assert "does not match the content" in by_tag.stderr
        # A config blob with other bytes than its digest.
        server.on("/v2/app/manifests/2", manifest_answer())
        server.on(f"/v2/app/blobs/{CONFIG_DIGEST}", Answer(200, CONFIG + b"\n"))
        blob = run(env, "inspect", f"{server.host}/app:2")
        assert blob.returncode == 3
        assert f"blob {CONFIG_DIGEST} from {server.host}: content does not match its digest" in blob.stderr


def test_redirects_to_another_host_carry_no_credentials(tmp_path: Path) -> None:
    with faulty() as registry, faulty() as storage:
        docker = docker_config(
            tmp_path / "docker",
            {"auths": {registry.host: {"auth": base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}}},
        )
        registry.on("/v2/", Answer(200))
        registry.on(
            "/v2/app/manifests/1",
            Answer(401, b"", {"WWW-Authenticate": 'Basic realm="faulty"'}),
            manifest_answer(),
        )
        location = f"http://localhost:{storage.port}/blobs/config?X-Amz-Signature=abc123secret"
        registry.on(f"/v2/app/blobs/{CONFIG_DIGEST}", Answer(307, b"", {"Location": location}))
        storage.on("/blobs/config", Answer(200, CONFIG))
        proc = run(
            arch_env(tmp_path, DOCKER_CONFIG=str(docker)),
            "-v",
            "inspect",
            "-o",
            "json",
            f"{registry.host}/app:1",
        )
        assert proc.returncode == 0, proc.stderr
        (blob_request,) = registry.requests_to(f"/v2/app/blobs/{CONFIG_DIGEST}")
        assert blob_request.headers.get("Authorization", "").startswith("Basic ")
        (stored,) = storage.requests_to("/blobs/config")
        assert "Authorization" not in stored.headers
        # -v shows the requests, never a secret: not the password, not its base64, not the
        # storage URL's signature.
        assert f"GET http://localhost:{storage.port}/blobs/config?REDACTED 200 OK" in proc.stderr
        for secret in (PASSWORD, base64.b64encode(f"alice:{PASSWORD}".encode()).decode(), "abc123secret"):
            assert secret not in proc.stderr + proc.stdout


def test_schema1_is_reported_as_unsupported(tmp_path: Path) -> None:
    with faulty() as server:
        schema1 = json.dumps({"schemaVersion": 1, "name": "app", "tag": "1", "fsLayers": []}).encode()
        server.on(
            "/v2/old/manifests/1",
            Answer(
                200, schema1, {"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"}
            ),
        )
        proc = run(arch_env(tmp_path), "inspect", f"{server.host}/old:1")
        assert proc.returncode == 3
        digest = "sha256:" + hashlib.sha256(schema1).hexdigest()
        assert proc.stderr == (
            f"error: image {server.host}/old:1: manifest {digest} is a Docker schema 1 manifest "
            "(application/vnd.docker.distribution.manifest.v1+prettyjws), which kubectl-arch does not support: it "
            "is deprecated and carries no platform list; push the image again with a current client\n"
        )


def test_refused_token_batches_fall_back_to_one_scope(tmp_path: Path) -> None:
    with faulty() as server:
        challenge = {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token",service="faulty"'}
        token = Answer(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())
        for name in ("a", "b"):
            server.on(f"/v2/{name}/manifests/1", Answer(401, b"", challenge), manifest_answer())
            server.on(f"/v2/{name}/blobs/{CONFIG_DIGEST}", Answer(200, CONFIG))
        server.on("/v2/b/manifests/1", manifest_answer())
        server.on(
            "/token", Answer(401, b'{"errors":[{"code":"DENIED","message":"one scope refused"}]}'), token
        )
        proc = run(arch_env(tmp_path), "inspect", "-o", "json", f"{server.host}/a:1", f"{server.host}/b:1")
        assert proc.returncode == 0, proc.stderr
        # The first token request asks for both repositories, is refused, and each then asks
        # for its own.
        scopes = [s.path.count("scope=") for s in server.requests_to("/token")]
        assert scopes[0] == 2 and scopes[1:] in ([1], [1, 1]), scopes
