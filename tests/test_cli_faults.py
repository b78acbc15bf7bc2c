"""What a hostile user tried on the command line, each case with its exact outcome (exit code
and stderr) through the real entry point: closed and full standard streams, kubectl's -v
spellings, empty and wrong paths, explicit choices that fail, unreachable servers, unreadable
optional config, help texts, bash completion of ``--opt=value``, KRM config spelling, and
workloads without apiVersion."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest
from integration_util import KUBECTL_ARCH, TESTDATA
from registry_util import free_port

from kubectl_arch import cli

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: web, image: nginx:1.27}
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"
NODES = TESTDATA / "nodes" / "gke-mixed.json"


def env_of(home: Path, **extra: str) -> dict[str, str]:
    """A user whose home is ``home``: no kubeconfig, no credentials, private config and cache."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("KUBERNETES_", "KUBECONFIG", "DOCKER_", "REGISTRY_AUTH", "XDG_", "_KUBECTL_ARCH")
        )
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        PATH=os.pathsep.join([str(KUBECTL_ARCH.parent), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


def arch(home: Path, *args: str, redirect: str = "", stdin: str = "", **extra: str) -> tuple[int, str, str]:
    """Run kubectl-arch in ``home``; ``redirect`` is a shell redirection (``>&-``, ``>/dev/full``)."""
    argv = [str(KUBECTL_ARCH), *args]
    if redirect:
        argv = ["sh", "-c", f'exec "$@" {redirect}', "sh", *argv]
    proc = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env_of(home, **extra), cwd=home, timeout=120
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "svc.yaml").write_text(SERVICE)
    return tmp_path


# -- 1. closed and full standard streams ------------------------------------------------------

PIN = ("pin", "--platform", "linux/amd64", "-f", "deploy.yaml")


@pytest.mark.parametrize(
    ("args", "redirect", "stderr"),
    [
        (PIN, ">&-", "error: write error (stdout): Bad file descriptor\n"),
        (PIN, ">/dev/full", "error: write error (stdout): No space left on device\n"),
        (("version",), ">/dev/full", "error: write error (stdout): No space left on device\n"),
        (("--help",), ">&-", "error: write error (stdout): Bad file descriptor\n"),
        (("pin", "--platform", "linux/amd64"), "<&-", "error: <stdin>: cannot read: Bad file descriptor\n"),
    ],
    ids=["closed", "full", "version-full", "help-closed", "stdin-closed"],
)
def test_a_stream_that_cannot_be_used_is_one_line(
    home: Path, args: tuple[str, ...], redirect: str, stderr: str
) -> None:
    assert arch(home, *args, redirect=redirect) == (2, "", stderr)


def test_kubectl_completion_into_a_closed_stdout(home: Path) -> None:
    complete = KUBECTL_ARCH.parent / "kubectl_complete-arch"
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", str(complete), "pin", "--pla"],
        capture_output=True,
        text=True,
        env=env_of(home),
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (2, "error: write error (stdout): Bad file descriptor\n")


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_without_stderr_an_error_still_ends_the_run(home: Path, redirect: str) -> None:
    assert arch(home, "pin", "--platform", "linux/amd64", "-f", "missing.yaml", redirect=redirect) == (
        2,
        "",
        "",
    )
    # Warnings nobody can read do not fail a run that works.
    code, out, _ = arch(home, "pin", "--platform", "linux/amd64", "-f", "svc.yaml", redirect=redirect)
    assert (code, out) == (0, SERVICE)


def test_a_reader_that_goes_away_is_a_quiet_end(home: Path) -> None:
    proc = subprocess.run(
        f"'{KUBECTL_ARCH}' pin --platform linux/amd64 -f deploy.yaml | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        env=env_of(home),
        cwd=home,
        timeout=60,
        check=False,
    )
    assert (proc.stdout, proc.stderr) == ("a", "")


# -- 2. an explicit choice of cluster that cannot be used is an error -------------------------


@pytest.fixture
def build_dir(home: Path) -> Path:
    (home / "app").mkdir()
    (home / "app" / "Dockerfile").write_text("FROM scratch\n")
    return home / "app"


BUILD = (
    "build",
    "-t",
    "127.0.0.1:1/app:v1",
    "--builder",
    "custom",
    "--custom-command",
    "true",
    "--context",
    "app",
)


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ("--kube-context", "bad"),
            'error: context "bad" not found: no kubeconfig (~/.kube/config names no existing file)\n',
        ),
        (("--kubeconfig", "missing"), "error: kubeconfig missing (--kubeconfig) does not exist\n"),
        (
            ("--platform", "cluster"),
            "error: no kubeconfig: ~/.kube/config names no existing file and this is not a pod in a cluster; "
            "point --kubeconfig or $KUBECONFIG at one (or log in to the cluster), or give the platforms with "
            "--platform (a list, or local)\n",
        ),
    ],
    ids=["kube-context", "kubeconfig", "platform-cluster"],
)
def test_build_never_falls_back_from_an_explicit_cluster(
    home: Path, build_dir: Path, args: tuple[str, ...], stderr: str
) -> None:
    assert arch(home, *BUILD, *args) == (2, "", stderr)


def test_build_with_an_unreachable_explicit_cluster_is_a_remote_failure(home: Path, build_dir: Path) -> None:
    port = free_port()
    kubeconfig = write_kubeconfig(home / "kubeconfig", port)
    code, out, err = arch(home, *BUILD, "--kubeconfig", str(kubeconfig), "--kube-context", "c")
    assert (code, out) == (3, "")
    assert err == (
        f'error: cannot reach API server https://127.0.0.1:{port} (context "c"): Failed to establish a new '
        "connection: Connection refused; check the server URL in the kubeconfig and the context "
        "(--kube-context), and that the cluster is up\n"
    )


# -- 3. kubectl's verbosity spellings --------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [["--v=6"], ["--v", "6"], ["-v", "6"], ["-v6"], ["-v=6"], ["-v=99999999999999999999"], ["-vv"]],
)
def test_verbosity_as_kubectl_spells_it(home: Path, flags: list[str]) -> None:
    code, out, err = arch(home, *flags, *PIN)
    assert (code, err) == (0, "")
    assert "kubernetes.io/arch" in out
    assert arch(home, *PIN[:1], *flags, *PIN[1:]) == (code, out, err)


def test_verbosity_levels_stop_at_ten() -> None:
    ctx = click.Context(cli.cli, info_name="kubectl arch")
    pin = cli.cli.get_command(ctx, "pin")
    assert pin is not None
    assert cli.kubectl_args(pin, ctx, ["-v=99999999999999999999"]) == ["-v"] * 10
    assert cli.kubectl_args(pin, ctx, ["-v", "3", "-f", "6"]) == ["-v"] * 3 + ["-f", "6"]


# -- 4. the same verdict for input without workloads, and no cluster read --------------------


def test_check_without_workloads_needs_no_cluster(home: Path) -> None:
    warning = (
        "warning: svc.yaml: no workloads found, nothing to check (a workload kind of your own is declared "
        "with --pod-template-path)\n"
    )
    assert arch(home, "check", "-f", "svc.yaml", KUBECONFIG=str(home / "missing")) == (0, "", warning)
    code, out, err = arch(home, "check", "-f", "svc.yaml", "-o", "json", KUBECONFIG=str(home / "missing"))
    assert (code, err) == (0, warning)
    assert '"workloads": []' in out


# -- 5. bash completion ----------------------------------------------------------------------


def complete(home: Path, words: str, cword: int) -> list[str]:
    env = env_of(home, COMP_WORDS=words, COMP_CWORD=str(cword), _KUBECTL_ARCH_COMPLETE="bash_complete")
    proc = subprocess.run(
        [str(KUBECTL_ARCH)], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return proc.stdout.splitlines()


def test_bash_completes_the_equals_form(home: Path) -> None:
    # bash splits --platform=li at "=" (COMP_WORDBREAKS): three words.
    spaced = complete(home, "kubectl-arch pin --platform li", 3)
    assert spaced[:2] == ["plain,linux/amd64", "plain,linux/arm64"]
    assert complete(home, "kubectl-arch pin --platform = li", 4) == spaced
    assert complete(home, "kubectl-arch nodes --output =", 3) == [
        f"plain,{o}" for o in ("table", "wide", "json", "yaml", "platforms")
    ]
    assert complete(home, "kubectl-arch nodes -o = j", 4) == ["plain,json"]


def test_a_missing_shell_is_one_clean_line(home: Path) -> None:
    assert arch(home, "completion") == (
        2,
        "",
        "error: Missing argument 'SHELL'. Choose from: bash, zsh, fish\n"
        "See 'kubectl arch completion --help' for usage.\n",
    )


# -- 6. usage errors point at the command's help ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (("pin", "-f"), "Option '-f' requires an argument."),
        (("pin", "--platform"), "Option '--platform' requires an argument."),
        (("check", "-o"), "Option '-o' requires an argument."),
        (("build", "-t"), "Option '-t' requires an argument."),
    ],
)
def test_usage_errors_point_at_the_commands_help(home: Path, args: tuple[str, ...], first: str) -> None:
    assert arch(home, *args) == (2, "", f"error: {first}\nSee 'kubectl arch {args[0]} --help' for usage.\n")


# -- 7. help texts ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_help_has_no_garbled_markers(home: Path, command: str) -> None:
    code, out, err = arch(home, command, "--help")
    assert (code, err) == (0, "")
    assert "\\b" not in out and "\b" not in out
    # Prose is wrapped; only examples and tables keep their own lines.
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize("command", ["nodes", "inspect", "check", "version"])
def test_output_option_says_its_formats(home: Path, command: str) -> None:
    _, out, _ = arch(home, command, "--help")
    option = out[out.index("  -o, --output") :].split("\n  -", 1)[0]
    assert "Output format" in option and "json" in option and "yaml" in option


# -- 8. KRM: functionConfig keys and platforms -----------------------------------------------

RESOURCE_LIST = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    template:
      spec:
        containers:
        - {name: web, image: nginx:1.27}
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: pin}
  data:
"""
ONE_ERROR = "error: 1 error in the results of the output ResourceList\n"


def test_check_names_the_keys_it_takes_and_those_of_pin(home: Path) -> None:
    stdin = RESOURCE_LIST + "    platfrm: linux/amd64\n"
    code, out, err = arch(home, "check", "--nodes-file", str(NODES), stdin=stdin)
    assert (code, err) == (2, ONE_ERROR)
    assert out == stdin + (
        "results:\n"
        "- message: \"ResourceList functionConfig ConfigMap: unknown option 'platfrm'; did you mean 'platform'? "
        "(known: platform, pod-template-path, from-registry, on-unknown-image, locked, images-from, "
        "insecure-registry, registry-ca-file, request-timeout, refresh, tag-cache-ttl, kubeconfig, context, "
        'selector; pin only: lock, digests, cluster, tolerate-arch-taints, arch-taint)"\n'
        "  severity: error\n"
    )


def test_platforms_in_function_config_as_the_cli_takes_them(home: Path) -> None:
    spaced = arch(home, "pin", stdin=RESOURCE_LIST + '    platform: "linux/amd64, linux/arm64"\n')
    flag = arch(
        home,
        "pin",
        "--platform",
        "linux/amd64, linux/arm64",
        stdin=RESOURCE_LIST.rsplit("functionConfig", 1)[0],
    )
    assert spaced[0] == flag[0] == 0
    assert spaced[1].count("- arm64") == flag[1].count("- arm64") == 1
    stdin = RESOURCE_LIST + '    platform: "linux/amd64 linux/arm64"\n'
    assert arch(home, "pin", stdin=stdin) == (
        2,
        stdin
        + "results:\n- message: \"ResourceList functionConfig ConfigMap: platform: invalid platform 'linux/amd64 "
        "linux/arm64': separate platforms with commas; did you mean linux/amd64,linux/arm64?\"\n"
        "  severity: error\n",
        ONE_ERROR,
    )


def test_kpt_shows_each_result_once(home: Path) -> None:
    (home / "pkg").mkdir()
    (home / "pkg" / "deploy.yaml").write_text(DEPLOY)
    proc = subprocess.run(
        [
            "kpt",
            "fn",
            "eval",
            "--exec",
            str(KUBECTL_ARCH) + " pin",
            "pkg",
            "--",
            "platform=linux/amd64 linux/arm64",
        ],
        capture_output=True,
        text=True,
        env=env_of(home),
        cwd=home,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert proc.stderr.count("separate platforms with commas") == 1, proc.stderr


# -- 9. unreachable API server: the hint names the server URL and the context ----------------


def write_kubeconfig(path: Path, port: int) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}'}}\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user: {token: t}\n"
    )
    return path


@pytest.mark.parametrize(
    "args", [("nodes",), ("check", "-f", "deploy.yaml", "--platform", "linux/amd64"), (*PIN, "--cluster")]
)
def test_unreachable_api_server_hint(home: Path, args: tuple[str, ...]) -> None:
    port = free_port()
    kubeconfig = write_kubeconfig(home / "kubeconfig", port)
    assert arch(home, *args, KUBECONFIG=str(kubeconfig)) == (
        3,
        "",
        f'error: cannot reach API server https://127.0.0.1:{port} (context "c"): Failed to establish a new '
        "connection: Connection refused; check the server URL in the kubeconfig and the context (--context), "
        "and that the cluster is up\n",
    )


# -- 10. build against an unreachable registry is a remote failure ---------------------------


def test_build_to_an_unreachable_registry_is_exit_3(home: Path, build_dir: Path) -> None:
    port = free_port()
    args = ["build", "-t", f"127.0.0.1:{port}/app:v1", "--platform", "linux/amd64", "--context", "app"]
    assert arch(home, *args, "--builder", "custom", "--custom-command", "true") == (
        3,
        "",
        f"building for linux/amd64\nerror: 127.0.0.1:{port}/app:v1: cannot reach 127.0.0.1:{port}: connection "
        "refused; nothing was built\n",
    )


# -- 11. paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("pin", "-f="), "'-f' / '--filename'"),
        (("pin", "-f", ""), "'-f' / '--filename'"),
        (("pin", "--filename="), "'-f' / '--filename'"),
        (("pin", "-Rf="), "'-f' / '--filename'"),
        (("check", "--nodes-file", ""), "'--nodes-file'"),
        (("pin", "--locked="), "'--locked'"),
        (("nodes", "--kubeconfig="), "'--kubeconfig'"),
        (("build", "-t", "r.example/a:b", "--context="), "'--context'"),
    ],
)
def test_an_empty_path_is_named(home: Path, args: tuple[str, ...], option: str) -> None:
    assert arch(home, *args) == (
        2,
        "",
        f"error: Invalid value for {option}: the path '' is empty\nSee 'kubectl arch {args[0]} --help' for usage.\n",
    )


def test_build_paths_that_are_not_what_they_should_be(home: Path, build_dir: Path) -> None:
    base = ("build", "-t", "127.0.0.1:1/app:v1", "--builder", "custom", "--custom-command", "true")
    assert arch(home, *base, "--context", "deploy.yaml") == (
        2,
        "",
        "error: --context deploy.yaml: not a directory; --context is the build directory, as in docker build "
        "(the kubeconfig context is given with --kube-context)\n",
    )
    for dockerfile, why in (("missing", "no such file"), ("app", "not a file")):
        assert arch(home, *base, "--context", "app", "-f", dockerfile) == (
            2,
            "",
            f"error: -f/--file {dockerfile}: {why}; give the Dockerfile or Containerfile to build\n",
        )


# -- 12. optional config that cannot be read is a warning ------------------------------------


def test_unusable_config_home_is_a_warning(home: Path) -> None:
    config_home = home / "config-file"
    config_home.write_text("")
    port = free_port()
    code, out, err = arch(home, "inspect", f"127.0.0.1:{port}/app:v1", XDG_CONFIG_HOME=str(config_home))
    assert (code, out) == (3, "")
    assert err == (
        f"warning: {config_home}/kubectl-arch/config.yaml: cannot read: Not a directory; its settings are not used\n"
        f"warning: {config_home}/containers/auth.json: cannot read: Not a directory; its credentials are not used\n"
        f"error: image 127.0.0.1:{port}/app:v1: cannot reach 127.0.0.1:{port}: connection refused\n"
    )


def test_a_fifo_as_config_file_is_a_warning_and_a_malformed_one_an_error(home: Path) -> None:
    config = home / "config" / "kubectl-arch" / "config.yaml"
    config.parent.mkdir(parents=True)
    os.mkfifo(config)
    port = free_port()
    code, _, err = arch(home, "inspect", f"127.0.0.1:{port}/app:v1")
    assert code == 3
    assert (
        err.splitlines()[0]
        == f"warning: {config}: cannot read: not a regular file (a FIFO); its settings are not used"
    )
    config.unlink()
    config.write_text("insecureRegistries: [\n")
    code, _, err = arch(home, "inspect", f"127.0.0.1:{port}/app:v1")
    assert code == 2
    assert err.startswith(f"error: {config}: line 2, column 1: ")


# -- 13. a workload without apiVersion -------------------------------------------------------

NO_API_VERSION = DEPLOY.replace("apiVersion: apps/v1\n", "")


@pytest.mark.parametrize(
    "command",
    [
        ("pin", "--platform", "linux/amd64"),
        ("check", "--platform", "linux/amd64", "--nodes-file", str(NODES)),
        ("inspect",),
    ],
)
def test_a_workload_without_api_version_is_named(home: Path, command: tuple[str, ...]) -> None:
    (home / "web.yaml").write_text(SERVICE + "---\n" + NO_API_VERSION)
    assert arch(home, *command, "-f", "web.yaml") == (
        2,
        "",
        "error: web.yaml doc 2 Deployment/web: apiVersion not set; set it (apps/v1 for a Deployment)\n",
    )


def test_a_list_item_without_api_version_is_named(home: Path) -> None:
    items = "".join(
        f"  {line}\n" if i else f"- {line}\n" for i, line in enumerate(NO_API_VERSION.splitlines())
    )
    (home / "list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n" + items)
    assert arch(home, "pin", "--platform", "linux/amd64", "-f", "list.yaml") == (
        2,
        "",
        "error: list.yaml doc 1 item 0 Deployment/web: apiVersion not set; set it (apps/v1 for a Deployment)\n",
    )
