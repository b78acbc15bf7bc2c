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
# Options whose value names a file or directory (by their metavar): an empty one is refused.
PATH_METAVARS = frozenset({"FILE", "PATH", "DIR"})
# kubectl's -v levels go up to 10 (klog); a larger count means the same as 10.
MAX_COUNT = 10


def kubectl_args(
    command: click.Command, ctx: click.Context, args: Sequence[str], *, subcommand_follows: bool = False
) -> list[str]:
    """``args`` with what kubectl's flag parser (spf13/pflag) accepts and click does not
    rewritten for click: the value of a short option after ``=`` (``-o=json``, ``-f=web.yaml``,
    ``-l=app=web``, also at the end of a cluster: ``-Rf=web.yaml``), a count as a number
    written as kubectl's ``-v`` takes its level (``-v=6``, ``-v6``, ``-v 6``, ``--v=6``,
    ``--v 6``: six ``-v``, at most :data:`MAX_COUNT`), and a switch given a boolean
    (``--check=true``, ``-R=false``).

    An empty value of an option that takes a path (metavar FILE, PATH or DIR: ``-f=``,
    ``--kubeconfig ''``) is a usage error naming the option, as kubectl's ``the path ""``.
    Values of options are never rewritten (``--custom-command -x=1``), nor anything after
    ``--``; with ``subcommand_follows`` (the group's own options), nothing from the first
    word that is not an option on. Unknown options are left for click to report.
    """
    options = _options(command, ctx)
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
            if option is None and name == "--v" and getattr(options.get("-v"), "count", False):
                option = options["-v"]  # kubectl's own spelling of -v
            if option is not None and option.count and not eq and rest and rest[0].isdigit():
                eq, value = "=", rest.pop(0)
            if option is not None and eq and (option.count or option.is_bool_flag):
                flags = _switch(option, name, value, command, ctx)
                out.extend([arg] if flags is None else flags)
            else:
                out.append(arg)
                if option is not None and _takes_value(option) and not eq and rest:
                    eq, value = "=", rest.pop(0)
                    out.append(value)
                if option is not None and _takes_value(option) and eq:
                    _path_value(option, name, value, command, ctx)
        else:
            cluster = "-"
            for i, char in enumerate(arg[1:], start=1):
                option = options.get(f"-{char}")
                after = arg[i + 1 :]
                if option is None:  # unknown: click says so
                    out.append(arg)
                    break
                if _takes_value(option):
                    given: str | None = after.removeprefix("=") if after else None
                    if after.startswith("="):
                        out.extend([cluster + char, after[1:]])
                    else:
                        out.append(arg)
                        if not after and rest:
                            given = rest.pop(0)
                            out.append(given)
                    if given is not None:
                        _path_value(option, f"-{char}", given, command, ctx)
                    break
                if option.count and not after and rest and rest[0].isdigit():
                    after = "=" + rest.pop(0)  # -v 6
                elif option.count and after.isdigit():
                    after = "=" + after  # -v6
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


def long_spelling(
    command: click.Command, ctx: click.Context, args: Sequence[str], *, subcommand_follows: bool = False
) -> list[str]:
    """``args`` (as :func:`kubectl_args` leaves them) with each known short option given by
    its long name (``-Rf web.yaml`` -> ``--recursive --filename web.yaml``), which click
    parses the same. click tries every ``-x`` as a long option first and builds a "no such
    option" error with close-match suggestions before it tries the short one: about a
    millisecond per short option, at every start. Values, unknown options (click reports
    them as written), an option whose value is missing (click's message names it as
    written) and everything after ``--`` (or, with ``subcommand_follows``, from the first
    word that is not an option) are left as they are."""
    options = _options(command, ctx)
    out: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--" or (subcommand_follows and (not arg.startswith("-") or arg == "-")):
            out.append(arg)
            break
        if not arg.startswith("-") or arg == "-":
            out.append(arg)
            continue
        if arg.startswith("--"):
            out.append(arg)
            option = options.get(arg)
            if option is not None and _takes_value(option) and rest:
                out.append(rest.pop(0))
            continue
        spelt: list[str] = []
        for i, char in enumerate(arg[1:], start=1):
            option = options.get(f"-{char}")
            if option is None:
                spelt = [arg]  # click reports the unknown one
                break
            longs = [o for o in option.opts if o.startswith("--")]
            name = longs[0] if longs else f"-{char}"
            if not _takes_value(option):
                spelt.append(name)
                continue
            value = arg[i + 1 :]
            if value:
                spelt.extend([name, value])
            elif rest:
                spelt.extend([name, rest.pop(0)])
            else:
                spelt = [arg]  # no value: click says which option lacks it, as written
            break
        out.extend(spelt)
    return out + rest


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Option]:
    """The command's options by each of their names (``-o``, ``--output``, ``--no-check``)."""
    options: dict[str, click.Option] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    return options


def _takes_value(option: click.Option) -> bool:
    return not option.is_flag and not option.count


def _path_value(
    option: click.Option, name: str, value: str, command: click.Command, ctx: click.Context
) -> None:
    """A usage error for an empty path (``-f=``, ``-f ''``); other values are left to the command."""
    if option.metavar not in PATH_METAVARS or value or ctx.resilient_parsing:
        return
    where = ctx if command is ctx.command else click.Context(command, parent=ctx, info_name=command.name)
    raise click.BadParameter("the path '' is empty", where, option)


def _switch(
    option: click.Option, name: str, value: str, command: click.Command, ctx: click.Context
) -> list[str] | None:
    """``-v=6`` as six ``-v``, ``--check=true`` as ``--check`` and ``=false`` as its opposite
    (nothing, for a switch that is off by default); None when click should judge the value."""
    if option.count and value.isdigit():
        short = [o for o in option.opts if not o.startswith("--")]
        return [short[0] if short else option.opts[0]] * min(int(value), MAX_COUNT)
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
        args = long_spelling(
            self, ctx, kubectl_args(self, ctx, args, subcommand_follows=True), subcommand_follows=True
        )
        rest = super().parse_args(ctx, args)
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
        return name, command, long_spelling(command, ctx, kubectl_args(command, ctx, args[1:]))

    def invoke(self, ctx: click.Context) -> Any:
        name = ctx._protected_args[0] if ctx._protected_args else None
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # click's parser raises some (a missing option value) without a context: they
            # are the command's, and point at its help.
            command = self.get_command(ctx, name) if exc.ctx is None and name else None
            if command is not None:
                exc.ctx = click.Context(command, parent=ctx, info_name=name)
            raise

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


def _one_line(message: str) -> str:
    """click's message on one line: its own line breaks and indents (``Choose from:\\n\\tbash,``)
    become spaces; anything else is escaped by :func:`printable`."""
    import re

    return printable(re.sub(r"[ \t]*\n[ \t]*", " ", message.strip()))


def _stop_children() -> None:
    """On an interrupt: end the children the run started (credential helpers, builders),
    whichever thread started them, before the process exits."""
    procs = sys.modules.get("kubectl_arch.procs")
    if procs is not None:
        procs.stop_all()


def main(argv: Sequence[str] | None = None) -> int:
    # Libraries' warnings (urllib3's FutureWarning on a URL without a scheme...) name files and
    # source lines of the installation: never on the terminal of a CLI user.
    import warnings

    warnings.simplefilter("ignore")
    args = list(sys.argv[1:] if argv is None else argv)
    invoked_as = os.path.basename(sys.argv[0]) if argv is None else ""
    if invoked_as == KUBECTL_COMPLETE_NAME:
        from .completion import kubectl_complete

        return kubectl_complete(args)
    if invoked_as in PLUGIN_NAMES:
        # Kustomize runs legacy exec plugins as "PLUGIN CONFIG_FILE" and exec KRM
        # functions as "PATH" with a ResourceList on stdin.
        args = [PLUGIN_NAMES[invoked_as], *(["--config", args[0]] if args else [])]
    if COMPLETE_VAR in os.environ:
        from . import completion  # noqa: F401  (its shell classes answer the request)
    try:
        result = cli.main(
            args=args,
            prog_name=PROG,
            complete_var=COMPLETE_VAR,
            standalone_mode=False,
            obj={"plugin": invoked_as in PLUGIN_NAMES},
        )
        sys.stdout.flush()
    except click.UsageError as exc:
        click.echo(f"error: {_one_line(exc.format_message())}\n{_usage_hint(exc)}", err=True)
        return EXIT_INPUT
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
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

    from . import stdio

    gc.disable()
    stdio.install()
    code = main()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    except Error as exc:  # what was left to write could not be written
        if code == 0:
            click.echo(f"error: {exc}", err=True)
            code = exc.exit_code
    with contextlib.suppress(BrokenPipeError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
