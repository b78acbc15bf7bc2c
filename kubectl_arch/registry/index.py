"""Manifests and indexes as data: bytes and a media type in, platforms out. No I/O.

An OCI image index or Docker manifest list names one manifest per platform; entries that
are attestations (``vnd.docker.reference.type`` set, or platform ``unknown/unknown``) or
artifacts (an ``artifactType``, or a media type that is neither a manifest nor an index) are
not platforms, and entries that are indexes themselves are to be followed. An entry without
a usable platform (none, or an empty ``os`` or ``architecture``) gets its platform from its
image's config. A single manifest (OCI or Docker schema 2) says nothing about its platform:
its config blob does (``os``, ``architecture``, ``variant``, ``os.version``); a manifest
whose config is not an image config (``application/vnd.oci.empty.v1+json``, a Helm chart...)
or that has an ``artifactType`` is an artifact. Docker schema 1 manifests are refused with a
clear message.

Platforms from registries are data: each of their fields must be a valid Kubernetes label
value (they become ``kubernetes.io/os``/``arch`` requirements and table cells), else
:class:`PlatformValueError`. They are normalised as containerd normalises them, except that
a variant this program does not know is kept as given (``armv8`` stays ``armv8``). Digests
must be well-formed sha256 or sha512 digests; another algorithm is refused by name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

from ..jsonload import JsonError, loads
from ..platforms import Platform, normalize
from .reference import ReferenceError, validate_digest

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
REFERENCE_DIGEST = "vnd.docker.reference.digest"
MAX_MANIFEST = 4 * 1024 * 1024  # the limit registries apply to manifests
MAX_CONFIG = 8 * 1024 * 1024


# A Kubernetes label value (what a platform's fields become in node affinities).
_LABEL_VALUE = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_NUMERIC_VARIANT = re.compile(r"v?[0-9]+(?:\.[0-9]+)*")


class ManifestError(ValueError):
    """Content that is not a usable manifest, index or config; the message says why."""


class PlatformValueError(ManifestError):
    """A platform whose fields are not valid label values: a problem of the image."""


class Descriptor(NamedTuple):
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    attestation: bool = False  # an attestation manifest, not a platform
    artifact: bool = False  # an artifact (SBOM, signature, chart...), not a platform
    subject: str = ""  # an attestation's ``vnd.docker.reference.digest``: the image it is about


class Index(NamedTuple):
    media_type: str
    manifests: tuple[Descriptor, ...]


class Image(NamedTuple):
    media_type: str
    config: Descriptor
    artifact: bool = False  # the manifest has an artifactType


def platform_of(
    os: str, arch: str, variant: str = "", os_version: str = "", what: str = "platform"
) -> Platform:
    """The platform a registry answer declares, normalised like containerd's ``Normalize``
    (``aarch64`` -> ``arm64``, ``arm64/v8`` -> ``arm64``) but with an unknown variant kept as
    given; PlatformValueError when a field is not a valid label value."""
    for field, value in (
        ("os", os),
        ("architecture", arch),
        ("variant", variant),
        ("os.version", os_version),
    ):
        if value and not _LABEL_VALUE.fullmatch(value):
            raise PlatformValueError(
                f"{what} declares {field} {value[:80]!r}, which is not a valid label value "
                "(at most 63 letters, digits, '-', '_' or '.')"
            )
    platform = normalize(os, arch, variant, os_version)
    given = variant.lower()
    if given and platform.variant != given and not _NUMERIC_VARIANT.fullmatch(given):
        platform = platform._replace(variant=given)
    return platform


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


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
        value = loads(data)
    except JsonError as exc:
        raise ManifestError(f"{what} is {exc}" if str(exc).startswith("not ") else f"{what}: {exc}") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return value


def image_manifest_is_artifact(image: Image) -> bool:
    """Whether a single manifest is an artifact, not a container image: it has an
    ``artifactType``, or a config that is not an image config (``application/vnd.oci.empty.v1+json``,
    a Helm chart's config...). OCI image spec, "Guidelines for Artifact Usage"."""
    return image.artifact or bool(image.config.media_type and image.config.media_type not in CONFIG_TYPES)


def media_type_of(data: bytes, content_type: str) -> str:
    """The media type of manifest bytes: the document's own ``mediaType`` field, else the
    server's Content-Type, else what its shape says."""
    try:
        value = loads(data)
    except JsonError:
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


def _config_descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} is not an object")
    digest = value.get("digest")
    if not isinstance(digest, str) or not digest:
        raise ManifestError(f"{where} has no digest")
    try:
        validate_digest(digest)
    except ReferenceError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = 0
    return Descriptor(_text(value.get("mediaType")), digest, size)


def _descriptor(value: Any, where: str) -> Descriptor:
    """An index entry. Its digest is checked unless the entry is skipped (attestations,
    artifacts); its platform is None when absent or unusable (empty os or architecture)."""
    if not isinstance(value, dict):
        raise ManifestError(f"{where} is not an object")
    media_type, digest, size = _text(value.get("mediaType")), value.get("digest"), value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = 0
    annotations = value.get("annotations")
    attestation = isinstance(annotations, dict) and bool(_text(annotations.get(REFERENCE_TYPE)))
    artifact = bool(_text(value.get("artifactType"))) or (
        bool(media_type) and media_type not in INDEX_TYPES | IMAGE_TYPES
    )
    raw = value.get("platform")
    raw = raw if isinstance(raw, dict) else {}
    os, arch = _text(raw.get("os")), _text(raw.get("architecture"))
    if os.lower() == "unknown" and arch.lower() == "unknown":
        attestation = True
    if not isinstance(digest, str) or not digest:
        raise ManifestError(f"{where} has no digest")
    if attestation or artifact:
        subject = _text(annotations.get(REFERENCE_DIGEST)) if isinstance(annotations, dict) else ""
        return Descriptor(media_type, digest, size, None, attestation, artifact, subject[:200])
    try:
        validate_digest(digest)
    except ReferenceError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    platform = None
    if os and arch:
        platform = platform_of(os, arch, _text(raw.get("variant")), _text(raw.get("os.version")), where)
    return Descriptor(media_type, digest, size, platform)


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
        config = _config_descriptor(document.get("config"), f"{what} config")
        return Image(media_type, config, bool(_text(document.get("artifactType"))))
    raise ManifestError(f"{what} has unsupported media type {media_type or '(none)'!r}")


def config_platform(data: bytes, what: str = "config") -> Platform | None:
    """The platform an image config declares; None when it declares none."""
    config = _load(data, what)
    os, arch = _text(config.get("os")), _text(config.get("architecture"))
    if not os or not arch:
        return None
    platform = platform_of(os, arch, _text(config.get("variant")), _text(config.get("os.version")), what)
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
    os, arch = _text(value.get("os")), _text(value.get("architecture"))
    if not os or not arch:
        raise ManifestError("platform entry needs 'os' and 'architecture'")
    platform = platform_of(os, arch, _text(value.get("variant")), _text(value.get("os.version")))
    digest = _text(value.get("digest"))
    if digest:
        try:
            validate_digest(digest)
        except ReferenceError as exc:
            raise ManifestError(f"platform entry: {exc}") from None
    size = value.get("size", 0)
    return Entry(
        platform,
        digest,
        _text(value.get("mediaType")),
        size if isinstance(size, int) and not isinstance(size, bool) else 0,
    )
