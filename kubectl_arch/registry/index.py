"""Manifests and indexes as data: bytes and a media type in, platforms out. No I/O.

An OCI image index or Docker manifest list names one manifest per platform; entries that
are attestations (``vnd.docker.reference.type: attestation-manifest``, or platform
``unknown/unknown``) are not platforms, and entries that are indexes themselves are to be
followed. A single manifest (OCI or Docker schema 2) says nothing about its platform: its
config blob does (``os``, ``architecture``, ``variant``, ``os.version``). Docker schema 1
manifests are refused with a clear message.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from ..platforms import Platform, normalize

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
# What a client asks for: every manifest type that can say which platforms an image has.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
REFERENCE_TYPE = "vnd.docker.reference.type"
MAX_MANIFEST = 4 * 1024 * 1024  # the limit registries apply to manifests
MAX_CONFIG = 8 * 1024 * 1024


class ManifestError(ValueError):
    """Content that is not a usable manifest, index or config; the message says why."""


class Descriptor(NamedTuple):
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    attestation: bool = False  # an attestation manifest, not a platform


class Index(NamedTuple):
    media_type: str
    manifests: tuple[Descriptor, ...]


class Image(NamedTuple):
    media_type: str
    config: Descriptor


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify(data: bytes, digest: str, what: str) -> None:
    """Raise ManifestError unless ``data`` hashes to ``digest``."""
    algorithm = digest.partition(":")[0]
    if algorithm not in ("sha256", "sha512"):
        raise ManifestError(f"{what}: unsupported digest algorithm {algorithm!r}")
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise ManifestError(f"{what}: content does not match its digest (expected {digest}, got {actual})")


def _load(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return value


def media_type_of(data: bytes, content_type: str) -> str:
    """The media type of manifest bytes: the document's own ``mediaType`` field, else the
    server's Content-Type, else what its shape says."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        value = None
    if isinstance(value, dict):
        declared = value.get("mediaType")
        if isinstance(declared, str) and declared:
            return declared
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in INDEX_TYPES | IMAGE_TYPES | SCHEMA1_TYPES:
        return content_type
    if isinstance(value, dict):
        if value.get("schemaVersion") == 1:
            return DOCKER_SCHEMA1
        if isinstance(value.get("manifests"), list):
            return OCI_INDEX
        if isinstance(value.get("config"), dict):
            return OCI_MANIFEST
    return content_type


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} is not an object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(digest, str) or ":" not in digest:
        raise ManifestError(f"{where} has no valid digest")
    if not isinstance(media_type, str):
        media_type = ""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = 0
    platform = None
    raw = value.get("platform")
    if isinstance(raw, dict) and isinstance(raw.get("os"), str) and isinstance(raw.get("architecture"), str):
        platform = normalize(
            raw["os"],
            raw["architecture"],
            str(raw.get("variant") or ""),
            str(raw.get("os.version") or ""),
        )
    annotations = value.get("annotations")
    attestation = isinstance(annotations, dict) and annotations.get(REFERENCE_TYPE) == "attestation-manifest"
    if platform is not None and platform.os == "unknown" and platform.architecture == "unknown":
        attestation = True
    return Descriptor(media_type, digest, size, platform, attestation)


def parse(data: bytes, media_type: str, what: str = "manifest") -> Index | Image:
    """An index's entries, or a single manifest's config descriptor."""
    if media_type in SCHEMA1_TYPES:
        raise ManifestError(
            f"{what} is a Docker schema 1 manifest ({media_type}), which kubectl-arch does not "
            "support: it is deprecated and carries no platform list; push the image again with a "
            "current client"
        )
    document = _load(data, what)
    if document.get("schemaVersion") == 1:
        return parse(data, DOCKER_SCHEMA1, what)
    if media_type in INDEX_TYPES:
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise ManifestError(f"{what}: index has no 'manifests' list")
        return Index(media_type, tuple(_descriptor(e, f"{what} entry {i}") for i, e in enumerate(entries)))
    if media_type in IMAGE_TYPES:
        config = _descriptor(document.get("config"), f"{what} config")
        return Image(media_type, config)
    raise ManifestError(f"{what} has unsupported media type {media_type or '(none)'!r}")


def config_platform(data: bytes, what: str = "config") -> Platform | None:
    """The platform an image config declares; None when it declares none."""
    config = _load(data, what)
    os, arch = config.get("os"), config.get("architecture")
    if not isinstance(os, str) or not isinstance(arch, str) or not os or not arch:
        return None
    platform = normalize(os, arch, str(config.get("variant") or ""), str(config.get("os.version") or ""))
    if platform.os == "unknown" and platform.architecture == "unknown":
        return None
    return platform


class Entry(NamedTuple):
    """One platform of an image: its platform, and the manifest that has it."""

    platform: Platform
    digest: str
    media_type: str
    size: int


def platform_json(entry: Entry) -> dict[str, Any]:
    """An entry as ``inspect -o json`` writes it (and lock files store it)."""
    out: dict[str, Any] = {"os": entry.platform.os, "architecture": entry.platform.architecture}
    if entry.platform.variant:
        out["variant"] = entry.platform.variant
    if entry.platform.os_version:
        out["os.version"] = entry.platform.os_version
    out["digest"] = entry.digest
    out["mediaType"] = entry.media_type
    return out


def entry_from_json(value: Any) -> Entry:
    """The inverse of :func:`platform_json` (ManifestError when malformed)."""
    if not isinstance(value, dict):
        raise ManifestError("platform entry is not an object")
    os, arch = value.get("os"), value.get("architecture")
    if not isinstance(os, str) or not isinstance(arch, str):
        raise ManifestError("platform entry needs 'os' and 'architecture'")
    platform = normalize(os, arch, str(value.get("variant") or ""), str(value.get("os.version") or ""))
    size = value.get("size", 0)
    return Entry(
        platform,
        str(value.get("digest") or ""),
        str(value.get("mediaType") or ""),
        size if isinstance(size, int) else 0,
    )
