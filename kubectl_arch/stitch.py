"""Join per-platform images into one multi-platform index, and check what builders pushed.

:func:`index_document` is pure (children in, index bytes out). :func:`verify_child`,
:func:`verify_index` and :func:`push_index` talk to the registry through
:class:`.registry.client.Client`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from .errors import ConflictError
from .platforms import Platform, matches, sort_key
from .registry import index
from .registry.client import Client, RegistryError
from .registry.reference import Reference

OCI = "oci"
DOCKER = "docker"


class Child(NamedTuple):
    """A pushed single-platform image: where it is and what its config says it is."""

    ref: Reference  # with its digest
    platform: Platform  # as its config declares it
    media_type: str
    size: int


class Stitched(NamedTuple):
    ref: Reference  # the tag, with the index digest
    pushed: bool  # False when the tag already pointed to this very index


def _platform_json(p: Platform) -> dict[str, str]:
    out = {"architecture": p.architecture, "os": p.os}
    if p.os_version:
        out["os.version"] = p.os_version
    if p.variant:
        out["variant"] = p.variant
    return out


def index_format(children: Sequence[Child], wanted: str = "") -> str:
    """``docker`` when asked, or when every child is a Docker manifest; else ``oci``."""
    if wanted:
        return wanted
    if children and all(c.media_type == index.DOCKER_MANIFEST for c in children):
        return DOCKER
    return OCI


def index_document(children: Sequence[Child], fmt: str) -> tuple[bytes, str]:
    """The index bytes and media type; children sorted by platform, so the same children
    give the same bytes (and digest) on every run."""
    media_type = index.DOCKER_LIST if fmt == DOCKER else index.OCI_INDEX
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": []}
    for child in sorted(children, key=lambda c: sort_key(c.platform)):
        document["manifests"].append(
            {
                "mediaType": child.media_type,
                "digest": child.ref.digest,
                "size": child.size,
                "platform": _platform_json(child.platform),
            }
        )
    return json.dumps(document, indent=2).encode() + b"\n", media_type


def _variant_matches(wanted: Platform, got: Platform) -> bool:
    return matches(wanted, got) and matches(got, wanted)


def verify_child(client: Client, ref: Reference, wanted: Platform, builder: str) -> Child:
    """The image pushed under ``ref`` for ``wanted``; ConflictError when it is an index or its
    config declares another platform (a builder that silently built for its own machine)."""
    manifest = client.get_manifest(ref)
    parsed = index.parse(manifest.data, manifest.media_type, f"{ref}")
    if isinstance(parsed, index.Index):
        raise ConflictError(
            f"{builder} pushed {ref} as an index, not a single {wanted} image; its builds for one platform "
            "must push one image"
        )
    config = client.get_blob(ref, parsed.config.digest)
    got = index.config_platform(config, f"config of {ref}")
    if got is None:
        raise ConflictError(f"{builder} pushed {ref} for {wanted}, but its config declares no platform")
    if not _variant_matches(wanted, got):
        raise ConflictError(
            f"{builder} built {got} when asked for {wanted}: {ref} has config os/architecture "
            f"{got}; the builder ignored the platform"
        )
    return Child(ref.with_digest(manifest.digest), got, manifest.media_type, len(manifest.data))


def verify_index(
    client: Client, ref: Reference, wanted: Sequence[Platform], builder: str
) -> tuple[Reference, list[Child]]:
    """Check that the index a multi-platform builder pushed has every platform asked for,
    each entry's config agreeing with its descriptor; returns ``ref`` with the index digest
    and the entries asked for."""
    manifest = client.get_manifest(ref)
    parsed = index.parse(manifest.data, manifest.media_type, f"{ref}")
    if not isinstance(parsed, index.Index):
        if len(wanted) == 1:
            child = verify_child(client, ref, wanted[0], builder)
            return ref.with_digest(manifest.digest), [child]
        raise ConflictError(
            f"{builder} pushed {ref} as a single image, not an index of {len(wanted)} platforms"
        )
    entries = [d for d in parsed.manifests if not d.attestation and d.platform is not None]
    missing = [p for p in wanted if not any(_variant_matches(p, e.platform) for e in entries if e.platform)]
    if missing:
        have = ", ".join(str(e.platform) for e in entries) or "none"
        raise ConflictError(
            f"{builder} pushed {ref} without {', '.join(str(p) for p in missing)} (it has {have})"
        )
    children = []
    for entry in entries:
        assert entry.platform is not None
        if any(_variant_matches(p, entry.platform) for p in wanted):
            children.append(verify_child(client, ref.with_digest(entry.digest), entry.platform, builder))
    return ref.with_digest(manifest.digest), children


def _ensure_in_repository(client: Client, target: Reference, child: Child) -> None:
    """Make ``child`` (from another repository of the same registry) exist in ``target``'s
    repository: mount its blobs, then put its manifest by digest."""
    if child.ref.registry != target.registry:
        raise ConflictError(
            f"{child.ref} is on another registry than {target.name}; copy it there first "
            "(crane copy, skopeo copy)"
        )
    manifest = client.get_manifest(child.ref)
    document = json.loads(manifest.data)
    blobs = [document.get("config", {}), *document.get("layers", [])]
    for blob in blobs:
        digest = blob.get("digest") if isinstance(blob, dict) else None
        if digest and not client.blob_exists(target, digest):
            client.mount_blob(target, digest, child.ref.repository)
    client.put_manifest(target._replace(tag="", digest=child.ref.digest), manifest.data, manifest.media_type)


def push_index(client: Client, target: Reference, children: Sequence[Child], fmt: str = "") -> Stitched:
    """Push the index of ``children`` under ``target``'s tag in one PUT, once every child is
    in the target repository; nothing when the tag already points to the same index."""
    if not children:
        raise ValueError("no children to stitch")
    for child in children:
        if child.ref.repository != target.repository or child.ref.registry != target.registry:
            _ensure_in_repository(client, target, child)
    data, media_type = index_document(children, index_format(children, fmt))
    digest = index.digest_of(data)
    try:
        current = client.head_manifest(target, media_type)
    except RegistryError as exc:
        if exc.status != 404:
            raise
        current = None
    if current is not None and current[0] == digest:
        return Stitched(target.with_digest(digest), False)
    client.put_manifest(target, data, media_type)
    return Stitched(target.with_digest(digest), True)


def move_tag(client: Client, source: Reference, target: Reference) -> Stitched:
    """Point ``target``'s tag at the manifest ``source`` names by digest (same repository):
    one PUT of the same bytes, nothing when the tag already points to it."""
    manifest = client.get_manifest(source)
    try:
        current = client.head_manifest(target, manifest.media_type)
    except RegistryError as exc:
        if exc.status != 404:
            raise
        current = None
    if current is not None and current[0] == manifest.digest:
        return Stitched(target.with_digest(manifest.digest), False)
    client.put_manifest(target, manifest.data, manifest.media_type)
    return Stitched(target.with_digest(manifest.digest), True)


def delete_platform_tags(client: Client, refs: Sequence[Reference]) -> list[str]:
    """Delete the per-platform tags; the warnings for those the registry would not delete.

    Only the tag goes (OCI distribution 1.1 tag deletion); deleting by digest would remove the
    manifest the index now points to."""
    warnings = []
    for ref in refs:
        try:
            client.delete_tag(ref._replace(digest=""))
        except RegistryError as exc:
            warnings.append(f"kept tag {ref.tag}: {exc}")
    return warnings
