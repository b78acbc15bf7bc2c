"""Lock files: the registry's answers of one run (image -> digest -> platforms), written by
``pin --lock FILE`` and read by ``pin --locked FILE``, which then needs no network at all.

The format is JSON (so also YAML), keys sorted, one entry per normalised reference::

    {
      "apiVersion": "kubectl-arch.dev/v1alpha1",
      "kind": "PlatformLock",
      "images": {
        "docker.io/library/nginx:1.27": {
          "digest": "sha256:...",
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "platforms": [{"os": "linux", "architecture": "amd64", "digest": "sha256:...", "mediaType": "..."}]
        }
      }
    }

A reference with a digest is answered by any entry of the same repository and digest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConflictError, InputError

API_VERSION = "kubectl-arch.dev/v1alpha1"
KIND = "PlatformLock"


def dumps(infos: Iterable[Any]) -> bytes:
    """The lock file text for ``ImageInfo`` answers."""
    from .registry.index import platform_json

    images: dict[str, Any] = {}
    for info in infos:
        images[str(info.resolved)] = {
            "digest": info.digest,
            "mediaType": info.media_type,
            "platforms": [platform_json(e) for e in info.platforms],
        }
    document = {"apiVersion": API_VERSION, "kind": KIND, "images": dict(sorted(images.items()))}
    return (json.dumps(document, indent=2) + "\n").encode()


class Lock:
    """A lock file read into memory."""

    def __init__(self, path: str, images: Mapping[str, Any]) -> None:
        self.path = path
        self.images = images

    def answer(self, text: str) -> Any:
        """The ``ImageInfo`` for an image as written in a manifest; ConflictError (exit 1)
        when the lock does not have it."""
        from .registry import index
        from .registry.images import ImageError, ImageInfo
        from .registry.reference import ReferenceError, parse

        try:
            ref = parse(text)
        except ReferenceError as exc:
            return ImageError(str(exc))
        entry = self.images.get(str(ref))
        if entry is None and ref.digest:
            entry = next(
                (
                    e
                    for key, e in self.images.items()
                    if isinstance(e, dict) and e.get("digest") == ref.digest and parse(key).name == ref.name
                ),
                None,
            )
        if entry is None:
            return ConflictError(
                f"image {text}: not in lock file {self.path}; "
                f"update it with kubectl arch pin --lock {self.path}"
            )
        try:
            platforms = tuple(index.entry_from_json(p) for p in entry["platforms"])
            return ImageInfo(text, ref, str(entry["digest"]), str(entry.get("mediaType") or ""), 0, platforms)
        except (index.ManifestError, KeyError, TypeError) as exc:
            return InputError(f"{self.path}: entry {str(ref)!r}: {exc}")


def load(path: str) -> Lock:
    from .jsonload import JsonError, loads
    from .manifest import files

    if not os.path.exists(path):
        raise InputError(f"{path}: no such lock file (write one with kubectl arch pin --lock {path})")
    data = files.read_sources([path])[0].text
    try:
        document = loads(data)
    except JsonError as exc:
        raise InputError(f"{path}: not a lock file ({exc})") from None
    if (
        not isinstance(document, dict)
        or document.get("kind") != KIND
        or document.get("apiVersion") != API_VERSION
    ):
        raise InputError(f"{path}: not a {API_VERSION} {KIND} file")
    images = document.get("images")
    if not isinstance(images, dict):
        raise InputError(f"{path}: 'images' must be a mapping")
    from .registry.reference import ReferenceError, parse

    for key in images:
        try:
            parse(key)
        except ReferenceError as exc:
            raise InputError(f"{path}: {exc}") from None
    return Lock(path, images)


def write(path: str, infos: Iterable[Any]) -> None:
    """Write the lock file atomically: a temporary file renamed into place (mode kept, 0644
    for a new file), so a failed run leaves the old file as it was. Only a regular file (or a
    symlink to one) is replaced."""
    from .manifest import files

    files.write_atomic(path, dumps(infos), "--lock")
