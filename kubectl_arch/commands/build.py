"""``kubectl arch build``: build per platform with the user's builder, push one index."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from .. import log
from ..errors import EXIT_OK, EXIT_PROBLEM, ConflictError, InputError
from ..platforms import Platform
from . import check_duration, check_platforms, complete_with, say, value_check
from ._registry import registry_options

if TYPE_CHECKING:
    from ..building import Result
    from ..registry.reference import Reference

HELP = """Build an image for every platform and push one multi-platform index.

The builder you already use does the building. Builders that build several platforms at once
(docker buildx, ko, a custom command with --custom-multi-platform) run once and push the
index themselves; the others (docker, podman, buildah, custom) build each platform, push it
as TAG_<os>_<arch>[_<variant>], and the images are stitched into one index pushed as TAG.
Every pushed image is checked against the platform asked for (its config's os, architecture
and variant); nothing is pushed as TAG when any platform failed.

Platforms (--platform): a list (linux/amd64,linux/arm64); cluster, the platforms of the
current cluster's Ready nodes; local, this machine's. Default: cluster when a cluster is
reachable, else local (with --kubeconfig or --kube-context: cluster, and an error when it
cannot be read); the choice is printed.

Prints the image as NAME:TAG@sha256:<index digest> on stdout; --file-output FILE writes
Skaffold's build artifacts JSON, which pin --images-from reads.

\b
Examples:
  kubectl arch build -t registry.example.com/team/app:v1.2 --platform linux/amd64,linux/arm64
  kubectl arch build -t ghcr.io/org/app:dev --builder buildah --context ./app
  kubectl arch build -t $IMAGE --builder custom --custom-command ./build.sh --file-output out.json
"""
EPILOG = (
    "Exit codes: 0 the index is pushed; 1 a platform failed to build or built the wrong platform "
    "(nothing pushed as TAG); 2 usage or input error, or no builder; 3 the registry or the cluster "
    "could not be reached."
)


def _choose_platforms(
    value: str, kubeconfig: str | None, kube_context: str | None, request_timeout: str | None
) -> tuple[list[Platform], str]:
    """The platforms to build and how they were chosen (printed)."""
    from .. import platforms as plat

    explicit = bool(kubeconfig or kube_context)

    def local() -> list[Platform]:
        import platform as host

        return [plat.normalize("linux", host.machine() or "amd64")]

    def cluster() -> list[Platform]:
        from ..cluster import client as kube

        try:
            listing = kube.read_nodes(
                kube.Options(
                    kubeconfig,
                    kube_context,
                    None,
                    request_timeout,
                    instead="give the platforms with --platform (a list, or local)",
                    context_flag="--kube-context",
                )
            )
        except kube.KubeconfigError as exc:
            if value == "cluster" or explicit:  # the user's choice of cluster cannot be used
                raise InputError(str(exc)) from None
            raise
        ready = sorted(kube.ready_platforms(listing.nodes))
        if not ready:
            raise ConflictError("--platform cluster: the cluster has no Ready node with a known platform")
        return [plat.normalize(os, arch) for os, arch in ready]

    if value == "local":
        found = local()
        return found, f"building for {plat.format_list(found)} (this machine)"
    if value == "cluster":
        found = cluster()
        return found, f"building for {plat.format_list(found)} (the cluster's Ready nodes)"
    if value:
        try:
            parsed = sorted(plat.parse_list([value]), key=plat.sort_key)
        except plat.PlatformError as exc:
            raise InputError(f"--platform: {exc}") from None
        return parsed, f"building for {plat.format_list(parsed)}"
    from ..errors import RemoteError

    if explicit:  # --kubeconfig or --kube-context chose the cluster: no other choice is made
        found = cluster()
        return found, f"building for {plat.format_list(found)} (the cluster's Ready nodes)"
    try:
        found = cluster()
        return found, f"building for {plat.format_list(found)} (the cluster's Ready nodes)"
    except (RemoteError, ConflictError) as exc:
        found = local()
        return found, f"building for {plat.format_list(found)} (this machine; no cluster to ask: {exc})"


def _check_build_context(
    path: str, kubeconfig: str | None, kube_context: str | None, platform_value: str
) -> None:
    """``--context`` is the build directory, as in docker build and Skaffold. A missing one is an
    error that points at --kube-context, naming the kubeconfig context when that is what the
    value is; an existing one that is also a context's name gets a warning when the build reads
    the cluster without --kube-context."""
    if os.path.isdir(path) and (kube_context or platform_value not in ("", "cluster")):
        return
    from ..cluster.client import context_names

    named = path in context_names(kubeconfig)
    if not os.path.isdir(path):
        why = "not a directory" if os.path.exists(path) else "no such directory"
        what = f"--context {path}: {why}; --context is the build directory, as in docker build"
        if named:
            raise InputError(f'{what}: to use the kubeconfig context "{path}", give --kube-context {path}')
        raise InputError(f"{what} (the kubeconfig context is given with --kube-context)")
    if named:
        log.line(
            f'warning: --context {path} is the build directory; the kubeconfig context "{path}" is '
            f"given with --kube-context {path}"
        )


def _check_tag(tag: str) -> Reference:
    """The ``--tag`` reference: REGISTRY/NAME:TAG, no digest (a ValueError naming it)."""
    from ..registry.reference import ReferenceError
    from ..registry.reference import parse as parse_ref

    try:
        target = parse_ref(tag)
    except ReferenceError as exc:
        raise ValueError(f"{tag!r}: {exc}") from None
    if target.digest or not tag.rsplit("/", 1)[-1].count(":"):
        raise ValueError(f"{tag!r}: give REGISTRY/NAME:TAG (a tag, no digest)")
    return target


def _parse_build_args(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE pairs; a malformed one is named by its position, never echoed (what was
    typed may be the secret itself)."""
    out = []
    for number, value in enumerate(values, 1):
        key, sep, rest = value.partition("=")
        if not sep or not key:
            what = "has no KEY" if sep else "has no '='"
            raise InputError(
                f"--build-arg #{number} {what}: expected KEY=VALUE (the argument is not shown: it may "
                "hold a secret)"
            )
        out.append((key, rest))
    return tuple(out)


def _write_artifacts(path: str, name: str, final: str) -> None:
    from ..manifest.files import write_atomic

    document = {"builds": [{"imageName": name, "tag": final}]}
    write_atomic(path, (json.dumps(document, indent=2) + "\n").encode(), "--file-output")


@click.command(
    name="build", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "-t",
    "--tag",
    "tag",
    required=True,
    metavar="REGISTRY/NAME:TAG",
    callback=value_check(lambda value: _check_tag(value)),
    help="The image to push.",
)
@click.option(
    "--context",
    "build_context",
    default=".",
    show_default=True,
    metavar="DIR",
    help="The build context directory, as in docker build (the kubeconfig context is --kube-context).",
)
@click.option("-f", "--file", "dockerfile", default="", metavar="FILE", help="Dockerfile/Containerfile.")
@click.option(
    "--builder",
    type=click.Choice(["buildx", "docker", "buildah", "podman", "ko", "custom"]),
    help="The builder to run (default: the first of docker buildx, buildah, podman, docker, ko on PATH).",
)
@click.option(
    "--platform",
    "platform_value",
    default="",
    metavar="P[,P...]|cluster|local",
    shell_complete=complete_with("platform"),
    callback=value_check(lambda value: value in ("", "cluster", "local") or check_platforms(value)),
    help="Platforms to build (default: cluster when reachable, else local).",
)
@click.option(
    "--build-arg", "build_args", multiple=True, metavar="KEY=VALUE", help="Build argument (repeatable)."
)
@click.option(
    "--builder-arg",
    "builder_args",
    multiple=True,
    metavar="ARG",
    help="Extra argument for the build command, passed as it is (repeatable).",
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), default=None, help="Platforms built at once (default: all)."
)
@click.option(
    "--index-format",
    type=click.Choice(["oci", "docker"]),
    default=None,
    help="Index media type (default: OCI, or a Docker manifest list when every image is a Docker manifest).",
)
@click.option(
    "--keep-platform-tags",
    type=click.BOOL,
    default=True,
    show_default="true",
    metavar="BOOL",
    help="Keep the TAG_<os>_<arch> tags after stitching (false: delete them where the registry allows).",
)
@click.option(
    "--custom-command", default="", metavar="CMD", help="The command of --builder custom (run by sh)."
)
@click.option(
    "--custom-multi-platform",
    is_flag=True,
    help="The custom command builds every platform in $PLATFORMS at once and pushes the index.",
)
@click.option(
    "--file-output", default="", metavar="FILE", help="Write Skaffold's build artifacts JSON to FILE."
)
@click.option("--kubeconfig", metavar="FILE", help="Kubeconfig for --platform cluster.")
@click.option("--kube-context", metavar="NAME", help="Kubeconfig context for --platform cluster.")
@click.option(
    "--request-timeout",
    metavar="DURATION",
    default="",
    callback=value_check(check_duration),
    help="Give up on a registry or API server request (headers and body) after this long, e.g. 30s "
    "(registry default 10s).",
)
@registry_options(timeout=False)
@log.verbose_option
def command(
    tag: str,
    build_context: str,
    dockerfile: str,
    builder: str | None,
    platform_value: str,
    build_args: tuple[str, ...],
    builder_args: tuple[str, ...],
    concurrency: int | None,
    index_format: str | None,
    keep_platform_tags: bool,
    custom_command: str,
    custom_multi_platform: bool,
    file_output: str,
    kubeconfig: str | None,
    kube_context: str | None,
    request_timeout: str,
    insecure_registries: tuple[str, ...],
    registry_ca_file: str,
    refresh: bool,
    tag_cache_ttl: str,
) -> int:
    from .. import builders, registry
    from ..registry.reference import host_without_port, is_loopback

    try:
        target = _check_tag(tag)
    except ValueError as exc:  # refused while parsing already (value_check); kept for callers
        raise InputError(f"--tag: {exc}") from None
    if custom_command and builder not in (None, "custom"):
        raise click.UsageError("--custom-command goes with --builder custom")
    if builder is None and custom_command:
        builder = "custom"
    if custom_multi_platform and builder != "custom":
        raise click.UsageError("--custom-multi-platform goes with --builder custom")
    if builder != "ko":
        _check_build_context(build_context, kubeconfig, kube_context, platform_value)
        if dockerfile not in ("", "-") and not os.path.isfile(dockerfile):
            why = "not a file" if os.path.exists(dockerfile) else "no such file"
            raise InputError(f"-f/--file {dockerfile}: {why}; give the Dockerfile or Containerfile to build")
    try:
        if builder is None:
            builder = builders.detect()
        builders.require(builder)
    except builders.BuilderError as exc:
        raise InputError(str(exc)) from None

    platforms, choice = _choose_platforms(platform_value, kubeconfig, kube_context, request_timeout or None)
    say(choice)  # node labels from the cluster

    settings = registry.Settings(
        insecure=insecure_registries,
        ca_file=registry_ca_file,
        timeout=registry.timeout(request_timeout),
        refresh=refresh,
        tag_ttl=registry.tag_ttl(tag_cache_ttl),
    )
    inspector = registry.open_inspector(settings)
    client = inspector.client
    options = client.options
    insecure = is_loopback(target.registry) or bool(
        {target.registry, host_without_port(target.registry)} & set(options.insecure)
    )
    request = builders.Request(
        image=target.name,
        tag=target.tag,
        context=build_context,
        dockerfile=dockerfile,
        build_args=_parse_build_args(build_args),
        insecure=insecure,
        custom_command=custom_command,
        builder_args=tuple(builder_args),
    )
    from .. import building

    plan = building.Plan(
        builder,
        request,
        tuple(platforms),
        target,
        concurrency or 0,
        index_format or "",
        keep_platform_tags,
        custom_multi_platform,
    )
    try:
        result = building.run(plan, client)
    except builders.BuilderError as exc:
        raise InputError(str(exc)) from None
    finally:
        client.close()
    return _report(result, target, file_output)


def _report(result: Result, target: Reference, file_output: str) -> int:
    from ..table import render

    rows = [[r.platform, r.digest or "failed", f"{r.seconds:.1f}"] for r in result.rows]
    click.echo(render(("PLATFORM", "DIGEST", "SECONDS"), rows), err=True, nl=False)
    from ..safetext import printable

    failed = [r for r in result.rows if r.error]
    for row in failed:
        click.echo(printable(f"error: [{row.platform}] {row.error}"), err=True)
    for warning in result.warnings:
        click.echo(printable(f"warning: {warning}"), err=True)
    if result.final is None and result.moved:
        before = f"it held {result.before} before" if result.before else "it did not exist before"
        click.echo(
            printable(
                f"error: {len(failed)} of {len(result.rows)} build(s) failed, but the builder moved {target} "
                f"itself: it now holds {result.moved}, where {before}; build again, or make the builder "
                "push to $IMAGE"
            ),
            err=True,
        )
        return EXIT_PROBLEM
    if result.final is None:
        left = f" (the incomplete image is left under {result.left.tag})" if result.left is not None else ""
        say(f"error: {len(failed)} of {len(result.rows)} build(s) failed; nothing pushed as {target}{left}")
        return EXIT_PROBLEM
    if not result.pushed:
        say(f"{target}: unchanged (the tag already points to this index)")
    final = result.final
    text = f"{final.name}:{final.tag}@{final.digest}"
    if file_output:
        _write_artifacts(file_output, final.name, text)
    sys.stdout.write(text + "\n")
    return EXIT_OK
