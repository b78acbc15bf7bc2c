"""Shell completion for real: kubectl's plugin completion (cobra's protocol through
``kubectl_complete-arch``), click's bash script sourced in a real bash, and the zsh and fish
answers the scripts read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from integration_util import BIN, KUBECTL_ARCH, describe, ok, require, run, tool_env

from kubectl_arch import platforms

COMPLETE = BIN / "kubectl_complete-arch"
OLDEST_KUBECTL = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.27")
COMMANDS = (
    "nodes\tSummarize the cluster's node platforms and what to build for.\n"
    "inspect\tReport which platforms images really support.\n"
    "pin\tPin workloads to the platforms their images support.\n"
    "check\tCheck that every workload fits some Ready node of the cluster.\n"
    "audit\tAudit what runs in the cluster: broken, at risk, blocked.\n"
    "build\tBuild an image per platform and push one multi-platform index.\n"
    "completion\tPrint the shell completion script (bash, zsh, fish).\n"
    "help\tShow the help of kubectl arch or of one of its commands.\n"
    "version\tPrint the version of kubectl-arch.\n"
)
PIN_FLAGS = (
    "-f\tManifest file, directory or - for stdin (repeatable).\n"
    "--filename\tManifest file, directory or - for stdin (repeatable).\n"
    "-R\tProcess directories given with -f recursively.\n"
    "--recursive\tProcess directories given with -f recursively.\n"
    "--platform\tPlatforms the images support, e.g. linux/amd64,linux/arm64 (repeatable); with --from-registry or --locked, an upper bound.\n"
    "--from-registry\tLook images up even though --platform is given (it then bounds them).\n"
    "--on-unknown-image\tAn image that cannot be looked up: fail (exit 3, the default), skip its workloads, or assume platforms.\n"
    "--lock\tWrite the registry's answers to FILE.\n"
    "--locked\tTake the platforms from FILE; no network at all.\n"
    "--digests\tRewrite image references to name:tag@digest of their index.\n"
    "--images-from\tReplace the images named in this build artifacts file (kubectl arch build --file-output, "
    "skaffold build --file-output) with the built references (repeatable).\n"
    "--pod-template-path\tTreat KIND as a workload whose pod spec is at PATH, "
    "e.g. Pipeline.example.com=spec.stages.*.template.spec.\n"
    "-i\tRewrite the files (atomically) instead of printing.\n"
    "--in-place\tRewrite the files (atomically) instead of printing.\n"
    "--diff\tPrint a unified diff instead of the manifests.\n"
    "--check\tChange nothing; exit 1 if any workload would change.\n"
    "-q\tPrint no summary line after --in-place or a passing --check.\n"
    "--quiet\tPrint no summary line after --in-place or a passing --check.\n"
    "--cluster\tAlso limit each workload to the platforms the cluster has Ready nodes for.\n"
    "--kubeconfig\tPath to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).\n"
    "--context\tThe kubeconfig context to use.\n"
    "-l\tOnly nodes matching this label selector, e.g. -l kubernetes.io/os=linux,pool!=gpu.\n"
    "--selector\tOnly nodes matching this label selector, e.g. -l kubernetes.io/os=linux,pool!=gpu.\n"
    "--request-timeout\tGive up on a request after this long, e.g. 30s or 2m: registry requests (default 10s) and, with --cluster, API server requests (default 0: no limit).\n"
    "--tolerate-arch-taints\tTolerate the platform taints (e.g. kubernetes.io/arch=arm64:NoSchedule) of the platforms each workload is pinned to: found on the cluster's nodes (--cluster) or given with --arch-taint.\n"
    "--arch-taint\tA platform taint the nodes carry, e.g. kubernetes.io/arch=arm64:NoSchedule (repeatable; implies --tolerate-arch-taints).\n"
    "--config\tRead options from a PlatformPin or ConfigMap file (flags take precedence).\n"
    "--insecure-registry\tReach HOST without TLS certificate checks, or in plain HTTP (repeatable).\n"
    "--registry-ca-file\tPEM file of CA certificates to trust for registries.\n"
    "--refresh\tAsk registries again for every tag (ignore cached tag answers).\n"
    "--tag-cache-ttl\tTrust a tag's cached answer this long without asking the registry, e.g. 5m (default 0: always ask; config file: tagCacheSeconds).\n"
    "-v\tLog remote requests (method, URL, status, time) to stderr; secrets are redacted.\n"
    "--verbose\tLog remote requests (method, URL, status, time) to stderr; secrets are redacted.\n"
    "-h\tShow this message and exit.\n"
    "--help\tShow this message and exit.\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = tool_env(tmp_path)
    require("kubectl", env)
    assert COMPLETE.is_file(), f"{COMPLETE} is missing: reinstall the package"
    return env


def kubectl_complete(env: dict[str, str], *words: str, kubectl: str = "kubectl") -> str:
    """What ``kubectl __complete arch WORDS...`` prints: candidates, then ``:<directive>``."""
    proc = ok(run([kubectl, "__complete", "arch", *words], env))
    return proc.stdout.decode()


# -- kubectl arch <TAB>: kubectl runs kubectl_complete-arch --------------------------------


@pytest.mark.parametrize("kubectl", ["kubectl", str(OLDEST_KUBECTL)], ids=["kubectl", "kubectl-1.27"])
def test_kubectl_completes_subcommands(env: dict[str, str], kubectl: str) -> None:
    assert kubectl_complete(env, "p", kubectl=kubectl) == (
        "pin\tPin workloads to the platforms their images support.\n:4\n"
    )
    assert kubectl_complete(env, "", kubectl=kubectl) == COMMANDS + ":4\n"


def test_kubectl_completes_pin_flags(env: dict[str, str]) -> None:
    assert kubectl_complete(env, "pin", "--pl") == (
        "--platform\tPlatforms the images support, e.g. linux/amd64,linux/arm64 (repeatable); with "
        "--from-registry or --locked, an upper bound.\n:4\n"
    )
    assert kubectl_complete(env, "pin", "-") == PIN_FLAGS + ":4\n"
    # A flag given once is not offered again unless it is repeatable.
    out = kubectl_complete(env, "pin", "--check", "--platform", "linux/arm64", "--")
    names = [line.split("\t")[0] for line in out.splitlines()[:-1]]
    assert "--check" not in names and "--platform" in names and "--filename" in names


def test_kubectl_completes_platform_values(env: dict[str, str]) -> None:
    everything = "".join(f"{p}\n" for p in platforms.COMMON)
    assert kubectl_complete(env, "pin", "--platform", "") == everything + ":4\n"
    assert kubectl_complete(env, "pin", "--platform", "linux/arm") == (
        "linux/arm64\nlinux/arm/v7\nlinux/arm/v6\n:4\n"
    )
    # A comma-separated list: the next platform is appended, those given are not repeated.
    assert kubectl_complete(env, "pin", "-f", "x.yaml", "--platform", "linux/amd64,linux/a") == (
        "linux/amd64,linux/arm64\nlinux/amd64,linux/arm/v7\nlinux/amd64,linux/arm/v6\n"
        "linux/amd64,linux/amd64/v2\nlinux/amd64,linux/amd64/v3\n:4\n"
    )
    assert kubectl_complete(env, "pin", "--platform", "solaris") == ":4\n"


def test_kubectl_completes_audit_targets_and_outputs(env: dict[str, str]) -> None:
    assert kubectl_complete(env, "audit", "--target", "linux/arm") == (
        "linux/arm64\nlinux/arm/v7\nlinux/arm/v6\n:4\n"
    )
    assert kubectl_complete(env, "audit", "-o", "") == "table\nwide\njson\nyaml\n:4\n"
    names = [line.split("\t")[0] for line in kubectl_complete(env, "audit", "--").splitlines()[:-1]]
    assert {"--namespace", "--all-namespaces", "--target", "--max-tag-candidates", "--locked"} <= set(names)


def test_kubectl_completes_manifest_files_for_filename(env: dict[str, str]) -> None:
    # FilterFileExt: the shell offers directories and files with these extensions.
    for flag in ("-f", "--filename"):
        proc = ok(run(["kubectl", "__complete", "arch", "pin", flag, "dep"], env))
        assert proc.stdout == b"yaml\nyml\njson\n:8\n"
        assert "ShellCompDirectiveFilterFileExt" in proc.stderr.decode()
    # --config takes any file: the shell's default file completion.
    assert kubectl_complete(env, "pin", "--config", "") == ":0\n"


def test_kubectl_completes_help_and_version(env: dict[str, str]) -> None:
    assert (
        kubectl_complete(env, "h") == "help\tShow the help of kubectl arch or of one of its commands.\n:4\n"
    )
    assert kubectl_complete(env, "v") == "version\tPrint the version of kubectl-arch.\n:4\n"
    # help takes a command name; once given, nothing more.
    assert kubectl_complete(env, "help", "") == COMMANDS + ":4\n"
    assert kubectl_complete(env, "help", "ch") == (
        "check\tCheck that every workload fits some Ready node of the cluster.\n:4\n"
    )
    assert kubectl_complete(env, "help", "pin", "") == ":4\n"
    assert kubectl_complete(env, "version", "-") == (
        "--client\tAccepted as kubectl takes it: the client is all there is.\n"
        "-o\tOutput format: json or yaml (default: one line).\n"
        "--output\tOutput format: json or yaml (default: one line).\n"
        "-h\tShow this message and exit.\n--help\tShow this message and exit.\n:4\n"
    )
    assert kubectl_complete(env, "version", "-o", "") == "json\nyaml\n:4\n"


def test_kubectl_completes_after_kubectl_style_options(env: dict[str, str]) -> None:
    # -o=json, -f=FILE, -v=6 given earlier on the line are read as kubectl reads them.
    assert kubectl_complete(env, "pin", "-f=x.yaml", "-v=2", "--platform", "linux/s") == "linux/s390x\n:4\n"
    # A value the command would reject does not stop completion.
    assert (
        kubectl_complete(env, "pin", "-v=x", "--check=maybe", "--platform", "linux/s") == "linux/s390x\n:4\n"
    )
    assert kubectl_complete(env, "nodes", "-o=json", "--sel") == (
        "--selector\tOnly nodes matching this label selector, e.g. -l kubernetes.io/os=linux,pool!=gpu.\n:4\n"
    )


def test_kubectl_completes_completion_shells(env: dict[str, str]) -> None:
    assert kubectl_complete(env, "completion", "") == "bash\nzsh\nfish\n:4\n"
    assert kubectl_complete(env, "completion", "z") == "zsh\n:4\n"


def test_unknown_words_complete_to_nothing(env: dict[str, str]) -> None:
    assert kubectl_complete(env, "frobnicate", "") == ":4\n"
    assert kubectl_complete(env, "pin", "--no-such-flag", "") == ":4\n"
    proc = run([COMPLETE, "pin", "--platform"], env)
    assert proc.returncode == 0, describe(proc)
    assert b"Traceback" not in proc.stderr


def test_kubectl_without_completion_executable_offers_nothing(env: dict[str, str], tmp_path: Path) -> None:
    # Only kubectl-arch on PATH, not kubectl_complete-arch: kubectl knows the plugin but
    # not its arguments (and falls back to file names).
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "kubectl-arch").symlink_to(KUBECTL_ARCH)
    path = os.pathsep.join([str(bare), *(p for p in env["PATH"].split(os.pathsep) if p != str(BIN))])
    assert kubectl_complete({**env, "PATH": path}, "p") == ":0\n"
    assert kubectl_complete({**env, "PATH": path}, "") == ":0\n"


def test_kubectl_arch_serves_as_completion_executable_under_that_name(
    env: dict[str, str], tmp_path: Path
) -> None:
    # What the README tells krew users: a link named kubectl_complete-arch to kubectl-arch.
    links = tmp_path / "links"
    links.mkdir()
    (links / "kubectl-arch").symlink_to(KUBECTL_ARCH)
    (links / "kubectl_complete-arch").symlink_to("kubectl-arch")
    path = os.pathsep.join([str(links), *(p for p in env["PATH"].split(os.pathsep) if p != str(BIN))])
    linked = {**env, "PATH": path}
    assert kubectl_complete(linked, "p") == "pin\tPin workloads to the platforms their images support.\n:4\n"
    assert kubectl_complete(linked, "pin", "--platform", "linux/s") == "linux/s390x\n:4\n"
    # A leading __complete, as wrappers written for cobra programs pass it, is accepted.
    direct = ok(run([links / "kubectl_complete-arch", "__complete", "pin", "--pl"], linked))
    assert direct.stdout.decode().startswith("--platform\t")


# -- kubectl-arch completion bash|zsh|fish --------------------------------------------------

BASH_DRIVER = r"""
source <(kubectl-arch completion bash) || exit 9
complete -p kubectl-arch
# Record what the script asks of bash besides candidates (file-name completion).
compopt() { local IFS=" "; echo "compopt $*"; }
ask() {
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _kubectl_arch_completion kubectl-arch
    echo "[$*] -> ${COMPREPLY[*]}"
}
ask kubectl-arch p
ask kubectl-arch ''
ask kubectl-arch pin --pla
ask kubectl-arch pin --platform linux/amd64,linux/arm
ask kubectl-arch pin -f dep
ask kubectl-arch completion ''
ask kubectl-arch help ''
ask kubectl-arch help n
ask kubectl-arch ver
"""


def test_bash_script_completes_in_a_real_bash(env: dict[str, str], tmp_path: Path) -> None:
    bash = require("bash", env)
    proc = ok(run([bash, "--norc", "--noprofile", "-c", BASH_DRIVER], env, cwd=tmp_path))
    assert proc.stderr == b""
    assert proc.stdout.decode().splitlines() == [
        "complete -o nosort -F _kubectl_arch_completion kubectl-arch",
        "[kubectl-arch p] -> pin",
        "[kubectl-arch ] -> nodes inspect pin check audit build completion help version",
        "[kubectl-arch pin --pla] -> --platform",
        "[kubectl-arch pin --platform linux/amd64,linux/arm] -> linux/amd64,linux/arm64 "
        "linux/amd64,linux/arm/v7 linux/amd64,linux/arm/v6",
        "compopt -o default",
        "[kubectl-arch pin -f dep] -> ",
        "[kubectl-arch completion ] -> bash zsh fish",
        "[kubectl-arch help ] -> nodes inspect pin check audit build completion help version",
        "[kubectl-arch help n] -> nodes",
        "[kubectl-arch ver] -> version",
    ]


def completion_answer(env: dict[str, str], shell: str, words: str, cword: str) -> list[str]:
    """What kubectl-arch answers to the ``<shell>_complete`` request the scripts send."""
    proc = ok(
        run(
            [KUBECTL_ARCH],
            {**env, "_KUBECTL_ARCH_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword},
        )
    )
    return proc.stdout.decode().splitlines()


def test_zsh_script_and_answers(env: dict[str, str]) -> None:
    script = ok(run([KUBECTL_ARCH, "completion", "zsh"], env)).stdout.decode()
    assert script.startswith("#compdef kubectl-arch\n")
    assert "_KUBECTL_ARCH_COMPLETE=zsh_complete kubectl-arch" in script
    assert "compdef _kubectl_arch_completion kubectl-arch" in script
    # zsh sends the words and the index of the current one; the answer is type, value, help.
    assert completion_answer(env, "zsh", "kubectl-arch pin --pla", "2") == [
        "plain",
        "--platform",
        "Platforms the images support, e.g. linux/amd64,linux/arm64 (repeatable); with --from-registry or "
        "--locked, an upper bound.",
    ]
    assert completion_answer(env, "zsh", "kubectl-arch pin -f ", "3") == ["file", "", "_"]


def test_fish_script_and_answers(env: dict[str, str]) -> None:
    script = ok(run([KUBECTL_ARCH, "completion", "fish"], env)).stdout.decode()
    assert "_KUBECTL_ARCH_COMPLETE=fish_complete" in script
    assert 'complete --no-files --command kubectl-arch --arguments "(_kubectl_arch_completion)";' in script
    # fish sends the command line up to the cursor and the current token.
    assert completion_answer(env, "fish", "kubectl-arch pin --platform linux/s", "linux/s") == [
        "plain,linux/s390x"
    ]
    assert completion_answer(env, "fish", "kubectl-arch c", "c") == [
        "plain,check\tCheck that every workload fits some Ready node of the cluster.",
        "plain,completion\tPrint the shell completion script (bash, zsh, fish).",
    ]


def test_completion_command_errors(env: dict[str, str]) -> None:
    proc = run([KUBECTL_ARCH, "completion", "tcsh"], env)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        "error: Invalid value for 'SHELL': 'tcsh' is not one of 'bash', 'zsh', 'fish'.",
        "See 'kubectl arch completion --help' for usage.",
    ]
    assert run([KUBECTL_ARCH, "completion"], env).returncode == 2


def test_pin_does_not_load_completion_code() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['kubectl-arch', 'pin', '--platform', 'linux/arm64', '-f', sys.argv[1]]\n"
        "from kubectl_arch.cli import main\n"
        "code = main()\n"
        "loaded = [m for m in ('kubectl_arch.completion', 'click.shell_completion') if m in sys.modules]\n"
        "sys.stderr.write(repr(loaded))\n"
        "sys.exit(code)\n"
    )
    deploy = Path(__file__).resolve().parent.parent / "testdata" / "deploy.yaml"
    proc = subprocess.run([sys.executable, "-c", probe, str(deploy)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"[]"
