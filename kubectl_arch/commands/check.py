"""``kubectl arch check``: will these workloads schedule on the cluster?"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from .. import checks, config, log
from ..errors import EXIT_OK, EXIT_PROBLEM, InputError, RemoteError
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

HELP = """Check that every workload fits some Ready node of the cluster.

For every workload in the manifests: the platforms its images support (looked up in their
registries, as pin does), the platforms of the cluster's Ready nodes that its own
nodeSelector and required node affinity allow, and the Ready nodes that fit all of that,
taints and tolerations included. A workload that fits no Ready node fails the check, with
the reason the nodes do not fit, counted as the scheduler counts them (not Ready,
cordoned, untolerated taint, nodeSelector, affinity, then image platforms, on Windows nodes
their build included): the `exec format error` caught before deploy.

Image platforms: looked up (default); --platform P takes every image to support P, with
no look-up; --locked FILE reads a pin --lock file, with no network.

Cluster: read with the kubeconfig like kubectl (--kubeconfig, --context, -l), or from a
file of Node objects (--nodes-file, e.g. kubectl get nodes -o json > nodes.json).

Input: -f FILE|DIR|- (repeatable, -R to recurse), or stdin. A ResourceList on stdin is
checked as a KRM validator function: items unchanged, one result per failing workload.

\b
Examples:
  kubectl arch check -f manifests/ -R
  kustomize build overlays/prod | kubectl arch check -o json
  kubectl arch check -f deploy.yaml --locked platforms.lock --nodes-file nodes.json
"""

EPILOG = (
    "Exit codes: 0 every workload fits a Ready node; 1 some workload fits none (or an image is "
    "missing from the --locked file); 2 usage or input error; 3 an image could not be looked up, "
    "or the cluster could not be read."
)
OUTPUTS = ("table", "json", "yaml")


def table(results: Sequence[checks.WorkloadCheck], cluster: checks.ClusterSummary) -> str:
    """One row per workload. NODES FIT counts as the error lines do (the Ready nodes that fit,
    out of every node read); ALLOWED is ``<any>`` when the pod's own constraints leave every
    platform of the cluster's Ready nodes."""
    from ..table import render

    def names(pairs: Any) -> str:
        return ",".join(f"{o}/{a}" for o, a in sorted(pairs)) or "<none>"

    rows = []
    several = checks.several_pods(results)
    for r in results:
        fit = "unknown" if r.fit is None else f"{len(r.fit.nodes)}/{r.fit.total}"
        unrestricted = cluster.platforms and r.allowed_platforms == cluster.platforms
        rows.append(
            [
                checks.name(r, several),
                names(r.image_platforms) if r.fit is not None else "?",
                "<any>" if unrestricted else names(r.allowed_platforms),
                fit,
                names(r.fit.platforms) if r.fit is not None and r.fit.fits else "",
            ]
        )
    headers = ("WORKLOAD", "IMAGE PLATFORMS", "ALLOWED", "NODES FIT", "ON")
    return render(headers, rows)


def _summary(results: Sequence[checks.WorkloadCheck]) -> str:
    fit = sum(1 for r in results if r.fits)
    unfit = sum(1 for r in results if r.fits is False)
    unknown = sum(1 for r in results if r.fits is None)
    parts = [f"{fit} fit"]
    if unfit:
        parts.append(f"{unfit} fit no Ready node")
    if unknown:
        parts.append(f"{unknown} not checked")
    return f"{len(results)} workload(s): {', '.join(parts)}"


def _failure(r: checks.WorkloadCheck) -> str:
    assert r.fit is not None
    return f"fits no Ready node: {r.fit.explain()}"


@click.command(
    name="check", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@filename_option()
@recursive_option()
@pod_template_path_option()
@click.option(
    "-o",
    "--output",
    type=click.Choice(OUTPUTS),
    default="table",
    show_default=True,
    help="Output format: table (a row per workload), json or yaml (one document: workloads, nodes).",
)
@click.option(
    "--platform",
    "platform_values",
    multiple=True,
    metavar="OS/ARCH[,...]",
    shell_complete=complete_with("platform"),
    callback=value_check(check_platforms),
    help="Take every image to support these platforms (no look-up); with --from-registry or "
    "--locked, an upper bound.",
)
@click.option("--from-registry", is_flag=True, help="Look images up even though --platform is given.")
@locked_option()
@on_unknown_image_option()
@images_from_option(
    "Check the built images named in this build artifacts file (kubectl arch build --file-output) in "
    "place of the images they replace (repeatable)."
)
@click.option(
    "--nodes-file",
    metavar="FILE",
    default="",
    help="Read the cluster's nodes from FILE (kubectl get nodes -o json) instead of the API server.",
)
@cluster_options(
    timeout_help="Give up on a request after this long, e.g. 30s or 2m: registry requests (default 10s) "
    "and API server requests (default 0: no limit)."
)
@registry_options(timeout=False)
@log.verbose_option
def command(
    filenames: tuple[str, ...],
    recursive: bool,
    pod_template_paths: tuple[str, ...],
    output: str,
    platform_values: tuple[str, ...],
    from_registry: bool,
    locked_path: str,
    on_unknown_image: str,
    images_from: tuple[str, ...],
    nodes_file: str,
    kubeconfig: str | None,
    context: str | None,
    selector: str | None,
    request_timeout: str | None,
    insecure_registries: tuple[str, ...],
    registry_ca_file: str,
    refresh: bool,
    tag_cache_ttl: str,
) -> int:
    if nodes_file and (kubeconfig or context or selector):
        raise click.UsageError(
            "--nodes-file replaces the cluster: --kubeconfig, --context and -l do not apply"
        )
    filenames = input_files(filenames)
    settings = config.PinSettings(
        platforms=tuple(platform_values),
        pod_template_paths=tuple(pod_template_paths),
        from_registry=from_registry,
        on_unknown_image=on_unknown_image,
        locked=locked_path,
        insecure_registries=tuple(insecure_registries),
        registry_ca_file=registry_ca_file,
        request_timeout=request_timeout or "",
        refresh=refresh,
        tag_cache_ttl=tag_cache_ttl,
        images_from=tuple(images_from),
        kubeconfig=kubeconfig or "",
        context=context or "",
        selector=selector or "",
    )
    from .. import resolve
    from .pin import _check_declaration

    for value in settings.pod_template_paths:
        _check_declaration(value)
    resolve.check(settings)

    unreadable: list[InputError] = []  # every file is reported, as pin --check does
    sources = manifests.read_sources(filenames, recursive, unreadable)
    if len(sources) == 1 and sources[0].path is None and not unreadable:
        from .. import krm

        found = krm.resource_list(sources[0])
        if found is not None:
            return _validate(*found, settings, nodes_file)
    judged = _judge(sources, settings, nodes_file, filenames, unreadable)
    if judged.failed:
        return _report(judged.findings)
    results, summary = judged.results, judged.summary
    from ..manifest import units

    unchecked = units.not_checked(judged.findings)
    if output in ("json", "yaml"):
        errors = [f for f in dict.fromkeys(judged.findings) if f.severity == "error"]
        document = checks.to_json(results, summary, judged.skipped, unchecked, errors)
        if output == "json":
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            from ..manifest.yamledit import Style, block_lines

            sys.stdout.write("".join(line + "\n" for line in block_lines(document, 0, Style())))
    elif results:
        sys.stdout.write(table(results, summary))
    for warning in judged.warnings:
        _say(f"warning: {warning}")
    code = _report(judged.findings)  # an input error: exit 2, the rest judged all the same
    failures = [r for r in results if r.fits is False]
    several = checks.several_pods(results)
    for r in failures:
        _say(f"error: {checks.name(r, several)}: {_failure(r)}")
    if output == "table" and (results or judged.skipped or unchecked):
        line = _summary(results) if results else "no workloads found"
        if judged.skipped:
            line += f"; {len(judged.skipped)} skipped (patches, not complete objects)"
        if unchecked:
            line += f"; {len(unchecked)} object(s) not checked: " + ", ".join(
                str(f.location) for f in unchecked
            )
        _say(line)
    if code != EXIT_OK:
        return code
    return EXIT_PROBLEM if failures or units.gate_fails(judged.findings) else EXIT_OK


class _Judged(NamedTuple):
    results: list[checks.WorkloadCheck]
    summary: checks.ClusterSummary
    warnings: list[str]  # about the nodes
    findings: list[scanning.Finding]  # input and look-up errors (then ``failed``), warnings
    failed: bool = False
    skipped: tuple[scanning.Finding, ...] = ()  # incomplete workloads (patches in walked directories)


def _judge(
    sources: Sequence[manifests.Source],
    settings: config.PinSettings,
    nodes_file: str,
    inputs: Sequence[str],
    unreadable: Sequence[InputError] = (),
) -> _Judged:
    """Every workload of ``sources`` (read from ``inputs``) against the cluster's nodes
    (``failed`` when the input or the image look-ups failed: then nothing is judged)."""
    from .. import resolve
    from ..manifest.workloads import Kinds

    kinds = Kinds.parse(settings.pod_template_paths)
    scans = [scanning.scan(s.text, s.name, kinds, s.walked) for s in sources]
    input_findings = [
        *(scanning.Finding("error", str(e), exit_code=e.exit_code) for e in unreadable),
        *(f for s in scans for f in s.findings),
    ]

    from ._registry import progress_meter

    progress = (
        progress_meter(len(resolve.images_of(scans))) if resolve.mode(settings) == resolve.REGISTRY else None
    )
    resolution = resolve.resolve(settings, scans, progress, command="check")
    # An input error in one document leaves the others judged (as pin --check does), unless
    # there is nothing else to judge: then the cluster is not read.
    errors = any(f.severity == "error" for f in input_findings)
    if resolution.failed or (errors and not any(s.workloads for s in scans)):
        return _Judged([], checks.summarize([]), [], [*input_findings, *resolution.findings], failed=True)
    if scanning.holds_no_workload(scans):
        # Nothing to judge: the same verdict as pin's, without reading the cluster or its kubeconfig.
        notes = [*resolution.findings, scanning.Finding("warning", scanning.no_workloads(inputs, "check"))]
        return _Judged([], checks.summarize([]), [], notes)

    if nodes_file:
        from ..cluster import nodefile

        nodes, warnings = nodefile.read(nodes_file)
    else:
        from ..cluster import client as cluster

        listing = cluster.read_nodes(
            cluster.Options(
                settings.kubeconfig or None,
                settings.context or None,
                settings.selector or None,
                settings.request_timeout or None,
                instead="give the nodes with --nodes-file FILE (kubectl get nodes -o json > FILE)",
            )
        )
        nodes, warnings = list(listing.nodes), list(listing.warnings)
    from ..cluster.nodeinfo import lacking_ga_labels, lacking_windows_build

    for note in (lacking_ga_labels(nodes), lacking_windows_build(nodes)):
        if note is not None:
            warnings.append(note)

    # An object listed as not checked for placement the controller applies that is not read
    # is only that: none of its pods is judged, so that no row says it fits. One that names
    # another object for some pods still has the pods it defines itself judged.
    from ..manifest import units

    unchecked = {f.location for f in input_findings if f.unchecked == units.PATCH}
    results = checks.check(
        (w for s in scans for w in s.workloads if w.location not in unchecked),
        resolution.supported,
        resolution.unknown,
        nodes,
    )
    notes = [
        scanning.Finding("warning", f"not checked: {r.unknown}", r.workload.location)
        for r in results
        if r.fits is None
    ]
    notes.extend(scanning.Finding("warning", w, r.workload.location) for r in results for w in r.warnings)
    if not results and not any(f.unchecked for f in input_findings):
        notes.append(scanning.Finding("warning", scanning.no_workloads(inputs, "check")))
    skipped = tuple(f for f in input_findings if f.skipped)
    findings = [*input_findings, *resolution.findings, *notes]
    return _Judged(results, checks.summarize(nodes), warnings, findings, skipped=skipped)


def _validate(source: manifests.Source, span: Any, flags: config.PinSettings, nodes_file: str) -> int:
    """As a KRM validator: the ResourceList unchanged, with a result per failing workload and per
    failure (a bad functionConfig's too), options named as the functionConfig spells them."""
    from .. import krm, resolve

    spelling = config.Spelling({})
    results: list[checks.WorkloadCheck] = []
    try:
        function_config = krm.function_config(source.text, span)
        spelling = config.Spelling.of(function_config, flags)
        # Options in the functionConfig (kpt fn eval ... -- key=value), flags taking precedence.
        where = "ResourceList functionConfig"
        settings = config.from_object(function_config, where, "check").overridden_by(flags)
        resolve.check(settings)
        if nodes_file and (settings.kubeconfig or settings.context or settings.selector):
            raise InputError(f"{where}: kubeconfig, context and selector do not apply with --nodes-file")
        judged = _judge([source], settings, nodes_file, ["ResourceList"])
        results = judged.results
        from ..manifest import units

        # As the command fails for objects it cannot judge (an undeclared kind holding pods,
        # placement the controller applies that is not read), the validator does.
        found = [
            f._replace(severity="error", exit_code=EXIT_PROBLEM) if units.gate_fails([f]) else f
            for f in judged.findings
        ]
        findings = [*found, *(scanning.Finding("warning", w) for w in judged.warnings)]
    except (InputError, RemoteError) as exc:
        findings = [scanning.Finding("error", str(exc), exit_code=exc.exit_code)]
    return _krm_output(source, span, results, [f._replace(message=spelling(f.message)) for f in findings])


_say = say  # node names, labels and taints come from the API server or a file


def _report(findings: Sequence[scanning.Finding]) -> int:
    from ..manifest.units import said_once

    code = EXIT_OK
    for finding in dict.fromkeys(said_once(findings)):
        _say(f"{finding.severity}: {finding}")
        if finding.severity == "error":
            code = max(code, finding.exit_code or EXIT_PROBLEM)
    return code


def _krm_output(
    source: manifests.Source,
    span: Any,
    results: Sequence[checks.WorkloadCheck],
    findings: Sequence[scanning.Finding],
) -> int:
    """As a KRM validator: the ResourceList unchanged, with a result per failing workload."""
    from .. import krm

    out = [
        *findings,
        *(
            scanning.Finding("error", _failure(r), r.workload.location, r.workload.field, EXIT_PROBLEM)
            for r in results
            if r.fits is False
        ),
    ]
    text = krm.with_results(source.text, span, [krm.result(f) for f in out])
    sys.stdout.buffer.write(source.encode(text))
    return krm_exit(out)
