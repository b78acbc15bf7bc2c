"""Build artifacts files (``--images-from``): Skaffold's ``--file-output`` format, which
``kubectl arch build --file-output`` also writes::

    {"builds": [{"imageName": "ghcr.io/org/app", "tag": "ghcr.io/org/app:v1@sha256:..."}]}

:func:`load` reads and checks one; :func:`match` (pure) says which images of the manifests
they replace: an image matches an artifact when its repository is the artifact's
``imageName`` (normalized as Docker does, so ``nginx`` matches ``docker.io/library/nginx``),
whatever its tag or digest, as Skaffold replaces images on deploy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .errors import InputError


class Artifact(NamedTuple):
    source: str  # the file and entry, for messages: "build.json builds[0]"
    name: str  # normalized repository: "docker.io/library/nginx"
    image_name: str  # as written
    tag: str  # the full reference images are replaced with


def load(path: str) -> list[Artifact]:
    from .registry.reference import ReferenceError, parse

    where = f"--images-from {path}"
    from .jsonload import JsonError, loads
    from .manifest import files

    try:
        raw = files.read_sources([path])[0].text
    except InputError as exc:
        raise InputError(f"--images-from {exc}") from None
    try:
        document = loads(raw)
    except JsonError as exc:
        raise InputError(f"{where}: {exc}") from None
    builds = document.get("builds") if isinstance(document, dict) else None
    if not isinstance(builds, list):
        raise InputError(f'{where}: expected {{"builds": [{{"imageName": ..., "tag": ...}}]}}')
    out = []
    for i, entry in enumerate(builds):
        source = f"{where} builds[{i}]"
        if not isinstance(entry, dict):
            raise InputError(f"{source}: expected an object with imageName and tag")
        image_name, tag = entry.get("imageName"), entry.get("tag")
        if not isinstance(image_name, str) or not image_name:
            raise InputError(f"{source}: imageName must be a non-empty string")
        if not isinstance(tag, str) or not tag:
            raise InputError(f"{source}: tag must be a non-empty string")
        try:
            name = parse(image_name)
        except ReferenceError as exc:
            raise InputError(f"{source}: imageName: {exc}") from None
        if name.digest or ":" in image_name.rsplit("/", 1)[-1]:
            raise InputError(f"{source}: imageName {image_name!r} must be a name without tag or digest")
        try:
            ref = parse(tag)
        except ReferenceError as exc:
            raise InputError(f"{source}: tag: {exc}") from None
        if ref.name != name.name:
            raise InputError(f"{source}: tag {tag!r} is not an image of {image_name!r}")
        out.append(Artifact(source, name.name, image_name, tag))
    return out


def load_all(paths: Sequence[str]) -> list[Artifact]:
    """Every file's artifacts; a later file's entry for a name replaces an earlier one."""
    return [a for path in paths for a in load(path)]


def match(images: Iterable[str], artifacts: Sequence[Artifact]) -> tuple[dict[str, str], list[Artifact]]:
    """``(image -> replacement, artifacts that matched no image)``; images that are not valid
    references match nothing (pin reports them elsewhere)."""
    from .registry.reference import ReferenceError, parse

    by_name = {a.name: a for a in artifacts}
    used: set[str] = set()
    out: dict[str, str] = {}
    for image in images:
        try:
            name = parse(image).name
        except ReferenceError:
            continue
        artifact = by_name.get(name)
        if artifact is not None:
            used.add(name)
            out[image] = artifact.tag
    unused = [a for a in by_name.values() if a.name not in used]
    return out, unused
