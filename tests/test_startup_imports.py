"""What ``kubectl-arch pin --platform ... -f small.yaml`` loads: the start-up path of every CI
job and pipeline step (see bench/startup.py). Each module of the package costs start-up time,
so the set is pinned: a change that loads another module on this path must say why here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "bench" / "data" / "deployment.yaml"

# Exactly these, for one Deployment pinned with --platform alone (no look-up, no cluster).
PIN_PATH = {
    "kubectl_arch",
    "kubectl_arch.affinity",
    "kubectl_arch.cli",
    "kubectl_arch.commands",
    "kubectl_arch.commands._registry",
    "kubectl_arch.commands.clusteropts",
    "kubectl_arch.commands.pin",
    "kubectl_arch.config",
    "kubectl_arch.errors",
    "kubectl_arch.localfile",
    "kubectl_arch.log",
    "kubectl_arch.manifest",
    "kubectl_arch.manifest.fastyaml",
    "kubectl_arch.manifest.files",
    "kubectl_arch.manifest.node",
    "kubectl_arch.manifest.scan",
    "kubectl_arch.manifest.workloads",
    "kubectl_arch.manifest.yamledit",
    "kubectl_arch.manifest.yamlnodes",
    "kubectl_arch.manifest.yamltext",
    "kubectl_arch.pin",
    "kubectl_arch.platforms",
    "kubectl_arch.podspec",
    "kubectl_arch.resolve",
    "kubectl_arch.safetext",
    "kubectl_arch.shapes",  # the wording of wrong types, no imports of its own
}
# Never on that path: remote clients and schema validation, and what only other inputs or
# flags need (the node selector parser for pods with node affinity terms, the full YAML
# reader, durations for --request-timeout, the operators' kinds, the cluster and registry
# code, close-match suggestions for mistyped options).
FORBIDDEN = (
    "kubernetes",
    "requests",
    "jsonschema",
    "ruamel",
    "yaml",
    "importlib.metadata",
    "difflib",
    "kubectl_arch.nodeselector",
    "kubectl_arch.manifest.fullyaml",
    "kubectl_arch.durations",
    "kubectl_arch.manifest.kinds",
    "kubectl_arch.manifest.units",
    "kubectl_arch.cluster",
    "kubectl_arch.registry",
    "kubectl_arch.completion",
)

PROBE = """
import os, sys
sys.argv = ["kubectl-arch", *sys.argv[1:]]
from kubectl_arch.cli import main
code = main()
sys.stdout.flush()
sys.stderr.write("\\nmodules " + " ".join(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


def loaded(*args: str) -> tuple[str, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    modules = proc.stderr.rpartition("\nmodules ")[2].split()
    return proc.stdout, set(modules)


def test_pin_with_platform_loads_only_its_own_path() -> None:
    out, modules = loaded("pin", "--platform", "linux/arm64", "-f", str(SMALL))
    assert "- arm64" in out
    assert {m for m in modules if m.split(".")[0] == "kubectl_arch"} == PIN_PATH
    found = sorted(m for m in modules for f in FORBIDDEN if m == f or m.startswith(f + "."))
    assert found == []


@pytest.mark.parametrize(
    "args",
    [
        ["-R", "-f", str(SMALL)],  # short options, one by one
        ["-Rqf", str(SMALL)],  # clustered, the value in the next word
        [f"-f{SMALL}", "-v=0"],  # the value attached; a level
        [f"-f={SMALL}", "--check=false"],
    ],
)
def test_short_options_cost_no_suggestions(args: list[str]) -> None:
    """click tries each short option as a long one first, and builds an error with close
    matches (difflib) before it tries it as short: the CLI gives click the long names."""
    out, modules = loaded("pin", "--platform", "linux/arm64", *args)
    assert "- arm64" in out
    assert "difflib" not in modules


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-Rf", "web.yaml"], ["--recursive", "--filename", "web.yaml"]),
        (["-fweb.yaml", "-q"], ["--filename", "web.yaml", "--quiet"]),
        (["-f", "-q"], ["--filename", "-q"]),  # the value of -f, whatever it looks like
        (["-vvv"], ["--verbose"] * 3),
        (["-Rz", "-f"], ["-Rz", "-f"]),  # unknown, and a missing value: click names them as written
        (["--lock", "-R", "x"], ["--lock", "-R", "x"]),  # a long option's value is left alone
        (["--", "-R"], ["--", "-R"]),
    ],
)
def test_long_spelling(args: list[str], expected: list[str]) -> None:
    import click

    from kubectl_arch import cli

    ctx = click.Context(cli.cli, info_name="kubectl arch")
    pin = cli.cli.get_command(ctx, "pin")
    assert pin is not None
    assert cli.long_spelling(pin, ctx, args) == expected


def test_long_spelling_of_the_group_stops_at_the_command() -> None:
    import click

    from kubectl_arch import cli

    ctx = click.Context(cli.cli, info_name="kubectl arch")
    assert cli.long_spelling(cli.cli, ctx, ["-v", "pin", "-R"], subcommand_follows=True) == [
        "--verbose",
        "pin",
        "-R",
    ]
