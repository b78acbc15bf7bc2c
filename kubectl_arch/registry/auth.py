"""Registry credentials and authentication challenges.

Credentials are read, never written, from (first match wins):

* ``$REGISTRY_AUTH_FILE`` (the containers-auth.json format podman, buildah and skopeo use);
* ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): ``credHelpers`` (run
  ``docker-credential-<name> get``), then ``credsStore``, then ``auths`` (base64 ``auth``,
  ``username``/``password``, ``identitytoken``, ``registrytoken``);
* podman's ``$XDG_RUNTIME_DIR/containers/auth.json`` and
  ``$XDG_CONFIG_HOME/containers/auth.json``.

Keys may name a host (``ghcr.io``, ``https://ghcr.io/v1/``) or, in auth.json, a
repository namespace (``quay.io/org``); the most specific key wins. Docker Hub credentials
live under ``https://index.docker.io/v1/`` (also found as ``docker.io``).

The challenge side (``WWW-Authenticate``) is parsed here; the requests themselves are made
by :mod:`.client`, which never sends a credential to a host other than the one it is for.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ..errors import RemoteError
from .reference import DOCKER_HUB, DOCKER_HUB_CREDENTIAL_KEY

HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
HELPER_TIMEOUT = 60.0
NOT_FOUND_MARKERS = ("credentials not found", "not found in native keychain", "no credentials")


class AuthError(RemoteError):
    """Credentials could not be read or were refused (exit 3)."""


class Credential(NamedTuple):
    username: str = ""
    password: str = ""
    identity_token: str = ""  # a refresh token for the OAuth2 grant (docker login --identity-token)
    registry_token: str = ""  # a bearer token to send as it is
    source: str = ""  # where it came from, for messages (never the secret)

    def __repr__(self) -> str:  # never print a secret by accident
        return f"Credential(username={self.username!r}, source={self.source!r})"

    __str__ = __repr__


class Challenge(NamedTuple):
    scheme: str  # "bearer" or "basic" (lower case)
    params: Mapping[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")


def parse_challenges(header: str) -> list[Challenge]:
    """The challenges of a ``WWW-Authenticate`` header (RFC 7235 auth-params)."""
    challenges: list[Challenge] = []
    pos, n = 0, len(header)

    def skip(chars: str) -> None:
        nonlocal pos
        while pos < n and header[pos] in chars:
            pos += 1

    while pos < n:
        skip(" \t,")
        start = pos
        while pos < n and header[pos] not in " \t,=":
            pos += 1
        scheme = header[start:pos]
        if not scheme:
            break
        params: dict[str, str] = {}
        challenges.append(Challenge(scheme.lower(), params))
        while pos < n:
            skip(" \t,")
            start = pos
            while pos < n and header[pos] not in " \t,=":
                pos += 1
            name = header[start:pos]
            skip(" \t")
            if pos >= n or header[pos] != "=":
                pos = start  # the next challenge's scheme
                break
            pos += 1
            skip(" \t")
            if pos < n and header[pos] == '"':
                pos += 1
                value = []
                while pos < n and header[pos] != '"':
                    if header[pos] == "\\" and pos + 1 < n:
                        pos += 1
                    value.append(header[pos])
                    pos += 1
                pos += 1
                params[name.lower()] = "".join(value)
            else:
                start = pos
                while pos < n and header[pos] not in " \t,":
                    pos += 1
                params[name.lower()] = header[start:pos]
        else:
            break
    return challenges


def choose(challenges: list[Challenge]) -> Challenge | None:
    """The challenge to answer: Bearer over Basic; None when neither is offered."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_from_response(data: Any) -> tuple[str, float]:
    """(token, lifetime in seconds) from a token endpoint's JSON answer."""
    if not isinstance(data, dict):
        raise ValueError("token response is not a JSON object")
    token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("token response has no token")
    lifetime = data.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else 60.0
    return token, seconds


# -- credential files ------------------------------------------------------------------------


def _host_of_key(key: str) -> str:
    """``https://host/v1/`` and ``host/v1/`` -> ``host``; namespaced keys are kept whole."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            return key.split("/", 1)[0]
    if key.endswith("/v1/") or key.endswith("/v2/") or key.endswith("/v1") or key.endswith("/v2"):
        return key.rsplit("/v", 1)[0]
    return key.rstrip("/")


def _decode_auth(value: str, where: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise AuthError(f"{where}: 'auth' is not valid base64 of user:password") from None
    username, colon, password = raw.partition(":")
    if not colon:
        raise AuthError(f"{where}: 'auth' does not decode to user:password")
    return username, password


class _File(NamedTuple):
    path: str
    data: Mapping[str, Any]
    docker: bool  # a docker config.json (credHelpers, credsStore apply)


class CredentialStore:
    """Looks credentials up in the usual files; each file is read once, helpers run once per host."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self._files: list[_File] | None = None
        self._memo: dict[tuple[str, str], Credential | None] = {}
        self._helpers: dict[tuple[str, str], Credential | None] = {}

    def _helper(self, name: str, server: str, where: str) -> Credential | None:
        """A credential helper's answer, asked once per run for each server."""
        key = (name, server)
        if key not in self._helpers:
            self._helpers[key] = run_helper(name, server, where)
        return self._helpers[key]

    def _paths(self) -> Iterator[tuple[str, bool]]:
        env = self.environ
        home = env.get("HOME") or os.path.expanduser("~")
        if env.get("REGISTRY_AUTH_FILE"):
            yield env["REGISTRY_AUTH_FILE"], False
        docker_dir = env.get("DOCKER_CONFIG") or os.path.join(home, ".docker")
        yield os.path.join(docker_dir, "config.json"), True
        if env.get("XDG_RUNTIME_DIR"):
            yield os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"), False
        config_home = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        yield os.path.join(config_home, "containers", "auth.json"), False

    def files(self) -> list[_File]:
        if self._files is None:
            self._files = []
            for path, docker in self._paths():
                try:
                    with open(path, "rb") as handle:
                        data = json.loads(handle.read() or b"{}")
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise AuthError(f"{path}: cannot read: {exc.strerror or exc}") from None
                except ValueError as exc:
                    raise AuthError(f"{path}: not valid JSON ({exc})") from None
                if not isinstance(data, dict):
                    raise AuthError(f"{path}: not a JSON object")
                self._files.append(_File(path, data, docker))
        return self._files

    def get(self, registry: str, repository: str = "") -> Credential | None:
        """Credentials for ``registry`` (as a reference names it, e.g. ``docker.io``)."""
        memo_key = (registry, repository)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._lookup(registry, repository)
        return self._memo[memo_key]

    def _lookup(self, registry: str, repository: str) -> Credential | None:
        hosts = HUB_HOSTS if registry == DOCKER_HUB else frozenset({registry})
        server = DOCKER_HUB_CREDENTIAL_KEY if registry == DOCKER_HUB else registry
        for file in self.files():
            if file.docker:
                helpers = file.data.get("credHelpers")
                if isinstance(helpers, dict):
                    for key, helper in helpers.items():
                        if _host_of_key(str(key)) in hosts and isinstance(helper, str) and helper:
                            return self._helper(helper, server, f"{file.path} credHelpers")
                store = file.data.get("credsStore")
                if isinstance(store, str) and store:
                    found = self._helper(store, server, f"{file.path} credsStore")
                    if found is not None:
                        return found
            found = self._from_auths(file, hosts, registry, repository)
            if found is not None:
                return found
        return None

    @staticmethod
    def _from_auths(file: _File, hosts: frozenset[str], registry: str, repository: str) -> Credential | None:
        auths = file.data.get("auths")
        if not isinstance(auths, dict):
            return None
        best: tuple[int, str, Any] | None = None
        full = f"{registry}/{repository}" if repository else registry
        for key, entry in auths.items():
            name = _host_of_key(str(key))
            host, _, namespace = name.partition("/")
            if host not in hosts:
                continue
            if namespace:
                wanted = f"{registry}/{namespace}"
                if not (full == wanted or full.startswith(wanted + "/")):
                    continue
            rank = len(namespace)
            if best is None or rank > best[0]:
                best = (rank, str(key), entry)
        if best is None or not isinstance(best[2], dict):
            return None
        key, entry = best[1], best[2]
        where = f"{file.path} auths[{key!r}]"
        username = str(entry.get("username") or "")
        password = str(entry.get("password") or "")
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            username, password = _decode_auth(entry["auth"], where)
        identity = str(entry.get("identitytoken") or "")
        registry_token = str(entry.get("registrytoken") or "")
        if not (username or password or identity or registry_token):
            return None
        return Credential(username, password, identity, registry_token, where)


def run_helper(name: str, server: str, where: str) -> Credential | None:
    """``docker-credential-<name> get`` for ``server``; None when it has no credentials."""
    program = f"docker-credential-{name}"
    path = shutil.which(program)
    if path is None:
        raise AuthError(f"credential helper {program} (from {where}) is not on PATH")
    try:
        proc = subprocess.run(
            [path, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuthError(f"credential helper {program} did not answer within {HELPER_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise AuthError(f"credential helper {program} could not run: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        message = (proc.stdout or proc.stderr).decode("utf-8", "replace").strip()
        if any(marker in message.lower() for marker in NOT_FOUND_MARKERS):
            return None
        from .. import log

        first = log.redact(message.splitlines()[0]) if message else f"exit code {proc.returncode}"
        raise AuthError(f"credential helper {program} failed for {server}: {first}")
    try:
        answer = json.loads(proc.stdout)
        username, secret = str(answer.get("Username") or ""), str(answer.get("Secret") or "")
    except (ValueError, AttributeError):
        raise AuthError(
            f"credential helper {program} answered something other than JSON credentials"
        ) from None
    if not secret:
        return None
    source = f"{program} ({where})"
    if username == "<token>":
        return Credential(identity_token=secret, source=source)
    return Credential(username, secret, source=source)
