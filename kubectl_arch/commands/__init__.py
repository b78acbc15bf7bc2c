"""The commands of ``kubectl arch``, one module each, loaded only when invoked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def say(line: str, err: bool = True) -> None:
    """Print one message line (stderr by default). Messages carry text from files, objects,
    flags and servers, so its control and bidi characters are escaped (:func:`printable`)."""
    import click

    from ..safetext import printable

    click.echo(printable(line), err=err)


def complete_with(kind: str) -> Callable[[Any, Any, str], list[Any]]:
    """A click ``shell_complete`` callback for option values of ``kind`` ("platform",
    "manifest", "file", "command"); the completion code loads only when a shell asks for candidates."""

    def callback(_ctx: Any, _param: Any, incomplete: str) -> list[Any]:
        from ..completion import VALUES

        return VALUES[kind](incomplete)

    return callback


def value_check(check: Callable[[str], object]) -> Callable[[Any, Any, Any], Any]:
    """A click ``callback`` that gives each value of an option (each one of a repeatable
    option) to ``check`` while the flags are parsed, and turns its refusal (a ``ValueError``
    or an :class:`~kubectl_arch.errors.Error`, whose message names the value) into click's
    usage error: ``error: Invalid value for '--flag': <why>``, then ``See 'kubectl arch
    COMMAND --help' for usage.``, exit 2, as click refuses a value of its own types (``-o``'s
    choices). A leading ``--flag: `` in the message is dropped (click names the flag). Values
    from elsewhere (a ``--config`` file, a KRM functionConfig) are checked later by the
    library, in errors that name their source."""

    def callback(ctx: Any, param: Any, value: Any) -> Any:
        import click

        from ..errors import Error

        if ctx.resilient_parsing or value is None:
            return value
        if ctx.get_parameter_source(param.name) == click.core.ParameterSource.DEFAULT:
            return value  # not given: the command's own default
        for one in value if isinstance(value, tuple) else (value,):
            try:
                check(one)
            except (ValueError, Error) as exc:
                why = str(exc)
                for name in param.opts:
                    why = why.removeprefix(f"{name}: ")
                raise click.BadParameter(why, ctx, param) from None
        return value

    return callback


def check_duration(value: str) -> None:
    from ..durations import seconds

    seconds(value)


def check_platforms(value: str) -> None:
    """A ``--platform`` value: platforms, comma-separated."""
    from ..platforms import parse_list

    parse_list([value])


def _check_declaration(value: str) -> None:
    from ..manifest.workloads import parse_declaration

    parse_declaration(value)


def _check_policy(value: str) -> None:
    from ..resolve import parse_policy

    parse_policy(value)


# The manifest input options that pin, check and inspect share.
def filename_option(help: str = "Manifest file, directory or - for stdin (repeatable).") -> Any:
    import click

    return click.option(
        "-f",
        "--filename",
        "filenames",
        multiple=True,
        metavar="PATH",
        shell_complete=complete_with("manifest"),
        help=help,
    )


def recursive_option() -> Any:
    import click

    return click.option(
        "-R", "--recursive", is_flag=True, help="Process directories given with -f recursively."
    )


def pod_template_path_option() -> Any:
    import click

    return click.option(
        "--pod-template-path",
        "pod_template_paths",
        multiple=True,
        metavar="KIND[.GROUP]=PATH",
        callback=value_check(_check_declaration),
        help="Treat KIND as a workload whose pod spec is at PATH, "
        "e.g. Pipeline.example.com=spec.stages.*.template.spec.",
    )


LOCKED_HELP = "Take the image platforms from a pin --lock file; no registry is contacted."


def locked_option(help: str = LOCKED_HELP) -> Any:
    """``--locked FILE``: image answers from a lock file (``pin --lock``), no registry."""
    import click

    return click.option("--locked", "locked_path", metavar="FILE", default="", help=help)


def on_unknown_image_option(default: str = "fail") -> Any:
    """``--on-unknown-image``: what to do with an image that cannot be looked up; ``default``
    (``fail`` or ``skip``) is what the command does when the flag is not given (the value is
    then "")."""
    import click

    actions = {
        "fail": "fail (exit 3{})",
        "skip": "report its workloads unknown (skip{})" if default == "skip" else "skip its workloads{}",
    }
    first, second = (default, "skip" if default == "fail" else "fail")
    said = [actions[first].format(", the default"), actions[second].format("")]
    return click.option(
        "--on-unknown-image",
        metavar=f"{first}|{second}|assume:OS/ARCH[,...]",
        default="",
        callback=value_check(_check_policy),
        help=f"An image that cannot be looked up: {said[0]}, {said[1]}, or assume platforms.",
    )


def images_from_option(help: str) -> Any:
    import click

    return click.option("--images-from", "images_from", multiple=True, metavar="FILE", help=help)


def krm_exit(findings: Any) -> int:
    """The exit code of a run as a KRM function, whose findings are the ``results`` of the
    ResourceList it wrote: kpt shows those (under "Results"), so stderr gets no second copy,
    only one line when some result is an error. Run as a Kustomize plugin (``PlatformPin``),
    whose results Kustomize does not show, each finding is a line on stderr as well."""
    import click

    from ..safetext import printable

    root = click.get_current_context().find_root()
    plugin = isinstance(root.obj, dict) and root.obj.get("plugin")
    if plugin:
        for line in dict.fromkeys(printable(f"{f.severity}: {f}") for f in findings):
            click.echo(line, err=True)
    errors = dict.fromkeys((str(f), f.exit_code) for f in findings if f.severity == "error")
    if errors and not plugin:
        count = f"{len(errors)} error{'s' if len(errors) > 1 else ''}"
        click.echo(f"error: {count} in the results of the output ResourceList", err=True)
    return max((code or 1 for _, code in errors), default=0)


def input_files(filenames: tuple[str, ...]) -> tuple[str, ...]:
    """The ``-f`` values, or stdin when none are given and stdin is not a terminal (a
    UsageError then, as there would be nothing to read)."""
    import sys

    import click

    if not filenames:
        try:
            terminal = sys.stdin.isatty()
        except (AttributeError, ValueError):
            terminal = False
        if terminal:
            raise click.UsageError("no input: give manifests with -f FILE|DIR or on stdin")
        filenames = ("-",)
    if filenames.count("-") > 1:
        raise click.UsageError("stdin (-) can be given only once")
    return filenames
