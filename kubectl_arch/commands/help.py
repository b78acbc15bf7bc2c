"""``kubectl arch help [COMMAND]``: the help of the group or of one command, as ``kubectl help``."""

from __future__ import annotations

import click

from . import complete_with

HELP = """Show the help of kubectl arch or of one of its commands.

\b
kubectl arch help            the same as kubectl arch --help
kubectl arch help COMMAND    the same as kubectl arch COMMAND --help
"""


@click.command(name="help", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("topic", required=False, metavar="[COMMAND]", shell_complete=complete_with("command"))
@click.pass_context
def command(ctx: click.Context, topic: str | None) -> None:
    from ..cli import no_such_command

    root = ctx.find_root()
    if not topic:
        click.echo(root.get_help(), color=ctx.color)
        return
    group = root.command
    assert isinstance(group, click.Group)
    found = group.get_command(root, topic)
    if found is None:
        raise no_such_command(topic, root)
    with found.make_context(topic, [], parent=root, resilient_parsing=True) as sub:
        click.echo(sub.get_help(), color=ctx.color)
