"""``kubectl arch check``: will these workloads schedule on the cluster?"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from .. import checks, config, log
from ..errors import EXIT_OK, EXIT_PROBLEM, InputError
from ..manifest import files as manifests
from ..manifest import scan as scanning
from . import (
    complete_with,
    filename_option,
    images_from_option,
    input_files,
    pod_template_path_option,
    recursive_option,
)
from ._registry import registry_options
from .clusteropts import cluster_options

HELP = """Check that every workload fits some Ready node of the cluster.

For every workload in the manifests: the platforms its images support (looked up in their
registries, as pin does), the platforms of the cluster's Ready nodes that its own
nodeSelector and required node affinity allow, and the Ready nodes that fit all of that,
taints and tolerations included. A workload that fits no Ready node fails the check, with
the reason the nodes do not fit (image platforms, nodeSelector, affinity, untolerated
taint, cordoned, not Ready): the `exec format error` caught before deploy.

\b
Image platforms: looked up (default); --platform P takes every image to support P, with
no look-up; --locked FILE reads a pin --lock file, with no network.
Cluster: read with the kubeconfig like kubectl (--kubeconfig, --context, -l), or from a
file of Node objects (--nodes-file, e.g. kubectl get nodes -o json > nodes.json).

\b
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


def _read_nodes_file(path: str) -> tuple[list[Any], list[str]]:
    """Node objects from a file: a NodeList or List (``kubectl get nodes -o json|yaml``), a
    single Node, or a stream of them."""
    from ..cluster import nodeinfo
    from ..config import typed_data
    from ..manifest import yamltext

    source = manifests.read_sources([path])[0]
    objects: list[Any] = []
    for span in yamltext.split_documents(source.text):
        if not yamltext.has_content(source.text, span):
            continue
        try:
            data = typed_data(source.text, span.start, span.end)
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            objects.extend(data["items"])
        elif isinstance(data, dict) and data.get("kind") == "Node":
            objects.append(data)
        else:
            raise InputError(f"{path}: expected Node objects (kubectl get nodes -o json)")
    warnings: list[str] = []
    nodes = []
    for obj in objects:
        try:
            nodes.append(nodeinfo.from_object(obj, warnings))
        except nodeinfo.NodeError as exc:
            raise InputError(f"{path}: {exc}") from None
    return nodes, warnings


def table(results: Sequence[checks.WorkloadCheck], cluster: checks.ClusterSummary) -> str:
    from ..table import render

    def names(pairs: Any) -> str:
        return ",".join(f"{o}/{a}" for o, a in sorted(pairs)) or "<none>"

    rows = []
    for r in results:
        fit = "unknown" if r.fit is None else f"{len(r.fit.nodes)}/{cluster.ready}"
        rows.append(
            [
                str(r.workload.location),
                names(r.image_platforms) if r.fit is not None else "?",
                names(r.allowed_platforms),
                fit,
                names(r.fit.platforms) if r.fit is not None and r.fit.fits else "",
            ]
        )
    headers = ("WORKLOAD", "IMAGE PLATFORMS", "ALLOWED", "READY NODES FIT", "ON")
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
@click.option("-o", "--output", type=click.Choice(OUTPUTS), default="table", show_default=True)
@click.option(
    "--platform",
    "platform_values",
    multiple=True,
    metavar="OS/ARCH[,...]",
    shell_complete=complete_with("platform"),
    help="Take every image to support these platforms (no look-up); with --from-registry or "
    "--locked, an upper bound.",
)
@click.option("--from-registry", is_flag=True, help="Look images up even though --platform is given.")
@click.option(
    "--locked",
    "locked_path",
    metavar="FILE",
    default="",
    help="Take the image platforms from a pin --lock file; no registry is contacted.",
)
@click.option(
    "--on-unknown-image",
    metavar="fail|skip|assume:OS/ARCH[,...]",
    default="",
    help="An image that cannot be looked up: fail (exit 3, the default), skip its workloads, or assume "
    "platforms.",
)
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
    from ..manifest.workloads import KindError, Kinds, parse_declaration

    for value in settings.pod_template_paths:
        try:
            parse_declaration(value)
        except KindError as exc:
            raise InputError(f"--pod-template-path: {exc}") from None
    resolve.check(settings)

    sources = manifests.read_sources(filenames, recursive)
    resource_list = None
    if len(sources) == 1 and sources[0].path is None:
        from .. import krm

        span = krm.resource_list_span(sources[0].text)
        if span is not None:
            resource_list = span
            # Options in the functionConfig (kpt fn eval ... -- key=value), flags taking precedence.
            where = "ResourceList functionConfig"
            given = config.from_object(krm.function_config(sources[0].text, span), where, "check")
            settings = given.overridden_by(settings)
            resolve.check(settings)
            if nodes_file and (settings.kubeconfig or settings.context or settings.selector):
                raise InputError(f"{where}: kubeconfig, context and selector do not apply with --nodes-file")
    kinds = Kinds.parse(settings.pod_template_paths)
    scans = [scanning.scan(s.text, s.name, kinds, s.walked) for s in sources]
    input_findings = [f for s in scans for f in s.findings]
    skipped = [f for f in input_findings if f.skipped]

    from ._registry import progress_meter

    progress = (
        progress_meter(len(resolve.images_of(scans))) if resolve.mode(settings) == resolve.REGISTRY else None
    )
    resolution = resolve.resolve(settings, scans, progress)
    if resolution.failed or any(f.severity == "error" for f in input_findings):
        return _report([*input_findings, *resolution.findings])

    if nodes_file:
        nodes, warnings = _read_nodes_file(nodes_file)
    else:
        from ..cluster import client as cluster

        listing = cluster.read_nodes(
            cluster.Options(
                settings.kubeconfig or None,
                settings.context or None,
                settings.selector or None,
                settings.request_timeout or None,
            )
        )
        nodes, warnings = list(listing.nodes), list(listing.warnings)

    results = checks.check(
        (w for s in scans for w in s.workloads), resolution.supported, resolution.unknown, nodes
    )
    summary = checks.summarize(nodes)
    failures = [r for r in results if r.fits is False]
    notes = [
        scanning.Finding("warning", f"not checked: {r.unknown}", r.workload.location)
        for r in results
        if r.fits is None
    ]

    if resource_list is not None:
        return _krm_output(
            sources[0], resource_list, results, [*input_findings, *resolution.findings, *notes]
        )

    if output in ("json", "yaml"):
        document = checks.to_json(results, summary, skipped)
        if output == "json":
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            from ..manifest.yamledit import Style, block_lines

            sys.stdout.write("".join(line + "\n" for line in block_lines(document, 0, Style())))
    elif results:
        sys.stdout.write(table(results, summary))
    from ..safetext import printable

    for warning in warnings:
        click.echo(printable(f"warning: {warning}"), err=True)
    _report([*input_findings, *resolution.findings, *notes])
    for r in failures:
        click.echo(printable(f"error: {r.workload.location}: {_failure(r)}"), err=True)
    if output == "table":
        line = _summary(results) if results else "no workloads found"
        if skipped:
            line += f"; {len(skipped)} skipped (patches, not complete objects)"
        click.echo(line, err=True)
    return EXIT_PROBLEM if failures else EXIT_OK


def _report(findings: Sequence[scanning.Finding]) -> int:
    from ..safetext import printable

    code = EXIT_OK
    for finding in dict.fromkeys(findings):
        click.echo(printable(f"{finding.severity}: {finding}"), err=True)
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
    return _report(out)
