"""``pipx install .``: a regular (not editable) install in its own venv puts kubectl-arch and
kubectl_complete-arch on PATH, and kubectl finds the plugin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from integration_util import BIN, TESTDATA, describe, ok, require, run, tool_env

from kubectl_arch import __version__

REPO = Path(__file__).resolve().parent.parent
PLATFORM_PIN = """\
apiVersion: kubectl-arch.dev/v1alpha1
kind: PlatformPin
metadata:
  name: pin
platforms: [linux/amd64, linux/arm64]
"""


@pytest.fixture(scope="module")
def pipx_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("pipx")
    env = tool_env(tmp)
    pipx = BIN / "pipx"
    assert pipx.is_file(), f"{pipx} is missing: pipx is a test dependency (pip install -e '.[test]')"
    env.update(PIPX_HOME=str(tmp / "home"), PIPX_BIN_DIR=str(tmp / "bin"), PIPX_MAN_DIR=str(tmp / "man"))
    ok(run([pipx, "install", REPO], env))
    tools = tmp / "tools"  # kubectl alone, so that nothing else named kubectl-arch is on PATH
    tools.mkdir()
    (tools / "kubectl").symlink_to(require("kubectl", env))
    env["PATH"] = os.pathsep.join([str(tmp / "bin"), str(tools)])
    return env


def test_pipx_puts_both_executables_on_path(pipx_env: dict[str, str]) -> None:
    bin_dir = Path(pipx_env["PIPX_BIN_DIR"])
    assert sorted(p.name for p in bin_dir.iterdir()) == ["kubectl-arch", "kubectl_complete-arch"]
    assert shutil.which("kubectl-arch", path=pipx_env["PATH"]) == str(bin_dir / "kubectl-arch")
    listed = ok(run([BIN / "pipx", "list", "--short"], pipx_env)).stdout.decode()
    assert f"kubectl-arch {__version__}" in listed.splitlines()


def test_kubectl_plugin_list_shows_the_pipx_install(pipx_env: dict[str, str]) -> None:
    proc = run(["kubectl", "plugin", "list"], pipx_env)
    assert proc.returncode == 0, describe(proc)
    plugins = [line.strip() for line in proc.stdout.decode().splitlines() if line.strip().startswith("/")]
    # kubectl_complete-arch is not a plugin (kubectl lists kubectl-* only).
    assert plugins == [str(Path(pipx_env["PIPX_BIN_DIR"]) / "kubectl-arch")]


def test_the_pipx_install_runs_through_kubectl(pipx_env: dict[str, str], tmp_path: Path) -> None:
    assert (
        ok(run(["kubectl", "arch", "--version"], pipx_env)).stdout == f"kubectl-arch {__version__}\n".encode()
    )
    both = ["pin", "--platform", "linux/amd64,linux/arm64", "-f", TESTDATA / "deploy.yaml"]
    assert (
        ok(run(["kubectl", "arch", *both], pipx_env)).stdout
        == (TESTDATA / "pinned" / "deploy.yaml").read_bytes()
    )
    # The PlatformPin schema is package data: it must be installed with the code.
    config = tmp_path / "pin.yaml"
    config.write_text(PLATFORM_PIN)
    via_config = ok(
        run(["kubectl", "arch", "pin", "--config", config, "-f", TESTDATA / "deploy.yaml"], pipx_env)
    )
    assert via_config.stdout == (TESTDATA / "pinned" / "deploy.yaml").read_bytes()


def test_the_pipx_install_completes_kubectl_arch(pipx_env: dict[str, str]) -> None:
    proc = ok(run(["kubectl", "__complete", "arch", "pi"], pipx_env))
    assert proc.stdout == b"pin\tPin workloads to the platforms their images support.\n:4\n"
