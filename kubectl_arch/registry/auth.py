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

Credential helpers run in a process group of their own, ended (with anything they started)
when they take longer than the request timeout or the run is interrupted (Ctrl-C, from
whichever thread: :mod:`..procs`); what they print is read up to
:data:`MAX_HELPER_OUTPUT`. Files and helper answers are read as JSON that can never raise
anything but a one-line error (:mod:`..jsonload`).

The challenge side (``WWW-Authenticate``) is parsed here; the requests themselves are made
by :mod:`.client`, which never sends a credential to a host other than the one it is for.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ..errors import RemoteError
from ..jsonload import JsonError, loads
from ..safetext import printable
from .reference import DOCKER_HUB, DOCKER_HUB_CREDENTIAL_KEY

HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
HELPER_TIMEOUT = 60.0  # seconds, when the store is not given the request timeout
MAX_HELPER_OUTPUT = 1 << 20  # bytes of a credential helper's answer
MAX_FILE = 16 << 20  # bytes of a credential file
NOT_FOUND_MARKERS = ("credentials not found", "not found in native keychain", "no credentials")


class AuthError(RemoteError):
    """Credentials could not be read or were refused (exit 3); the message is printable."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


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


def sendable(token: str) -> bool:
    """Whether ``token`` can go in an Authorization header as it is (visible ASCII)."""
    return bool(token) and all("!" <= c <= "~" for c in token)


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
    if not sendable(token):
        raise ValueError("token response has a token that cannot be sent in a header")
    lifetime = data.get("expires_in")
    seconds = 60.0
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        seconds = float(min(lifetime, 86400))
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


def _text(value: Any) -> str:
    """A string field of a credential file or helper answer ("" when it is not a string)."""
    return value if isinstance(value, str) else ""


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

    def __init__(self, environ: Mapping[str, str] | None = None, timeout: float = HELPER_TIMEOUT) -> None:
        self.environ = os.environ if environ is None else environ
        self.timeout = timeout  # seconds a credential helper may take
        self._files: list[_File] | None = None
        self._memo: dict[tuple[str, str], Credential | None] = {}
        self._helpers: dict[tuple[str, str], Credential | None] = {}

    def _helper(self, name: str, server: str, where: str) -> Credential | None:
        """A credential helper's answer, asked once per run for each server."""
        key = (name, server)
        if key not in self._helpers:
            self._helpers[key] = run_helper(name, server, where, self.timeout)
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
            from .cache import NotRegular, read_regular

            for path, docker in self._paths():
                try:
                    raw = read_regular(path, MAX_FILE, follow=True)
                except FileNotFoundError:
                    continue
                except NotRegular as exc:
                    raise AuthError(f"{path}: {exc}") from None
                except OSError as exc:
                    raise AuthError(f"{path}: cannot read: {exc.strerror or exc}") from None
                try:
                    data = loads(raw or b"{}")
                except JsonError as exc:
                    raise AuthError(f"{path}: {exc}") from None
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
        username = _text(entry.get("username"))
        password = _text(entry.get("password"))
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            username, password = _decode_auth(entry["auth"], where)
        identity = _text(entry.get("identitytoken"))
        registry_token = _text(entry.get("registrytoken"))
        if not (username or password or identity or registry_token):
            return None
        if registry_token and not sendable(registry_token):
            raise AuthError(f"{where}: 'registrytoken' holds characters that cannot be sent in a header")
        return Credential(username, password, identity, registry_token, where)


def _run_capped(argv: list[str], stdin: bytes, timeout: float) -> tuple[int, bytes, bytes]:
    """Run ``argv`` in a process group of its own: (exit code, stdout, stderr), each output
    read up to MAX_HELPER_OUTPUT. TimeoutError when it runs longer than ``timeout`` seconds,
    OverflowError when it prints more; the whole group is killed then (and on interrupt)."""
    import contextlib
    import selectors
    import signal
    import time

    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    from .. import procs

    procs.started(proc)  # an interrupt in another thread ends it too (procs.stop_all)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    buffers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    try:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        end = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for stream in (proc.stdout, proc.stderr):
                selector.register(stream, selectors.EVENT_READ)
            while selector.get_map():
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                ready = selector.select(min(left, 0.1))
                if not ready and proc.poll() is not None:
                    break  # it has answered; what it left behind holds its pipes open
                for key, _ in ready:
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffers[key.fd] += chunk
                    if len(buffers[key.fd]) > MAX_HELPER_OUTPUT:
                        raise OverflowError
        code = proc.wait(max(0.0, end - time.monotonic()))
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything it started and left running
    except BaseException:  # a timeout, too much output, an interrupt: end the whole group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait()
        raise
    finally:
        procs.finished(proc)
        proc.stdout.close()
        proc.stderr.close()
    return code, bytes(out), bytes(err)


def run_helper(name: str, server: str, where: str, timeout: float = HELPER_TIMEOUT) -> Credential | None:
    """``docker-credential-<name> get`` for ``server``; None when it has no credentials.
    AuthError when it is missing, fails, takes longer than ``timeout`` seconds (it is then
    ended with everything it started) or answers something else than JSON credentials."""
    program = f"docker-credential-{name}"
    path = shutil.which(program)
    if path is None:
        raise AuthError(f"credential helper {program} (from {where}) is not on PATH")
    try:
        code, stdout, stderr = _run_capped([path, "get"], server.encode(), timeout)
    except TimeoutError:
        raise AuthError(
            f"credential helper {program} (from {where}) did not answer within {timeout:g}s; it was "
            "stopped (see --request-timeout)"
        ) from None
    except OverflowError:
        raise AuthError(
            f"credential helper {program} (from {where}) printed more than {MAX_HELPER_OUTPUT} bytes; "
            "it was stopped"
        ) from None
    except OSError as exc:
        raise AuthError(f"credential helper {program} could not run: {exc.strerror or exc}") from None
    if code != 0:
        message = (stdout or stderr).decode("utf-8", "replace").strip()
        if any(marker in message.lower() for marker in NOT_FOUND_MARKERS):
            return None
        from .. import log

        first = log.redact(message.splitlines()[0][:300]) if message else f"exit code {code}"
        raise AuthError(f"credential helper {program} failed for {server}: {first}")
    try:
        answer = loads(stdout)
        username, secret = _text(answer.get("Username")), _text(answer.get("Secret"))
    except (JsonError, AttributeError):
        raise AuthError(
            f"credential helper {program} answered something other than JSON credentials"
        ) from None
    if not secret:
        return None
    source = f"{program} ({where})"
    if username == "<token>":
        return Credential(identity_token=secret, source=source)
    return Credential(username, secret, source=source)
