"""A persistent, content-addressed cache of registry answers.

Layout under ``$XDG_CACHE_HOME/kubectl-arch`` (default ``~/.cache/kubectl-arch``)::

    manifests/sha256/<hex>   "<media type>\\n" + the manifest's bytes   never expires
    blobs/sha256/<hex>       a config blob's bytes                       never expires
    tags/<sha256 of ref>     {"reference", "digest", "mediaType", "time"}   expires after the TTL

Content is checked against its digest when read, so a damaged file is a miss, never a wrong
answer. Every write goes to a temporary file renamed into place, so concurrent runs never
see half a file. A cache that cannot be written is skipped silently (``-v`` says so).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time

from .. import log

DEFAULT_TAG_TTL = 300.0  # seconds


def default_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-arch")


def _hex(digest: str) -> tuple[str, str] | None:
    algorithm, _, hex_part = digest.partition(":")
    if algorithm not in ("sha256", "sha512") or not hex_part.isalnum():
        return None
    return algorithm, hex_part


class Cache:
    """The cache at ``root`` (None: nothing is cached). ``refresh`` ignores tag answers."""

    def __init__(self, root: str | None, tag_ttl: float = DEFAULT_TAG_TTL, refresh: bool = False) -> None:
        self.root = root
        self.tag_ttl = tag_ttl
        self.refresh = refresh
        self._warned = False

    # -- files -----------------------------------------------------------------------------
    def _read(self, *parts: str) -> bytes | None:
        if self.root is None:
            return None
        try:
            with open(os.path.join(self.root, *parts), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def _write(self, data: bytes, *parts: str) -> None:
        if self.root is None:
            return
        path = os.path.join(self.root, *parts)
        directory = os.path.dirname(path)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.debug(f"cache: cannot write under {self.root}: {exc.strerror or exc}; not caching")

    def _remove(self, *parts: str) -> None:
        if self.root is not None:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.root, *parts))

    # -- content by digest ------------------------------------------------------------------
    def manifest(self, digest: str) -> tuple[bytes, str] | None:
        """(bytes, media type) of a manifest seen before, checked against its digest."""
        key = _hex(digest)
        if key is None:
            return None
        raw = self._read("manifests", *key)
        if raw is None:
            return None
        media_type, newline, data = raw.partition(b"\n")
        if not newline or hashlib.new(key[0], data).hexdigest() != key[1]:
            self._remove("manifests", *key)
            return None
        return data, media_type.decode("utf-8", "replace")

    def put_manifest(self, digest: str, data: bytes, media_type: str) -> None:
        key = _hex(digest)
        if key is not None and hashlib.new(key[0], data).hexdigest() == key[1]:
            self._write(media_type.encode() + b"\n" + data, "manifests", *key)

    def blob(self, digest: str) -> bytes | None:
        key = _hex(digest)
        if key is None:
            return None
        data = self._read("blobs", *key)
        if data is None:
            return None
        if hashlib.new(key[0], data).hexdigest() != key[1]:
            self._remove("blobs", *key)
            return None
        return data

    def put_blob(self, digest: str, data: bytes) -> None:
        key = _hex(digest)
        if key is not None and hashlib.new(key[0], data).hexdigest() == key[1]:
            self._write(data, "blobs", *key)

    # -- tag -> digest answers ----------------------------------------------------------------
    @staticmethod
    def _tag_file(reference: str) -> str:
        return hashlib.sha256(reference.encode()).hexdigest()

    def tag(self, reference: str) -> tuple[str, str, bool] | None:
        """(digest, media type, fresh) of the last answer for a tag: fresh when younger than the
        TTL and not refreshing. A stale answer still says which cached manifest to revalidate."""
        raw = self._read("tags", self._tag_file(reference))
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            if entry["reference"] != reference:
                return None
            age = time.time() - float(entry["time"])
            fresh = not self.refresh and 0 <= age < self.tag_ttl
            return str(entry["digest"]), str(entry["mediaType"]), fresh
        except (ValueError, KeyError, TypeError):
            return None

    def put_tag(self, reference: str, digest: str, media_type: str) -> None:
        entry = {"reference": reference, "digest": digest, "mediaType": media_type, "time": time.time()}
        self._write(json.dumps(entry).encode(), "tags", self._tag_file(reference))
