"""``kubectl arch completion SHELL``: print the shell completion script."""

from __future__ import annotations

import click

from ..cli import KUBECTL_COMPLETE_NAME
from ..completion import SHELLS, script

HELP = f"""Print the shell completion script for kubectl-arch.

\b
  bash: source <(kubectl-arch completion bash)      # in ~/.bashrc
  zsh:  source <(kubectl-arch completion zsh)       # in ~/.zshrc, after compinit
  fish: kubectl-arch completion fish | source       # in ~/.config/fish/config.fish

SHELL is bash, zsh or fish. The script completes the kubectl-arch command. For
"kubectl arch <TAB>" (kubectl 1.26 and later, with kubectl's own completion loaded), kubectl
runs {KUBECTL_COMPLETE_NAME} from PATH. pip and pipx install it; with krew, link it once:

\b
  ln -s kubectl-arch ~/.krew/bin/{KUBECTL_COMPLETE_NAME}
"""


@click.command(name="completion", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
def command(shell: str) -> None:
    click.echo(script(shell), nl=False)
