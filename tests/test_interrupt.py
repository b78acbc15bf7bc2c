"""Ctrl-C: one SIGINT ends inspect, pin, check, nodes and build within a second, exit 130,
whatever the look-ups are doing (threads blocked reading from a server that accepted the
connection and never answers, a builder that runs for minutes)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faulty_registry import Answer, FaultyRegistry, faulty
from registry_util import arch_env

BIN = Path(sys.executable).parent / "kubectl-arch"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n{containers}"


def interrupted(
    argv: list[str],
    env: dict[str, str],
    started: callable,
    stdin: str = "",  # type: ignore[valid-type]
) -> tuple[int, float, str]:
    """Run ``argv``, send one SIGINT once ``started()`` says the work is under way; (exit
    code, seconds from the signal to the exit, stderr)."""
    proc = subprocess.Popen(
        [str(BIN), *argv],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    deadline = time.monotonic() + 30
    while not started():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the command never started its work"
        time.sleep(0.05)
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(10)
    finally:
        proc.kill()
    elapsed = time.monotonic() - sent
    return code, elapsed, proc.stderr.read() if proc.stderr else ""


def stalled() -> FaultyRegistry:
    server = FaultyRegistry()
    for i in range(6):
        server.on(f"/v2/app{i}/manifests/1", Answer(stall=300))
    return server


@pytest.mark.parametrize("command", ["inspect", "pin", "check"])
def test_one_sigint_ends_look_ups(tmp_path: Path, command: str) -> None:
    server = stalled()
    try:
        refs = [f"{server.host}/app{i}:1" for i in range(6)]
        containers = "".join(f"  - name: c{i}\n    image: {ref}\n" for i, ref in enumerate(refs))
        nodes = tmp_path / "nodes.json"
        nodes.write_text(json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": []}))
        argv = {
            "inspect": ["inspect", *refs],
            "pin": ["pin", "-f", "-"],
            "check": ["check", "-f", "-", "--nodes-file", str(nodes)],
        }[command]
        code, elapsed, stderr = interrupted(
            argv, arch_env(tmp_path), lambda: len(server.seen) >= 1, POD.format(containers=containers)
        )
        assert code == 130, stderr
        assert elapsed < 1.0, elapsed
        assert "Traceback" not in stderr
    finally:
        server.stop()


def test_one_sigint_ends_reading_the_cluster(tmp_path: Path) -> None:
    with faulty() as server:
        server.on("/api/v1/nodes", Answer(stall=300))
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig", "c")
        env = arch_env(tmp_path, KUBECONFIG=str(kubeconfig))
        code, elapsed, stderr = interrupted(["nodes"], env, lambda: len(server.seen) >= 1)
        assert code == 130, stderr
        assert elapsed < 1.0, elapsed


def test_one_sigint_ends_a_build_and_its_builders(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    marker = tmp_path / "builder.pid"
    script = tmp_path / "build.sh"
    script.write_text(f"#!/bin/sh\necho $$ > {marker}\nexec sleep 300\n")
    script.chmod(0o755)
    code, elapsed, stderr = interrupted(
        [
            "build", "-t", "127.0.0.1:5999/app:v1", "--custom-command", str(script), "--platform",
            "linux/amd64,linux/arm64", "--context", str(tmp_path / "ctx"),
        ],
        arch_env(tmp_path),
        marker.exists,
    )  # fmt: skip
    assert code == 130, stderr
    assert elapsed < 1.0, elapsed
    time.sleep(0.3)
    pid = int(marker.read_text())
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().rpartition(")")[2].split()[0] == "Z"


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie no one reaped yet counts as ended)."""
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_one_sigint_ends_a_credential_helper_and_its_children(tmp_path: Path) -> None:
    """The helper runs in a look-up thread, in a process group of its own: the interrupt lands
    in the main thread, which ends the helper's group before the process exits."""
    with faulty() as server:
        server.on("/v2/app/manifests/1", Answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'}))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        pids = tmp_path / "pids"
        helper = bin_dir / "docker-credential-hang"
        helper.write_text(
            f"#!/bin/sh\nsleep 299 &\necho $$ $! > {pids}.tmp\nmv {pids}.tmp {pids}\nsleep 299\n"
        )
        helper.chmod(0o755)
        docker = tmp_path / "docker"
        docker.mkdir()
        (docker / "config.json").write_text(json.dumps({"credHelpers": {server.host: "hang"}}))
        env = arch_env(tmp_path, DOCKER_CONFIG=str(docker))
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
        code, elapsed, stderr = interrupted(["inspect", f"{server.host}/app:1"], env, pids.exists)
        assert code == 130, stderr
        assert elapsed < 1.0, elapsed
        time.sleep(0.2)
        helper_pid, child_pid = (int(p) for p in pids.read_text().split())
        assert gone(helper_pid) and gone(child_pid)


def test_one_sigint_ends_a_builder_that_ignores_sigterm(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    marker = tmp_path / "builder.pid"
    script = tmp_path / "build.sh"
    script.write_text(f"#!/bin/sh\ntrap '' TERM INT\necho $$ > {marker}\nsleep 300 &\nwait\nwait\n")
    script.chmod(0o755)
    code, elapsed, stderr = interrupted(
        [
            "build", "-t", "127.0.0.1:5999/app:v1", "--custom-command", str(script), "--platform",
            "linux/amd64", "--context", str(tmp_path / "ctx"),
        ],
        arch_env(tmp_path),
        marker.exists,
    )  # fmt: skip
    assert code == 130, stderr
    # SIGTERM first, SIGKILL a second later: the run ends soon after.
    assert 0.9 < elapsed < 2.0, elapsed
    time.sleep(0.2)
    assert gone(int(marker.read_text()))
