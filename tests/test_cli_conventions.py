"""kubectl's habits, through the real entry point and through ``kubectl arch`` (the real
kubectl's plugin dispatch): ``-o=json`` and the ``=`` form of every short option, suggestions
for mistyped commands, ``help [COMMAND]``, ``version`` and the bare command."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import click
import pytest
import yaml
from apiserver import ApiServer
from cluster_util import GKE, KUBECTL_ARCH, cluster_env
from integration_util import TESTDATA

from kubectl_arch import __version__, cli

DEPLOY = TESTDATA / "deploy.yaml"
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""


def arch(
    home: Path, *args: str, kubeconfig: Path | None = None, via_kubectl: bool = False
) -> tuple[int, str, str]:
    argv = ["kubectl", "arch", *args] if via_kubectl else [str(KUBECTL_ARCH), *args]
    proc = subprocess.run(
        argv,
        input="",
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        cwd=home,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def without_timings(text: str) -> str:
    return re.sub(r" in [0-9]+ ms$", " in N ms", text, flags=re.M)


@pytest.fixture
def kubeconfig(gke: ApiServer, tmp_path: Path) -> Path:
    return gke.kubeconfig(tmp_path / "config")


# -- the = form of short options --------------------------------------------------------------

# Each command's short options that take a value, written -X=VALUE and as -X VALUE: the same
# outcome (exit code, stdout, stderr) either way. FILE is a manifest, NODES the recorded nodes.
EQUALS = [
    ("nodes", ["-o=json"], ["-o", "json"]),
    ("nodes", ["-o=platforms", "-l=cloud.google.com/gke-nodepool=arm-pool"],
     ["-o", "platforms", "-l", "cloud.google.com/gke-nodepool=arm-pool"]),
    ("nodes", ["-v=6", "-o=yaml"], ["-vvvvvv", "-o", "yaml"]),
    ("nodes", ["-n=ns"], ["-n", "ns"]),  # no namespace option: the same error either way
    ("pin", ["-f=FILE", "--platform=linux/arm64"], ["-f", "FILE", "--platform", "linux/arm64"]),
    ("pin", ["-Rf=DIR", "--platform=linux/arm64", "--check"], ["-R", "-f", "DIR", "--platform", "linux/arm64", "--check"]),
    ("pin", ["-l=pool=arm", "--platform=linux/arm64", "-f=FILE"], ["-l", "pool=arm", "--platform", "linux/arm64", "-f", "FILE"]),
    ("check", ["-f=FILE", "-o=json", "--platform=linux/arm64", "--nodes-file=NODES"],
     ["-f", "FILE", "-o", "json", "--platform", "linux/arm64", "--nodes-file", "NODES"]),
    ("check", ["-o=yaml", "-f=FILE", "-l=a=b", "--platform=linux/arm64"], ["-o", "yaml", "-f", "FILE", "-l", "a=b", "--platform", "linux/arm64"]),
    ("inspect", ["-o=json", "-f=SERVICE"], ["-o", "json", "-f", "SERVICE"]),
    ("inspect", ["-o=bogus", "nginx"], ["-o", "bogus", "nginx"]),
    ("build", ["-t=127.0.0.1:1/app:v1", "-f=Dockerfile", "--context=missing"],
     ["-t", "127.0.0.1:1/app:v1", "-f", "Dockerfile", "--context", "missing"]),
    ("version", ["-o=json"], ["-o", "json"]),
    ("audit", ["-n=shop", "-o=json", "-l=app=web"], ["-n", "shop", "-o", "json", "-l", "app=web"]),
    ("audit", ["-Ao=yaml"], ["-A", "-o", "yaml"]),
]  # fmt: skip


def fill(args: list[str], home: Path) -> list[str]:
    service = home / "svc.yaml"
    service.write_text(SERVICE)
    names = {"FILE": str(DEPLOY), "DIR": str(TESTDATA / "pinned"), "NODES": str(GKE), "SERVICE": str(service)}
    return [re.sub(r"\b(FILE|DIR|NODES|SERVICE)\b", lambda m: names[m[1]], a) for a in args]


@pytest.mark.parametrize(
    ("command", "equals", "spaced"), EQUALS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_equals_form_is_the_spaced_form(
    tmp_path: Path, kubeconfig: Path, command: str, equals: list[str], spaced: list[str]
) -> None:
    given = arch(tmp_path, command, *fill(equals, tmp_path), kubeconfig=kubeconfig)
    expected = arch(tmp_path, command, *fill(spaced, tmp_path), kubeconfig=kubeconfig)
    assert (given[0], given[1], without_timings(given[2])) == (
        expected[0],
        expected[1],
        without_timings(expected[2]),
    )
    assert "'='" not in given[2] and "'-='" not in given[2] and "=/" not in given[2]


def test_equals_forms_exactly(tmp_path: Path, kubeconfig: Path) -> None:
    code, out, err = arch(tmp_path, "nodes", "-o=platforms", kubeconfig=kubeconfig)
    assert (code, out, err) == (0, "linux/amd64,linux/arm64,windows/amd64\n", "")
    code, out, err = arch(
        tmp_path, "nodes", "-v=6", "-o=platforms", "-l=kubernetes.io/os=linux", kubeconfig=kubeconfig
    )
    assert (code, out) == (0, "linux/amd64,linux/arm64\n")
    assert without_timings(err) == (
        "GET "
        + kubeconfig_server(kubeconfig)
        + "/api/v1/nodes?limit=500&labelSelector=kubernetes.io%2Fos%3Dlinux "
        "200 in N ms\n"
    )
    code, out, err = arch(tmp_path, "pin", "-f=" + str(DEPLOY), "--platform=linux/arm64", "-i=false")
    assert (code, err) == (0, "")
    assert out == arch(tmp_path, "pin", "-f", str(DEPLOY), "--platform", "linux/arm64")[1]
    assert "      affinity:\n" in out


def kubeconfig_server(path: Path) -> str:
    return str(yaml.safe_load(path.read_text())["clusters"][0]["cluster"]["server"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nodes", "-v=x"], "error: Invalid value for '-v': 'x' is not a number.\nSee 'kubectl arch nodes --help' for usage.\n"),
        (["pin", "-i=maybe"], "error: Invalid value for '-i': 'maybe' is not a boolean (true or false).\nSee 'kubectl arch pin --help' for usage.\n"),
        (["pin", "--check=no"], "error: Invalid value for '--check': 'no' is not a boolean (true or false).\nSee 'kubectl arch pin --help' for usage.\n"),
        (["pin", "-z=1"], "error: No such option '-z'.\nSee 'kubectl arch pin --help' for usage.\n"),
        (["-v=x", "nodes"], "error: Invalid value for '-v': 'x' is not a number.\nSee 'kubectl arch --help' for usage.\n"),
    ],
)  # fmt: skip
def test_bad_values_in_the_equals_form(tmp_path: Path, args: list[str], message: str) -> None:
    assert arch(tmp_path, *args) == (2, "", message)


def test_equals_form_through_kubectl(tmp_path: Path, kubeconfig: Path) -> None:
    for args in (
        ["nodes", "-o=json", "-l=kubernetes.io/arch=arm64"],
        ["-v=2", "nodes", "-o=platforms"],
        ["pin", "-f=" + str(DEPLOY), "--platform=linux/arm64", "--check=true"],
        ["version", "-o=yaml"],
    ):
        via = arch(tmp_path, *args, kubeconfig=kubeconfig, via_kubectl=True)
        direct = arch(tmp_path, *args, kubeconfig=kubeconfig)
        assert (via[0], via[1], without_timings(via[2])) == (direct[0], direct[1], without_timings(direct[2]))
        assert via[0] in (0, 1), via
    nodes = arch(
        tmp_path, "nodes", "-o=json", "-l=kubernetes.io/arch=arm64", kubeconfig=kubeconfig, via_kubectl=True
    )
    assert [p["platform"] for p in json.loads(nodes[1])["platforms"]] == ["linux/arm64"]


# The rewriting itself: what click receives.
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o=json"], ["-o=json"]),  # pin has no -o: click says so
        (["-f=web.yaml", "-f=", "-l=a=b,c!=d"], ["-f", "web.yaml", "-f", "", "-l", "a=b,c!=d"]),
        (["-Rf=dir/"], ["-Rf", "dir/"]),
        (["-Ri=0"], ["-R"]),
        (["-R=true", "--check=True", "--check=0"], ["-R", "--check"]),
        (["-v=3"], ["-v", "-v", "-v"]),
        (["-v=0", "--verbose=2"], ["-v", "-v"]),
        (["-f", "-o=json"], ["-f", "-o=json"]),  # the value of -f, not an option
        (["--filename", "-v=1", "--platform=x"], ["--filename", "-v=1", "--platform=x"]),
        (["-n=ns", "-x"], ["-n=ns", "-x"]),  # unknown options: click reports them
        (["--", "-o=json"], ["--", "-o=json"]),
        (["-fweb.yaml", "-ojson"], ["-fweb.yaml", "-ojson"]),
    ],
)
def test_kubectl_args(args: list[str], expected: list[str]) -> None:
    ctx = click.Context(cli.cli, info_name="kubectl arch")
    pin = cli.cli.get_command(ctx, "pin")
    assert pin is not None
    assert cli.kubectl_args(pin, ctx, args) == expected


def test_kubectl_args_of_the_group_stop_at_the_command() -> None:
    ctx = click.Context(cli.cli, info_name="kubectl arch")
    assert cli.kubectl_args(cli.cli, ctx, ["-v=2", "pin", "-o=json"], subcommand_follows=True) == [
        "-v",
        "-v",
        "pin",
        "-o=json",
    ]


# -- mistyped commands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("node", "No such command 'node'. Did you mean 'nodes'?"),
        ("pinn", "No such command 'pinn'. Did you mean 'pin'?"),
        ("chek", "No such command 'chek'. Did you mean 'check'?"),
        ("Nodes", "No such command 'Nodes'. Did you mean 'nodes'?"),
        ("ver", "No such command 'ver'. Did you mean 'version'?"),
        ("inpsect", "No such command 'inpsect'. Did you mean 'inspect'?"),
        ("c", "No such command 'c'. (Did you mean one of: 'check', 'completion'?)"),
        ("frobnicate", "No such command 'frobnicate'."),
    ],
)
def test_mistyped_command_gets_a_suggestion(tmp_path: Path, word: str, message: str) -> None:
    expected = (2, "", f"error: {message}\nSee 'kubectl arch --help' for usage.\n")
    assert arch(tmp_path, word, "-o", "json") == expected
    assert arch(tmp_path, "help", word) == expected
    assert arch(tmp_path, word, via_kubectl=True) == expected


# -- help, version, the bare command ----------------------------------------------------------


def test_help_is_the_groups_help(tmp_path: Path) -> None:
    root = arch(tmp_path, "--help")
    assert root[0] == 0 and root[1].startswith("Usage: kubectl arch [OPTIONS] COMMAND [ARGS]...\n")
    commands = root[1].split("Commands:\n", 1)[1]
    assert "  help        Show the help of kubectl arch or of one of its commands.\n" in commands
    assert "  version     Print the version of kubectl-arch.\n" in commands
    assert arch(tmp_path, "help") == root
    assert arch(tmp_path) == root  # as kubectl: the bare command prints its help, exit 0
    assert arch(tmp_path, "-v=6") == root  # as kubectl -v=6
    assert arch(tmp_path, "help", via_kubectl=True) == root
    assert arch(tmp_path, via_kubectl=True) == root


@pytest.mark.parametrize("name", [*cli.COMMANDS])
def test_help_command_is_the_commands_help(tmp_path: Path, name: str) -> None:
    expected = arch(tmp_path, name, "--help")
    assert expected[0] == 0 and expected[1].startswith(f"Usage: kubectl arch {name} [OPTIONS]")
    assert arch(tmp_path, "help", name) == expected
    assert arch(tmp_path, "help", name, via_kubectl=True) == expected


def test_help_takes_one_command(tmp_path: Path) -> None:
    assert arch(tmp_path, "help", "pin", "check") == (
        2,
        "",
        "error: Got unexpected extra argument (check)\nSee 'kubectl arch help --help' for usage.\n",
    )


def test_version_as_kubectl_prints_it(tmp_path: Path) -> None:
    line = (0, f"Client Version: v{__version__}\n", "")
    assert arch(tmp_path, "version") == line
    assert arch(tmp_path, "version", "--client") == line
    assert arch(tmp_path, "version", "--client=true") == line
    assert arch(tmp_path, "version", via_kubectl=True) == line
    assert arch(tmp_path, "--version") == (0, f"kubectl-arch {__version__}\n", "")
    code, out, err = arch(tmp_path, "version", "--client", "-o", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert list(document) == ["clientVersion"]
    client = document["clientVersion"]
    assert list(client) == ["major", "minor", "gitVersion", "pythonVersion", "platform"]
    major, minor = __version__.split(".")[:2]
    assert (client["major"], client["minor"], client["gitVersion"]) == (major, minor, f"v{__version__}")
    assert re.fullmatch(r"3\.[0-9]+\.[0-9]+.*", client["pythonVersion"])
    assert re.fullmatch(r"[a-z0-9]+/[a-z0-9]+", client["platform"])
    code, out, _ = arch(tmp_path, "version", "-o", "yaml")
    assert (code, yaml.safe_load(out)) == (0, document)
    assert arch(tmp_path, "version", "-o", "xml") == (
        2,
        "",
        "error: Invalid value for '-o' / '--output': 'xml' is not one of 'json', 'yaml'.\n"
        "See 'kubectl arch version --help' for usage.\n",
    )


# -- the same input, the same verdict: no workload ------------------------------------------

NO_WORKLOAD_HINT = "(a workload kind of your own is declared with --pod-template-path)"


def run_with_stdin(home: Path, args: list[str], stdin: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cluster_env(home),
        cwd=home,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "content", [SERVICE, "", "# only a comment\n---\n"], ids=["service", "empty", "comment"]
)
def test_input_without_workloads_is_not_an_error_anywhere(tmp_path: Path, content: str) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(content)
    where = str(path)
    offline = ["--platform", "linux/amd64,linux/arm64"]
    nodes = ["--nodes-file", str(GKE)]
    assert arch(tmp_path, "pin", "-f", where, *offline) == (
        0,
        content,
        f"warning: {where}: no workloads found, nothing to pin {NO_WORKLOAD_HINT}\n",
    )
    assert arch(tmp_path, "pin", "-f", where, *offline, "--check") == (
        0,
        "",
        f"warning: {where}: no workloads found, nothing to pin {NO_WORKLOAD_HINT}\n",
    )
    assert arch(tmp_path, "pin", "-f", where, *offline, "--in-place")[0] == 0
    assert path.read_text() == content
    assert arch(tmp_path, "check", "-f", where, *offline, *nodes) == (
        0,
        "",
        f"warning: {where}: no workloads found, nothing to check {NO_WORKLOAD_HINT}\n",
    )
    code, out, err = arch(tmp_path, "check", "-f", where, *offline, *nodes, "-o", "json")
    assert (code, err) == (0, f"warning: {where}: no workloads found, nothing to check {NO_WORKLOAD_HINT}\n")
    assert json.loads(out)["workloads"] == [] and json.loads(out)["fits"] is True
    for output, printed in (("table", ""), ("json", "[]\n"), ("yaml", "[]\n")):
        assert arch(tmp_path, "inspect", "-f", where, "-o", output) == (
            0,
            printed,
            f"warning: {where}: no workloads found, nothing to inspect {NO_WORKLOAD_HINT}\n",
        )
    # On stdin: the same, named <stdin>.
    assert run_with_stdin(tmp_path, ["pin", *offline], content) == (
        0,
        content,
        f"warning: <stdin>: no workloads found, nothing to pin {NO_WORKLOAD_HINT}\n",
    )
    assert run_with_stdin(tmp_path, ["check", *offline, *nodes], content)[::2] == (
        0,
        f"warning: <stdin>: no workloads found, nothing to check {NO_WORKLOAD_HINT}\n",
    )


def test_workloads_in_any_input_mean_no_warning(tmp_path: Path) -> None:
    service = tmp_path / "svc.yaml"
    service.write_text(SERVICE)
    code, _, err = arch(tmp_path, "pin", "-f", str(service), "-f", str(DEPLOY), "--platform", "linux/arm64")
    assert (code, err) == (0, "")


def test_resource_list_without_workloads(tmp_path: Path) -> None:
    items = "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(SERVICE.splitlines()))
    resource_list = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items + "functionConfig:\n"
        "  apiVersion: v1\n  kind: ConfigMap\n  data: {platform: linux/arm64}\n"
    )
    for command, extra in (("pin", []), ("check", ["--nodes-file", str(GKE)])):
        message = (
            f"ResourceList: no workloads found, nothing to {command} "
            "(a workload kind of your own is declared with pod-template-path)"
        )
        assert run_with_stdin(tmp_path, [command, *extra], resource_list) == (
            0,
            resource_list + f'results:\n- message: "{message}"\n  severity: warning\n',
            f"warning: {message}\n",
        )
