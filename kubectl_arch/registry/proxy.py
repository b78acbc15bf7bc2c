"""Which proxy a registry request goes through, read from the environment as Go's
``http.ProxyFromEnvironment`` reads it (``golang.org/x/net/http/httpproxy``), which Docker,
containerd, crane and skopeo all use, so that one environment means the same to each of them:

* ``HTTPS_PROXY`` for ``https`` URLs, ``HTTP_PROXY`` for ``http`` URLs (the upper-case name
  first, then the lower-case one; ``HTTP_PROXY`` is ignored under CGI, where
  ``REQUEST_METHOD`` is set); a value without a scheme is an ``http://`` proxy;
* loopback hosts (``localhost``, 127.0.0.0/8, ``[::1]``, ``[::ffff:127.0.0.1]``: the one
  definition of :func:`.reference.is_loopback_name`) are never proxied;
* ``NO_PROXY`` (comma-separated): ``*`` (nothing is proxied), an IP address or a CIDR range, or
  a domain with an optional port: ``example.com`` matches it and its subdomains,
  ``.example.com`` and ``*.example.com`` only its subdomains.

``ALL_PROXY`` and ``.netrc`` mean nothing to Go, and nothing here. A proxy value that is not
a usable ``http://`` or ``https://`` URL (a SOCKS proxy, which Go would take but ``requests``
cannot speak without another package; a port that is not a number; a bracket left open) is a
:class:`ProxyConfigError` naming the variable, never a request to the registry that fails
for a reason of its own. Pure: the environment is given, nothing is sent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from .reference import is_loopback_name


class ProxyConfigError(ValueError):
    """A proxy variable that cannot be used; the message names it (its secrets left out)."""


class Proxy(NamedTuple):
    url: str  # the proxy URL, user info included (requests sends it as Proxy-Authorization)
    variable: str  # the environment variable it came from, for messages


def _env(environ: Mapping[str, str], *names: str) -> tuple[str, str]:
    for name in names:
        value = environ.get(name, "")
        if value:
            return value, name
    return "", ""


def _default_port(scheme: str) -> str:
    return "443" if scheme == "https" else "80"


def _bypassed(host: str, port: str, no_proxy: str) -> bool:
    host = host.lower().strip("[]")
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if is_loopback_name(host):
        return True
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                if ip is not None and ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, entry_port = entry, ""
        if entry.startswith("["):  # [::1]:5000
            name, _, rest = entry[1:].partition("]")
            entry_port = rest.removeprefix(":")
        elif entry.count(":") == 1:
            name, entry_port = entry.split(":")
        try:
            entry_ip = ipaddress.ip_address(name)
        except ValueError:
            entry_ip = None
        if entry_ip is not None:
            if ip is not None and ip == entry_ip and entry_port in ("", port):
                return True
            continue
        if name.startswith("*."):
            name = name[1:]
        match_host = not name.startswith(".")
        suffix = name if name.startswith(".") else "." + name
        if (host.endswith(suffix) or (match_host and host == suffix[1:])) and entry_port in ("", port):
            return True
    return False


def for_url(url: str, environ: Mapping[str, str]) -> Proxy | None:
    """The proxy for ``url``, or None to connect directly."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        value, variable = _env(environ, "HTTPS_PROXY", "https_proxy")
    elif scheme == "http" and not environ.get("REQUEST_METHOD"):
        value, variable = _env(environ, "HTTP_PROXY", "http_proxy")
    else:
        return None
    if not value:
        return None
    no_proxy, _ = _env(environ, "NO_PROXY", "no_proxy")
    host = parts.hostname or ""
    try:
        port = str(parts.port or _default_port(scheme))
    except ValueError:
        port = _default_port(scheme)
    if _bypassed(host, port, no_proxy):
        return None
    if "://" not in value:
        value = "http://" + value
    return Proxy(_checked(value, variable), variable)


def _checked(value: str, variable: str) -> str:
    """``value`` when it is a proxy URL requests can use; ProxyConfigError otherwise."""
    from ..log import redact_url

    def bad(why: str) -> ProxyConfigError:
        return ProxyConfigError(f"${variable} ({redact_url(value)!r}) {why}")

    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        reason = str(exc) or "malformed"
        raise bad(f"is not a valid proxy URL ({reason[:1].lower() + reason[1:]})") from None
    scheme = parts.scheme.lower()
    if scheme.startswith("socks"):
        raise bad("is a SOCKS proxy, which kubectl-arch does not support; use an HTTP or HTTPS proxy")
    if scheme not in ("http", "https"):
        raise bad(f"is not a valid proxy URL (scheme {scheme!r}; expected http:// or https://)")
    if not parts.hostname:
        raise bad("is not a valid proxy URL (no host)")
    if port == 0:
        raise bad("is not a valid proxy URL (port 0)")
    return value
