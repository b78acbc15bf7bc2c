"""Image references, parsed and normalised as Docker and crane do.

``nginx`` is ``docker.io/library/nginx:latest``; its API host is ``registry-1.docker.io``
and its credentials are stored under ``https://index.docker.io/v1/``. A first path
component is a registry host when it contains ``.`` or ``:``, is ``localhost``, or has
upper-case letters (which repositories cannot); ``[::1]:5000`` names an IPv6 host. When a
reference has both a tag and a digest, the digest says what is fetched and the tag is kept
for people to read.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_CREDENTIAL_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
DEFAULT_TAG = "latest"
MAX_NAME = 255  # distribution's limit on "host/repository"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)")
DIGEST_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"[a-f0-9]+")


class ReferenceError(ValueError):
    """An image reference that cannot be used; the message says why."""


class Reference(NamedTuple):
    registry: str  # "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000"
    repository: str  # "library/nginx"
    tag: str = ""  # "" when only a digest was given
    digest: str = ""  # "sha256:<hex>" or ""

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What the registry is asked for: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def credential_key(self) -> str:
        return DOCKER_HUB_CREDENTIAL_KEY if self.registry == DOCKER_HUB else self.registry

    def with_digest(self, digest: str) -> Reference:
        return self._replace(digest=digest)

    def __str__(self) -> str:
        out = self.name
        if self.tag or not self.digest:
            out += f":{self.tag or DEFAULT_TAG}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def validate_digest(digest: str) -> str:
    """``digest`` when it is a well-formed sha256 or sha512 digest; ReferenceError otherwise."""
    found = _DIGEST.fullmatch(digest)
    if found is None:
        raise ReferenceError(
            f"invalid digest {digest!r}: expected algorithm:hex, e.g. sha256:<64 hex digits>"
        )
    algorithm, hex_part = found["algorithm"], found["hex"]
    length = DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise ReferenceError(f"unsupported digest algorithm {algorithm!r} (supported: sha256, sha512)")
    if len(hex_part) != length or not _HEX.fullmatch(hex_part):
        raise ReferenceError(f"invalid {algorithm} digest: expected {length} lower-case hex digits")
    return digest


def is_loopback_name(name: str) -> bool:
    """Whether a host name (no port; IPv6 with or without brackets) is loopback: ``localhost``
    or an address Go's ``net.IP.IsLoopback`` calls loopback (127.0.0.0/8, ``::1``, and
    127.0.0.0/8 written as an IPv4-mapped IPv6 address, ``::ffff:127.0.0.1``). The one
    definition for both plain HTTP (:mod:`.client`) and proxies (:mod:`.proxy`, as Go's
    ``ProxyFromEnvironment``): names under ``.localhost`` are not loopback here, as they are
    not to Go, crane and containerd, since only the resolver says where they go."""
    name = name.lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def is_loopback(host: str) -> bool:
    """``host[:port]`` is loopback (see :func:`is_loopback_name`)."""
    return is_loopback_name(host_without_port(host))


def check_host(value: str) -> str:
    """A registry host as flags and the config file name one (``--insecure-registry``,
    ``insecureRegistries``): ``HOST`` or ``HOST:PORT``, as the host part of a reference is
    written (distribution's reference grammar; ``[::1]:5000`` for IPv6). Returns it; a
    ValueError says what is wrong: a value that starts with ``-`` (a flag taken for the
    value), a scheme, a path, spaces, or anything else the grammar refuses."""
    shown = repr(value)
    hint = "give HOST or HOST:PORT, e.g. registry.lab:5000"
    if not value:
        raise ValueError(f"an empty value is not a registry host; {hint}")
    if value.startswith("-"):
        raise ValueError(f"{shown} is not a registry host (a flag given where a host belongs?); {hint}")
    if "://" in value:
        raise ValueError(f"{shown} is not a registry host: no scheme (http://, https://); {hint}")
    if "/" in value:
        raise ValueError(f"{shown} is not a registry host: no path; {hint}")
    if any(c.isspace() for c in value):
        raise ValueError(f"{shown} is not a registry host: it contains spaces; {hint}")
    found = _HOST.fullmatch(value)
    port = value.rpartition(":")[2] if found and not value.endswith("]") and ":" in value else ""
    if not found or (port and not 0 < int(port) < 65536):
        raise ValueError(f"{shown} is not a registry host; {hint}")
    return value


def host_without_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _split_host(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        if first.lower() in _HUB_ALIASES:
            first = DOCKER_HUB
        return first, rest
    return DOCKER_HUB, name


def parse(text: str) -> Reference:
    """Parse and normalise an image reference; ReferenceError says what is wrong."""
    raw = text.strip()
    if not raw:
        raise ReferenceError("empty image reference")
    name, at, digest = raw.partition("@")
    # What comes before an "@" that is not followed by a digest may be a password
    # (user:password@host/...): never echoed.
    shown = f"REDACTED@{digest}" if at and not _DIGEST.fullmatch(digest) else raw

    def bad(reason: str) -> ReferenceError:
        return ReferenceError(f"invalid image reference {shown!r}: {reason}")

    if at and "/" in digest:
        raise bad("an image reference holds no user name or password (log in with docker login)")

    if any(c.isspace() for c in raw):
        raise bad("contains white space")
    if "://" in raw:
        raise bad("an image reference has no scheme (drop the '" + raw.split("://")[0] + "://')")
    if at:
        try:
            validate_digest(digest)
        except ReferenceError as exc:
            raise bad(str(exc)) from None
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise bad(
                f"invalid tag {tag!r} (letters, digits, '_', '.', '-'; at most 128; "
                "not starting with '.' or '-')"
            )
    if not name:
        raise bad("no repository name")
    registry, path = _split_host(name)
    if registry != DOCKER_HUB and not _HOST.fullmatch(registry):
        raise bad(f"invalid registry host {registry!r}")
    if not path:
        raise bad("no repository name after the registry host")
    if path != path.lower():
        raise bad("repository name must be lower-case")
    for component in path.split("/"):
        if not _COMPONENT.fullmatch(component):
            if not component:
                raise bad("empty path component (double or trailing '/')")
            raise bad(
                f"invalid repository path component {component!r} (lower-case letters and digits, "
                "separated by '.', '_', '__' or '-')"
            )
    if registry == DOCKER_HUB and "/" not in path:
        if re.fullmatch(r"[a-f0-9]{64}", path):
            raise bad("a 64-character hexadecimal name is an image ID, not a reference")
        path = f"library/{path}"
    if len(f"{registry}/{path}") > MAX_NAME:
        raise bad(f"name longer than {MAX_NAME} characters")
    return Reference(registry, path, tag, digest)


def familiar(ref: Reference) -> str:
    """The short form Docker prints: ``nginx:1.27``, ``user/app``, ``ghcr.io/o/a:1``."""
    name = ref.name
    if ref.registry == DOCKER_HUB:
        name = ref.repository.removeprefix("library/") if ref.repository.count("/") == 1 else ref.repository
    out = name + (f":{ref.tag}" if ref.tag else "")
    return out + (f"@{ref.digest}" if ref.digest else "")
