"""The test API server is faithful: the installed kubectl reads the same nodes and workloads
from it (all namespaces or one, a custom group found through discovery), pages through it,
filters with the same selectors and shows its errors as it shows a real server's."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, Pki, load_nodes, load_objects
from cluster_util import KUBECTL_ARCH, REPO, cluster_env


def kubectl(home: Path, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("kubectl")
    if tool is None:
        pytest.fail("kubectl is not on PATH; these tests need it (CI installs it)")
    return subprocess.run(
        [tool, *args],
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        timeout=60,
        check=False,
    )


def test_kubectl_reads_every_node_in_pages(tmp_path: Path, gke: ApiServer, gke_nodes: list) -> None:
    config = gke.kubeconfig(tmp_path / "config")
    proc = kubectl(tmp_path, config, "get", "nodes", "-o", "json", "--chunk-size", "3")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert listed["kind"] == "List"
    expected = [{k: v for k, v in n.items()} for n in gke_nodes]
    for node in expected:  # kubectl hides managedFields in its output, as it does for a real server
        node["metadata"] = {k: v for k, v in node["metadata"].items() if k != "managedFields"}
    assert listed["items"] == expected
    queries = [r.query for r in gke.list_requests()]
    assert [q.get("limit") for q in queries] == ["3", "3", "3", "3"]
    assert ["continue" in q for q in queries] == [False, True, True, True]

    ours = subprocess.run(
        [str(KUBECTL_ARCH), "nodes", "-o", "json"],
        capture_output=True,
        text=True,
        env=cluster_env(tmp_path, config),
    )
    assert json.loads(ours.stdout)["nodes"] == len(listed["items"])


Labels = Mapping[str, str]
SELECTORS: list[tuple[str, Callable[[Labels], bool]]] = [
    ("kubernetes.io/arch=arm64", lambda labels: labels.get("kubernetes.io/arch") == "arm64"),
    (
        "kubernetes.io/arch==amd64,kubernetes.io/os=linux",
        lambda labels: (
            labels.get("kubernetes.io/arch") == "amd64" and labels.get("kubernetes.io/os") == "linux"
        ),
    ),
    ("kubernetes.io/arch!=arm64", lambda labels: labels.get("kubernetes.io/arch") != "arm64"),
    (
        "cloud.google.com/gke-nodepool in (default-pool, win-pool)",
        lambda labels: labels.get("cloud.google.com/gke-nodepool") in ("default-pool", "win-pool"),
    ),
    (
        "cloud.google.com/gke-nodepool notin (arm-pool)",
        lambda labels: labels.get("cloud.google.com/gke-nodepool") != "arm-pool",
    ),
    ("node.kubernetes.io/windows-build", lambda labels: "node.kubernetes.io/windows-build" in labels),
    (
        "!node.kubernetes.io/windows-build,topology.kubernetes.io/zone in (us-central1-a)",
        lambda labels: (
            "node.kubernetes.io/windows-build" not in labels
            and labels.get("topology.kubernetes.io/zone") == "us-central1-a"
        ),
    ),
    ("no-such-label", lambda labels: "no-such-label" in labels),
]


@pytest.mark.parametrize(("selector", "wanted"), SELECTORS, ids=[s for s, _ in SELECTORS])
def test_label_selectors_select_what_kubectl_expects(
    tmp_path: Path, gke: ApiServer, gke_nodes: list, selector: str, wanted: Callable[[Labels], bool]
) -> None:
    config = gke.kubeconfig(tmp_path / "config")
    proc = kubectl(tmp_path, config, "get", "nodes", "-o", "json", "-l", selector)
    assert proc.returncode == 0, proc.stderr
    names = [n["metadata"]["name"] for n in json.loads(proc.stdout)["items"]]
    assert names == [n["metadata"]["name"] for n in gke_nodes if wanted(n["metadata"]["labels"])]
    assert gke.list_requests()[-1].query["labelSelector"] == selector


def test_client_certificates_over_tls(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", token=None, client_cert=True)
    proc = kubectl(tmp_path, config, "get", "nodes", "-o", "name")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 10
    assert {r.user for r in gke.requests} == {"ci-admin"}  # the certificate's CN


def test_kubectl_shows_the_rbac_status(tmp_path: Path, gke: ApiServer) -> None:
    gke.forbidden = True
    proc = kubectl(tmp_path, gke.kubeconfig(tmp_path / "config"), "get", "nodes")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        'Error from server (Forbidden): nodes is forbidden: User "ci-admin" cannot list resource "nodes" '
        'in API group "" at the cluster scope'
    )


def test_kubectl_shows_unauthorized(tmp_path: Path, gke: ApiServer) -> None:
    proc = kubectl(tmp_path, gke.kubeconfig(tmp_path / "config", token="wrong"), "get", "nodes")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    )


def test_kubectl_gets_one_node(tmp_path: Path, gke: ApiServer, gke_nodes: list[dict[str, Any]]) -> None:
    name = gke_nodes[5]["metadata"]["name"]
    proc = kubectl(
        tmp_path, gke.kubeconfig(tmp_path / "config"), "get", "node", name, "-o", "jsonpath={.spec.taints}"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == gke_nodes[5]["spec"]["taints"]


def test_plain_http_and_anonymous_access(tmp_path: Path, gke_nodes: list, pki: Pki) -> None:
    with ApiServer(gke_nodes, anonymous=True) as server:
        config = server.kubeconfig(tmp_path / "config", token=None)
        proc = kubectl(tmp_path, config, "get", "nodes", "-o", "name")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 10


# -- workloads ----------------------------------------------------------------------------------

EKS = REPO / "testdata" / "nodes" / "eks-mixed.json"
WORKLOADS = REPO / "testdata" / "cluster" / "audit.json"


@pytest.fixture
def workloads() -> list[dict[str, Any]]:
    return load_objects(WORKLOADS, REGISTRY="registry.example.com", WEB_DIGEST="sha256:" + "1" * 64,
                        API_OLD_DIGEST="sha256:" + "2" * 64)  # fmt: skip


def kinds(objects: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """The objects of these kinds, in the order of a real server's list: namespace, then name."""
    found = [o for o in objects if o["kind"] in names]
    return sorted(found, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))


def test_kubectl_lists_deployments_and_pods_of_all_namespaces(
    tmp_path: Path, pki: Pki, workloads: list
) -> None:
    with ApiServer(load_nodes(EKS), objects=workloads, pki=pki) as server:
        config = server.kubeconfig(tmp_path / "config")
        proc = kubectl(tmp_path, config, "get", "deployments,pods", "-A", "-o", "json", "--chunk-size", "2")
        queries = [r.query for r in server.list_requests("/api/v1/pods")]
    assert proc.returncode == 0, proc.stderr
    # Items come back with kind and apiVersion, which kubectl sets from the typed list.
    assert json.loads(proc.stdout)["items"] == kinds(workloads, "Deployment") + kinds(workloads, "Pod")
    assert [q.get("limit") for q in queries] == ["2"] * 5  # 10 pods
    assert ["continue" in q for q in queries] == [False, True, True, True, True]


def test_kubectl_reads_one_namespace_with_selectors_and_a_custom_group(
    tmp_path: Path, pki: Pki, workloads: list
) -> None:
    with ApiServer(load_nodes(EKS), objects=workloads, pki=pki) as server:
        config = server.kubeconfig(tmp_path / "config")
        in_ops = kubectl(tmp_path, config, "get", "ds,cronjobs,jobs,pods", "-n", "ops", "-o", "name")
        selected = kubectl(
            tmp_path, config, "get", "rs,rc,sts", "-A", "-l", "app in (web,db,legacy)", "-o", "name"
        )
        rollouts = kubectl(tmp_path, config, "get", "rollouts.argoproj.io", "-n", "shop", "-o", "json")
        paths = {r.path for r in server.requests}
    assert in_ops.stdout.split() == [
        "daemonset.apps/node-exporter",
        "cronjob.batch/report",
        "job.batch/report-29409540",
        "pod/node-exporter-a8kq0",
        "pod/node-exporter-b8kq1",
        "pod/report-29409540-4fz7d",
    ]
    assert "/apis/apps/v1/namespaces/ops/daemonsets" in paths
    assert selected.stdout.split() == [
        "replicaset.apps/web-5d9c7b8f6d",
        "replicationcontroller/legacy",
        "statefulset.apps/db",
    ]
    assert rollouts.returncode == 0, rollouts.stderr
    assert json.loads(rollouts.stdout)["items"] == kinds(workloads, "Rollout")


def test_kubectl_shows_the_rbac_status_of_one_resource(tmp_path: Path, pki: Pki, workloads: list) -> None:
    refused = frozenset({"daemonsets"})
    with ApiServer(load_nodes(EKS), objects=workloads, pki=pki, forbidden_resources=refused) as server:
        config = server.kubeconfig(tmp_path / "config")
        refused = kubectl(tmp_path, config, "get", "daemonsets", "-A")
        namespaced = kubectl(tmp_path, config, "get", "daemonsets", "-n", "ops")
        allowed = kubectl(tmp_path, config, "get", "deployments", "-A", "-o", "name")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        'Error from server (Forbidden): daemonsets.apps is forbidden: User "ci-admin" cannot list resource '
        '"daemonsets" in API group "apps" at the cluster scope'
    )
    assert namespaced.stderr.strip().splitlines()[-1] == (
        'Error from server (Forbidden): daemonsets.apps is forbidden: User "ci-admin" cannot list resource '
        '"daemonsets" in API group "apps" in the namespace "ops"'
    )
    assert allowed.stdout.split() == ["deployment.apps/api", "deployment.apps/web"]  # sorted, as etcd keys
