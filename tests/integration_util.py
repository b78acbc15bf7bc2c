"""Shared helpers for the tests that run kubectl-arch under real tools (kubectl, kpt, kustomize).

The console script under test is the one installed next to the interpreter running pytest
(``.venv/bin/kubectl-arch``); :func:`tool_env` puts that directory first on ``PATH`` so that
kubectl's plugin discovery, ``kpt fn eval --exec`` and Kustomize plugins all find it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "testdata"
# Not resolved: the venv's python is a symlink, and the venv's bin directory is the point.
BIN = Path(sys.executable).parent
KUBECTL_ARCH = BIN / "kubectl-arch"
TIMEOUT = 120


def tool_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with the venv's bin directory first on PATH and a private config home.

    ``XDG_CONFIG_HOME`` (where Kustomize looks for plugins) and ``KUBECONFIG`` point into
    ``tmp_path``, so no user configuration or cluster can leak into a test.
    """
    if not KUBECTL_ARCH.is_file():
        pytest.fail(f"{KUBECTL_ARCH} is missing: install the package (pip install -e .) into {BIN.parent}")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    config_home = tmp_path / "xdg-config"
    config_home.mkdir(exist_ok=True)
    env["XDG_CONFIG_HOME"] = str(config_home)
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    for name in ("KUBECTL_PLUGINS_PATH", "KUSTOMIZE_PLUGIN_HOME", "KPT_FN_RUNTIME"):
        env.pop(name, None)
    env.update(extra)
    return env


def require(tool: str, env: Mapping[str, str]) -> str:
    """The path of ``tool`` on the env's PATH; fails (never skips) when it is missing."""
    found = shutil.which(tool, path=env.get("PATH"))
    if found is None:
        pytest.fail(f"{tool!r} is not on PATH; these integration tests need it (CI installs it)")
    return found


def run(
    args: Sequence[str | Path],
    env: Mapping[str, str],
    *,
    stdin: bytes | str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command to completion, capturing stdout and stderr as bytes."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [str(a) for a in args],
        input=data if data is not None else b"",
        capture_output=True,
        env=dict(env),
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
    )


def describe(proc: subprocess.CompletedProcess[bytes]) -> str:
    """A failure message with everything a command printed."""
    return (
        f"{proc.args!r} exited {proc.returncode}\n"
        f"--- stdout\n{proc.stdout.decode(errors='replace')}\n"
        f"--- stderr\n{proc.stderr.decode(errors='replace')}"
    )


def ok(proc: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[bytes]:
    assert proc.returncode == 0, describe(proc)
    return proc


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` (relative path -> bytes)."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def write_tree(directory: Path, files: Mapping[str, str]) -> None:
    """Create ``files`` (relative path -> text) below ``directory``."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def load_all(text: str | bytes) -> list[Any]:
    """The non-empty documents of a YAML stream."""
    return [d for d in yaml.safe_load_all(text) if d is not None]


def pod_spec(obj: Mapping[str, Any]) -> Any:
    """The pod spec of a Deployment-like object (``spec.template.spec``)."""
    return obj["spec"]["template"]["spec"]


def required_terms(obj: Mapping[str, Any]) -> Any:
    """The required node affinity terms of a Deployment-like object."""
    affinity = pod_spec(obj)["affinity"]["nodeAffinity"]
    return affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]


def platform_term(archs: Sequence[str], os_names: Sequence[str] = ("linux",)) -> dict[str, Any]:
    """The node selector term pin writes for these platforms, as data."""
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/os", "operator": "In", "values": sorted(os_names)},
            {"key": "kubernetes.io/arch", "operator": "In", "values": sorted(archs)},
        ]
    }


def without_affinity(obj: Any) -> Any:
    """A deep copy of ``obj`` with ``affinity`` removed from every pod spec it holds."""
    if isinstance(obj, dict):
        return {
            k: without_affinity(v) for k, v in obj.items() if not (k == "affinity" and "containers" in obj)
        }
    if isinstance(obj, list):
        return [without_affinity(v) for v in obj]
    return obj


def split_affinity(text: str, indent: int = 6) -> tuple[str, str]:
    """``text`` without its one ``affinity:`` block at column ``indent``, and that block."""
    pattern = re.compile(rf"^ {{{indent}}}affinity:\n(?: {{{indent + 1},}}\S.*\n)*", re.M)
    found = pattern.findall(text)
    assert len(found) == 1, f"expected one affinity block at column {indent}:\n{text}"
    return pattern.sub("", text), found[0]
