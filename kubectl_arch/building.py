"""The build pipeline: run the builder (:mod:`.builders`, :mod:`.buildrun`), check every
pushed image's platform, and stitch them into one index (:mod:`.stitch`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import builders, buildrun, stitch
from .errors import ConflictError
from .platforms import Platform, format_list, matches
from .registry import index
from .registry.client import Client, RegistryError
from .registry.reference import Reference


class Row(NamedTuple):
    platform: str
    digest: str  # "" when it failed
    seconds: float
    error: str = ""


class Result(NamedTuple):
    final: Reference | None  # the tag with the index digest; None when something failed
    rows: tuple[Row, ...]
    pushed: bool = True  # False when the tag already pointed to the same index
    warnings: tuple[str, ...] = ()
    left: Reference | None = None  # where an incomplete image was left (never the tag itself)
    moved: str = ""  # a failed build that moved the tag anyway: what the tag holds now
    before: str = ""  # with ``moved``: the digest the tag held before ("" when it did not exist)


class Plan(NamedTuple):
    builder: str
    request: builders.Request
    platforms: tuple[Platform, ...]
    target: Reference  # REGISTRY/NAME:TAG
    concurrency: int = 0  # 0: every platform at once
    index_format: str = ""  # "", "oci" or "docker"
    keep_platform_tags: bool = True
    custom_multi_platform: bool = False


def _multi_platform(plan: Plan, client: Client, target: Reference) -> Result:
    """A builder that pushes an index itself pushes it under a temporary tag; the tag moves
    to it only once it has every platform asked for, so a failed or incomplete build never
    changes what the tag holds."""
    import secrets

    temporary = builders.temporary_tag(target.tag, secrets.token_hex(4))
    staged = target._replace(tag=temporary)
    steps = builders.multi_platform_steps(plan.builder, plan.request._replace(tag=temporary), plan.platforms)
    name = ",".join(str(p) for p in plan.platforms)
    outcome = buildrun.run_steps(name, steps)
    error = outcome.error
    children: list[stitch.Child] = []
    built: Reference | None = None
    if not error:
        try:
            built, children = stitch.verify_index(client, staged, plan.platforms, plan.builder)
        except (ConflictError, RegistryError) as exc:
            error = str(exc)
    if error or built is None:
        return Result(None, (Row(name, "", outcome.seconds, error),), left=_leftover(client, staged))
    moved = stitch.move_tag(client, built, target)
    warnings: list[str] = []
    try:
        client.delete_tag(staged)
    except RegistryError as exc:
        warnings.append(f"kept the temporary tag {temporary}: {exc}")
    rows = tuple(Row(str(c.platform), c.ref.digest, outcome.seconds) for c in children)
    return Result(moved.ref, rows, moved.pushed, tuple(warnings))


def _leftover(client: Client, staged: Reference) -> Reference | None:
    """Delete a temporary tag; ``staged`` when it is still there (registries that cannot
    delete tags), None when it is gone or was never pushed."""
    try:
        client.delete_tag(staged)
        return None
    except RegistryError as exc:
        if exc.status == 404:
            return None
    try:
        client.head_manifest(staged)
    except RegistryError as exc:
        return None if exc.status == 404 else staged
    return staged


def _tag_digest(client: Client, target: Reference) -> str | None:
    """The digest ``target``'s tag points to ("" when there is no such tag); None when the
    registry would not say."""
    try:
        return client.head_manifest(target).digest
    except RegistryError as exc:
        return "" if exc.status == 404 else None


def _holds(client: Client, ref: Reference, wanted: Sequence[Platform]) -> str:
    """What the manifest ``ref`` (by digest) holds: ``sha256:... (linux/amd64; without
    linux/arm64)``, the platforms asked for that it lacks named."""
    try:
        manifest = client.get_manifest(ref)
        parsed = index.parse(manifest.data, manifest.media_type, str(ref))
        if isinstance(parsed, index.Index):
            have = [
                d.platform
                for d in parsed.manifests
                if d.platform is not None and not d.attestation and not d.artifact
            ]
        else:
            found = index.config_platform(client.get_blob(ref, parsed.config.digest))
            have = [found] if found is not None else []
    except (RegistryError, index.ManifestError):
        return ref.digest
    missing = [p for p in wanted if not any(matches(p, h) and matches(h, p) for h in have)]
    text = format_list(have) if have else "no platform"
    return f"{ref.digest} ({text}" + (f"; without {format_list(missing)})" if missing else ")")


def run(plan: Plan, client: Client) -> Result:
    """Build, check and push; a Result with ``final`` None when any platform failed (then
    nothing was pushed under the tag by this program). A builder that pushes the tag itself
    (ignoring the temporary tag it was given) may still have moved it: the tag's digest is
    compared before and after, and ``Result.moved`` says what it holds then.
    BuilderError for a plan the builder cannot do."""
    target = plan.target._replace(digest="")
    before = _tag_digest(client, target)
    result = _build(plan, client, target)
    if result.final is None and before is not None:
        after = _tag_digest(client, target)
        if after and after != before:
            holds = _holds(client, target.with_digest(after), plan.platforms)
            result = result._replace(moved=holds, before=before)
    return result


def _build(plan: Plan, client: Client, target: Reference) -> Result:
    if builders.is_multi_platform(plan.builder, plan.custom_multi_platform):
        return _multi_platform(plan, client, target)

    refs = [target._replace(tag=builders.platform_tag(target.tag, p)) for p in plan.platforms]
    steps_of = [builders.platform_steps(plan.builder, plan.request, p) for p in plan.platforms]

    def job(
        platform: Platform, ref: Reference, steps: Sequence[builders.Step]
    ) -> tuple[Row, stitch.Child | None]:
        outcome = buildrun.run_steps(str(platform), steps)
        if outcome.error:
            return Row(str(platform), "", outcome.seconds, outcome.error), None
        try:
            child = stitch.verify_child(client, ref, platform, plan.builder)
        except (ConflictError, RegistryError) as exc:
            return Row(str(platform), "", outcome.seconds, str(exc)), None
        return Row(str(platform), child.ref.digest, outcome.seconds), child

    jobs = [
        (str(p), (lambda p=p, r=r, s=s: job(p, r, s)))
        for p, r, s in zip(plan.platforms, refs, steps_of, strict=True)
    ]
    done = buildrun.run_all(jobs, plan.concurrency or len(jobs))
    rows = tuple(row for row, _ in done)
    children = [child for _, child in done if child is not None]
    if len(children) != len(done):
        return Result(None, rows)
    stitched = stitch.push_index(client, target, children, plan.index_format)
    warnings: list[str] = []
    if not plan.keep_platform_tags:
        warnings = stitch.delete_platform_tags(client, refs)
    return Result(stitched.ref, rows, stitched.pushed, tuple(warnings))
