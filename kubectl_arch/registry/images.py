"""Which platforms images support: references in, platforms (with digests) out.

Each distinct image is looked up once per run, concurrently (the client bounds requests
per host), and each manifest digest is read and expanded once per run whatever the number
of indexes that list it. What a look-up costs, with a warm cache:

* a digest reference: nothing (manifests by digest never change);
* a tag: one HEAD, to learn whether it still points to the cached manifest (a GET where the
  registry does not support HEAD), unless its answer is younger than the tag TTL
  (``tagCacheSeconds``, ``--tag-cache-ttl``; 0 by default), which costs nothing and is said
  on stderr;
* anything else: one GET of the manifest, plus the config blob of a single-platform
  manifest or of an index entry without a platform, the children of nested indexes, and the
  manifests of the index entries that must be opened to know they are images (below).

An index entry that is an artifact is not a platform even when it carries one (an SBOM
tagged linux/arm64 beside an amd64 image). The index says so for most (``artifactType``, a
media type that is not a manifest's); for the rest only the entry's manifest says it (its
``artifactType``, or a config that is not an image config). An entry is taken for an image
without opening it when the index vouches for it: a BuildKit attestation in the same index
names it (``vnd.docker.reference.digest``; BuildKit attests images only), or it is a Docker
schema 2 manifest (a format without artifacts). Any other entry with a platform (an OCI
manifest in an index without attestations) is opened: one GET per such entry the first time
its digest is seen, never again (manifests by digest are cached for good).

An Inspector made with ``trust_platforms`` (``audit``, which looks up every image of a
cluster at once) opens none of those: it takes an index entry for the image its descriptor
says it is when the descriptor has a ``platform``, an image manifest media type (OCI or
Docker schema 2), no ``artifactType``, no BuildKit attestation annotation
(``vnd.docker.reference.type``) and a platform other than ``unknown/unknown``. The OCI
image-index specification defines an entry's ``platform`` as "the minimum runtime
requirements of the image" and gives artifacts ``artifactType``; containerd, selecting the
manifest to pull for a node, trusts the descriptor's platform in the same way and reads a
config only when the platform is absent. A cold image then costs one request (its index),
or two (a single manifest and its config). What it gives up, and ``inspect``, ``pin`` and
``check`` keep: an artifact listed with a platform and without ``artifactType`` in its
descriptor (only its own manifest says it is one) counts as that platform, and an entry
labelled a manifest whose content is an index is not followed.

Indexes nest at most :data:`MAX_DEPTH` deep below the top, whatever their entries claim to
be: an entry labelled a manifest whose content is an index counts as a level too.

Errors name the image and carry the exit code of their kind: an invalid reference is an
input error (2), an image that has no runnable platform or declares an invalid one is a
problem of the image (1), everything else a remote failure (3), including a fault of this
program met while looking one image up (every image's look-up is guarded on its own, so one
image never costs the others their answers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any, NamedTuple

from .. import log
from ..errors import ConflictError, Error, InputError, RemoteError
from ..safetext import printable
from . import index
from .cache import Cache
from .client import Client, IntegrityError, Manifest, RegistryError
from .reference import Reference, ReferenceError, parse

MAX_DEPTH = 4  # nested indexes followed
MAX_WORKERS = 32


class ImageError(RemoteError):
    """An image that could not be inspected (exit 3); the message names it and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class ContentError(ConflictError):
    """An image whose content cannot say where it runs (exit 1): no runnable platform, or
    an invalid one. The message names it."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class ImageInfo(NamedTuple):
    reference: str  # as given
    resolved: Reference
    digest: str
    media_type: str
    size: int
    platforms: tuple[index.Entry, ...]
    cached_age: float | None = None  # seconds: answered from the cache without asking the registry

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "resolved": str(self.resolved),
            "digest": self.digest,
            "mediaType": self.media_type,
            "platforms": [index.platform_json(e) for e in self.platforms],
        }


class _TooDeep(index.ManifestError):
    """Indexes nested deeper than MAX_DEPTH below where the look-up met them (not
    remembered: the same index may be within the limit when met higher up)."""


class _Mislabeled(Exception):
    """An index entry labelled a manifest whose content is an index."""

    def __init__(self, manifest: Manifest) -> None:
        super().__init__(manifest.digest)
        self.manifest = manifest


class _Expansion(NamedTuple):
    entries: tuple[index.Entry, ...]
    height: int  # levels of indexes at and below the manifest (0: an image)


def _unique(entries: Iterable[index.Entry]) -> tuple[index.Entry, ...]:
    return tuple(dict.fromkeys(entries))


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Inspector:
    """Looks images up through a client and a cache; thread-safe, memoised per reference and
    per manifest digest."""

    def __init__(self, client: Client, cache: Cache, trust_platforms: bool = False) -> None:
        self.client = client
        self.cache = cache
        self.trust_platforms = trust_platforms  # see the module's docstring
        self._lock = threading.Lock()
        self._digest_locks: dict[str, threading.Lock] = {}
        self._expanded: dict[str, _Expansion | Exception] = {}

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

    def _expand(
        self, ref: Reference, digest: str, depth: int, manifest: Manifest | None = None
    ) -> _Expansion:
        """The platforms of the manifest ``digest``, read and expanded once per run."""
        with self._lock:
            lock = self._digest_locks.setdefault(digest, threading.Lock())
        with lock:  # a digest cannot list itself, so no cycle of these locks can form
            done = self._expanded.get(digest)
            if done is None:
                try:
                    found = manifest if manifest is not None else self._manifest(ref, digest)
                    done = self._entries(ref, found, depth)
                except _TooDeep:
                    raise
                except (Error, index.ManifestError) as exc:
                    done = exc
                self._expanded[digest] = done
        if isinstance(done, Exception):
            raise done
        if depth + done.height - 1 > MAX_DEPTH:
            raise _TooDeep(f"indexes nested more than {MAX_DEPTH} deep")
        return done

    def _is_image(self, ref: Reference, descriptor: index.Descriptor, depth: int) -> bool:
        """Whether an index entry with a platform, not vouched for by its index, is an image:
        its manifest is opened (once per digest, cached for good). An entry whose content is
        an index after all is followed as one, within the depth limit."""
        with self._lock:
            lock = self._digest_locks.setdefault(descriptor.digest, threading.Lock())
        with lock:
            manifest = self._manifest(ref, descriptor.digest)
        parsed = index.parse(manifest.data, manifest.media_type, f"manifest {descriptor.digest}")
        if isinstance(parsed, index.Index):
            raise _Mislabeled(manifest)
        return not index.image_manifest_is_artifact(parsed)

    def _entries(self, ref: Reference, manifest: Manifest, depth: int) -> _Expansion:
        what = f"manifest {manifest.digest}"
        parsed = index.parse(manifest.data, manifest.media_type, what)
        if isinstance(parsed, index.Image):
            if index.image_manifest_is_artifact(parsed):
                return _Expansion((), 0)  # an artifact (signature, chart, SBOM), not a container image
            platform = index.config_platform(self._config(ref, parsed.config.digest), f"config of {what}")
            if platform is None:
                return _Expansion((), 0)
            entry = index.Entry(platform, manifest.digest, manifest.media_type, len(manifest.data))
            return _Expansion((entry,), 0)
        if depth > MAX_DEPTH:  # met as an index, whatever the entry that led here said
            raise _TooDeep(f"indexes nested more than {MAX_DEPTH} deep")
        vouched = {d.subject for d in parsed.manifests if d.attestation and d.subject}
        entries: list[index.Entry] = []
        height = 0
        for descriptor in dict.fromkeys(parsed.manifests):
            if descriptor.attestation or descriptor.artifact:
                continue
            below: _Expansion | None = None
            if descriptor.media_type in index.INDEX_TYPES:
                below = self._expand(ref, descriptor.digest, depth + 1)
            elif descriptor.platform is not None:
                trusted = (
                    descriptor.media_type == index.DOCKER_MANIFEST
                    or descriptor.digest in vouched
                    or (self.trust_platforms and descriptor.media_type in index.IMAGE_TYPES)
                )
                try:
                    if not trusted and not self._is_image(ref, descriptor, depth):
                        continue  # an artifact tagged with a platform
                except _Mislabeled as mislabeled:
                    below = self._expand(ref, descriptor.digest, depth + 1, mislabeled.manifest)
                else:
                    entries.append(
                        index.Entry(
                            descriptor.platform, descriptor.digest, descriptor.media_type, descriptor.size
                        )
                    )
            elif descriptor.media_type in index.IMAGE_TYPES or not descriptor.media_type:
                # An entry without a usable platform: its own config says which it is (and if
                # it is an index after all, it is one more level).
                below = self._expand(ref, descriptor.digest, depth + 1)
            if below is not None:
                entries.extend(below.entries)
                height = max(height, below.height)
        return _Expansion(_unique(entries), height + 1)

    def _top(self, ref: Reference) -> tuple[Manifest, float | None]:
        """The manifest ``ref`` points to, and the age of the cached tag answer when it was
        trusted without asking the registry."""
        if ref.digest:
            return self._manifest(ref, ref.digest), None
        key = str(ref)
        known = self.cache.tag(key)
        if known is not None:
            if known.fresh:
                cached = self.cache.manifest(known.digest)
                if cached is not None:
                    return Manifest(cached[0], cached[1], known.digest), known.age
            else:  # revalidate: does the tag still point to the manifest we have?
                head = self.client.head_manifest(ref)
                if head.manifest is not None:
                    return self._remember(key, head.manifest), None
                cached = self.cache.manifest(head.digest)
                if cached is not None:
                    self.cache.put_tag(key, head.digest, cached[1])
                    return Manifest(cached[0], cached[1], head.digest), None
                # What the HEAD named, by digest: the tag may move in between.
                return self._remember(key, self.client.get_manifest(ref.with_digest(head.digest))), None
        return self._remember(key, self.client.get_manifest(ref)), None

    def _remember(self, key: str, found: Manifest) -> Manifest:
        self.cache.put_manifest(found.digest, found.data, found.media_type)
        self.cache.put_tag(key, found.digest, found.media_type)
        return found

    def _lookup(self, text: str, ref: Reference) -> ImageInfo:
        try:
            with self.client.budget():
                top, age = self._top(ref)
                platforms = self._expand(ref, top.digest, 0, top).entries
        except IntegrityError as exc:
            raise ImageError(
                f"image {text}: {exc}; refusing content that does not match its digest"
            ) from None
        except RegistryError as exc:
            raise ImageError(f"image {text}: {exc}") from None
        except index.PlatformValueError as exc:
            raise ContentError(f"image {text}: {exc}; the image must be fixed") from None
        except index.ManifestError as exc:
            raise ImageError(f"image {text}: {exc}") from None
        except Error as exc:  # credentials (AuthError) and other remote failures
            raise type(exc)(f"image {text}: {exc}") from None
        except Exception as exc:  # a fault met looking one image up never costs the others theirs
            detail = printable(log.redact(str(exc).splitlines()[0][:200] if str(exc) else ""))
            raise ImageError(
                f"image {text}: unexpected {type(exc).__name__} while looking it up"
                + (f": {detail}" if detail else "")
            ) from None
        if not platforms:
            raise ContentError(
                f"image {text}: {top.digest} lists no platform to run (only attestations or artifacts, "
                "or a config without os/architecture)"
            )
        size = len(top.data)
        return ImageInfo(text, ref, top.digest, top.media_type, size, tuple(platforms), age)

    def _needs_network(self, ref: Reference) -> bool:
        if ref.digest:
            return self.cache.manifest(ref.digest) is None
        known = self.cache.tag(str(ref))
        return known is None or not known.fresh

    # -- many images --------------------------------------------------------------------------
    def inspect_all(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        note_cached: bool = True,
    ) -> dict[str, ImageInfo | Error]:
        """Every reference's answer or error, each distinct image looked up once. An
        interrupt (Ctrl-C) returns at once: look-ups still running are abandoned.
        ``note_cached``: say on stderr how many answers came from the cache (a caller looking
        images up in several batches says it once, with :func:`note_cached_answers`)."""
        refs: dict[str, Reference] = {}
        results: dict[str, ImageInfo | Error] = {}
        for text in dict.fromkeys(texts):
            try:
                refs[text] = parse(text)
            except ReferenceError as exc:
                results[text] = InputError(printable(str(exc)))
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
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inspect")
        try:
            futures: dict[Future[ImageInfo], str] = {
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
        finally:
            # On an interrupt, do not wait for look-ups blocked in the network: the process
            # exits without them.
            pool.shutdown(wait=False, cancel_futures=True)
        answered = {text: results[text] for text in dict.fromkeys(texts)}
        if note_cached:
            note_cached_answers(answered.values(), self.cache.tag_ttl)
        return answered


def note_cached_answers(results: Iterable[ImageInfo | Error], ttl: float) -> None:
    """Say on stderr when answers came from the cache without asking the registry."""
    cached = {id(r): r for r in results if isinstance(r, ImageInfo) and r.cached_age is not None}
    if not cached:
        return
    oldest = max(r.cached_age or 0.0 for r in cached.values())
    log.line(
        f"note: {len(cached)} image tag(s) answered from the cache without asking the registry "
        f"(checked up to {_age(oldest)} ago; tag answers are trusted for {_age(ttl)}); "
        "--refresh asks again"
    )


def supported(infos: Iterable[ImageInfo]) -> Mapping[str, frozenset[Any]]:
    """image as given -> the platforms it supports."""
    return {i.reference: frozenset(e.platform for e in i.platforms) for i in infos}
