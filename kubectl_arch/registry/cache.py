"""A persistent, content-addressed cache of registry answers.

Layout under ``$XDG_CACHE_HOME/kubectl-arch`` (default ``~/.cache/kubectl-arch``)::

    manifests/<algorithm>/<hex>   "<media type>\\n" + the manifest's bytes   never expires
    blobs/<algorithm>/<hex>       a config blob's bytes                       never expires
    tags/<sha256 of ref>          {"reference", "digest", "mediaType", "time"}

A tag's answer is trusted without asking the registry only while it is younger than the
tag TTL, which is 0 by default: every run asks the registry again (one HEAD), because a tag
can be moved at any time (``tagCacheSeconds``, ``--tag-cache-ttl`` make trusting it an
explicit choice). Content is checked against its digest when read, so a damaged file is a
miss, never a wrong answer. Every write goes to a temporary file renamed into place, so
concurrent runs never see half a file.

The cache is private: directories are made 0700 whatever the umask, and a directory that
another user owns or may write into is not used (otherwise another local user could plant
the tag answer that decides what ``pin`` writes). Entries are read only when they are
regular files of a sane size owned by the user (a FIFO, a device or a link is a miss). A
cache that cannot be used is skipped silently (``-v`` says so).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
import time
from typing import NamedTuple

from .. import log

DEFAULT_TAG_TTL = 0.0  # seconds: a tag's answer is checked with the registry on every run
MAX_ENTRY = 9 * 1024 * 1024  # the largest manifest or config (plus a media type line)
MAX_TAG_ENTRY = 64 * 1024
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a directory, a link)."""


def read_regular(path: str, limit: int, owner: int | None = None, follow: bool = False) -> bytes:
    """The bytes of the regular file ``path``, never blocking on a FIFO; a symbolic link is
    followed only with ``follow`` (user files such as a Docker config, not cache entries).
    NotRegular when it is not a regular file, is larger than ``limit`` bytes, or (``owner``
    given) belongs to another user; other OSErrors as raised."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise NotRegular("a symbolic link") from None
        raise exc from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular("not a regular file")
        if info.st_size > limit:
            raise NotRegular(f"larger than {limit} bytes")
        if owner is not None and info.st_uid != owner:
            raise NotRegular("owned by another user")
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise NotRegular(f"larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _make_private_dirs(path: str) -> None:
    """``mkdir -p -m 0700 path``: every directory made is 0700, whatever the umask."""
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.isdir(parent):
        _make_private_dirs(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    os.chmod(path, 0o700)


def default_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-arch")


def _hex(digest: str) -> tuple[str, str] | None:
    algorithm, _, hex_part = digest.partition(":")
    if algorithm not in ("sha256", "sha512") or not hex_part.isalnum() or not hex_part.isascii():
        return None
    return algorithm, hex_part


class TagAnswer(NamedTuple):
    """A tag's last answer: the digest and media type, and how old it is."""

    digest: str
    media_type: str
    fresh: bool  # younger than the TTL (and not refreshing): no need to ask the registry
    age: float  # seconds


class Cache:
    """The cache at ``root`` (None: nothing is cached). ``refresh`` ignores tag answers."""

    def __init__(self, root: str | None, tag_ttl: float = DEFAULT_TAG_TTL, refresh: bool = False) -> None:
        self.root = root
        self.tag_ttl = tag_ttl
        self.refresh = refresh
        self._warned = False
        self._uid = os.getuid() if hasattr(os, "getuid") else None
        self._checked: set[str] = set()  # directories known to be private
        self._lock = threading.Lock()

    def _skip(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.debug(f"cache: {why}; not caching")

    # -- directories ---------------------------------------------------------------------------
    def _private(self, directory: str, create: bool) -> bool:
        """Whether ``directory`` (the root or below it) and every directory between it and the
        root are private to this user; with ``create``, missing ones are made 0700."""
        assert self.root is not None
        with self._lock:
            if directory in self._checked:
                return True
        parts = os.path.relpath(directory, self.root).split(os.sep)
        path = self.root
        for part in ["", *[p for p in parts if p not in ("", ".")]]:
            path = os.path.join(path, part) if part else path
            if path in self._checked:
                continue
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                if not create:
                    return False
                try:
                    _make_private_dirs(path)
                    info = os.lstat(path)
                except OSError as exc:
                    self._skip(f"cannot create {path}: {exc.strerror or exc}")
                    return False
            except OSError as exc:
                self._skip(f"cannot use {path}: {exc.strerror or exc}")
                return False
            if not stat.S_ISDIR(info.st_mode):
                self._skip(f"{path} is not a directory")
                return False
            if self._uid is not None and info.st_uid != self._uid:
                self._skip(f"{path} belongs to another user")
                return False
            if info.st_mode & 0o077:
                try:
                    os.chmod(path, 0o700)  # made by an older version or under another umask
                except OSError as exc:
                    self._skip(f"{path} is open to other users and cannot be made private: {exc.strerror}")
                    return False
            with self._lock:
                self._checked.add(path)
        return True

    # -- files ---------------------------------------------------------------------------------
    def _read(self, limit: int, *parts: str) -> bytes | None:
        if self.root is None:
            return None
        path = os.path.join(self.root, *parts)
        if not self._private(os.path.dirname(path), create=False):
            return None
        try:
            return read_regular(path, limit, self._uid)
        except OSError:
            return None

    def _write(self, data: bytes, *parts: str) -> None:
        if self.root is None:
            return
        path = os.path.join(self.root, *parts)
        directory = os.path.dirname(path)
        if not self._private(directory, create=True):
            return
        try:
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
            self._skip(f"cannot write under {self.root}: {exc.strerror or exc}")

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
        raw = self._read(MAX_ENTRY, "manifests", *key)
        if raw is None:
            return None
        media_type, newline, data = raw.partition(b"\n")
        if not newline or hashlib.new(key[0], data).hexdigest() != key[1]:
            self._remove("manifests", *key)
            return None
        return data, media_type.decode("utf-8", "replace")

    def put_manifest(self, digest: str, data: bytes, media_type: str) -> None:
        """Keep a manifest; one whose media type is not a plain media type (a lone surrogate,
        a newline: whatever a registry's document declared) is not kept."""
        key = _hex(digest)
        if key is None or not _MEDIA_TYPE.fullmatch(media_type):
            return
        if hashlib.new(key[0], data).hexdigest() == key[1]:
            self._write(media_type.encode("ascii") + b"\n" + data, "manifests", *key)

    def blob(self, digest: str) -> bytes | None:
        key = _hex(digest)
        if key is None:
            return None
        data = self._read(MAX_ENTRY, "blobs", *key)
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

    def tag(self, reference: str) -> TagAnswer | None:
        """The last answer for a tag: fresh when younger than the TTL and not refreshing. A
        stale answer still says which cached manifest to revalidate."""
        raw = self._read(MAX_TAG_ENTRY, "tags", self._tag_file(reference))
        if raw is None:
            return None
        from ..jsonload import JsonError, loads
        from .reference import ReferenceError, validate_digest

        try:
            entry = loads(raw)
            if not isinstance(entry, dict) or entry.get("reference") != reference:
                return None
            digest, media_type, when = entry["digest"], entry["mediaType"], entry["time"]
            if not isinstance(digest, str) or not isinstance(media_type, str):
                return None
            validate_digest(digest)
            age = time.time() - float(when)
        except (JsonError, ReferenceError, KeyError, TypeError, ValueError, OverflowError):
            return None
        fresh = not self.refresh and 0 <= age < self.tag_ttl
        return TagAnswer(digest, media_type, fresh, age)

    def put_tag(self, reference: str, digest: str, media_type: str) -> None:
        entry = {"reference": reference, "digest": digest, "mediaType": media_type, "time": time.time()}
        self._write(json.dumps(entry).encode(), "tags", self._tag_file(reference))
