"""Which platforms images support: references in, platforms (with digests) out.

Each distinct image is looked up once per run, concurrently (the client bounds requests
per host). What a look-up costs, with a warm cache:

* a digest reference: nothing (manifests by digest never change);
* a tag answered less than the TTL ago: nothing;
* an older tag: one HEAD, to learn whether it still points to the cached manifest;
* anything else: one GET of the manifest, plus the config blob of a single-platform
  manifest and the child of a nested index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, NamedTuple

from ..errors import Error, RemoteError
from . import index
from .cache import Cache
from .client import Client, IntegrityError, Manifest, RegistryError
from .reference import Reference, ReferenceError, parse

MAX_DEPTH = 4  # nested indexes followed
MAX_WORKERS = 32


class ImageError(RemoteError):
    """An image that could not be inspected (exit 3); the message names it and says why."""


class ImageInfo(NamedTuple):
    reference: str  # as given
    resolved: Reference
    digest: str
    media_type: str
    size: int
    platforms: tuple[index.Entry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "resolved": str(self.resolved),
            "digest": self.digest,
            "mediaType": self.media_type,
            "platforms": [index.platform_json(e) for e in self.platforms],
        }


class Inspector:
    """Looks images up through a client and a cache; thread-safe, memoised per reference."""

    def __init__(self, client: Client, cache: Cache) -> None:
        self.client = client
        self.cache = cache

    # -- one image --------------------------------------------------------------------------
    def _manifest(self, ref: Reference, digest: str) -> Manifest:
        cached = self.cache.manifest(digest)
        if cached is not None:
            return Manifest(cached[0], cached[1], digest)
        found = self.client.get_manifest(ref.with_digest(digest))
        self.cache.put_manifest(found.digest, found.data, found.media_type)
        return found

    def _config(self, ref: Reference, digest: str) -> bytes:
        cached = self.cache.blob(digest)
        if cached is not None:
            return cached
        data = self.client.get_blob(ref, digest)
        self.cache.put_blob(digest, data)
        return data

    def _entries(self, ref: Reference, manifest: Manifest, depth: int) -> list[index.Entry]:
        what = f"manifest {manifest.digest}"
        parsed = index.parse(manifest.data, manifest.media_type, what)
        if isinstance(parsed, index.Image):
            if parsed.config.media_type and parsed.config.media_type not in index.CONFIG_TYPES:
                return []  # an artifact (signature, chart, SBOM), not a container image
            platform = index.config_platform(self._config(ref, parsed.config.digest), f"config of {what}")
            if platform is None:
                return []
            return [index.Entry(platform, manifest.digest, manifest.media_type, len(manifest.data))]
        entries: list[index.Entry] = []
        for entry in parsed.manifests:
            if entry.attestation:
                continue
            if entry.media_type in index.INDEX_TYPES:
                if depth >= MAX_DEPTH:
                    raise index.ManifestError(f"indexes nested more than {MAX_DEPTH} deep")
                entries.extend(self._entries(ref, self._manifest(ref, entry.digest), depth + 1))
            elif entry.platform is not None:
                entries.append(index.Entry(entry.platform, entry.digest, entry.media_type, entry.size))
            elif entry.media_type in index.IMAGE_TYPES or not entry.media_type:
                # An entry without a platform: its own config says which it is.
                entries.extend(self._entries(ref, self._manifest(ref, entry.digest), depth + 1))
        return entries

    def _top(self, ref: Reference) -> Manifest:
        if ref.digest:
            return self._manifest(ref, ref.digest)
        key = str(ref)
        known = self.cache.tag(key)
        if known is not None:
            digest, _, fresh = known
            if not fresh:  # revalidate: does the tag still point to the manifest we have?
                head = self.client.head_manifest(ref)
                digest = head[0] if head is not None else ""
            cached = self.cache.manifest(digest) if digest else None
            if cached is not None:
                if not fresh:
                    self.cache.put_tag(key, digest, cached[1])
                return Manifest(cached[0], cached[1], digest)
        found = self.client.get_manifest(ref)
        self.cache.put_manifest(found.digest, found.data, found.media_type)
        self.cache.put_tag(key, found.digest, found.media_type)
        return found

    def _lookup(self, text: str, ref: Reference) -> ImageInfo:
        try:
            top = self._top(ref)
            platforms = self._entries(ref, top, 0)
        except IntegrityError as exc:
            raise ImageError(
                f"image {text}: {exc}; refusing content that does not match its digest"
            ) from None
        except RegistryError as exc:
            raise ImageError(f"image {text}: {exc}") from None
        except index.ManifestError as exc:
            raise ImageError(f"image {text}: {exc}") from None
        except Error as exc:  # credentials (AuthError) and other remote failures
            raise type(exc)(f"image {text}: {exc}") from None
        if not platforms:
            raise ImageError(
                f"image {text}: {top.digest} lists no platforms (only attestations or artifacts, "
                "or a config without os/architecture)"
            )
        size = len(top.data)
        return ImageInfo(text, ref, top.digest, top.media_type, size, tuple(platforms))

    def _needs_network(self, ref: Reference) -> bool:
        if ref.digest:
            return self.cache.manifest(ref.digest) is None
        known = self.cache.tag(str(ref))
        return known is None or not known[2]

    # -- many images --------------------------------------------------------------------------
    def inspect_all(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, ImageInfo | Error]:
        """Every reference's answer or error, each distinct image looked up once."""
        refs: dict[str, Reference] = {}
        results: dict[str, ImageInfo | Error] = {}
        for text in dict.fromkeys(texts):
            try:
                refs[text] = parse(text)
            except ReferenceError as exc:
                results[text] = ImageError(str(exc))
        by_key: dict[str, list[str]] = {}
        for text, ref in refs.items():
            by_key.setdefault(str(ref), []).append(text)
        for group in by_key.values():
            ref = refs[group[0]]
            if self._needs_network(ref):
                self.client.hint(ref)
        done = 0
        total = len(by_key)
        workers = max(1, min(MAX_WORKERS, total))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inspect") as pool:
            futures = {
                pool.submit(self._lookup, group[0], refs[group[0]]): key for key, group in by_key.items()
            }
            for future in as_completed(futures):
                group = by_key[futures[future]]
                try:
                    info = future.result()
                    for text in group:
                        results[text] = info._replace(reference=text)
                except Error as exc:
                    for text in group:
                        results[text] = (
                            exc if text == group[0] else type(exc)(str(exc).replace(group[0], text, 1))
                        )
                done += 1
                if progress is not None:
                    progress(done, total)
        return {text: results[text] for text in dict.fromkeys(texts)}


def supported(infos: Iterable[ImageInfo]) -> Mapping[str, frozenset[Any]]:
    """image as given -> the platforms it supports."""
    return {i.reference: frozenset(e.platform for e in i.platforms) for i in infos}
