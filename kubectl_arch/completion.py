"""Shell completion: click's scripts for bash, zsh and fish, and cobra's protocol for kubectl.

Two ways in:

- ``kubectl-arch completion bash|zsh|fish`` prints click's script for the shell. The script
  calls ``kubectl-arch`` back with ``_KUBECTL_ARCH_COMPLETE=<shell>_complete`` and the words
  on the command line in ``COMP_WORDS``/``COMP_CWORD``; :func:`kubectl_arch.cli.main` hands
  that to click.
- ``kubectl arch <TAB>`` (kubectl 1.26 and later): kubectl's own completion runs the
  executable ``kubectl_complete-arch`` found on ``PATH`` with the plugin's arguments, the last
  one being the word under the cursor (empty when a new word starts), and reads cobra's
  completion protocol from its stdout: one candidate a line, ``value<TAB>description``, then a
  last line ``:<directive>`` (a bit set telling the shell what to do besides, e.g. 4: no file
  names). :func:`cobra_complete` answers in that protocol from the same click completions.

Nothing here is imported unless completion runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from click.shell_completion import CompletionItem, ShellComplete, get_completion_class

from . import platforms
from .cli import COMPLETE_VAR, PROG, cli

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "kubectl-arch"
# Manifest files -f takes (directories too: the shells offer them with the files).
MANIFEST_EXTENSIONS = ("yaml", "yml", "json")

# cobra's ShellCompDirective bits (spf13/cobra completions.go).
DIRECTIVE_DEFAULT = 0  # the shell may fall back to file names
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_FILE_EXT = 8  # the candidates are file extensions to offer files by
DIRECTIVE_FILTER_DIRS = 16


def script(shell: str) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    cls = get_completion_class(shell)
    if shell not in SHELLS or cls is None:
        raise click.BadParameter(f"unsupported shell {shell!r}; use one of {', '.join(SHELLS)}")
    return cls(cli, {}, PROG_NAME, COMPLETE_VAR).source()


def platform_items(incomplete: str) -> list[CompletionItem]:
    """Values for ``--platform``: common platforms, appended to those already typed.

    ``linux/amd64,li`` offers ``linux/amd64,linux/arm64``... (not ``linux/amd64`` again): the
    flag takes a comma-separated list, and the shells replace the whole word.
    """
    head, comma, last = incomplete.rpartition(",")
    given = set(head.split(",")) if comma else set()
    return [
        CompletionItem(f"{head}{comma}{name}")
        for name in platforms.COMMON
        if name.startswith(last) and name not in given
    ]


def manifest_items(incomplete: str) -> list[CompletionItem]:
    """Values for ``-f``: manifest files and directories."""
    return [CompletionItem(incomplete, type="file", extensions=MANIFEST_EXTENSIONS)]


def file_items(incomplete: str) -> list[CompletionItem]:
    """Values for an option that takes any file (``--config``)."""
    return [CompletionItem(incomplete, type="file")]


class _Cobra(ShellComplete):
    """click's completion engine, answering in cobra's protocol."""

    name = "cobra"
    source_template = ""

    def __init__(self, args: Sequence[str]) -> None:
        super().__init__(cli, {}, PROG, COMPLETE_VAR)
        words = list(args) or [""]
        self.args, self.incomplete = words[:-1], words[-1]

    def get_completion_args(self) -> tuple[list[str], str]:
        return self.args, self.incomplete

    def format_completion(self, item: CompletionItem) -> str:
        text = " ".join((item.help or "").split())
        return f"{item.value}\t{text}" if text else str(item.value)

    def complete(self) -> str:
        items = self.get_completions(self.args, self.incomplete)
        plain = [item for item in items if item.type == "plain"]
        lines = [self.format_completion(item) for item in plain]
        directive = DIRECTIVE_NO_FILE_COMP
        if not plain:
            files = [item for item in items if item.type in ("file", "dir")]
            if any(item.type == "dir" for item in files):
                directive = DIRECTIVE_FILTER_DIRS
            elif files and files[0].extensions:
                directive = DIRECTIVE_FILTER_FILE_EXT
                lines = list(files[0].extensions)
            elif files:
                directive = DIRECTIVE_DEFAULT
        return "".join(f"{line}\n" for line in lines) + f":{directive}\n"


def cobra_complete(args: Sequence[str]) -> str:
    """The completions for ``kubectl arch ARGS...`` (the last arg is the word being completed),
    in cobra's protocol."""
    return _Cobra(args).complete()


def kubectl_complete(argv: Sequence[str] | None = None) -> int:
    """``kubectl_complete-arch ARGS...``: what kubectl runs to complete ``kubectl arch ARGS``.

    Some plugins' completion executables are called as ``kubectl_complete-NAME __complete
    ARGS`` by wrappers written for cobra programs; a leading ``__complete`` is accepted too.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["__complete"]:
        args = args[1:]
    try:
        out = cobra_complete(args)
    except Exception as exc:  # completion must never print a traceback into the shell
        print(f"kubectl-arch completion failed: {exc}", file=sys.stderr)
        out = f":{DIRECTIVE_ERROR}\n"
    sys.stdout.write(out)
    sys.stdout.flush()
    return 0


def run_kubectl_complete() -> None:
    """Console entry point of ``kubectl_complete-arch``."""
    sys.exit(kubectl_complete())


def command_items(incomplete: str) -> list[CompletionItem]:
    """Values for ``help COMMAND``: the command names with their one-line help."""
    from .cli import COMMANDS

    return [CompletionItem(n, help=text) for n, (_, text) in COMMANDS.items() if n.startswith(incomplete)]


# Completers of option values by kind (see kubectl_arch.commands.complete_with).
VALUES = {
    "platform": platform_items,
    "manifest": manifest_items,
    "file": file_items,
    "command": command_items,
}
