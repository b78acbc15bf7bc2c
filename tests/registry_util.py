"""A real OCI registry for the tests: the Debian ``docker-registry`` (CNCF distribution 2.8),
started on 127.0.0.1 with a free port, a storage directory and a config of its own; with
htpasswd (Basic) or token authentication, where the tokens come from :class:`TokenIssuer`,
a small token service whose signing certificate the registry trusts; and helpers that push
test images through kubectl-arch's own client.

Distribution checks a token's signature against ``rootcertbundle``: the token's header
carries the signing certificate (``x5c``), which must chain to a certificate of the bundle;
a self-signed certificate that is itself in the bundle does.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REGISTRY_BIN = "/usr/bin/docker-registry"
USER = "alice"
PASSWORD = "s3cret-Pa55"
# bcrypt of PASSWORD at cost 4 (distribution's htpasswd reads bcrypt only; a low cost keeps
# every authenticated request fast).
PASSWORD_BCRYPT = "$2b$04$0D9/cak28ql.BYc8NxleOu5xzGAh3anifxBI90TwxmRYjs0IxEkDa"
IDENTITY_TOKEN = "refresh-7f3c1d2e9a-identity"
SERVICE = "kubectl-arch-test-registry"
ISSUER = "kubectl-arch-test-issuer"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- keys and certificates ---------------------------------------------------------------------


@dataclass
class KeyPair:
    key: Any
    cert: Any

    @property
    def cert_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    @property
    def key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )

    @property
    def cert_der_b64(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


def self_signed(common_name: str, ip: str | None = None) -> KeyPair:
    """An RSA key and a self-signed CA certificate (with an IP SAN when ``ip`` is given)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return KeyPair(key, builder.sign(key, hashes.SHA256()))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- token service -----------------------------------------------------------------------------


@dataclass
class TokenRequest:
    method: str
    path: str
    scopes: list[str]
    authorization: str | None
    form: dict[str, list[str]]


def default_policy(user: str | None, repository: str, actions: list[str]) -> list[str]:
    """Anyone may pull, except from ``private/...``; only USER may push or delete."""
    if user == USER:
        return actions
    if repository.startswith("private/"):
        return []
    return [a for a in actions if a == "pull"]


class TokenIssuer:
    """A token service (distribution's token spec) on 127.0.0.1: GET with optional Basic
    credentials, POST with the OAuth2 refresh-token or password grants."""

    def __init__(
        self,
        keys: KeyPair,
        policy: Callable[[str | None, str, list[str]], list[str]] = default_policy,
        users: dict[str, str] | None = None,
    ):
        self.keys = keys
        self.policy = policy
        self.users = {USER: PASSWORD, **(users or {})}  # user -> password
        self.requests: list[TokenRequest] = []
        self.port = free_port()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                issuer._answer(self, "GET", query, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                issuer._answer(self, "POST", form, form)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _user(self, handler: BaseHTTPRequestHandler, form: dict[str, list[str]]) -> tuple[str | None, bool]:
        """(user, refused): who the request authenticates as."""
        grant = (form.get("grant_type") or [""])[0]
        if grant == "refresh_token":
            token = (form.get("refresh_token") or [""])[0]
            return (USER, False) if token == IDENTITY_TOKEN else (None, True)
        if grant == "password":
            user, password = (form.get("username") or [""])[0], (form.get("password") or [""])[0]
            return (user, False) if self.users.get(user) == password else (None, True)
        header = handler.headers.get("Authorization")
        if header is None:
            return None, False
        if not header.startswith("Basic "):
            return None, True
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, False) if self.users.get(user) == password else (None, True)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> None:
        scopes = query.get("scope", [])
        self.requests.append(
            TokenRequest(method, handler.path, scopes, handler.headers.get("Authorization"), form)
        )
        user, refused = self._user(handler, form)
        if refused:
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}).encode()
            handler.send_response(401)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = self.policy(user, name, actions.split(",")) if kind == "repository" else []
            access.append({"type": kind, "name": name, "actions": granted})
        token = self.sign(user or "", access)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.keys.cert_der_b64]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.keys.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


# -- the registry ------------------------------------------------------------------------------


@dataclass
class Registry:
    """A running docker-registry; ``host`` is ``127.0.0.1:PORT``."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    tls: KeyPair | None = None
    issuer: TokenIssuer | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.issuer is not None:
            self.issuer.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def access_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the registry logged, in order."""
        out = []
        for line in self.log().splitlines():
            found = re.search(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})', line)
            if found:
                out.append((found[1], found[2], int(found[3])))
        return out


def start_registry(
    directory: Path,
    auth: str | None = None,
    tls: bool = False,
    policy: Callable[[str | None, str, list[str]], list[str]] = default_policy,
    realm: str | None = None,
    users: dict[str, str] | None = None,
) -> Registry:
    """Start docker-registry with ``auth`` None, "htpasswd" or "token"; ``tls`` serves HTTPS
    with a self-signed certificate for 127.0.0.1 (in ``registry.tls``). ``realm`` replaces
    the token service's URL in the registry's challenges (e.g. to reach it through a proxy);
    ``users`` (name -> password) are accepted by the token service besides USER."""
    if not os.access(REGISTRY_BIN, os.X_OK):
        import pytest

        pytest.fail(f"{REGISTRY_BIN} is missing: install the Debian package docker-registry (.ci/run does)")
    directory.mkdir(parents=True, exist_ok=True)
    storage = directory / "storage"
    storage.mkdir(exist_ok=True)
    port = free_port()
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    issuer = None
    keys = None
    if auth == "htpasswd":
        htpasswd = directory / "htpasswd"
        htpasswd.write_text(f"{USER}:{PASSWORD_BCRYPT}\n")
        config["auth"] = {"htpasswd": {"realm": "kubectl-arch-test", "path": str(htpasswd)}}
    elif auth == "token":
        signing = self_signed("kubectl-arch test token signer")
        bundle = directory / "token-ca.pem"
        bundle.write_bytes(signing.cert_pem)
        issuer = TokenIssuer(signing, policy, users)
        config["auth"] = {
            "token": {
                "realm": realm or issuer.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(bundle),
            }
        }
    elif auth is not None:
        raise ValueError(auth)
    if tls:
        keys = self_signed("127.0.0.1", ip="127.0.0.1")
        (directory / "tls.crt").write_bytes(keys.cert_pem)
        (directory / "tls.key").write_bytes(keys.key_pem)
        config["http"]["tls"] = {"certificate": str(directory / "tls.crt"), "key": str(directory / "tls.key")}
    config_path = directory / "config.yml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    log_path = directory / "registry.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - the registry writes it until stopped
    process = subprocess.Popen(
        [REGISTRY_BIN, "serve", str(config_path)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log_file.close()
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        raise RuntimeError(
            f"docker-registry did not start:\n{log_path.read_text(errors='replace')}"
        ) from None
    return Registry(directory, port, process, log_path, keys, issuer)


@contextlib.contextmanager
def running(directory: Path, **kwargs: Any) -> Iterator[Registry]:
    registry = start_registry(directory, **kwargs)
    try:
        yield registry
    finally:
        registry.stop()


# -- test images -------------------------------------------------------------------------------


def client_for(
    registry: Registry | None = None, *, credentials: Any = None, timeout: float = 10.0, **options: Any
) -> Any:
    """kubectl-arch's registry client, with credentials given directly (not from files)."""
    from kubectl_arch.registry import auth
    from kubectl_arch.registry.client import Client, Options

    class Fixed(auth.CredentialStore):
        def get(self, registry: str, repository: str = "") -> auth.Credential | None:
            return credentials

    ca = str(registry.directory / "tls.crt") if registry is not None and registry.tls is not None else None
    return Client(Options(timeout=timeout, ca_file=ca, **options), Fixed({}))


@dataclass
class Pushed:
    reference: str
    digest: str
    media_type: str
    size: int
    data: bytes


def descriptor(pushed: Pushed, platform: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"mediaType": pushed.media_type, "digest": pushed.digest, "size": pushed.size}
    if platform is not None:
        out["platform"] = platform
    out.update(extra)
    return out


def push_image(
    client: Any,
    reference: str,
    platform: dict[str, str],
    *,
    docker: bool = False,
    layers: int = 1,
    chunk_size: int | None = None,
    config_media_type: str | None = None,
) -> Pushed:
    """Push a single-platform image (config + small layers + manifest) to ``reference``;
    the platform is in the config, as in real images."""
    from kubectl_arch.registry.reference import parse

    ref = parse(reference)
    config = {
        "architecture": platform["architecture"],
        "os": platform["os"],
        "rootfs": {"type": "layers", "diff_ids": []},
        "config": {"Cmd": ["/bin/true"]},
    }
    if platform.get("variant"):
        config["variant"] = platform["variant"]
    if platform.get("os.version"):
        config["os.version"] = platform["os.version"]
    layer_descriptors = []
    for i in range(layers):
        layer = f"layer {i} of {reference} {platform}".encode() + secrets.token_bytes(64)
        digest = client.push_blob(ref, layer, chunk_size=chunk_size)
        config["rootfs"]["diff_ids"].append(sha256(layer))  # not real diff ids, fine for a registry
        layer_descriptors.append(
            {"mediaType": DOCKER_LAYER if docker else OCI_LAYER, "digest": digest, "size": len(layer)}
        )
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = client.push_blob(ref, config_bytes)
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": config_media_type or (DOCKER_CONFIG if docker else OCI_CONFIG),
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": layer_descriptors,
    }
    data = json.dumps(manifest, indent=3).encode()
    digest = client.put_manifest(ref, data, media_type)
    return Pushed(reference, digest, media_type, len(data), data)


def push_attestation(client: Any, reference: str) -> Pushed:
    """An attestation manifest as BuildKit writes one (its config is not an image config)."""
    from kubectl_arch.registry.reference import parse

    ref = parse(reference)
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "predicate": {}}).encode()
    layer = client.push_blob(ref, statement)
    config = b'{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'
    config_digest = client.push_blob(ref, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": IN_TOTO, "digest": layer, "size": len(statement)}],
    }
    data = json.dumps(manifest).encode()
    digest = client.put_manifest(ref, data, OCI_MANIFEST)
    return Pushed(reference, digest, OCI_MANIFEST, len(data), data)


def push_index(
    client: Any, reference: str, entries: Sequence[dict[str, Any]], *, docker: bool = False
) -> Pushed:
    from kubectl_arch.registry.reference import parse

    media_type = DOCKER_LIST if docker else OCI_INDEX
    document = {"schemaVersion": 2, "mediaType": media_type, "manifests": list(entries)}
    data = json.dumps(document, indent=2).encode()
    digest = client.put_manifest(parse(reference), data, media_type)
    return Pushed(reference, digest, media_type, len(data), data)


def repository_of(reference: str) -> str:
    """``host/repo:tag`` -> ``host/repo``."""
    name = reference.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if name.rfind(":") > name.rfind("/") else name


def push_multiarch(
    client: Any,
    reference: str,
    platforms: Sequence[dict[str, str]],
    *,
    docker: bool = False,
    attestations: bool = False,
) -> Pushed:
    """Push one image per platform (by digest, untagged) and an index of them under
    ``reference``; with ``attestations``, an attestation manifest per image as BuildKit does."""
    name = repository_of(reference)
    entries = []
    for platform in platforms:
        child = push_image(client, name, platform, docker=docker)
        entries.append(descriptor(child, dict(platform)))
    if attestations:
        for entry in list(entries):
            att = push_attestation(client, name)
            entries.append(
                descriptor(
                    att,
                    {"architecture": "unknown", "os": "unknown"},
                    annotations={
                        "vnd.docker.reference.digest": entry["digest"],
                        "vnd.docker.reference.type": "attestation-manifest",
                    },
                )
            )
    return push_index(client, reference, entries, docker=docker)


def docker_config(directory: Path, config: dict[str, Any]) -> Path:
    """Write a Docker config.json under ``directory`` (for DOCKER_CONFIG)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def basic_auth_entry(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def credential_helper(
    bin_dir: Path, name: str, answers: dict[str, tuple[str, str]], log: Path | None = None
) -> Path:
    """A ``docker-credential-<name>`` executable: ``get`` answers server -> (user, secret)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    table = json.dumps({k: {"Username": u, "Secret": s} for k, (u, s) in answers.items()})
    log_line = f"open({str(log)!r}, 'a').write(server + '\\n')" if log else "pass"
    path.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"TABLE = json.loads({table!r})\n"
        "if sys.argv[1:] != ['get']:\n"
        "    sys.exit('unsupported')\n"
        "server = sys.stdin.read().strip()\n"
        f"{log_line}\n"
        "if server not in TABLE:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
        "answer = dict(TABLE[server], ServerURL=server)\n"
        "print(json.dumps(answer))\n"
    )
    path.chmod(0o755)
    return path


def skopeo_raw(reference: str, *extra: str) -> bytes:
    """``skopeo inspect --raw`` of a plain-HTTP registry reference (host:port/repo:tag)."""
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        import pytest

        pytest.fail("skopeo is missing: install the Debian package skopeo (.ci/run does)")
    proc = subprocess.run(
        [skopeo, "inspect", "--raw", "--tls-verify=false", *extra, f"docker://{reference}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


# -- the populated registry (session fixture) --------------------------------------------------

LINUX_AMD64 = {"os": "linux", "architecture": "amd64"}
LINUX_ARM64 = {"os": "linux", "architecture": "arm64", "variant": "v8"}
LINUX_ARM_V7 = {"os": "linux", "architecture": "arm", "variant": "v7"}
LINUX_ARM_V6 = {"os": "linux", "architecture": "arm", "variant": "v6"}
LINUX_S390X = {"os": "linux", "architecture": "s390x"}
WINDOWS_2019 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5458"}
WINDOWS_2022 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2227"}
WINDOWS_2025 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.26100.2894"}


@dataclass
class Populated:
    """The plain registry and what was pushed to it (name -> Pushed)."""

    registry: Registry
    images: dict[str, Pushed]
    children: dict[str, list[Pushed]]

    def ref(self, name: str) -> str:
        return f"{self.registry.host}/{name}"


def populate(registry: Registry) -> Populated:
    client = client_for(registry)
    host = registry.host
    images: dict[str, Pushed] = {}
    children: dict[str, list[Pushed]] = {}

    def multi(name: str, platforms: list[dict[str, str]], **kwargs: Any) -> None:
        pushed = push_multiarch(client, f"{host}/{name}", platforms, **kwargs)
        images[name] = pushed
        manifests = json.loads(pushed.data)["manifests"]
        children[name] = [m for m in manifests]  # type: ignore[misc]

    multi("library/multi:1", [LINUX_AMD64, LINUX_ARM64, LINUX_ARM_V7], attestations=True)
    multi("org/team/deep/path/app:2.0", [LINUX_ARM_V6, LINUX_ARM_V7, LINUX_ARM64, LINUX_AMD64], docker=True)
    images["single/oci:1"] = push_image(client, f"{host}/single/oci:1", LINUX_ARM64)
    images["single/docker:1"] = push_image(client, f"{host}/single/docker:1", LINUX_AMD64, docker=True)
    multi("win/server:ltsc", [WINDOWS_2019, WINDOWS_2022, LINUX_AMD64])
    # Windows images of one build each, of three, and a single manifest whose config has it.
    multi("win/iis:ltsc2019", [WINDOWS_2019])
    multi("win/iis:ltsc2022", [WINDOWS_2022])
    multi("win/servercore:all", [WINDOWS_2019, WINDOWS_2022, WINDOWS_2025])
    images["win/single:ltsc2019"] = push_image(client, f"{host}/win/single:ltsc2019", WINDOWS_2019)
    # A nested index: an index of (an index of amd64 and arm64) and an s390x image whose
    # entry has no platform (its config says it).
    inner = push_multiarch(client, f"{host}/nested/app", [LINUX_AMD64, LINUX_ARM64])
    s390x = push_image(client, f"{host}/nested/app", LINUX_S390X)
    images["nested/app:inner"] = inner
    images["nested/app:1"] = push_index(
        client, f"{host}/nested/app:1", [descriptor(inner), descriptor(s390x)]
    )
    children["nested/app:1"] = [descriptor(inner), descriptor(s390x)]
    return Populated(registry, images, children)


def arch_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for kubectl-arch with a private cache, config and credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "HTTPS_PROXY", "HTTP_PROXY")
        and k.lower() not in ("https_proxy", "http_proxy")
    }
    import sys

    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        DOCKER_CONFIG=str(tmp_path / "docker"),
    )
    env.update(extra)
    return env
