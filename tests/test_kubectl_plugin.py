"""kubectl-arch as a kubectl plugin: found by the real kubectl's plugin discovery on PATH."""

from __future__ import annotations

from pathlib import Path

import pytest
from integration_util import KUBECTL_ARCH, TESTDATA, describe, ok, require, run, tool_env

from kubectl_arch import __version__

# The pinned testdata/deploy.yaml: the affinity goes in ahead of the comment that belongs to
# "containers"; the Service and every other byte stay as they were.
PINNED_DEPLOY = """\
# A small web app: a Deployment and its Service.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - key: kubernetes.io/os
                    operator: In
                    values:
                      - linux
                  - key: kubernetes.io/arch
                    operator: In
                    values:
                      - arm64
      # The app and a log shipper.
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 80
        - name: logs
          image: fluent/fluent-bit:3.1
      tolerations:
        - key: kubernetes.io/arch
          operator: Exists
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: "80"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = tool_env(tmp_path)
    require("kubectl", env)
    return env


def test_help_through_kubectl_plugin_discovery(env: dict[str, str]) -> None:
    via_kubectl = ok(run(["kubectl", "arch", "--help"], env))
    direct = ok(run([KUBECTL_ARCH, "--help"], env))
    assert via_kubectl.stdout == direct.stdout
    assert via_kubectl.stderr == b""
    text = via_kubectl.stdout.decode()
    assert text.startswith("Usage: kubectl arch [OPTIONS] COMMAND [ARGS]...\n")
    commands = text.split("Commands:\n", 1)[1].splitlines()
    rows = commands[: commands.index("")] if "" in commands else commands
    names = [line.split()[0] for line in rows]
    assert names == ["nodes", "inspect", "pin", "check", "audit", "build", "completion", "help", "version"]
    assert "  pin         Pin workloads to the platforms their images support." in commands


def test_pin_help_through_kubectl(env: dict[str, str]) -> None:
    proc = ok(run(["kubectl", "arch", "pin", "--help"], env))
    assert proc.stdout.decode().startswith("Usage: kubectl arch pin [OPTIONS]\n")
    assert proc.stdout == ok(run([KUBECTL_ARCH, "pin", "--help"], env)).stdout


def test_version_through_kubectl(env: dict[str, str]) -> None:
    proc = ok(run(["kubectl", "arch", "--version"], env))
    assert proc.stdout == f"kubectl-arch {__version__}\n".encode()


def test_plugin_list_finds_kubectl_arch(env: dict[str, str]) -> None:
    proc = run(["kubectl", "plugin", "list"], env)
    # kubectl plugin list exits non-zero when it has warnings about *other* plugins on the
    # machine's PATH; only our own entry matters here.
    listed = [line.strip() for line in proc.stdout.decode().splitlines()]
    ours = [line for line in listed if Path(line).name == "kubectl-arch"]
    assert ours, describe(proc)
    assert ours[0] == str(KUBECTL_ARCH), describe(proc)
    assert f"{KUBECTL_ARCH} is overshadowed" not in proc.stderr.decode()


def test_pin_through_kubectl_is_byte_identical(env: dict[str, str]) -> None:
    args = ["pin", "--platform", "linux/arm64", "-f", str(TESTDATA / "deploy.yaml")]
    via_kubectl = run(["kubectl", "arch", *args], env)
    direct = run([KUBECTL_ARCH, *args], env)
    assert via_kubectl.returncode == direct.returncode == 0, describe(via_kubectl)
    assert via_kubectl.stdout == direct.stdout
    assert via_kubectl.stderr == direct.stderr == b""
    assert via_kubectl.stdout.decode() == PINNED_DEPLOY


def test_pin_stdin_through_kubectl(env: dict[str, str]) -> None:
    data = (TESTDATA / "deploy.yaml").read_bytes()
    proc = ok(run(["kubectl", "arch", "pin", "--platform", "linux/arm64"], env, stdin=data))
    assert proc.stdout.decode() == PINNED_DEPLOY


def test_pin_exit_codes_pass_through_kubectl(env: dict[str, str], tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(PINNED_DEPLOY)
    check = run(["kubectl", "arch", "pin", "--platform", "linux/amd64", "--check", "-f", manifest], env)
    assert check.returncode == 1, describe(check)
    assert check.stdout == b""
    usage = run(["kubectl", "arch", "pin", "--no-such-flag"], env)
    assert usage.returncode == 2, describe(usage)
    assert usage.stdout == b""
    assert usage.stderr == run([KUBECTL_ARCH, "pin", "--no-such-flag"], env).stderr
    lines = usage.stderr.decode().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error: ") and "--no-such-flag" in lines[0]
    assert lines[1] == "See 'kubectl arch pin --help' for usage."


@pytest.mark.parametrize("name", ["nodes", "inspect", "pin", "check", "audit", "build", "help", "version"])
def test_every_command_runs_through_kubectl(env: dict[str, str], name: str) -> None:
    proc = run(["kubectl", "arch", name, "--help"], env)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.startswith(f"Usage: kubectl arch {name} [OPTIONS]".encode())
