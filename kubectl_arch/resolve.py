"""Which platforms each image of a pin run supports, from one of three sources:

* **--platform alone** (no ``--from-registry``, ``--locked``): every image is taken to
  support exactly those platforms. Nothing is looked up; nothing heavy is imported.
* **the registry** (no ``--platform``, or ``--from-registry``): every distinct image is
  looked up once, concurrently; ``--platform`` is then an upper bound.
* **a lock file** (``--locked FILE``): the answers a ``--lock FILE`` run recorded; no network.

An image that cannot be looked up fails the run (exit 3; 1 when a lock file lacks it)
unless ``--on-unknown-image`` says to skip its workloads or what to assume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from . import platforms as plat
from .errors import Error, InputError
from .platforms import Platform

STATIC, REGISTRY, LOCKED = "platform", "registry", "locked"


class Policy(NamedTuple):
    action: str  # "fail", "skip" or "assume"
    assume: frozenset[Platform] = frozenset()


class Resolution(NamedTuple):
    supported: Mapping[str, frozenset[Platform]]
    bounds: list[Any]  # pin.Bound
    unknown: dict[str, str]  # image -> why it could not be looked up (its workloads are skipped)
    rewrites: dict[str, str]  # image -> its reference with the digest (--digests)
    findings: list[Any]  # scanning.Finding: failures (errors) and assumptions (warnings)
    answers: list[Any]  # registry.images.ImageInfo, for --lock

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def parse_policy(value: str) -> Policy:
    text = value.strip()
    if text in ("", "fail"):
        return Policy("fail")
    if text == "skip":
        return Policy("skip")
    if text.startswith("assume:"):
        try:
            platforms = plat.parse_list([text[len("assume:") :]])
        except plat.PlatformError as exc:
            raise InputError(f"--on-unknown-image: {exc}") from None
        return Policy("assume", platforms)
    raise InputError(f"--on-unknown-image: {value!r} is not fail, skip or assume:os/arch[,os/arch...]")


def mode(settings: Any) -> str:
    if settings.locked:
        return LOCKED
    if settings.from_registry or not settings.platforms:
        return REGISTRY
    return STATIC


def needs_images(settings: Any) -> bool:
    """Whether the images must be known before pinning: they are looked up, or replaced by
    built ones (``--images-from``); with ``--platform`` alone every image answers the same."""
    return mode(settings) != STATIC or bool(getattr(settings, "images_from", ()))


def check(settings: Any) -> None:
    """Reject options that contradict each other (InputError naming the long flags)."""
    parse_policy(settings.on_unknown_image)
    tag_cache_ttl = getattr(settings, "tag_cache_ttl", "")
    if settings.request_timeout or tag_cache_ttl:  # loaded only when there is one to read
        from . import durations

        durations.parse(settings.request_timeout)
        durations.parse(tag_cache_ttl, "--tag-cache-ttl")
    if settings.locked and settings.lock:
        raise InputError("--lock and --locked cannot be combined: --locked reads the file --lock writes")
    if settings.locked and settings.from_registry:
        raise InputError(
            "--locked reads platforms from the lock file; it cannot be combined with --from-registry"
        )
    if mode(settings) == STATIC:
        for flag, value in (
            ("--lock", settings.lock),
            ("--digests", settings.digests),
            ("--on-unknown-image", settings.on_unknown_image),
        ):
            if value:
                raise InputError(
                    f"{flag} needs images looked up: add --from-registry (--platform then bounds what "
                    "the registry says), or drop --platform"
                )


def rename(message: str, names: Mapping[str, str]) -> str:
    """A message about long flags, with each flag named as a config file spells it."""
    for flag, name in sorted(names.items(), key=lambda item: -len(item[0])):
        message = message.replace(f"--{flag}", name)
    return message


def images_of(scans: Iterable[Any]) -> list[str]:
    """Every image of every workload, each once, in order of appearance."""
    return list(dict.fromkeys(c.image for s in scans for w in s.workloads for c in w.containers))


def with_digest(image: str, digest: str) -> str:
    """``image`` as written, pinned to ``digest``: ``nginx:1.27`` -> ``nginx:1.27@sha256:...``;
    a reference without a tag gets ``:latest`` so that people (and update bots) see the tag."""
    from .registry.reference import parse

    if "@" in image:
        return image
    ref = parse(image)
    return f"{image}@{digest}" if ref.tag else f"{image}:latest@{digest}"


def resolve(
    settings: Any,
    scans: Iterable[Any],
    progress: Callable[[int, int], None] | None = None,
    command: str = "pin",
) -> Resolution:
    """The platforms of every image of ``scans``, for ``command`` (pin or check: how the
    failure summary words what did not happen)."""
    from . import pin
    from .manifest import scan as scanning

    scans = list(scans)
    check(settings)
    try:
        platforms = plat.parse_list(settings.platforms)
    except plat.PlatformError as exc:
        raise InputError(f"--platform: {exc}") from None
    source = mode(settings)
    images = images_of(scans) if needs_images(settings) else []
    built, notes = _built(settings, images)
    if source == STATIC:
        return Resolution(pin.AllImages(platforms), [], {}, built, notes, [])
    targets = list(dict.fromkeys(built.get(image, image) for image in images))
    answers: Mapping[str, Any]
    if source == LOCKED:
        from . import lock

        locked = lock.load(settings.locked)
        answers = {target: locked.answer(target) for target in targets}
    else:
        answers = _look_up(settings, targets, progress)
    policy = parse_policy(settings.on_unknown_image)
    supported: dict[str, frozenset[Platform]] = {}
    unknown: dict[str, str] = {}
    rewrites: dict[str, str] = dict(built)
    findings: list[Any] = list(notes)
    found: list[Any] = []
    for image in images:
        target = built.get(image, image)
        answer = answers[target]
        if not isinstance(answer, Error):
            if not any(a is answer for a in found):
                found.append(answer)
            supported[image] = frozenset(e.platform for e in answer.platforms)
            if settings.digests:
                rewrites[image] = with_digest(target, answer.digest)
            continue
        if policy.action == "fail":
            findings.append(scanning.Finding("error", str(answer), exit_code=answer.exit_code))
        elif policy.action == "skip":
            unknown[image] = str(answer)
        else:
            supported[image] = policy.assume
            findings.append(
                scanning.Finding("warning", f"{answer}; assuming {plat.format_list(policy.assume)}")
            )
    if any(f.severity == "error" for f in findings):
        flag = "--on-unknown-image=skip or --on-unknown-image=assume:os/arch[,...]"
        done, does = ("checked", "checks") if command == "check" else ("pinned", "pins")
        findings.append(
            scanning.Finding(
                "error",
                f"{len(findings)} image(s) could not be looked up; "
                f"nothing was {done} ({flag} {does} the rest)",
                exit_code=findings[0].exit_code,
            )
        )
    bounds = (
        [pin.Bound("--platform", frozenset(p.node for p in platforms), _bound_builds(platforms))]
        if platforms
        else []
    )
    return Resolution(supported, bounds, unknown, rewrites, findings, found)


def _bound_builds(platforms: frozenset[Platform]) -> dict[tuple[str, str], plat.HostBuilds]:
    """The Windows host builds a ``--platform`` bound allows (``windows(10.0.20348)/amd64``),
    per node platform: those that run an image of the builds named, as when ``--platform``
    alone says what the images support (a build in ``--platform`` is always the image's
    ``os.version``); a Windows platform also given without a build is not limited."""
    versions: dict[tuple[str, str], list[str]] = {}
    open_ended = {p.node for p in platforms if p.os == "windows" and not p.os_version}
    for p in platforms:
        if p.os == "windows" and p.os_version and p.node not in open_ended:
            versions.setdefault(p.node, []).append(p.os_version)
    out = {}
    for node, found in versions.items():
        hosts = plat.windows_hosts(found)
        if hosts is not None:
            out[node] = hosts
    return out


def _built(settings: Any, images: list[str]) -> tuple[dict[str, str], list[Any]]:
    """``--images-from``: image -> the built reference replacing it, and a warning for each
    artifact that matches no image."""
    paths = tuple(getattr(settings, "images_from", ()) or ())
    if not paths:
        return {}, []
    from . import artifacts
    from .manifest import scan as scanning

    loaded = artifacts.load_all(paths)
    replaced, unused = artifacts.match(images, loaded)
    notes = [
        scanning.Finding("warning", f"{a.source}: {a.image_name} matches no image of the manifests")
        for a in unused
    ]
    return replaced, notes


def _look_up(
    settings: Any, images: list[str], progress: Callable[[int, int], None] | None
) -> Mapping[str, Any]:
    from . import registry

    options = registry.Settings(
        insecure=tuple(settings.insecure_registries),
        ca_file=settings.registry_ca_file,
        timeout=registry.timeout(settings.request_timeout),
        refresh=settings.refresh,
        tag_ttl=registry.tag_ttl(getattr(settings, "tag_cache_ttl", "")),
    )
    inspector = registry.open_inspector(options)
    try:
        return inspector.inspect_all(images, progress)
    finally:
        inspector.client.close()
