"""``kubectl arch version``: the version, as ``kubectl version --client`` prints its own."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import __version__

HELP = """Print the version of kubectl-arch.

As kubectl version --client: one line, or with -o json|yaml a document whose
clientVersion holds major, minor, gitVersion (vX.Y.Z), pythonVersion and platform (the
os/arch it runs on). kubectl-arch has no server part, so --client changes nothing.
"""


def document() -> dict[str, Any]:
    """``{"clientVersion": {...}}``, shaped as kubectl's (``major``, ``minor``, ``gitVersion``)
    with the Python version and the platform of the interpreter."""
    import platform

    from ..platforms import normalize

    major, minor = [*__version__.split("."), "0", "0"][:2]
    system = {"win32": "windows", "cygwin": "windows"}.get(sys.platform, sys.platform)
    machine = normalize(system, platform.machine() or "unknown")
    return {
        "clientVersion": {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{__version__}",
            "pythonVersion": platform.python_version(),
            "platform": f"{machine.os}/{machine.architecture}",
        }
    }


@click.command(name="version", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--client", is_flag=True, help="Accepted as kubectl takes it: the client is all there is.")
@click.option("-o", "--output", type=click.Choice(["json", "yaml"]), help="json or yaml.")
def command(client: bool, output: str | None) -> None:
    del client
    if output is None:
        click.echo(f"Client Version: v{__version__}")
        return
    if output == "json":
        sys.stdout.write(json.dumps(document(), indent=2) + "\n")
        return
    from ..manifest.yamledit import Style, block_lines

    sys.stdout.write("".join(line + "\n" for line in block_lines(document(), 0, Style())))
