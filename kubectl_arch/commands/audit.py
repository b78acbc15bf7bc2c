"""``kubectl arch audit``: what runs in the cluster, where it can run, what is at risk, and
what blocks a move to another platform."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import log
from ..errors import EXIT_OK, EXIT_PROBLEM, EXIT_REMOTE
from . import (
    check_platforms,
    complete_with,
    locked_option,
    on_unknown_image_option,
    pod_template_path_option,
    value_check,
)
from ._registry import registry_options
from .clusteropts import cluster_options

HELP = """Audit the workloads running in the cluster: where they can run, and what is at risk.

Reads the cluster's nodes and its workloads (Deployments, StatefulSets, DaemonSets,
ReplicaSets, ReplicationControllers, Jobs, CronJobs, Pods, and kinds declared with
--pod-template-path), attributes pods to their top-level owner (Pod -> ReplicaSet ->
Deployment, Pod -> Job -> CronJob), looks every distinct image up once, and gives each
workload a status:

\b
  broken         a pod is on a node whose platform an image of it cannot run on
  unschedulable  no Ready node fits it (platform, nodeSelector, affinity, taints)
  unknown        an image could not be looked up
  at-risk        it fits, but the scheduler may place a pod on a Ready node that
                 its own constraints admit and whose platform an image lacks
  ok             none of the above

With --target P: each workload is ready when all its images support P, else blocked,
naming each image that lacks P and the lowest newer tag of the same shape that has it
(at most --max-tag-candidates tags of each image are looked up).

\b
Namespace: the kubeconfig context's (else default), -n NAME, or -A for all.
Output (-o): table (default), wide (pods, images, reasons), json, yaml.
Progress (objects read, images looked up) is shown on a terminal only.

\b
Examples:
  kubectl arch audit -A
  kubectl arch audit -n shop --target linux/arm64
  kubectl arch audit -A -l app.kubernetes.io/part-of=checkout -o json
  kubectl arch audit -A --target linux/arm64,windows/amd64 --max-tag-candidates 12
  kubectl arch audit -A --locked platforms.lock -o yaml
"""

EPILOG = (
    "Exit codes: 0 nothing is broken, unschedulable or at risk (and, with --target, nothing is blocked); "
    "1 otherwise; 2 usage or input error; 3 the cluster cannot be read at all (kubeconfig, connection, "
    "credentials, listing nodes refused), or an image could not be looked up with "
    "--on-unknown-image=fail. Needs RBAC permission to list nodes, pods and the workload resources."
)
OUTPUTS = ("table", "wide", "json", "yaml")


class TerminalProgress:
    """One line on stderr, rewritten: objects read, then images looked up, then tags."""

    def __init__(self) -> None:
        import threading

        self.count = 0
        self.width = 0
        self.lock = threading.Lock()  # images are looked up while the pods are read

    def _show(self, line: str) -> None:
        with self.lock:
            sys.stderr.write("\r" + line.ljust(self.width))
            sys.stderr.flush()
            self.width = max(self.width, len(line))

    def objects(self, count: int) -> None:
        self.count += count
        self._show(f"reading the cluster: {self.count} {'object' if self.count == 1 else 'objects'}")

    def images(self, done: int, total: int) -> None:
        self._show(f"looking up images: {done}/{total}")

    def tags(self, done: int, total: int) -> None:
        self._show(f"looking for newer tags: {done}/{total}")

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _progress() -> TerminalProgress | None:
    try:
        return TerminalProgress() if sys.stderr.isatty() else None
    except (AttributeError, ValueError):
        return None


def table(report: Any, wide: bool) -> str:
    from .. import audit
    from ..table import render

    headers = ["NAMESPACE", "WORKLOAD", "STATUS", "PLATFORMS"]
    headers += [t.spec.upper() for t in report.targets]
    if wide:
        headers += ["PODS", "IMAGES", "REASON"]
    rows = []
    for f in report.findings:
        w = f.workload
        platforms = "?" if f.platforms is None else ",".join(audit.platform_list(f.platforms)) or "<none>"
        row = [w.namespace or "<none>", f"{w.kind}/{w.name}", f.status, platforms]
        row += ["ready" if t.ready else "blocked" if t.ready is False else "unknown" for t in f.targets]
        if wide:
            row += [str(w.pods), ",".join(dict.fromkeys(i.image for i in f.images)), f.reason]
        rows.append(row)
    return render(headers, rows)


def _say(line: str) -> None:
    """A line on stderr; names and messages in it come from the API server and registries."""
    from ..safetext import printable

    click.echo(printable(line), err=True)


def _details(report: Any) -> None:
    """What a table does not show, on stderr: why each workload is not ok, pods running
    digests their tags no longer name, and the updates found for the targets."""
    for f in report.findings:
        w = f.workload
        where = f"{w.namespace}/" if w.namespace else ""
        if f.status not in ("ok", "unknown"):  # why an image or object is unknown: a warning already
            _say(f"{f.status}: {where}{w.kind}/{w.name}: {f.reason}")
        for text in f.notes:
            if text not in w.notes:  # the workload's own notes are warnings already
                _say(f"note: {where}{w.kind}/{w.name}: {text}")
        for i in f.images:
            for digest, pods in i.stale:
                _say(
                    f"note: {where}{w.kind}/{w.name} container {i.container!r}: {pods} pod(s) run {digest}, "
                    f"but {i.image} now points to {i.answer.digest}"
                )
    for index, target in enumerate(report.targets):
        blockers: dict[str, str] = {}
        for f in report.findings:
            for b in f.targets[index].blocked_by:
                blockers.setdefault(b.image, b.update)
        for image, update in sorted(blockers.items()):
            found = f"; {update} supports it" if update else ""
            _say(f"{target.spec}: image {image} lacks it{found}")


@click.command(
    name="audit", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "-n", "--namespace", metavar="NAME", default="", help="Audit this namespace (default: the context's)."
)
@click.option("-A", "--all-namespaces", is_flag=True, help="Audit every namespace.")
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="OS/ARCH[,...]",
    shell_complete=complete_with("platform"),
    callback=value_check(check_platforms),
    help="Say which workloads are ready for these platforms and which images block them (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(OUTPUTS),
    default="table",
    show_default=True,
    help="Output format: the table, the wide table (pods, images, reasons), or the JSON/YAML document.",
)
@click.option(
    "--max-tag-candidates",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    metavar="N",
    help="With --target: look up at most N newer tags of each image that lacks a target (0: none).",
)
@locked_option()
@on_unknown_image_option("skip")
@pod_template_path_option()
@cluster_options(
    timeout_help="Give up on a request after this long, e.g. 30s or 2m: registry requests (default 10s) "
    "and API server requests (default 0: no limit).",
    selector_help="Only workloads and pods matching this label selector (each object by its own labels, "
    "as kubectl get), e.g. -l app=web.",
)
@registry_options(timeout=False)
@log.verbose_option
def command(
    namespace: str,
    all_namespaces: bool,
    targets: tuple[str, ...],
    output: str,
    max_tag_candidates: int,
    locked_path: str,
    on_unknown_image: str,
    pod_template_paths: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    selector: str | None,
    request_timeout: str | None,
    insecure_registries: tuple[str, ...],
    registry_ca_file: str,
    refresh: bool,
    tag_cache_ttl: str,
) -> int:
    from .. import auditing

    settings = auditing.Settings(
        namespace=namespace,
        all_namespaces=all_namespaces,  # -A wins over -n, as in kubectl
        selector=selector or "",
        targets=targets,
        pod_template_paths=pod_template_paths,
        locked=locked_path,
        on_unknown_image=on_unknown_image,
        max_tag_candidates=max_tag_candidates,
        kubeconfig=kubeconfig or "",
        context=context or "",
        request_timeout=request_timeout or "",
        insecure_registries=insecure_registries,
        registry_ca_file=registry_ca_file,
        refresh=refresh,
        tag_cache_ttl=tag_cache_ttl,
    )
    auditing.check(settings)
    progress = _progress()
    try:
        report = auditing.run(settings, progress)
    finally:
        if progress is not None:
            progress.clear()
    if report.failures:
        for failure in report.failures:
            _say(f"error: {failure}")
        _say(
            f"error: {len(report.failures)} image(s) could not be looked up; nothing was audited "
            "(--on-unknown-image=skip reports their workloads as unknown)"
        )
        return max(f.exit_code for f in report.failures) or EXIT_REMOTE
    if output in ("json", "yaml"):
        document = report.document()
        if output == "json":
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            from ..manifest.yamledit import Style, block_lines

            sys.stdout.write("".join(line + "\n" for line in block_lines(document, 0, Style())))
        for warning in report.warnings:
            _say(f"warning: {warning}")
    else:
        for warning in report.warnings:
            _say(f"warning: {warning}")
        if report.findings:
            sys.stdout.write(table(report, wide=output == "wide"))
        else:
            where = "any namespace" if report.namespace is None else f"namespace {report.namespace}"
            _say(f"No workloads found in {where}.")
        _details(report)
        _say(report.summary.line())
    return EXIT_PROBLEM if report.summary.failed else EXIT_OK
