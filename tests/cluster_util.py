"""Fixtures for the tests that read a cluster: certificates, recorded nodes, API servers, and
environments in which kubectl-arch and kubectl see only the kubeconfig a test wrote."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, Pki, load_nodes, make_pki

REPO = Path(__file__).resolve().parent.parent
NODES = REPO / "testdata" / "nodes"
GKE = NODES / "gke-mixed.json"
ASSORTED = NODES / "assorted.json"
AKS_WINDOWS = NODES / "aks-windows.json"  # Windows Server 2019, 2022 and 2025 pools
# An hourly CronJob, whose pods are four levels down.
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: report
            image: example.com/report:1
"""
BIN = Path(sys.executable).parent
KUBECTL_ARCH = BIN / "kubectl-arch"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def gke_nodes() -> list[dict[str, Any]]:
    return load_nodes(GKE)


@pytest.fixture(scope="session")
def assorted_nodes() -> list[dict[str, Any]]:
    return load_nodes(ASSORTED)


@pytest.fixture
def gke(pki: Pki, gke_nodes: list[dict[str, Any]]) -> Iterator[ApiServer]:
    """The GKE-style mixed cluster over TLS, bearer tokens and client certificates."""
    with ApiServer(
        gke_nodes, pki=pki, tokens={"test-token": "ci-admin", "exec-token": "exec-user"}
    ) as server:
        yield server


def cluster_env(home: Path, kubeconfig: Path | str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a user whose home is ``home``: no ~/.kube/config unless a test
    writes one, no in-cluster service, kubectl's discovery cache private, the venv first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env.pop("KUBECONFIG", None)
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    env.update(extra)
    return env
