"""The commands of ``kubectl arch``, one module each, loaded only when invoked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def complete_with(kind: str) -> Callable[[Any, Any, str], list[Any]]:
    """A click ``shell_complete`` callback for option values of ``kind`` ("platform",
    "manifest", "file", "command"); the completion code loads only when a shell asks for candidates."""

    def callback(_ctx: Any, _param: Any, incomplete: str) -> list[Any]:
        from ..completion import VALUES

        return VALUES[kind](incomplete)

    return callback


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
        help="Treat KIND as a workload whose pod spec is at PATH, "
        "e.g. Pipeline.example.com=spec.stages.*.template.spec.",
    )


def images_from_option(help: str) -> Any:
    import click

    return click.option("--images-from", "images_from", multiple=True, metavar="FILE", help=help)


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
