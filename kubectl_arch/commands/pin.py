"""``kubectl arch pin``: flags in, pinned manifests out."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

from .. import config, log
from .. import pin as pinning
from ..errors import EXIT_OK, EXIT_PROBLEM, InputError
from ..manifest import files as manifests
from ..manifest import scan as scanning
from . import (
    check_platforms,
    complete_with,
    filename_option,
    images_from_option,
    input_files,
    krm_exit,
    locked_option,
    on_unknown_image_option,
    pod_template_path_option,
    recursive_option,
    say,
    value_check,
)
from ._registry import registry_options
from .clusteropts import cluster_options

HELP = """Pin workloads to the platforms their images support.

Adds kubernetes.io/os and kubernetes.io/arch requirements to every workload's required
node affinity (merged into each existing term, intersected with existing constraints and
the nodeSelector), so pods only land on nodes that can run all of their images. Only the
affinity (and, with --digests, the image fields; with --tolerate-arch-taints, the
tolerations) changes: every other byte, comment and document stays as it was.

\b
Where the platforms come from:
  no --platform           every image is looked up in its registry; each workload gets
                          the intersection of what its images support
  --platform P            every image is taken to support P; no registry is contacted
  --platform P --from-registry
                          images are looked up, and P is an upper bound
  --locked FILE           the answers a --lock FILE run recorded; no network

With --cluster, each workload is also limited to the platforms the cluster has Ready
nodes for (read with the kubeconfig, like kubectl). With --tolerate-arch-taints, each
workload also tolerates the platform taints (kubernetes.io/arch=arm64:NoSchedule,
node.kubernetes.io/os=windows:NoSchedule) of the platforms it is pinned to and of no
other, unless an existing toleration already does: taints found on the cluster's nodes
(--cluster) or given with --arch-taint.

Input: -f FILE|DIR|- (repeatable, -R to recurse), or stdin. A ResourceList on stdin is
processed as a KRM function (kpt fn eval --exec "kubectl-arch pin"); options then come
from its functionConfig (a ConfigMap whose keys are the long flag names, or a
kubectl-arch.dev/v1alpha1 PlatformPin).

\b
Examples:
  kubectl arch pin -f deploy.yaml
  kubectl arch pin -f manifests/ -R --in-place --lock platforms.lock
  kubectl arch pin -f manifests/ -R --locked platforms.lock --check
  kubectl arch pin --platform linux/amd64,linux/arm64 -f deploy.yaml
  kustomize build . | kubectl arch pin --platform linux/amd64,linux/arm64 --from-registry
  kubectl arch pin -f deploy.yaml --digests --on-unknown-image=skip
  kubectl arch pin --cluster --tolerate-arch-taints -f k8s/ -R
  kubectl arch pin --platform linux/arm64 --arch-taint kubernetes.io/arch=arm64:NoSchedule -f k8s/
"""

EPILOG = (
    "Exit codes: 0 done (with --check: nothing to change); 1 a workload cannot be pinned "
    "(conflicting constraints, or no platform of the cluster), an image is missing from the "
    "--locked file, or, with --check, a workload would change; 2 usage or input error; 3 an image "
    "could not be looked up (registry unreachable, not found, access denied), the cluster could "
    "not be read (kubeconfig, API server, permission), or a file could not be written."
)


def _resolve(settings: config.PinSettings, scans: Iterable[scanning.Scan]) -> Any:
    from .. import resolve

    scans = list(scans)
    progress = None
    if resolve.mode(settings) == resolve.REGISTRY:
        from ._registry import progress_meter

        progress = progress_meter(len(resolve.images_of(scans)))
    return resolve.resolve(settings, scans, progress)


def _placement(settings: config.PinSettings) -> pinning.Placement:
    """The cluster's bound and the taints to tolerate, as the settings ask."""
    settings.check()
    if not (settings.cluster or settings.tolerate_arch_taints or settings.arch_taints):
        return pinning.Placement()  # the common, offline case imports nothing more
    from .. import tolerations

    taints = None
    if settings.tolerate_arch_taints or settings.arch_taints:  # --arch-taint implies tolerating
        try:
            declared = tuple(tolerations.parse_arch_taint(t) for t in settings.arch_taints)
        except tolerations.TaintError as exc:
            raise InputError(f"--arch-taint: {exc}") from None
        taints = tolerations.ArchTaints({}, declared)
    if not settings.cluster:
        return pinning.Placement((), taints)
    from ..cluster import client as cluster

    listing = cluster.read_nodes(
        cluster.Options(
            settings.kubeconfig or None,
            settings.context or None,
            settings.selector or None,
            settings.request_timeout or None,
            instead="leave out --cluster to pin without the cluster's platforms",
        )
    )
    refused: list[str] = []
    if taints is not None:
        taints = taints._replace(found=tolerations.found_on(listing.nodes, refused))
    from ..cluster import nodeinfo

    bound = pinning.Bound(
        "the cluster",
        cluster.ready_platforms(listing.nodes),
        nodeinfo.windows_builds(listing.nodes),
        {n.name: n for n in listing.nodes},
        complete=not settings.selector,
    )
    notes = (
        nodeinfo.lacking_ga_labels(listing.nodes),
        nodeinfo.lacking_windows_build(listing.nodes),
        *refused,
    )
    return pinning.Placement((bound,), taints, tuple(n for n in notes if n))


def _arch_taint(value: str) -> None:
    from ..tolerations import parse_arch_taint

    parse_arch_taint(value)


def _report(findings: Iterable[scanning.Finding]) -> int:
    """Print findings to stderr (each once); return the exit code they call for."""
    from ..safetext import printable

    findings = list(findings)
    if any(f.unchecked for f in findings):
        from ..manifest.units import said_once

        findings = said_once(findings)
    code = EXIT_OK
    seen: set[str] = set()
    for finding in findings:
        line = printable(f"{finding.severity}: {finding}")
        if line in seen:
            continue
        seen.add(line)
        click.echo(line, err=True)  # escaped above
        if finding.severity == "error":
            code = max(code, finding.exit_code or EXIT_PROBLEM)
    return code


@click.command(name="pin", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@filename_option()
@recursive_option()
@click.option(
    "--platform",
    "platform_values",
    multiple=True,
    metavar="OS/ARCH[,...]",
    shell_complete=complete_with("platform"),
    callback=value_check(check_platforms),
    help="Platforms the images support, e.g. linux/amd64,linux/arm64 (repeatable); with --from-registry "
    "or --locked, an upper bound.",
)
@click.option(
    "--from-registry",
    is_flag=True,
    help="Look images up even though --platform is given (it then bounds them).",
)
@on_unknown_image_option()
@click.option("--lock", "lock_path", metavar="FILE", default="", help="Write the registry's answers to FILE.")
@locked_option("Take the platforms from FILE; no network at all.")
@click.option("--digests", is_flag=True, help="Rewrite image references to name:tag@digest of their index.")
@images_from_option(
    "Replace the images named in this build artifacts file (kubectl arch build --file-output, skaffold "
    "build --file-output) with the built references (repeatable)."
)
@pod_template_path_option()
@click.option("-i", "--in-place", is_flag=True, help="Rewrite the files (atomically) instead of printing.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of the manifests.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if any workload would change.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print no summary line after --in-place or a passing --check."
)
@click.option(
    "--cluster",
    is_flag=True,
    help="Also limit each workload to the platforms the cluster has Ready nodes for.",
)
@cluster_options(
    timeout_help="Give up on a request after this long, e.g. 30s or 2m: registry requests (default 10s) "
    "and, with --cluster, API server requests (default 0: no limit)."
)
@click.option(
    "--tolerate-arch-taints",
    is_flag=True,
    help="Tolerate the platform taints (e.g. kubernetes.io/arch=arm64:NoSchedule) of the platforms each "
    "workload is pinned to: found on the cluster's nodes (--cluster) or given with --arch-taint.",
)
@click.option(
    "--arch-taint",
    "arch_taints",
    multiple=True,
    metavar="KEY=VALUE:EFFECT",
    callback=value_check(lambda value: _arch_taint(value)),
    help="A platform taint the nodes carry, e.g. kubernetes.io/arch=arm64:NoSchedule "
    "(repeatable; implies --tolerate-arch-taints).",
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    shell_complete=complete_with("file"),
    help="Read options from a PlatformPin or ConfigMap file (flags take precedence).",
)
@registry_options(timeout=False)
@log.verbose_option
def command(
    filenames: tuple[str, ...],
    recursive: bool,
    platform_values: tuple[str, ...],
    from_registry: bool,
    on_unknown_image: str,
    lock_path: str,
    locked_path: str,
    digests: bool,
    images_from: tuple[str, ...],
    pod_template_paths: tuple[str, ...],
    in_place: bool,
    show_diff: bool,
    check: bool,
    quiet: bool,
    cluster: bool,
    kubeconfig: str | None,
    context: str | None,
    selector: str | None,
    request_timeout: str | None,
    tolerate_arch_taints: bool,
    arch_taints: tuple[str, ...],
    config_path: str | None,
    insecure_registries: tuple[str, ...],
    registry_ca_file: str,
    refresh: bool,
    tag_cache_ttl: str,
) -> int:
    if in_place and (check or show_diff):
        raise click.UsageError("--in-place cannot be combined with --check or --diff")
    if lock_path and check:
        raise click.UsageError("--lock writes a file; it cannot be combined with --check")
    if in_place and (not filenames or "-" in filenames):
        raise click.UsageError("--in-place needs files given with -f (not stdin)")
    filenames = input_files(filenames)

    flags = config.PinSettings(
        platforms=tuple(platform_values),
        pod_template_paths=tuple(pod_template_paths),
        from_registry=from_registry,
        on_unknown_image=on_unknown_image,
        lock=lock_path,
        locked=locked_path,
        digests=digests,
        images_from=tuple(images_from),
        insecure_registries=tuple(insecure_registries),
        registry_ca_file=registry_ca_file,
        request_timeout=request_timeout or "",
        refresh=refresh,
        tag_cache_ttl=tag_cache_ttl,
        cluster=cluster,
        kubeconfig=kubeconfig or "",
        context=context or "",
        selector=selector or "",
        tolerate_arch_taints=tolerate_arch_taints,
        arch_taints=tuple(v for value in arch_taints for v in value.split(",") if v.strip()),
    )
    if config_path:
        flags = config.load(config_path).overridden_by(flags)
    for value in flags.pod_template_paths:
        _check_declaration(value)
    from .. import resolve

    resolve.check(flags)
    if flags.lock and check:
        raise click.UsageError("--lock writes a file; it cannot be combined with --check")

    # What will be replaced is checked before anything is read or looked up: a FIFO given to
    # --in-place would otherwise block waiting for a writer, only to be refused afterwards.
    if in_place:
        for name in filenames:
            if not os.path.isdir(name):
                manifests.writable_target(name)
    if flags.lock:
        manifests.writable_target(flags.lock, "--lock")
    # A gate reports every file; a pin that writes stops at the first it cannot read.
    unreadable: list[InputError] = []
    sources = _once(manifests.read_sources(filenames, recursive, unreadable if check else None))
    if len(sources) == 1 and sources[0].path is None and not unreadable:
        from .. import krm

        found = krm.resource_list(sources[0])
        if found is not None:
            source, span = found
            if in_place or show_diff or check:
                raise click.UsageError("--in-place, --diff and --check do not apply to a ResourceList")
            output, findings = krm.process(source.text, span, flags, _resolve, _placement)
            sys.stdout.buffer.write(source.encode(output))
            return krm_exit(findings)
    return _pin_streams(
        sources,
        flags,
        in_place=in_place,
        show_diff=show_diff,
        check=check,
        quiet=quiet,
        inputs=filenames,
        unreadable=unreadable,
    )


def _check_declaration(value: str) -> None:
    from ..manifest.workloads import KindError, core_kind_warning, parse_declaration

    try:
        warning = core_kind_warning(parse_declaration(value))
    except KindError as exc:
        raise InputError(f"--pod-template-path: {exc}") from None
    if warning:
        click.echo(f"warning: --pod-template-path: {warning}", err=True)


def _pin_streams(
    sources: list[manifests.Source],
    settings: config.PinSettings,
    *,
    in_place: bool,
    show_diff: bool,
    check: bool,
    quiet: bool = False,
    inputs: Sequence[str] = (),
    unreadable: Sequence[InputError] = (),
) -> int:
    from .. import resolve
    from ..manifest.workloads import Kinds

    kinds = Kinds.parse(settings.pod_template_paths)
    # With --platform alone nothing is looked up first: each document is read once, then
    # pinned, and its node tree dropped.
    read = scanning.scan if resolve.needs_images(settings) else scanning.lazy
    scans = [read(s.text, s.name, kinds, s.walked) for s in sources]
    resolution = _resolve(settings, scans)
    read_errors = [scanning.Finding("error", str(e), exit_code=e.exit_code) for e in unreadable]
    if resolution.failed:
        return _report([*read_errors, *(f for s in scans for f in s.findings), *resolution.findings])
    placement = _placement(settings)
    outcomes = [
        pinning.pin(
            s,
            resolution.supported,
            bounds=(*resolution.bounds, *placement.bounds),
            unknown=resolution.unknown,
            rewrites=resolution.rewrites,
            taints=placement.taints,
        )
        for s in scans
    ]
    notes = [scanning.Finding("warning", w) for w in placement.warnings]
    findings = [*read_errors, *resolution.findings, *notes, *(f for o in outcomes for f in o.findings)]
    if not any(o.workloads for o in outcomes) and not any(
        f.severity == "error" or f.unchecked for f in findings
    ):
        findings.append(scanning.Finding("warning", scanning.no_workloads(inputs, "pin")))
    code = _report(findings)
    changed = [location for o in outcomes for location in o.changed]
    if code != EXIT_OK:
        if check:  # the other documents and files are still judged; the exit code is the error's
            for location in dict.fromkeys(changed):
                say(f"would pin {location}")
            if changed:
                say(f"{len(changed)} workload(s) not pinned")
        return code  # nothing is written when anything failed

    unchanged = sum(o.unchanged for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    # No workload at all: the warning above says it all.
    quiet = quiet or not (any(o.workloads for o in outcomes) or skipped)
    unchecked = list({f.location: f for f in findings if f.unchecked and f.location is not None}.values())
    if check:
        for location in dict.fromkeys(changed):
            say(f"would pin {location}")
        for finding in unchecked:
            say(f"not checked {finding.location}")
    lock_file = None
    if settings.lock:
        from .. import lock

        lock_file = (settings.lock, (lock.dumps(resolution.answers),))
    if show_diff:
        if lock_file is not None:
            manifests.write_files([lock_file], "--lock")
        for source, outcome in zip(sources, outcomes, strict=True):
            if outcome.edits:
                sys.stdout.write(manifests.unified_diff(source.name, source.text, outcome.text))
    elif in_place:
        rewrites = [
            (source.path, source.encode_pieces(outcome.pieces()))
            for source, outcome in zip(sources, outcomes, strict=True)
            if outcome.edits and source.path is not None
        ]
        # The manifests and the lock file change together, or none of them.
        read_as = {s.path: s.identity for s in sources if s.path is not None}
        manifests.write_files(
            rewrites + ([lock_file] if lock_file is not None else []), expected=read_as, verb="pin"
        )
        if not quiet:
            say(_summary(len(changed), unchanged, skipped, len(rewrites), len(unchecked)))
    elif not check:
        if lock_file is not None:
            manifests.write_files([lock_file], "--lock")
        out = manifests.Source(
            "", None, "", bool(sources) and sources[0].bom and sources[0].encoding == "utf-8"
        )
        stream = sys.stdout.buffer
        for chunk in out.encode_pieces(manifests.join_pieces((o.source, o.pieces()) for o in outcomes)):
            stream.write(chunk)
    if check and (changed or _gate_fails(unchecked)):
        line = f"{len(changed)} workload(s) not pinned"
        if unchecked:
            line += f", {len(unchecked)} object(s) not checked"
        click.echo(line, err=True)
        return EXIT_PROBLEM
    if check and not quiet:
        click.echo(_summary(0, unchanged, skipped, None, len(unchecked)), err=True)
    return EXIT_OK


def _once(sources: list[manifests.Source]) -> list[manifests.Source]:
    """Each file once, however often it was given (``-f a.yaml -f a.yaml``, or through a
    directory and a symlink): pinning it twice would write it twice and count its workloads
    twice. Says so on stderr."""
    seen: set[tuple[int, int]] = set()
    out = []
    for source in sources:
        if source.identity is not None:
            key = source.identity[:2]
            if key in seen:
                say(f"warning: {source.name}: given more than once; read once")
                continue
            seen.add(key)
        out.append(source)
    return out


def _gate_fails(unchecked: Sequence[scanning.Finding]) -> bool:
    if not unchecked:
        return False
    from ..manifest import units

    return units.gate_fails(unchecked)


def _summary(pinned: int, unchanged: int, skipped: int, files: int | None, unchecked: int = 0) -> str:
    """The one line --in-place and a passing --check end with."""
    parts = []
    if files is not None:
        parts.append(f"pinned {pinned} workload(s) in {files} file(s)" if pinned else "no file changed")
    parts.append(f"{unchanged} workload(s) already pinned")
    if skipped:
        parts.append(f"{skipped} skipped (patches, not complete objects)")
    if unchecked:
        parts.append(f"{unchecked} object(s) not checked")
    return "; ".join(parts)
