"""Diagnostics on stderr: ``-v`` logs each remote request (method, URL, status, time), with
every secret redacted, as kubectl's ``-v`` does. Nothing here imports anything heavy."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

verbosity = 0
_lock = threading.Lock()  # look-ups run in threads: one whole line at a time
REDACTED = "REDACTED"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth", "x-auth-token"}
)
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:access_token|refresh_token|id_token|token|password|passwd|secret|client_secret|api_key"
    r"|apikey|private_token|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token"
    r"|x-goog-signature|x-goog-credential|key-pair-id|policy|code)=)[^&#\s]*"
)
_USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/@]*@")
_USERINFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s?#]*@")
# "Bearer <token68>" or "Basic <token68>", but not an auth challenge (Bearer realm="...").
_SECRET_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]+=*(?![A-Za-z0-9._~+/=-]|\s*\")")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Secret fields of JSON replies and docker config files.
_SECRET_FIELD = re.compile(
    r'(?i)("(?:token|access_token|refresh_token|id_token|identitytoken|identity_token|registrytoken'
    r'|password|secret|client_secret|auth)"\s*:\s*")[^"]*"'
)

F = TypeVar("F", bound=Callable[..., Any])


def set_verbosity(level: int) -> None:
    global verbosity
    verbosity = max(verbosity, level)


def redact_url(url: str) -> str:
    """A URL without credentials: user info and secret query parameters replaced."""
    url = _USERINFO.sub(rf"\1{REDACTED}@", url)
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", url)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact(text: str) -> str:
    """Free text (an error message, a server's reply) without credentials: bearer and basic
    tokens, JWTs, secret JSON fields, and the user info and secret query parameters of URLs."""
    text = _SECRET_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _SECRET_FIELD.sub(rf'\1{REDACTED}"', text)
    text = _USERINFO_IN_TEXT.sub(rf"\1{REDACTED}@", text)
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", text)


def debug(message: str, level: int = 1) -> None:
    if verbosity >= level:
        _write(redact(message) + "\n")


def line(text: str) -> None:
    """One whole line on stderr, never interleaved with another thread's."""
    _write(text + "\n")


def _write(line: str) -> None:
    with _lock:
        sys.stderr.write(line)
        sys.stderr.flush()


def request(method: str, url: str, status: int | str, seconds: float) -> None:
    """One line per remote request at -v: ``GET https://host/path 200 OK in 12 ms``."""
    if verbosity >= 1:
        line = f"{method} {redact_url(url)} {status} in {seconds * 1000:.0f} ms\n"
        _write(line)


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
