"""The ``kubectl-arch`` command line: a click group whose commands load on demand.

Each command lives in ``kubectl_arch/commands/<name>.py`` and is imported only when it
runs, so ``pin`` never pays for the imports of ``build``. Errors end as one line on stderr
and an exit code (see :mod:`kubectl_arch.errors`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from . import __version__, log
from .errors import EXIT_INPUT, Error

EXIT_CODES = (
    "Exit codes: 0 success; 1 a problem to fix in manifests or images (conflict, check "
    "failed); 2 usage or input error; 3 registry or API server failure."
)
# name -> (module, one-line help); module None: not available yet.
COMMANDS: dict[str, tuple[str | None, str]] = {
    "nodes": ("kubectl_arch.commands.nodes", "Summarize the cluster's node platforms and what to build for."),
    "inspect": ("kubectl_arch.commands.inspect", "Report which platforms images really support."),
    "pin": ("kubectl_arch.commands.pin", "Pin workloads to the platforms their images support."),
    "check": (
        "kubectl_arch.commands.check",
        "Check that every workload fits some Ready node of the cluster.",
    ),
    "audit": (
        "kubectl_arch.commands.audit",
        "Audit what runs in the cluster: broken, at risk, blocked.",
    ),
    "build": (
        "kubectl_arch.commands.build",
        "Build an image per platform and push one multi-platform index.",
    ),
    "completion": (
        "kubectl_arch.commands.completion",
        "Print the shell completion script (bash, zsh, fish).",
    ),
    "help": ("kubectl_arch.commands.help", "Show the help of kubectl arch or of one of its commands."),
    "version": ("kubectl_arch.commands.version", "Print the version of kubectl-arch."),
}
# When installed under the kind's name, kubectl-arch serves as a Kustomize plugin.
PLUGIN_NAMES = {"PlatformPin": "pin"}
PROG = "kubectl arch"
# Set by the completion scripts (see kubectl_arch.completion); click reads it.
COMPLETE_VAR = "_KUBECTL_ARCH_COMPLETE"
# kubectl 1.26+ runs this executable to complete "kubectl arch ..." (cobra's protocol).
KUBECTL_COMPLETE_NAME = "kubectl_complete-arch"


def suggestions(word: str, names: Sequence[str]) -> list[str]:
    """The names ``word`` may be a typo of: close by ``difflib`` (as click suggests options)
    or starting with it (as cobra suggests commands: ``ver`` -> ``version``)."""
    import difflib  # only on the error path

    lowered = word.lower()
    close = difflib.get_close_matches(lowered, names, n=3)
    return sorted({*close, *(n for n in names if lowered and n.startswith(lowered))})


def no_such_command(name: str, ctx: click.Context | None) -> click.UsageError:
    """``No such command 'node'. Did you mean 'nodes'?``, in the words click uses for options."""
    found = suggestions(name, list(COMMANDS))
    quoted = ", ".join(repr(n) for n in found)
    hint = (
        ""
        if not found
        else f" Did you mean {quoted}?"
        if len(found) == 1
        else f" (Did you mean one of: {quoted}?)"
    )
    return click.UsageError(f"No such command {name!r}.{hint}", ctx)


# The values of a switch written as kubectl's flag parser (spf13/pflag, strconv.ParseBool) takes them.
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


def kubectl_args(
    command: click.Command, ctx: click.Context, args: Sequence[str], *, subcommand_follows: bool = False
) -> list[str]:
    """``args`` with what kubectl's flag parser (spf13/pflag) accepts and click does not
    rewritten for click: the value of a short option after ``=`` (``-o=json``, ``-f=web.yaml``,
    ``-l=app=web``, also at the end of a cluster: ``-Rf=web.yaml``), a count as a number
    (``-v=6``: six ``-v``), and a switch given a boolean (``--check=true``, ``-R=false``).

    Values of options are never rewritten (``--custom-command -x=1``), nor anything after
    ``--``; with ``subcommand_follows`` (the group's own options), nothing from the first
    word that is not an option on. Unknown options are left for click to report.
    """
    options: dict[str, click.Option] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    out: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--" or (subcommand_follows and (not arg.startswith("-") or arg == "-")):
            out.append(arg)
            break
        if not arg.startswith("-") or arg == "-":
            out.append(arg)
        elif arg.startswith("--"):
            name, eq, value = arg.partition("=")
            option = options.get(name)
            if option is not None and eq and (option.count or option.is_bool_flag):
                flags = _switch(option, name, value, command, ctx)
                out.extend([arg] if flags is None else flags)
            else:
                out.append(arg)
                if option is not None and _takes_value(option) and not eq and rest:
                    out.append(rest.pop(0))
        else:
            cluster = "-"
            for i, char in enumerate(arg[1:], start=1):
                option = options.get(f"-{char}")
                after = arg[i + 1 :]
                if option is None:  # unknown: click says so
                    out.append(arg)
                    break
                if _takes_value(option):
                    if after.startswith("="):
                        out.extend([cluster + char, after[1:]])
                    else:
                        out.append(arg)
                        if not after and rest:
                            out.append(rest.pop(0))
                    break
                if after.startswith("="):
                    flags = _switch(option, f"-{char}", after[1:], command, ctx)
                    if flags is None:
                        out.append(arg)
                    else:
                        out.extend([cluster, *flags] if cluster != "-" else flags)
                    break
                cluster += char
            else:
                out.append(arg)
    return out + rest


def _takes_value(option: click.Option) -> bool:
    return not option.is_flag and not option.count


def _switch(
    option: click.Option, name: str, value: str, command: click.Command, ctx: click.Context
) -> list[str] | None:
    """``-v=6`` as six ``-v``, ``--check=true`` as ``--check`` and ``=false`` as its opposite
    (nothing, for a switch that is off by default); None when click should judge the value."""
    if option.count and value.isdigit():
        short = [o for o in option.opts if not o.startswith("--")]
        return [short[0] if short else option.opts[0]] * int(value)
    if not option.count and value in _TRUE:
        return [name]
    if not option.count and value in _FALSE:
        if option.secondary_opts:
            return [option.secondary_opts[0]]
        return None if option.default is True else []
    if ctx.resilient_parsing:  # completing: no error in the shell's face
        return None
    what = "a number" if option.count else "a boolean (true or false)"
    where = ctx if command is ctx.command else click.Context(command, parent=ctx, info_name=command.name)
    raise click.BadOptionUsage(name, f"Invalid value for {name!r}: {value!r} is not {what}.", where)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _ = entry
        import importlib

        return importlib.import_module(module).command  # type: ignore[no-any-return]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, kubectl_args(self, ctx, args, subcommand_follows=True))
        if not ctx._protected_args and not ctx.resilient_parsing:
            # kubectl's habit: without a command (kubectl arch, kubectl arch -v), print the
            # help on stdout and exit 0.
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return rest

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is None:
            if ctx.resilient_parsing:
                return None, None, args[1:]
            if name.startswith("-"):
                self.parse_args(ctx, args)  # an option after all: click says which
            raise no_such_command(name, ctx)
        return name, command, kubectl_args(command, ctx, args[1:])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        """Command names with their one-line help (without importing every command), then
        the group's options."""
        from click.shell_completion import CompletionItem

        if [*getattr(ctx, "_protected_args", ()), *ctx.args]:
            return []  # after a word that names no command, nothing fits
        names = [
            CompletionItem(n, help=text) for n, (_, text) in COMMANDS.items() if n.startswith(incomplete)
        ]
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, text) for name, (_, text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    no_args_is_help=False,  # LazyGroup prints the help itself, on stdout with exit 0
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(__version__, "--version", prog_name="kubectl-arch", message="%(prog)s %(version)s")
@log.verbose_option
def cli() -> None:
    """Run containers on clusters whose CPU architectures differ.

    \b
    kubectl arch pin --platform linux/amd64,linux/arm64 -f deploy.yaml
    """


def _usage_hint(exc: click.UsageError) -> str:
    ctx = exc.ctx
    path = ctx.command_path if ctx is not None else PROG
    return f"See '{path} --help' for usage."


def printable(text: str) -> str:
    """Remote text in an error line, control characters escaped (loaded on the error path)."""
    from .safetext import printable as escape

    return escape(text)


def _stop_children() -> None:
    """On an interrupt: end the children the run started (credential helpers, builders),
    whichever thread started them, before the process exits."""
    procs = sys.modules.get("kubectl_arch.procs")
    if procs is not None:
        procs.stop_all()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    invoked_as = os.path.basename(sys.argv[0]) if argv is None else ""
    if invoked_as == KUBECTL_COMPLETE_NAME:
        from .completion import kubectl_complete

        return kubectl_complete(args)
    if invoked_as in PLUGIN_NAMES:
        # Kustomize runs legacy exec plugins as "PLUGIN CONFIG_FILE" and exec KRM
        # functions as "PATH" with a ResourceList on stdin.
        args = [PLUGIN_NAMES[invoked_as], *(["--config", args[0]] if args else [])]
    try:
        result = cli.main(args=args, prog_name=PROG, complete_var=COMPLETE_VAR, standalone_mode=False)
        sys.stdout.flush()
    except click.UsageError as exc:
        click.echo(f"error: {printable(exc.format_message())}\n{_usage_hint(exc)}", err=True)
        return EXIT_INPUT
    except click.ClickException as exc:
        click.echo(f"error: {printable(exc.format_message())}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        _stop_children()
        return 130
    except Error as exc:
        click.echo(f"error: {printable(str(exc))}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        _stop_children()
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. "| head"): stop quietly, as kubectl does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except RecursionError:
        click.echo("error: the input nests too deeply to be read", err=True)
        return EXIT_INPUT
    except MemoryError:
        click.echo("error: out of memory: the input is too large to be read", err=True)
        return EXIT_INPUT
    except Exception as exc:  # a fault of this program: still one line, never a traceback
        detail = printable(log.redact(str(exc).splitlines()[0] if str(exc) else ""))
        click.echo(
            f"error: unexpected {type(exc).__name__}"
            + (f": {detail}" if detail else "")
            + "; please report this with the command that caused it",
            err=True,
        )
        return EXIT_INPUT
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console entry point: ``main`` in a process that exits as soon as its work is done.

    A short-lived command needs neither the cycle collector nor the interpreter's teardown
    (together about a fifth of a small run's wall time): output is flushed and files are
    closed before ``os._exit``.
    """
    import contextlib
    import gc

    gc.disable()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
