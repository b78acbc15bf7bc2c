"""An OCI distribution client and what kubectl-arch asks of it: which platforms images support.

* :mod:`.reference`: image references, normalised as Docker does;
* :mod:`.index`: manifests, indexes and configs as data (pure);
* :mod:`.auth`: credentials (Docker and podman files, credential helpers) and challenges;
* :mod:`.client`: HTTP, retries, authentication, reading and writing content;
* :mod:`.cache`: the persistent content-addressed cache;
* :mod:`.images`: concurrent, de-duplicated look-ups of many images.

Nothing here imports ``requests`` until a request is made.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from ..errors import InputError

if TYPE_CHECKING:
    from .images import Inspector

CONFIG_KEYS = ("insecureRegistries", "registryCAFile", "tagCacheSeconds")
DEFAULT_TIMEOUT = 10.0  # seconds for one whole registry request


class Settings(NamedTuple):
    """How to reach registries: from flags, a function config, and the tool's config file."""

    insecure: tuple[str, ...] = ()
    ca_file: str = ""
    timeout: float = DEFAULT_TIMEOUT
    refresh: bool = False
    tag_ttl: float | None = None  # seconds a tag's answer is trusted; None: the config file's
    # Index entries taken for the images their platforms say, unopened (.images: audit).
    trust_platforms: bool = False


def timeout(value: str | None, default: float = DEFAULT_TIMEOUT) -> float:
    """The limit of each whole registry request: ``--request-timeout`` (see
    :mod:`..durations`), or ``default`` when it is unset or 0 (every registry request has one)."""
    from .. import durations

    return durations.parse(value) or default


def tag_ttl(value: str | None) -> float | None:
    """``--tag-cache-ttl``: seconds a tag's cached answer is trusted without asking the
    registry (``0``: always ask); None when not given."""
    from .. import durations

    if value is None or not value.strip():
        return None
    return durations.parse(value, "--tag-cache-ttl") or 0.0


def config_path() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "kubectl-arch", "config.yaml")


def tool_config() -> Settings:
    """Registry settings from ``$XDG_CONFIG_HOME/kubectl-arch/config.yaml`` (when it exists)::

    insecureRegistries: [registry.lab:5000]   # HTTPS without certificate checks, or HTTP
    registryCAFile: /etc/ssl/lab-ca.pem
    tagCacheSeconds: 300                       # trust a tag's answer this long (default 0)

    The file is optional: one that cannot be read (``XDG_CONFIG_HOME`` a file, a directory
    without permission, a FIFO in its place) is a warning and no settings, as Docker treats an
    unreadable config file; one that is read and invalid is an error naming it.
    """
    from .cache import NotRegular, read_regular

    path = config_path()
    try:
        raw = read_regular(path, 1 << 20, follow=True)
    except FileNotFoundError:
        return Settings()
    except (NotRegular, OSError) as exc:
        reason = str(exc) if isinstance(exc, NotRegular) else exc.strerror or str(exc)
        from .. import log
        from ..safetext import printable

        log.line(printable(f"warning: {path}: cannot read: {reason}; its settings are not used"))
        return Settings()
    from ..config import typed_data
    from ..manifest import files as manifests
    from ..manifest import yamlnodes as yn
    from ..manifest import yamltext

    text, _ = manifests.decode(raw, path)
    spans = [s for s in yamltext.split_documents(text) if yamltext.has_content(text, s)]
    if not spans:
        return Settings()
    try:
        data = typed_data(text, spans[0].start, spans[0].end)
    except (yn.YamlSyntaxError, yn.YamlShapeError) as exc:
        raise InputError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with keys {', '.join(CONFIG_KEYS)}")
    for key in data:
        if key not in CONFIG_KEYS:
            raise InputError(f"{path}: unknown key {key!r} (known: {', '.join(CONFIG_KEYS)})")
    insecure = data.get("insecureRegistries") or []
    if isinstance(insecure, str):
        insecure = [insecure]
    if not isinstance(insecure, list) or not all(isinstance(h, str) and h for h in insecure):
        raise InputError(f"{path}: insecureRegistries must be a list of host[:port] names")
    from .reference import check_host

    for host in insecure:
        try:
            check_host(host.strip())
        except ValueError as exc:
            raise InputError(f"{path}: insecureRegistries: {exc}") from None
    ca_file = data.get("registryCAFile") or ""
    if not isinstance(ca_file, str):
        raise InputError(f"{path}: registryCAFile must be a file name")
    ttl = data.get("tagCacheSeconds")
    if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl < 0):
        raise InputError(f"{path}: tagCacheSeconds must be a number of seconds (0: always ask the registry)")
    return Settings(tuple(insecure), ca_file, tag_ttl=float(min(ttl, 1e9)) if ttl is not None else None)


def open_inspector(settings: Settings) -> Inspector:
    """An :class:`.images.Inspector` for one run, with the tool's config merged in."""
    from .auth import CredentialStore
    from .cache import DEFAULT_TAG_TTL, Cache, default_root
    from .client import Client, Options
    from .images import Inspector

    base = tool_config()
    ca_file = settings.ca_file or base.ca_file
    if ca_file and not os.path.isfile(ca_file):
        raise InputError(f"--registry-ca-file: {ca_file}: no such file")
    insecure = frozenset(h.strip() for h in (*base.insecure, *settings.insecure) if h.strip())
    ttl = settings.tag_ttl if settings.tag_ttl is not None else base.tag_ttl
    options = Options(insecure=insecure, ca_file=ca_file or None, timeout=settings.timeout)
    cache = Cache(default_root(), DEFAULT_TAG_TTL if ttl is None else ttl, settings.refresh)
    return Inspector(
        Client(options, CredentialStore(timeout=settings.timeout)), cache, settings.trust_platforms
    )
