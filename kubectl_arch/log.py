"""Diagnostics on stderr: ``-v`` logs each remote request (method, URL, status, time), with
every secret redacted, as kubectl's ``-v`` does, and every ``-v`` line escaped
(:func:`..safetext.printable`): a URL or a reason phrase from a server is data, never a
terminal control sequence. Nothing here imports anything heavy.

What counts as a secret (:func:`redact`, :func:`redact_url`): the user info of URLs; query
parameters whose name says credential (``token``, ``secret``, ``sig``, ``auth``, ``key``,
``password``, ``jwt``, ``verify``, ``policy``... as a part of the name, so ``X-Amz-Signature``,
``access-token`` and Docker Hub's CDN ``verify`` all count); ``Bearer``/``Basic`` credentials;
JWTs anywhere, paths included; secret fields of JSON; ``key=value`` and ``key: value`` where
the key names a password, token, secret or API key; and tokens of known shapes (GitHub
``ghp_``..., GitLab ``glpat-``, AWS access key IDs, Slack ``xox?-``, Docker ``dckr_pat_``,
npm ``npm_``, Google ``AIza``)."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .safetext import printable

verbosity = 0
_lock = threading.Lock()  # look-ups run in threads: one whole line at a time
REDACTED = "REDACTED"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth", "x-auth-token"}
)
# The patterns below are strings, compiled on first use (re's own cache): a run that redacts
# nothing (pin on local files) does not pay for compiling them.
# A query parameter whose name says it is a credential (pre-signed URLs of S3, GCS, Azure,
# CloudFront, Docker Hub's CDN; access tokens; passwords).
_SECRET_QUERY = (
    r"(?i)([?&](?:[^=&#\s]*(?:token|secret|sig|passw|pwd|auth|credential|key|jwt|verify|policy|session"
    r"|hmac)[^=&#\s]*|code|hdnts)=)[^&#\s]*"
)
_USERINFO = r"(?i)^([a-z][a-z0-9+.-]*://)[^/@]*@"
_USERINFO_IN_TEXT = r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s?#]*@"
# "Bearer <token68>" or "Basic <token68>", but not an auth challenge (Bearer realm="...").
_SECRET_TEXT = r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]+=*(?![A-Za-z0-9._~+/=-]|\s*\")"
_JWT = r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
# Secret fields of JSON replies and docker config files.
_SECRET_FIELD = (
    r'(?i)("(?:token|access_token|refresh_token|id_token|identitytoken|identity_token|registrytoken'
    r'|password|secret|client_secret|auth)"\s*:\s*")[^"]*"'
)
# key=value and key: value where the key names a secret (a helper's or a builder's message);
# a colon counts only before a space, so that image references (team/secret:v1) stay whole.
_SECRET_PAIR = (
    r"(?i)(?<![\w./-])([\w.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credentials?)(?:\s*=\s*|:\s+))(?![\s\"']|REDACTED\b)[^\s\"',;&]+"
)
# Tokens whose shape gives them away, wherever they appear.
_KNOWN_TOKEN = (
    r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{16,}"
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|dckr_pat_[A-Za-z0-9_-]{16,}|npm_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_-]{30,})"
)

F = TypeVar("F", bound=Callable[..., Any])


def set_verbosity(level: int) -> None:
    global verbosity
    verbosity = max(verbosity, level)


def redact_url(url: str, whole_query: bool = False) -> str:
    """A URL without credentials: user info, secret query parameters, JWTs and tokens of
    known shapes replaced; with ``whole_query``, the whole query (for URLs of other hosts a
    registry redirected to, whose signing parameters no list can know)."""
    url = re.sub(_USERINFO, rf"\1{REDACTED}@", url)
    if whole_query:
        base, question, query = url.partition("?")
        if question and query:
            fragment = query.partition("#")[1:]
            url = f"{base}?{REDACTED}{''.join(fragment)}"
    url = re.sub(_JWT, REDACTED, url)
    url = re.sub(_KNOWN_TOKEN, REDACTED, url)
    return re.sub(_SECRET_QUERY, rf"\1{REDACTED}", url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact(text: str) -> str:
    """Free text (an error message, a server's reply) without credentials: bearer and basic
    tokens, JWTs, secret JSON fields, and the user info and secret query parameters of URLs."""
    text = re.sub(_SECRET_TEXT, lambda m: f"{m.group(1)} {REDACTED}", text)
    text = re.sub(_JWT, REDACTED, text)
    text = re.sub(_KNOWN_TOKEN, REDACTED, text)
    text = re.sub(_SECRET_FIELD, rf'\1{REDACTED}"', text)
    text = re.sub(_USERINFO_IN_TEXT, rf"\1{REDACTED}@", text)
    text = re.sub(_SECRET_QUERY, rf"\1{REDACTED}", text)
    return re.sub(_SECRET_PAIR, rf"\1{REDACTED}", text)


def debug(message: str, level: int = 1) -> None:
    if verbosity >= level:
        _verbose(redact(message))


def line(text: str) -> None:
    """One whole line on stderr, never interleaved with another thread's."""
    _write(text + "\n")


def _write(line: str) -> None:
    with _lock:
        sys.stderr.write(line)
        sys.stderr.flush()


def _verbose(text: str) -> None:
    """Every ``-v`` line goes out here: one line, control characters escaped."""
    _write(printable(text) + "\n")


def request(method: str, url: str, status: int | str, seconds: float, whole_query: bool = False) -> None:
    """One line per remote request at -v: ``GET https://host/path 200 OK in 12 ms``
    (``whole_query``: the URL's query is left out, see :func:`redact_url`)."""
    if verbosity >= 1:
        _verbose(f"{method} {redact_url(url, whole_query)} {status} in {seconds * 1000:.0f} ms")


def verbose_option(function: F) -> F:
    """``-v/--verbose`` (repeatable) on a command, same as on the ``kubectl arch`` group."""
    import click

    def remember(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
        set_verbosity(value)
        return value

    return click.option(  # type: ignore[no-any-return]
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=remember,
        help="Log remote requests (method, URL, status, time) to stderr; secrets are redacted.",
    )(function)
