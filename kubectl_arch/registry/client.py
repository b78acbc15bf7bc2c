"""An OCI distribution client: one ``requests`` session per run, for reading and writing.

Transport: HTTPS, verified against the system trust store or a CA bundle. Loopback hosts
(:func:`.reference.is_loopback`) and hosts named insecure are tried in HTTPS first and spoken
to in plain HTTP when they do not speak TLS (their answer to the TLS handshake is not TLS, or
they close the connection), as Docker and crane do: a plain-HTTP local registry costs one
failed handshake per run (a couple of milliseconds), a local registry behind TLS just works.
Certificates are checked for loopback hosts too (against the CA bundle), not for insecure
ones. Proxies come from the environment as Go programs read it (:mod:`.proxy`; loopback hosts
are never proxied); a proxy that refuses (407) or fails is named, with its status.

Time: ``Options.timeout`` bounds each whole request (connecting, the headers and the body;
:mod:`..deadline`), except bulk blob transfers, whose every read is bounded instead.
Connection errors, 429 and 5xx answers are retried with exponential backoff, honouring
``Retry-After``; a request that timed out is not retried (as Go's client does not), so
``--request-timeout`` bounds a request at about the timeout; 401, 403 and 404 are not
retried, and the error says which with a hint. Inside :meth:`Client.budget` (one image's
look-up), retries and their waits also end by ``Options.deadline``. A host that could not be
reached (after its retries) is not tried again in the same run: every later request to it,
including those already waiting for a slot of the host or for a retry, fails at once with
the same error, so an unresponsive registry costs one request's time, not one per image.

Authentication answers the registry's ``WWW-Authenticate`` challenge: Basic with the stored
credentials of the repository (credentials are chosen per repository: auth.json keys may
name a namespace), or Bearer with a token from the named realm (anonymous, with
credentials, or with an identity token through the OAuth2 refresh-token grant); a stored
``registrytoken`` is sent as ``Bearer`` as it is. A host's first request goes alone, so that
the challenge is learnt once; tokens for the repositories a run will read are then asked
for together (a scope whose token was refused is asked for alone from then on). The
challenge is the host's, but whether a repository needs credentials is that repository's own
answer: registries serve some repositories anonymously and refuse others (Nexus and
Artifactory anonymous access, Harbor public projects, per-repository htpasswd rules), so a
repository without stored credentials is asked anonymously under Basic, and one whose token
cannot be had (the token service refuses or fails its scope) is asked without one; only its
own 401 makes the missing credentials, or the token service's refusal, its error.

The registry's credentials (and its tokens) are only ever sent to the registry's own host
(the host of the reference, whatever URL a request goes to: an upload ``Location`` on
another host is another host): a redirect to another host (blob storage) is
followed without them, and a challenge from that other host is answered anonymously at most,
never learnt as the registry's. Token services are followed through their redirects as Go's
client follows them, the registry's credentials going only to the realm's own host, and
never in plain HTTP to a host that is not loopback.

Content read by digest is checked against the digest; manifests read by tag get their
digest from their bytes, with the algorithm the registry's ``Docker-Content-Digest`` names
(sha256 or sha512; a digest that disagrees, or another algorithm, is an error).

Errors are one line, with text from the server escaped (:mod:`..safetext`) and secrets
(user info of URLs, tokens) left out.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

from .. import __version__, deadline, log
from ..errors import InputError, RemoteError
from ..safetext import clip, printable
from . import auth, index
from .proxy import Proxy, ProxyConfigError, for_url
from .reference import (
    DIGEST_LENGTHS,
    Reference,
    ReferenceError,
    host_without_port,
    is_loopback,
    validate_digest,
)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# HEAD that a registry does not support: answered with GET, as crane and containerd do
# (Nexus answers 404 to HEAD for what GET finds).
HEAD_UNSUPPORTED = frozenset({400, 404, 405, 501})
PLAIN_HTTP_MARKERS = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure")
# What a TLS handshake with a server that does not speak TLS ends with: its plain-HTTP answer,
# or the connection closed.
NOT_TLS_MARKERS = (
    *PLAIN_HTTP_MARKERS,
    "EOF occurred in violation of protocol",
    "UNEXPECTED_EOF",
    "unexpected eof",
    "Connection reset",
    "RemoteDisconnected",
    "Connection aborted",
    "HTTP_REQUEST",
    "http request",
    "packet length too long",
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TOKEN_BATCH = 64  # repositories per token request
MAX_REDIRECTS = 5
MAX_TOKEN_ANSWER = 1 << 20


class RegistryError(RemoteError):
    """A registry request that failed; ``status`` is the HTTP status (0: no answer). The
    message is printable: text from the server in it has its control characters escaped."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(printable(message))
        self.status = status


class IntegrityError(RegistryError):
    """Content that does not match its digest."""


class SettingError(InputError):
    """A setting of the environment that cannot be used (a proxy variable), exit 2."""


class Options(NamedTuple):
    insecure: frozenset[str] = frozenset()  # hosts (with port when not 443) to treat as insecure
    ca_file: str | None = None
    timeout: float = 10.0  # seconds for one whole request: connecting, headers, body
    retries: int = 2  # retries of 429, 5xx and connection errors (never of a timeout)
    deadline: float = 60.0  # seconds for everything inside budget() (one image's look-up)
    max_retry_after: float = 60.0  # outside a budget, a longer Retry-After fails at once
    backoff: float = 0.25  # first delay; doubles on each retry
    per_host: int = 16  # concurrent requests per host
    environ: Mapping[str, str] | None = None  # for proxy variables; None: os.environ


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    url: str
    credentials: str = ""  # where the credentials that went out with it came from ("": none)
    foreign: bool = False  # answered by another host than the registry (after a redirect)


class Manifest(NamedTuple):
    data: bytes
    media_type: str
    digest: str


class Head(NamedTuple):
    """What a HEAD of a manifest says; ``manifest`` is set when the answer came from a GET
    (the registry does not support HEAD, or did not say the digest)."""

    digest: str
    media_type: str
    size: int
    manifest: Manifest | None = None


def _scope(repository: str, actions: str) -> str:
    return f"repository:{repository}:{actions}"


class _Host:
    """What a run has learnt about one registry host."""

    def __init__(self, name: str, per_host: int) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(per_host)
        self.known = threading.Event()  # set once the challenge (or its absence) is known
        self.probing = False
        self.scheme = ""
        self.verify: bool | str = True
        self.fallback_http = False  # may be spoken to in plain HTTP when it does not speak TLS
        self.confirmed = False  # its scheme has given an answer
        self.probe_tls = False  # loopback: whether it speaks TLS is yet to be asked (_probe_tls)
        self.redirected = False  # reached by a redirect (its query strings are not logged)
        self.challenge: auth.Challenge | None = None
        self.tokens: dict[str, tuple[str, float]] = {}  # scope string (+ realm) -> (token, expiry)
        self.hints: dict[str, str] = {}  # repository -> registry, for batched token requests
        self.refused: set[str] = set()  # scopes whose token was refused (not batched with others')
        self.unreachable: str = ""  # the error that ended this run's attempts to reach it


def _netloc(url: str) -> str:
    """``host[:port]`` of a URL, without user info; ValueError when the URL is malformed
    (an unbalanced ``[``)."""
    parts = urlsplit(url)
    _ = parts.port  # ValueError for a port that is not a number
    return parts.netloc.rpartition("@")[2]


def _shut(sock: Any) -> None:
    import socket

    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _authority(netloc: str, scheme: str = "") -> tuple[str, str]:
    """(host in lower case, port) of ``host[:port]``, the default ports of HTTP and HTTPS
    left out: what says whether two URLs are on the same host."""
    name = host_without_port(netloc).lower()
    port = netloc[len(name) :].removeprefix(":")
    if (port, scheme) in (("443", "https"), ("80", "http"), ("443", ""), ("80", "")):
        port = ""
    return name, port


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _error_detail(body: bytes) -> str:
    """The first ``errors[].code: message`` of a registry error body (escaped, shortened)."""
    from ..jsonload import JsonError, loads

    try:
        errors = loads(body[: 64 * 1024]).get("errors")
        first = errors[0]
        code, message = str(first.get("code") or ""), str(first.get("message") or "")
    except (JsonError, AttributeError, IndexError, KeyError, TypeError):
        return ""
    text = log.redact(f"{code}: {message}" if code and message else code or message)
    return printable(clip(text))


# urllib3's text for a CONNECT the proxy answered with an error.
_TUNNEL_STATUS = re.compile(r"Tunnel connection failed: ([0-9]{3})([^'\"()]*)")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value[:12])
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - time.time())
    except (OverflowError, ValueError, OSError):
        return None


class _Failed(Exception):
    """A request that got no usable answer; ``reason`` says why, ``timed_out`` whether it
    ran out of time."""

    def __init__(
        self, reason: str, timed_out: bool, transient: bool, proxy: Proxy | None, refused: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out
        self.transient = transient
        self.proxy = proxy
        self.refused = refused  # the proxy answered, with an error status (reason: the status)


class _NotTLS(Exception):
    """An HTTPS request to a host that does not speak TLS (and may be spoken to in HTTP)."""


class Client:
    """A registry client for one run. Thread-safe: look-ups may run concurrently."""

    def __init__(
        self, options: Options | None = None, credentials: auth.CredentialStore | None = None
    ) -> None:
        self.options = options or Options()
        self.credentials = credentials or auth.CredentialStore()
        self._session: Any = None
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self.requests = 0  # requests sent, for -v summaries and tests
        environ = os.environ if self.options.environ is None else self.options.environ
        self._environ = environ
        bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or ""
        self._default_verify: bool | str = self.options.ca_file or bundle or True

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import requests
                import urllib3
                from requests.adapters import HTTPAdapter

                # --insecure-registry is the user's choice, said once, not a warning per request.
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

                class Adapter(HTTPAdapter):
                    """Every pool of the session bounds whole requests (see ..deadline)."""

                    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                        super().init_poolmanager(*args, **kwargs)
                        deadline.install(self.poolmanager, None)

                    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
                        return deadline.install(super().proxy_manager_for(proxy, **kwargs), None)

                session = requests.Session()
                session.trust_env = False  # proxies as Go reads them (.proxy); never ~/.netrc
                adapter = Adapter(pool_connections=16, pool_maxsize=max(self.options.per_host, 1) * 2)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = f"kubectl-arch/{__version__}"
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def host(self, name: str) -> _Host:
        with self._lock:
            found = self._hosts.get(name)
            if found is None:
                found = self._hosts[name] = _Host(name, self.options.per_host)
                insecure = name in self.options.insecure or host_without_port(name) in self.options.insecure
                found.scheme = "https"
                found.verify = False if insecure else self._default_verify
                found.fallback_http = insecure
                found.probe_tls = is_loopback(name)
            return found

    def hint(self, ref: Reference) -> None:
        """Say that ``ref`` will be read this run, so its token can be asked for with others'."""
        host = self.host(ref.api_host)
        with host.lock:
            host.hints.setdefault(ref.repository, ref.registry)

    @contextmanager
    def budget(self) -> Iterator[None]:
        """Everything the calling thread asks inside ends within ``Options.deadline`` (or the
        time a request and its retry may take, when that is longer): its requests, their
        retries and the waits between them."""
        options = self.options
        with deadline.limit(max(options.deadline, options.timeout * 2)):
            yield

    def _send_once(
        self, host: _Host, method: str, url: str, headers: Mapping[str, str], data: Any, proxy: Proxy | None
    ) -> Any:
        start = time.perf_counter()
        verify = host.verify
        limit = deadline.remaining(self.options.timeout)
        proxies = {"http": proxy.url, "https": proxy.url} if proxy is not None else {}
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers),
                data=data,
                timeout=(limit, limit),
                allow_redirects=False,
                verify=verify,
                stream=True,
                proxies=proxies,
                auth=lambda r: r,  # never let requests add credentials of its own
            )
        except Exception as exc:
            log.request(method, url, type(exc).__name__, time.perf_counter() - start, host.redirected)
            raise
        finally:
            with self._lock:
                self.requests += 1
        log.request(
            method,
            url,
            f"{response.status_code} {response.reason or ''}".strip(),
            time.perf_counter() - start,
            host.redirected,
        )
        return response

    def _attempt(
        self, host: _Host, method: str, url: str, headers: Mapping[str, str], data: Any, limit: int
    ) -> tuple[Any, bytes]:
        """One request and its body within the request timeout (bulk transfers: each read
        within it); _Failed when no answer came."""
        import requests

        bulk = limit > index.MAX_CONFIG or (
            isinstance(data, bytes | bytearray) and len(data) > index.MAX_CONFIG
        )
        try:
            proxy = for_url(url, self._environ)
        except ProxyConfigError as exc:
            raise SettingError(str(exc)) from None
        with deadline.limit(None if bulk else self.options.timeout):
            before = deadline.mark()
            try:
                response = self._send_once(host, method, url, headers, data, proxy)
                body = self._read(response, limit, url)
                if deadline.expired_since(before):
                    # Cut by the deadline where what was read still parses: not an answer.
                    raise _Failed(self._timeout_message(), True, True, proxy)
                if proxy is not None and response.status_code == 407:
                    raise _Failed(
                        printable(f"407 {response.reason or 'Proxy Authentication Required'}"[:120]),
                        False,
                        False,
                        proxy,
                        refused=True,
                    )
                return response, body
            except requests.exceptions.SSLError as exc:
                if deadline.expired_since(before):
                    raise _Failed(self._timeout_message(), True, True, proxy) from None
                if self._not_tls(host, url, exc):
                    raise _NotTLS() from None
                raise
            except (requests.RequestException, OSError) as exc:
                if isinstance(exc, requests.Timeout) or deadline.expired_since(before):
                    raise _Failed(self._timeout_message(), True, True, proxy) from None
                if self._not_tls(host, url, exc):
                    raise _NotTLS() from None
                if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
                    raise _Failed("invalid URL", False, False, None) from None
                is_proxy = proxy is not None and isinstance(exc, requests.exceptions.ProxyError)
                status = _TUNNEL_STATUS.search(str(exc)) if is_proxy else None
                if status is not None:  # the proxy answered CONNECT with an error
                    said = printable(f"{status[1]} {status[2].strip()}".strip()[:120])
                    transient = status[1] in ("500", "502", "503", "504")
                    raise _Failed(said, False, transient, proxy, refused=True) from None
                reason = self._connection_message(exc)
                raise _Failed(reason, False, self._transient(exc), proxy if is_proxy else None) from None
            except (ValueError, LookupError) as exc:  # what a malformed answer makes http.client raise
                raise _Failed(f"malformed answer ({type(exc).__name__})", False, False, None) from None

    def _timeout_message(self) -> str:
        return f"no complete answer within {self.options.timeout:g}s (see --request-timeout)"

    def _unreachable(self, host: _Host, failure: _Failed) -> RegistryError:
        if failure.proxy is not None and failure.refused:
            proxy, variable = log.redact_url(failure.proxy.url), failure.proxy.variable
            hint = (
                f"give the proxy's user and password in ${variable} (http://USER:PASSWORD@HOST:PORT)"
                if failure.reason.startswith("407")
                else "check the proxy"
            )
            message = (
                f"proxy {proxy} (from ${variable}) answered {failure.reason} when asked for {host.name}; "
                f"{hint}, or add {host_without_port(host.name)} to NO_PROXY"
            )
        elif failure.proxy is not None:
            message = (
                f"cannot reach proxy {log.redact_url(failure.proxy.url)} (from ${failure.proxy.variable}) "
                f"for {host.name}: {failure.reason}; check the proxy, or add {host_without_port(host.name)} "
                "to NO_PROXY"
            )
        else:
            message = f"cannot reach {host.name}: {failure.reason}"
        host.unreachable = host.unreachable or message
        return RegistryError(message)

    def _wait(self, host: _Host, seconds: float, why: str, method: str, url: str) -> bool:
        """Sleep ``seconds`` before a retry unless that would end after the budget's deadline."""
        left = deadline.remaining(float("inf"))
        if seconds >= left:
            return False
        log.debug(f"{method} {log.redact_url(url)}: {why}; retrying in {seconds:.1f} s")
        time.sleep(seconds)
        return True

    def _transport(
        self, host: _Host, method: str, url: str, headers: Mapping[str, str], data: Any, limit: int
    ) -> Response:
        """One request with retries; redirects are returned, not followed. The host's state
        is looked at again before every attempt: once it is known to be unreachable, nothing
        more is sent to it (requests that were waiting for a slot or a retry included)."""
        import requests

        attempt = 0
        while True:
            if host.unreachable:
                raise RegistryError(host.unreachable)
            try:
                with host.slots:
                    if host.unreachable:
                        raise RegistryError(host.unreachable)
                    if url.startswith("https://") and host.scheme == "http" and _netloc(url) == host.name:
                        url = "http://" + url[len("https://") :]  # learnt meanwhile: no TLS there
                    response, body = self._attempt(host, method, url, headers, data, limit)
            except _NotTLS:
                # A loopback or insecure host that does not speak TLS: plain HTTP from now on.
                log.debug(f"{host.name} does not speak TLS: plain HTTP from now on")
                host.scheme = "http"
                url = "http://" + url[len("https://") :]
                continue
            except requests.exceptions.SSLError as exc:
                raise RegistryError(self._tls_message(host, exc)) from None
            except _Failed as failure:
                retry = failure.transient and not failure.timed_out and attempt < self.options.retries
                if not retry or not self._wait(host, self._backoff(attempt), failure.reason, method, url):
                    raise self._unreachable(host, failure) from None
                attempt += 1
                continue
            host.confirmed = True
            status = response.status_code
            lowered = {k.lower(): v for k, v in response.headers.items()}
            if status in RETRY_STATUS and attempt < self.options.retries:
                wait = _retry_after(lowered.get("retry-after"))
                delay = max(wait or 0.0, self._backoff(attempt))
                too_long = wait is not None and wait > self.options.max_retry_after
                if too_long or not self._wait(host, delay, str(status), method, url):
                    if wait is not None:
                        raise RegistryError(
                            f"{host.name} asks to retry after {wait:.0f} s ({status}); try again later",
                            status,
                        )
                    return Response(status, lowered, body, url)
                attempt += 1
                continue
            return Response(status, lowered, body, url)

    @staticmethod
    def _not_tls(host: _Host, url: str, exc: Exception) -> bool:
        """Whether a failed HTTPS request says that ``host`` (loopback or insecure, never
        heard from in HTTPS) does not speak TLS: its answer to the handshake is not TLS, or it
        closed the connection. A certificate it presents means it does speak TLS."""
        if not (host.fallback_http and not host.confirmed and url.startswith("https://")):
            return False
        text = repr(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return False
        return any(marker in text for marker in NOT_TLS_MARKERS)

    def _backoff(self, attempt: int) -> float:
        base = self.options.backoff * (2**attempt)
        return min(base, 8.0) * (0.75 + random.random() / 2)

    @staticmethod
    def _read(response: Any, limit: int, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise RegistryError(
                        f"{log.redact_url(url)}: answer larger than {limit} bytes; refusing it"
                    )
        finally:
            response.close()
        return b"".join(chunks)

    @staticmethod
    def _transient(exc: Exception) -> bool:
        text = repr(exc)
        return not any(
            marker in text
            for marker in (
                "NameResolutionError",
                "Name or service not known",
                "nodename nor servname",
                "InvalidURL",
            )
        )

    @staticmethod
    def _connection_message(exc: Exception) -> str:
        text = str(exc)
        for marker, message in (
            ("Connection refused", "connection refused"),
            ("Name or service not known", "unknown host"),
            ("nodename nor servname", "unknown host"),
            ("Temporary failure in name resolution", "host name cannot be resolved (no network?)"),
            ("NameResolutionError", "host name cannot be resolved"),
            ("RemoteDisconnected", "the server closed the connection"),
            ("Connection reset", "connection reset"),
            ("IncompleteRead", "the server closed the connection in the middle of its answer"),
            ("InvalidChunkLength", "the server sent a malformed answer"),
            ("BadStatusLine", "the server sent a malformed answer"),
            ("LineTooLong", "the server sent a malformed answer"),
            ("got more than", "the server sent a malformed answer"),
        ):
            if marker in text:
                return message
        return printable(log.redact(text.split("(Caused by ")[-1].rstrip(")"))[:200])

    def _tls_message(self, host: _Host, exc: Exception) -> str:
        text = str(exc)
        if any(marker in text for marker in PLAIN_HTTP_MARKERS):
            return (
                f"{host.name} does not speak TLS (it answered in plain HTTP); if it is a plain-HTTP "
                f"registry, reach it with --insecure-registry {host.name}"
            )
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return (
                f"TLS certificate of {host.name} is not trusted; give its CA with --registry-ca-file, "
                f"or mark the host with --insecure-registry {host.name}"
            )
        return f"TLS error talking to {host.name}: {log.redact(text)[:200]}"

    # -- authentication -----------------------------------------------------------------------
    def _credential(self, registry: str, repository: str) -> auth.Credential | None:
        return self.credentials.get(registry, repository)

    def _fetch_token(
        self,
        host: _Host,
        challenge: auth.Challenge,
        registry: str,
        scopes: Sequence[str],
        credential: auth.Credential | None,
    ) -> tuple[str, float]:
        realm = challenge.realm
        try:
            parts = urlsplit(realm)
            service = _netloc(realm)
        except ValueError:
            parts, service = None, ""
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or "@" in parts.netloc
        ):
            raise auth.AuthError(f"{host.name} named an invalid token realm {log.redact_url(realm)[:200]!r}")
        params: list[tuple[str, str]] = []
        if challenge.service:
            params.append(("service", challenge.service))
        params.extend(("scope", s) for s in scopes)
        headers: dict[str, str] = {}
        data = None
        method = "GET"
        if credential is not None and credential.identity_token:
            method = "POST"
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", credential.identity_token),
                ("client_id", "kubectl-arch"),
                *params,
            ]
            data = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            url = realm
        else:
            if credential is not None and (credential.username or credential.password):
                headers["Authorization"] = auth.basic_header(credential)
                params.append(("account", credential.username))
            url = realm + ("&" if "?" in realm else "?") + urlencode(params)
        response = self._token_request(host, service, method, url, headers, data, credential)
        if response.status in (401, 403):
            who = f"with credentials from {credential.source}" if credential else "anonymously"
            detail = _error_detail(response.body)
            raise auth.AuthError(
                f"{host.name}: the token service {service} refused access {who} ({response.status}"
                f"{': ' + detail if detail else ''}); check the credentials (docker login {registry})"
            )
        if response.status != 200:
            where = _netloc(response.url)
            raise RegistryError(
                f"{host.name}: its token service {where} answered {response.status}"
                + ("" if where == service else f" (redirected from {service})"),
                response.status,
            )
        from ..jsonload import JsonError, loads

        try:
            return auth.token_from_response(loads(response.body))
        except (JsonError, ValueError) as exc:
            raise RegistryError(f"{host.name}: its token service {service}: {exc}") from None

    def _token_request(
        self,
        host: _Host,
        service: str,
        method: str,
        url: str,
        headers: dict[str, str],
        data: str | None,
        credential: auth.Credential | None,
    ) -> Response:
        """A token request to ``url`` (on host ``service``), its redirects followed as Go's
        client follows them: the Authorization header only to the realm's own host, a POST
        turned into a GET on 301, 302 and 303, and no credential ever in plain HTTP to a host
        that is not loopback. A refresh token (in a POST's body) is not sent to another host."""
        origin = _authority(service)
        for _ in range(MAX_REDIRECTS + 1):
            netloc = _netloc(url)
            scheme = urlsplit(url).scheme
            same = _authority(netloc, scheme) == origin
            if not same:
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
                if data is not None and credential is not None and credential.identity_token:
                    raise auth.AuthError(
                        f"{host.name}: its token service {service} redirected the refresh-token request "
                        f"to another host ({netloc}); the token is not sent there"
                    )
            secret = "Authorization" in headers or (credential is not None and data is not None)
            if secret and scheme == "http" and not is_loopback(netloc):
                raise auth.AuthError(
                    f"{host.name} asks for credentials to be sent in plain HTTP to {netloc}; refusing"
                )
            try:
                response = self._transport(self.host(netloc), method, url, headers, data, MAX_TOKEN_ANSWER)
            except RegistryError as exc:
                text = str(exc)
                prefix = f"cannot reach {netloc}: "
                reason = text[len(prefix) :] if text.startswith(prefix) else text
                raise RegistryError(
                    f"{host.name}: cannot reach its token service {netloc}: {reason}"
                    if text.startswith(prefix)
                    else f"{host.name}: its token service {netloc}: {reason}",
                    exc.status,
                ) from None
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return response
            try:
                url = urljoin(url, location)
                _netloc(url)
            except ValueError:
                raise RegistryError(
                    f"{host.name}: its token service {netloc} redirected to an invalid URL"
                ) from None
            if urlsplit(url).scheme not in ("http", "https"):
                raise RegistryError(
                    f"{host.name}: its token service {netloc} redirected to a URL that is not HTTP(S)"
                )
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, data = "GET", None
                headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        raise RegistryError(f"{host.name}: its token service {service} redirected too many times")

    def _bearer(self, host: _Host, registry: str, repository: str, scopes: Sequence[str], fresh: bool) -> str:
        challenge = host.challenge
        assert challenge is not None
        key = " ".join(scopes)
        now = time.monotonic()
        with host.lock:
            cached = host.tokens.get(key)
            if cached is not None and cached[1] > now and not fresh:
                return cached[0]
            credential = self._credential(registry, repository)
            batch = list(scopes)
            pull_only = len(scopes) == 1 and scopes[0] == _scope(repository, "pull")
            if pull_only and not fresh:
                for other, other_registry in host.hints.items():
                    if len(batch) >= TOKEN_BATCH:
                        break
                    scope = _scope(other, "pull")
                    if (
                        scope in batch
                        or scope in host.refused
                        or (scope in host.tokens and host.tokens[scope][1] > now)
                    ):
                        continue
                    if self._credential(other_registry, other) == credential:
                        batch.append(scope)
            try:
                token, lifetime = self._fetch_token(host, challenge, registry, batch, credential)
            except (RegistryError, auth.AuthError):
                if len(batch) == len(scopes):
                    host.refused.update(scopes)  # never asked for again with other repositories'
                    raise
                # Some token services refuse a request when any scope is refused: alone, then.
                batch = list(scopes)
                try:
                    token, lifetime = self._fetch_token(host, challenge, registry, batch, credential)
                except (RegistryError, auth.AuthError):
                    host.refused.update(scopes)
                    raise
            expiry = now + max(lifetime - 10.0, 1.0)
            if len(batch) == len(scopes):
                host.tokens[key] = (token, expiry)
            else:
                for scope in batch:
                    host.tokens[scope] = (token, expiry)
            return token

    def _authorization(
        self, host: _Host, registry: str, repository: str, scopes: Sequence[str], fresh: bool = False
    ) -> tuple[str | None, str]:
        """(the Authorization header for a request to ``repository``, where the credentials in
        it came from: "" when none went out)."""
        credential = self._credential(registry, repository)
        if credential is not None and credential.registry_token:
            return "Bearer " + credential.registry_token, credential.source
        challenge = host.challenge
        if challenge is None:
            return None, ""
        if challenge.scheme == "bearer":
            token = self._bearer(host, registry, repository, scopes, fresh)
            return "Bearer " + token, credential.source if credential is not None else ""
        if credential is None or not (credential.username or credential.password):
            # Anonymous: whether this repository needs credentials is its own answer's to say.
            return None, ""
        return auth.basic_header(credential), credential.source

    def _foreign_token(self, target: _Host, challenge: auth.Challenge, origin: _Host) -> str | None:
        """An anonymous token from the realm a redirected-to host names (never with the
        registry's credentials); None when it offers no Bearer challenge."""
        if challenge.scheme != "bearer" or not challenge.realm:
            return None
        scope = challenge.params.get("scope", "")
        key = f"{challenge.realm} {scope}"
        now = time.monotonic()
        with target.lock:
            cached = target.tokens.get(key)
            if cached is not None and cached[1] > now:
                return cached[0]
            token, lifetime = self._fetch_token(target, challenge, origin.name, scope.split(), None)
            target.tokens[key] = (token, now + max(lifetime - 10.0, 1.0))
            return token

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        ref: Reference,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        actions: str = "pull",
        scopes: Sequence[str] | None = None,
        limit: int = index.MAX_MANIFEST,
        url: str | None = None,
    ) -> Response:
        """``method`` on ``/v2/<repository>/<path>`` (or on ``url``, e.g. an upload location),
        authenticated as the host asks, redirects followed without credentials to other hosts."""
        host = self.host(ref.api_host)
        scopes = list(scopes or [_scope(ref.repository, actions)])
        target = url or f"{host.scheme}://{host.name}/v2/{ref.repository}/{path}"
        base_headers = dict(headers or {})
        # The first request to a host goes alone, so its challenge is learnt once.
        probe = False
        if not host.known.is_set():
            with host.lock:
                if not host.probing and not host.known.is_set():
                    host.probing = probe = True
            if not probe:
                host.known.wait(deadline.remaining(self.options.timeout * (self.options.retries + 2)))
        if host.unreachable:
            raise RegistryError(host.unreachable)
        try:
            if probe and host.probe_tls:
                host.probe_tls = False
                self._probe_tls(host)
            response = self._authorized(host, method, target, ref, scopes, base_headers, data, limit)
        finally:
            if probe:
                host.known.set()
        return response

    def _probe_tls(self, host: _Host) -> None:
        """Whether a loopback host speaks TLS, from one bare TLS handshake (Docker and crane try
        HTTPS first and fall back to HTTP): a plain-HTTP server answers it with plain HTTP or
        closes the connection, and is then spoken to in plain HTTP for the rest of the run.
        The handshake checks no certificate, so that a plain-HTTP local registry costs a couple
        of milliseconds and no CA bundle; requests in HTTPS then check the certificate as for
        any host. A host that does not answer in time is unreachable; one that refuses the
        connection is asked again by the request (and, without a port, is plain HTTP's port 80
        host, as Docker falls back)."""
        import socket
        import ssl

        name = host_without_port(host.name)
        port_text = host.name[len(name) :].removeprefix(":")
        address = name.strip("[]")
        seconds = deadline.remaining(self.options.timeout)
        start = time.perf_counter()
        try:
            sock = socket.create_connection((address, int(port_text or 443)), timeout=seconds)
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                host.unreachable = f"cannot reach {host.name}: {self._timeout_message()}"
                raise RegistryError(host.unreachable) from None
            if not port_text:
                host.scheme = "http"
            return
        timer = threading.Timer(max(0.0, seconds - (time.perf_counter() - start)), _shut, (sock,))
        timer.daemon = True
        timer.start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with context.wrap_socket(sock, server_hostname=address):
                speaks = True
        except TimeoutError:
            host.unreachable = f"cannot reach {host.name}: {self._timeout_message()}"
            raise RegistryError(host.unreachable) from None
        except (ssl.SSLError, OSError):
            if not timer.is_alive():  # cut by the deadline
                host.unreachable = f"cannot reach {host.name}: {self._timeout_message()}"
                raise RegistryError(host.unreachable) from None
            speaks = False
        finally:
            timer.cancel()
            sock.close()
        if not speaks:
            host.scheme = "http"
        log.debug(
            f"{host.name} {'speaks TLS' if speaks else 'does not speak TLS: plain HTTP'} "
            f"(asked in {(time.perf_counter() - start) * 1000:.0f} ms)"
        )

    def _authorized(
        self,
        host: _Host,
        method: str,
        target: str,
        ref: Reference,
        scopes: list[str],
        headers: dict[str, str],
        data: Any,
        limit: int,
    ) -> Response:
        self._credential(ref.registry, ref.repository)  # an unreadable credential file is an error
        refused: Exception | None = None
        try:
            authorization, source = self._authorization(host, ref.registry, ref.repository, scopes)
        except (auth.AuthError, RegistryError) as exc:
            # The host's challenge was learnt from another repository's answer: a token refused
            # for this one may not be needed (a repository served anonymously). Its own answer says.
            authorization, source, refused = None, "", exc
        response = self._follow(host, method, target, headers, authorization, data, limit)
        if response.status != 401 or response.foreign:
            return response._replace(credentials=source)
        offered = auth.choose(auth.parse_challenges(response.headers.get("www-authenticate", "")))
        if offered is None:
            return response._replace(credentials=source)
        with host.lock:
            learnt = host.challenge is None or (host.challenge.scheme, host.challenge.realm) != (
                offered.scheme,
                offered.realm,
            )
            host.challenge = offered
        if authorization is None or learnt:
            # This repository asks for credentials (or the challenge is new): answer it.
            if refused is not None and not learnt:
                raise refused
            authorization, source = self._authorization(host, ref.registry, ref.repository, scopes)
            if authorization is None:
                raise auth.AuthError(
                    f"{host.name} requires a user name and password (Basic auth) for {ref.repository} "
                    f"and none is stored; log in with: docker login {ref.registry}"
                )
            response = self._follow(host, method, target, headers, authorization, data, limit)
            if response.status != 401 or response.foreign:
                return response._replace(credentials=source)
        credential = self._credential(ref.registry, ref.repository)
        if offered.scheme == "bearer" and (credential is None or not credential.registry_token):
            # A cached or shared token may have expired or lack this scope: once more with a new
            # token of its own; a second refusal is final.
            token = self._bearer(host, ref.registry, ref.repository, scopes, True)
            response = self._follow(host, method, target, headers, "Bearer " + token, data, limit)
        return response._replace(credentials=source)

    def _follow(
        self,
        host: _Host,
        method: str,
        url: str,
        headers: dict[str, str],
        authorization: str | None,
        data: Any,
        limit: int,
    ) -> Response:
        """``method`` on ``url``, redirects followed. The registry's ``authorization`` goes
        only to the registry's own host (``host``), whatever URL the request starts from (an
        upload ``Location`` may name another host): every other host is foreign."""
        origin = _authority(host.name)
        foreign_authorization: dict[str, str] = {}  # host -> anonymous token of its own
        answered: set[str] = set()
        redirects = 0
        while True:
            send = dict(headers)
            try:
                netloc = _netloc(url)
            except ValueError:
                raise RegistryError(f"{host.name}: a request went to an invalid URL") from None
            url = _without_userinfo(url)  # never sent, never printed
            if _authority(netloc, urlsplit(url).scheme) == origin:
                url = f"{host.scheme}://{host.name}{url.split('://', 1)[1][len(netloc) :]}"
                target = host
                if authorization is not None:
                    send["Authorization"] = authorization
            else:  # another host (blob storage, an upload service): never the registry's credentials
                target = self.host(netloc)
                target.redirected = True
                if netloc in foreign_authorization:
                    send["Authorization"] = foreign_authorization[netloc]
            response = self._transport(target, method, url, send, data, limit)
            if target is not host:
                response = response._replace(foreign=True)
                if response.status == 401 and netloc not in answered:
                    # A challenge of the host redirected to is its own: answered anonymously
                    # at most, and never taken for the registry's.
                    answered.add(netloc)
                    offered = auth.choose(auth.parse_challenges(response.headers.get("www-authenticate", "")))
                    token = self._foreign_token(target, offered, host) if offered is not None else None
                    if token is not None:
                        foreign_authorization[netloc] = "Bearer " + token
                        continue
            location = response.headers.get("location")
            if response.status in REDIRECTS and location:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise RegistryError(f"{host.name}: too many redirects")
                try:
                    url = urljoin(response.url, location)
                    _netloc(url)
                except ValueError:
                    raise RegistryError(
                        f"{_netloc(response.url)} redirected to an invalid URL"
                        + ("" if target is host else f" (where {host.name} redirected)")
                    ) from None
                if urlsplit(url).scheme not in ("http", "https"):
                    raise RegistryError(f"{host.name} redirected to a URL that is not HTTP(S)")
                if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                continue
            return response

    # -- errors -------------------------------------------------------------------------------
    @staticmethod
    def failure(ref: Reference, response: Response, what: str) -> RegistryError:
        """The error for an unexpected answer, with a hint for 401, 403 and 404."""
        status = response.status
        detail = _error_detail(response.body)
        detail = f" ({detail})" if detail else ""
        host = _netloc(response.url) if response.foreign else ref.api_host
        where = f" (where {ref.api_host} redirected {what})" if response.foreign else ""
        if status == 401 and response.foreign:
            message = (
                f"401 Unauthorized from {host}{where}{detail}: it wants credentials, and "
                f"{ref.api_host}'s are never sent to another host; ask the registry's operator"
            )
        elif status == 401 and response.credentials:
            message = (
                f"401 Unauthorized from {host}{detail}: the credentials from {response.credentials} were "
                f"rejected for {ref.name}; check them, or log in again (docker login {ref.registry})"
            )
        elif status == 401:
            message = (
                f"401 Unauthorized from {host}{detail}: authentication required for {ref.name}; "
                f"are you logged in (docker login {ref.registry})?"
            )
        elif status == 403:
            message = (
                f"403 Forbidden from {host}{where}{detail}: access to {ref.name} denied; "
                "do your credentials grant access to this repository?"
            )
        elif status == 404:
            message = (
                f"404 Not Found from {host}{where}{detail}: {what} not found; is the name right? "
                "(a private repository may also answer 404 without credentials)"
            )
        else:
            message = f"{status} from {host}{where}{detail} for {what}"
        return RegistryError(message, status)

    # -- reading ------------------------------------------------------------------------------
    def get_manifest(self, ref: Reference, accept: str = index.ACCEPT) -> Manifest:
        """The manifest ``ref`` names (by digest when it has one), verified: by digest against
        it, by tag against the ``Docker-Content-Digest`` the registry sends (with the algorithm
        it names)."""
        response = self.request(
            "GET", ref, f"manifests/{quote(ref.identifier, safe=':')}", headers={"Accept": accept}
        )
        if response.status != 200:
            raise self.failure(ref, response, f"manifest {ref.identifier}")
        data = response.body
        media_type = index.media_type_of(data, response.headers.get("content-type", ""))
        if ref.digest:
            try:
                index.verify(data, ref.digest, f"manifest {ref.digest} from {ref.api_host}")
            except index.ManifestError as exc:
                raise IntegrityError(str(exc)) from None
            return Manifest(data, media_type, ref.digest)
        claimed = response.headers.get("docker-content-digest", "").strip()
        if not claimed:
            return Manifest(data, media_type, index.digest_of(data))
        algorithm = self._algorithm(ref, claimed)
        digest = index.digest_of(data, algorithm)
        if claimed != digest:
            raise IntegrityError(
                f"manifest {ref.name}:{ref.identifier} from {ref.api_host}: Docker-Content-Digest {claimed} "
                f"does not match the content ({digest})"
            )
        return Manifest(data, media_type, digest)

    @staticmethod
    def _algorithm(ref: Reference, claimed: str) -> str:
        """The algorithm of a digest a registry sent; IntegrityError naming what is wrong."""
        algorithm = claimed.partition(":")[0]
        try:
            validate_digest(claimed)
        except ReferenceError:
            if (
                algorithm
                and algorithm.replace("-", "").replace("_", "").isalnum()
                and algorithm not in DIGEST_LENGTHS
            ):
                raise IntegrityError(
                    f"manifest {ref.name}:{ref.identifier} from {ref.api_host}: digest algorithm "
                    f"{algorithm[:40]!r} is not supported (sha256, sha512); refusing the answer"
                ) from None
            raise IntegrityError(
                f"manifest {ref.name}:{ref.identifier} from {ref.api_host}: malformed "
                f"Docker-Content-Digest {claimed[:100]!r}"
            ) from None
        return algorithm

    def head_manifest(self, ref: Reference, accept: str = index.ACCEPT) -> Head:
        """What ``ref``'s manifest is now: its digest, media type and size from a HEAD; from
        a GET (``Head.manifest`` set) when the registry does not support HEAD (405, 501, or 404
        where GET finds it) or does not say the digest. RegistryError (status 404 when neither
        finds it)."""
        response = self.request(
            "HEAD", ref, f"manifests/{quote(ref.identifier, safe=':')}", headers={"Accept": accept}
        )
        if response.status not in HEAD_UNSUPPORTED and response.status != 200:
            raise self.failure(ref, response, f"manifest {ref.identifier}")
        digest = response.headers.get("docker-content-digest", "").strip()
        if response.status == 200 and digest:
            try:
                validate_digest(digest)
            except ReferenceError:
                digest = ""
        if response.status != 200 or not digest:
            log.debug(f"HEAD of {ref} answered {response.status} without a digest: asking with GET")
            manifest = self.get_manifest(ref, accept)
            return Head(manifest.digest, manifest.media_type, len(manifest.data), manifest)
        size = response.headers.get("content-length", "")
        return Head(
            digest, response.headers.get("content-type", ""), int(size) if size.isdigit() else 0, None
        )

    def get_blob(self, ref: Reference, digest: str, limit: int = index.MAX_CONFIG) -> bytes:
        """A (small) blob, checked against its digest."""
        response = self.request("GET", ref, f"blobs/{digest}", limit=limit)
        if response.status != 200:
            raise self.failure(ref, response, f"blob {digest}")
        try:
            index.verify(response.body, digest, f"blob {digest} from {ref.api_host}")
        except index.ManifestError as exc:
            raise IntegrityError(str(exc)) from None
        return response.body

    def blob_exists(self, ref: Reference, digest: str) -> bool:
        response = self.request("HEAD", ref, f"blobs/{digest}")
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self.failure(ref, response, f"blob {digest}")

    def list_tags(self, ref: Reference, page: int = 1000, max_pages: int = 100) -> list[str]:
        """The tags of ``ref``'s repository (``GET /v2/<name>/tags/list``), in the registry's
        order, read in pages of ``page`` (``n``) following its ``Link: <...>; rel="next"``
        headers (OCI distribution spec, "Listing Tags"), at most ``max_pages`` pages. A next page
        on another host, a Link seen before, or more pages than that end with a RegistryError."""
        import re

        tags: list[str] = []
        url: str | None = None
        seen: set[str] = set()
        for _ in range(max_pages):
            response = self.request("GET", ref, f"tags/list?n={page}", url=url)
            if response.status != 200:
                raise self.failure(ref, response, "tag list")
            tags.extend(self._tag_page(ref, response.body))
            found = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', response.headers.get("link", ""))
            if not found:
                return tags
            url = urljoin(response.url, found[1])
            if _netloc(url) != ref.api_host or urlsplit(url).scheme not in ("http", "https"):
                raise RegistryError(
                    f"{ref.api_host}: the tag list of {ref.repository} continues on another host"
                )
            if url in seen:
                raise RegistryError(
                    f"{ref.api_host}: the tag list of {ref.repository} repeats a page; it would never end"
                )
            seen.add(url)
        longer = f"is longer than {max_pages} pages of {page} tags"
        raise RegistryError(f"{ref.api_host}: the tag list of {ref.repository} {longer}")

    @staticmethod
    def _tag_page(ref: Reference, body: bytes) -> list[str]:
        """The tags of one page of a tag list: ``{"name": <repository>, "tags": [<tag>, ...]}``
        (OCI distribution spec, "Listing Tags"; ``tags`` null or absent: none). Anything else
        (not JSON, ``tags`` not a list of strings) is a RegistryError: a list that cannot be read
        is never taken for a short one. ``name`` is not compared with the repository asked for:
        mirrors and proxies name their upstream's repository, and the tags answer the URL asked."""
        from ..jsonload import JsonError, loads

        unreadable = f"{ref.api_host}: the tag list of {ref.repository} is not a JSON tag list"
        try:
            data = loads(body)
        except JsonError:
            raise RegistryError(unreadable) from None
        if not isinstance(data, dict):
            raise RegistryError(f"{unreadable} (not an object)")
        listed = data.get("tags")
        if listed is None:
            listed = []
        if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
            raise RegistryError(f"{unreadable} ('tags' is not a list of strings)")
        return listed

    # -- writing ------------------------------------------------------------------------------
    def _upload_url(self, ref: Reference, response: Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{ref.api_host}: upload answer without a Location", response.status)
        return urljoin(response.url, location)

    def push_blob(
        self, ref: Reference, data: bytes, *, chunk_size: int | None = None, mount_from: str | None = None
    ) -> str:
        """Upload ``data`` to ``ref``'s repository unless it is there; returns its digest.

        ``mount_from`` names another repository of the same registry holding the blob (a
        cross-repository mount, no upload); ``chunk_size`` uploads in PATCH chunks instead of
        one PUT.
        """
        digest = index.digest_of(data)
        push = "pull,push"
        scopes = [_scope(ref.repository, push)]
        if mount_from:
            scopes.append(_scope(mount_from, "pull"))
            query = urlencode({"mount": digest, "from": mount_from})
            response = self.request("POST", ref, f"blobs/uploads/?{query}", actions=push, scopes=scopes)
            if response.status == 201:
                return digest
        else:
            if self.blob_exists(ref, digest):
                return digest
            response = self.request("POST", ref, "blobs/uploads/", actions=push, scopes=scopes)
        if response.status != 202:
            raise self.failure(ref, response, "blob upload")
        location = self._upload_url(ref, response)
        octets = {"Content-Type": "application/octet-stream"}
        if chunk_size:
            for start in range(0, len(data), chunk_size):
                chunk = data[start : start + chunk_size]
                headers = {**octets, "Content-Range": f"{start}-{start + len(chunk) - 1}"}
                response = self.request(
                    "PATCH", ref, "", headers=headers, data=chunk, url=location, scopes=scopes
                )
                if response.status != 202:
                    raise self.failure(ref, response, "blob upload chunk")
                location = self._upload_url(ref, response)
            body: bytes = b""
        else:
            body = data
        separator = "&" if "?" in location else "?"
        final = f"{location}{separator}{urlencode({'digest': digest})}"
        response = self.request("PUT", ref, "", headers=octets, data=body, url=final, scopes=scopes)
        if response.status != 201:
            raise self.failure(ref, response, "blob upload")
        return digest

    def mount_blob(self, ref: Reference, digest: str, from_repository: str) -> None:
        """Make blob ``digest`` of ``from_repository`` (same registry) exist in ``ref``'s
        repository: a cross-repository mount, or a copy when the registry will not mount."""
        push = "pull,push"
        scopes = [_scope(ref.repository, push), _scope(from_repository, "pull")]
        query = urlencode({"mount": digest, "from": from_repository})
        response = self.request("POST", ref, f"blobs/uploads/?{query}", actions=push, scopes=scopes)
        if response.status == 201:
            return
        if response.status != 202:
            raise self.failure(ref, response, f"blob {digest} mount")
        source = ref._replace(repository=from_repository, tag="", digest="")
        data = self.get_blob(source, digest, limit=1 << 40)
        self.push_blob(ref, data)

    def put_manifest(self, ref: Reference, data: bytes, media_type: str) -> str:
        """PUT a manifest under ``ref``'s tag (or digest); returns its digest."""
        digest = index.digest_of(data)
        target = ref.digest or ref.tag or digest
        response = self.request(
            "PUT",
            ref,
            f"manifests/{target}",
            headers={"Content-Type": media_type},
            data=data,
            actions="pull,push",
        )
        if response.status not in (200, 201):
            raise self.failure(ref, response, f"manifest {target}")
        claimed = response.headers.get("docker-content-digest", "").strip()
        algorithm = claimed.partition(":")[0]
        if claimed and claimed != (
            index.digest_of(data, algorithm) if algorithm in DIGEST_LENGTHS else digest
        ):
            raise IntegrityError(f"{ref.api_host} stored manifest {target} as {claimed}, expected {digest}")
        return digest

    def delete_manifest(self, ref: Reference) -> None:
        """Delete a manifest by digest (and so every tag pointing to it)."""
        if not ref.digest:
            raise ValueError("delete_manifest needs a digest reference")
        response = self.request("DELETE", ref, f"manifests/{ref.digest}", actions="delete")
        if response.status not in (200, 202):
            raise self.failure(ref, response, f"manifest {ref.digest}")

    def delete_tag(self, ref: Reference) -> None:
        """Delete a tag only (OCI distribution 1.1); registries that cannot say so clearly."""
        response = self.request("DELETE", ref, f"manifests/{ref.tag}", actions="delete")
        if response.status in (200, 202):
            return
        if response.status in (400, 405) or b"UNSUPPORTED" in response.body:
            raise RegistryError(
                f"{ref.api_host} does not support deleting tags ({response.status}); delete the manifest "
                "by digest instead",
                response.status,
            )
        raise self.failure(ref, response, f"tag {ref.tag}")


def scopes_for(refs: Iterable[Reference]) -> list[str]:
    return sorted({_scope(r.repository, "pull") for r in refs})
