"""``kubectl arch inspect``: which platforms images really support."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import log
from .. import platforms as plat
from ..errors import EXIT_OK, EXIT_PROBLEM, Error, InputError
from . import check_platforms, filename_option, pod_template_path_option, recursive_option, say, value_check
from ._registry import progress_meter, registry_options

HELP = """Report which platforms images really support.

Reads each image's manifest from its registry: an index (or manifest list) gives its
entries' platforms, attestations left out; a single manifest gives its config's platform.

References: REF arguments (nginx, ghcr.io/org/app:1.2, host:5000/a/b@sha256:...), and/or
-f manifests (the images of all workloads in them, as pin reads them). Each distinct
reference is reported once, in the order given.

With --platform, a check: exit 1, naming what is missing, when an image lacks any of the
platforms. arm64 matches arm64/v8; with --allow-variant-fallback, arm/v7 also accepts an
image built for arm/v6 or arm/v5 (never a later variant), arm64/v9 one for arm64/v8.5.
A Windows host build, windows(10.0.20348)/amd64 or windows/amd64:10.0.20348, accepts the
images that build runs (containerd's rules: ltsc2022 images on 2022 and newer hosts).

\b
Examples:
  kubectl arch inspect nginx:1.27 ghcr.io/org/app:1.2
  kubectl arch inspect -f deploy.yaml -o json
  kubectl arch inspect --platform linux/amd64,linux/arm64 -f manifests/ -R
"""

EPILOG = (
    "Exit codes: 0 done; 1 an image lists no platform to run or an invalid one, or (with --platform) "
    "lacks a requested platform; 2 usage or input error (an invalid reference); 3 an image could not "
    "be inspected (registry unreachable or too slow, not found, access denied); 130 interrupted."
)


def _references(
    refs: tuple[str, ...], filenames: tuple[str, ...], recursive: bool, paths: tuple[str, ...]
) -> list[str]:
    found = list(refs)
    if filenames:
        from ..manifest import files as manifests
        from ..manifest import scan as scanning
        from ..manifest.workloads import KindError, Kinds, parse_declaration

        for value in paths:
            try:
                parse_declaration(value)
            except KindError as exc:
                raise InputError(f"--pod-template-path: {exc}") from None
        kinds = Kinds.parse(paths)
        scans = []
        for source in manifests.read_sources(filenames, recursive):
            scan = scanning.scan(source.text, source.name, kinds, source.walked)
            errors = [f for f in scan.findings if f.severity == "error"]
            if errors:
                raise InputError(str(errors[0]))
            found.extend(c.image for w in scan.workloads for c in w.containers)
            scans.append(scan)
        from ..manifest.units import said_once

        unchecked = said_once([f for s in scans for f in s.findings if f.unchecked])
        for finding in unchecked:
            say(f"warning: {finding}")
        if scanning.holds_no_workload(scans) and not unchecked:
            say(f"warning: {scanning.no_workloads(filenames, 'inspect')}")
    return list(dict.fromkeys(r.strip() for r in found if r.strip()))


def _platform_label(entry: Any) -> str:
    label = str(entry.platform)
    return f"{label} ({entry.platform.os_version})" if entry.platform.os_version else label


def table(infos: list[Any]) -> str:
    """One block per image; every cell escaped, as registries wrote most of them."""
    from ..safetext import printable

    blocks = []
    for info in infos:
        head = printable(f"{info.reference} -> {info.resolved.name}@{info.digest} ({info.media_type})")
        rows = [("PLATFORM", "DIGEST", "MEDIA TYPE", "SIZE")]
        rows.extend(
            (printable(_platform_label(e)), printable(e.digest), printable(e.media_type), str(e.size))
            for e in info.platforms
        )
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [head]
        lines.extend(
            f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows
        )
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def as_yaml(value: Any) -> str:
    from ..manifest.yamledit import Style, block_lines

    if not value:
        return "[]\n"
    return "".join(line + "\n" for line in block_lines(value, 0, Style()))


@click.command(
    name="inspect", help=HELP, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.argument("refs", nargs=-1, metavar="[REF]...")
@filename_option("Manifests whose images to inspect (repeatable).")
@recursive_option()
@pod_template_path_option()
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json", "yaml"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--platform",
    "platform_values",
    multiple=True,
    metavar="OS/ARCH[,...]",
    callback=value_check(check_platforms),
    help="Check that every image supports these platforms (repeatable); exit 1 if not. A Windows "
    "build: windows(10.0.17763)/amd64.",
)
@click.option(
    "--allow-variant-fallback",
    is_flag=True,
    help="With --platform: accept an earlier CPU variant (arm/v6 for arm/v7).",
)
@registry_options()
@log.verbose_option
def command(
    refs: tuple[str, ...],
    filenames: tuple[str, ...],
    recursive: bool,
    pod_template_paths: tuple[str, ...],
    output: str,
    platform_values: tuple[str, ...],
    allow_variant_fallback: bool,
    insecure_registries: tuple[str, ...],
    registry_ca_file: str,
    request_timeout: str,
    refresh: bool,
    tag_cache_ttl: str,
) -> int:
    if allow_variant_fallback and not platform_values:
        raise click.UsageError("--allow-variant-fallback applies only with --platform")
    if filenames.count("-") > 1:
        raise click.UsageError("stdin (-) can be given only once")
    try:
        wanted = sorted(plat.parse_list(platform_values), key=plat.sort_key)
    except plat.PlatformError as exc:
        raise InputError(f"--platform: {exc}") from None
    references = _references(refs, filenames, recursive, pod_template_paths)
    if not references and not filenames:
        raise click.UsageError("no images: give references (nginx:1.27) or manifests with -f")
    if not references:  # manifests without workloads: nothing to look up, not an error
        sys.stdout.write({"json": "[]\n", "yaml": "[]\n"}.get(output, ""))
        return EXIT_OK

    from .. import registry

    settings = registry.Settings(
        insecure=insecure_registries,
        ca_file=registry_ca_file,
        timeout=registry.timeout(request_timeout),
        refresh=refresh,
        tag_ttl=registry.tag_ttl(tag_cache_ttl),
    )
    inspector = registry.open_inspector(settings)
    try:
        results = inspector.inspect_all(references, progress_meter(len(references)))
    finally:
        inspector.client.close()

    infos = [r for r in results.values() if not isinstance(r, Error)]
    if output == "json":
        sys.stdout.write(json.dumps([i.to_json() for i in infos], indent=2) + "\n")
    elif output == "yaml":
        sys.stdout.write(as_yaml([i.to_json() for i in infos]))
    elif infos:
        sys.stdout.write(table(infos))

    from ..safetext import printable

    code = EXIT_OK
    for result in results.values():
        if isinstance(result, Error):
            click.echo(f"error: {printable(str(result))}", err=True)
            code = max(code, result.exit_code)
    lacking = 0
    for info in infos:
        offered = [e.platform for e in info.platforms]
        missing = [w for w in wanted if not any(plat.matches(w, o, allow_variant_fallback) for o in offered)]
        if missing:
            lacking += 1
            has = ",".join(dict.fromkeys(o.spec for o in sorted(offered, key=plat.sort_key)))
            click.echo(
                printable(
                    f"error: image {info.reference} lacks {', '.join(w.spec for w in missing)} (it has {has})"
                ),
                err=True,
            )
    if lacking:
        click.echo(f"{lacking} image(s) lack requested platforms", err=True)
        code = max(code, EXIT_PROBLEM)
    return code
