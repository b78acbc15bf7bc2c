"""``kubectl-arch nodes`` through its real entry point against the test API server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer, Pki, replicate
from cluster_util import KUBECTL_ARCH, cluster_env

TABLE = """\
PLATFORM        NODES   READY   SCHEDULABLE   TAINTED   CPU    MEMORY    POOLS
linux/amd64     5       5       4             1         27.6   148.5Gi   default-pool,highmem-pool
linux/arm64     3       2       2             3         11.8   38.7Gi    arm-pool
windows/amd64   2       2       2             2         7.8    23.3Gi    win-pool

mixed cluster: 3 platforms have Ready nodes; build for linux/amd64,linux/arm64,windows/amd64
"""
WIDE = """\
PLATFORM        POOL           NODES   READY   SCHEDULABLE   TAINTED   CPU    MEMORY    WINDOWS BUILDS   TAINTS
linux/amd64     *              5       5       4             1         27.6   148.5Gi   <none>           node.kubernetes.io/unschedulable:NoSchedule
linux/amd64     default-pool   3       3       2             1         11.8   38.2Gi    <none>           node.kubernetes.io/unschedulable:NoSchedule
linux/amd64     highmem-pool   2       2       2             0         15.8   110.3Gi   <none>           <none>
linux/arm64     *              3       2       2             3         11.8   38.7Gi    <none>           kubernetes.io/arch=arm64:NoSchedule,node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule
linux/arm64     arm-pool       3       2       2             3         11.8   38.7Gi    <none>           kubernetes.io/arch=arm64:NoSchedule,node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule
windows/amd64   *              2       2       2             2         7.8    23.3Gi    10.0.20348       node.kubernetes.io/os=windows:NoSchedule
windows/amd64   win-pool       2       2       2             2         7.8    23.3Gi    10.0.20348       node.kubernetes.io/os=windows:NoSchedule

mixed cluster: 3 platforms have Ready nodes; build for linux/amd64,linux/arm64,windows/amd64
"""
# The -o json contract for the GKE-style cluster (README.md, "Output contracts").
DOCUMENT: dict[str, Any] = {
    "nodes": 10,
    "mixed": True,
    "platforms": [
        {
            "platform": "linux/amd64",
            "os": "linux",
            "architecture": "amd64",
            "nodes": 5,
            "ready": 5,
            "schedulable": 4,
            "tainted": 1,
            "taints": [
                {"key": "node.kubernetes.io/unschedulable", "value": "", "effect": "NoSchedule", "nodes": 1}
            ],
            "pools": {"default-pool": 3, "highmem-pool": 2},
            "windowsBuilds": {},
            "allocatable": {"cpu": "27580m", "memory": "155752964Ki"},
        },
        {
            "platform": "linux/arm64",
            "os": "linux",
            "architecture": "arm64",
            "nodes": 3,
            "ready": 2,
            "schedulable": 2,
            "tainted": 3,
            "taints": [
                {"key": "kubernetes.io/arch", "value": "arm64", "effect": "NoSchedule", "nodes": 3},
                {"key": "node.kubernetes.io/unreachable", "value": "", "effect": "NoExecute", "nodes": 1},
                {"key": "node.kubernetes.io/unreachable", "value": "", "effect": "NoSchedule", "nodes": 1},
            ],
            "pools": {"arm-pool": 3},
            "windowsBuilds": {},
            "allocatable": {"cpu": "11760m", "memory": "40566696Ki"},
        },
        {
            "platform": "windows/amd64",
            "os": "windows",
            "architecture": "amd64",
            "nodes": 2,
            "ready": 2,
            "schedulable": 2,
            "tainted": 2,
            "taints": [
                {"key": "node.kubernetes.io/os", "value": "windows", "effect": "NoSchedule", "nodes": 2}
            ],
            "pools": {"win-pool": 2},
            "windowsBuilds": {"10.0.20348": 2},
            "allocatable": {"cpu": "7840m", "memory": "24466888Ki"},
        },
    ],
    "warnings": [],
}


def arch(
    home: Path, *args: str, kubeconfig: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig, **env),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def kubeconfig(gke: ApiServer, tmp_path: Path) -> Path:
    return gke.kubeconfig(tmp_path / "config")


# -- outputs --------------------------------------------------------------------------------


def test_table(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, TABLE, "")


def test_wide_adds_a_row_per_pool_windows_builds_and_the_taints(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-o", "wide", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, WIDE, "")


def test_json_contract(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-o", "json", kubeconfig=kubeconfig)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == json.dumps(DOCUMENT, indent=2) + "\n"
    assert proc.stderr == ""


def test_yaml_is_the_same_document(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-o", "yaml", kubeconfig=kubeconfig)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == DOCUMENT
    assert proc.stdout.startswith("nodes: 10\nmixed: true\nplatforms:\n- platform: linux/amd64\n")


def test_platforms_output_is_what_build_and_pin_take(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-o", "platforms", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "linux/amd64,linux/arm64,windows/amd64\n", "")
    deploy = Path(__file__).resolve().parent.parent / "testdata" / "deploy.yaml"
    pinned = arch(tmp_path, "pin", "--platform", proc.stdout.strip(), "-f", str(deploy))
    assert pinned.returncode == 0, pinned.stderr


def test_selector_is_sent_to_the_server(tmp_path: Path, gke: ApiServer, kubeconfig: Path) -> None:
    proc = arch(
        tmp_path,
        "nodes",
        "-o",
        "json",
        "-l",
        "cloud.google.com/gke-nodepool in (arm-pool)",
        kubeconfig=kubeconfig,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [p["platform"] for p in document["platforms"]] == ["linux/arm64"]
    assert document["mixed"] is False
    assert [r.query for r in gke.list_requests()] == [
        {"limit": "500", "labelSelector": "cloud.google.com/gke-nodepool in (arm-pool)"}
    ]


def test_single_platform_cluster(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-l", "kubernetes.io/os=windows", kubeconfig=kubeconfig)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("\nsingle-platform cluster: build for windows/amd64\n")


def test_no_matching_nodes(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-l", "pool=none", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "No nodes match 'pool=none'.\n")
    proc = arch(tmp_path, "nodes", "-l", "pool=none", "-o", "platforms", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert (
        proc.stderr
        == "error: no Ready nodes matching 'pool=none' (0 node(s) found): no platform to build for\n"
    )
    proc = arch(tmp_path, "nodes", "-l", "pool=none", "-o", "json", kubeconfig=kubeconfig)
    assert json.loads(proc.stdout) == {"nodes": 0, "mixed": False, "platforms": [], "warnings": []}


def test_warnings_go_to_stderr_and_into_the_document(tmp_path: Path, pki: Pki, assorted_nodes: list) -> None:
    with ApiServer(assorted_nodes, pki=pki) as server:
        config = server.kubeconfig(tmp_path / "config")
        table = arch(tmp_path, "nodes", kubeconfig=config)
        document = json.loads(arch(tmp_path, "nodes", "-o", "json", kubeconfig=config).stdout)
    warnings = [
        "node mislabelled-1: label kubernetes.io/arch=amd64 disagrees with status.nodeInfo.architecture=arm64; using the label (what the scheduler matches)",
        "linux/arm nodes carry no CPU variant label: images built for linux/arm default to v7; build linux/arm/v6 if some nodes are ARMv6",
    ]
    assert table.returncode == 0
    assert table.stderr.splitlines() == [f"warning: {w}" for w in warnings]
    assert document["warnings"] == warnings
    by_platform = {p["platform"]: p for p in document["platforms"]}
    assert sorted(by_platform) == ["linux/amd64", "linux/arm", "linux/arm64", "linux/ppc64le"]
    # beta labels only (legacy-node-1), nothing but nodeInfo (bare-metal-7), the k3s edge node
    assert by_platform["linux/amd64"]["pools"] == {"<none>": 2, "general": 1, "m6g.large": 1, "nodepool1": 1}
    assert by_platform["linux/ppc64le"]["pools"] == {"<none>": 1}
    assert by_platform["linux/arm"]["pools"] == {"k3s": 1}
    assert by_platform["linux/arm64"]["pools"] == {"armpool": 1, "graviton": 1}


# -- paging ---------------------------------------------------------------------------------


def test_large_clusters_are_read_in_pages(tmp_path: Path, pki: Pki, gke_nodes: list) -> None:
    with ApiServer(replicate(gke_nodes, 1234), pki=pki) as server:
        config = server.kubeconfig(tmp_path / "config")
        proc = arch(tmp_path, "nodes", "-o", "json", kubeconfig=config)
        requests = server.list_requests()
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["nodes"] == 1234
    assert sum(p["nodes"] for p in document["platforms"]) == 1234
    assert [r.query.get("limit") for r in requests] == ["500", "500", "500"]
    assert ["continue" in r.query for r in requests] == [False, True, True]


def test_an_expired_continue_token_restarts_the_list_once(tmp_path: Path, pki: Pki, gke_nodes: list) -> None:
    with ApiServer(replicate(gke_nodes, 1100), pki=pki, expire_next_continue=True) as server:
        config = server.kubeconfig(tmp_path / "config")
        proc = arch(tmp_path, "nodes", "-o", "json", kubeconfig=config)
        requests = server.list_requests()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["nodes"] == 1100  # not 1600: the first page was read again
    assert ["continue" in r.query for r in requests] == [False, True, False, True, True]


# -- failures -------------------------------------------------------------------------------


def test_rbac_forbidden(tmp_path: Path, gke: ApiServer, kubeconfig: Path) -> None:
    gke.forbidden = True
    proc = arch(tmp_path, "nodes", kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (
        f'error: API server {gke.url} (context "test") refused to list nodes (403 Forbidden: nodes is forbidden: User "ci-admin" cannot list resource "nodes" in API group "" at the cluster scope); '
        "ask a cluster administrator for permission to list nodes (a ClusterRole with verb list on nodes)\n"
    )


def test_rejected_token_is_never_printed(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", token="s3cr3t-t0ken-value")
    proc = arch(tmp_path, "nodes", "-v", kubeconfig=config)
    assert proc.returncode == 3
    assert proc.stderr.splitlines()[-1] == (
        f'error: API server {gke.url} (context "test") rejected the credentials (401 Unauthorized); '
        "log in again or refresh the kubeconfig's token or credential plugin"
    )
    assert proc.stderr.startswith(f"GET {gke.url}/api/v1/nodes?limit=500 401 in ")
    assert "s3cr3t" not in proc.stderr + proc.stdout


def test_no_kubeconfig(tmp_path: Path) -> None:
    proc = arch(tmp_path, "nodes")
    assert proc.returncode == 3
    assert proc.stderr == (
        "error: no kubeconfig: ~/.kube/config names no existing file and this is not a pod in a cluster; "
        "point --kubeconfig or $KUBECONFIG at one (or log in to the cluster)\n"
    )
    missing = tmp_path / "nope"
    proc = arch(tmp_path, "nodes", "--kubeconfig", str(missing))
    assert (proc.returncode, proc.stderr) == (
        3,
        f"error: kubeconfig {missing} (--kubeconfig) does not exist\n",
    )


def test_unknown_context_lists_the_known_ones(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "--context", "prod", kubeconfig=kubeconfig)
    assert proc.returncode == 3
    assert (
        proc.stderr
        == f'error: context "prod" not found in kubeconfig $KUBECONFIG ({kubeconfig}) (contexts: test)\n'
    )


def test_unreachable_server(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", server="https://127.0.0.1:9")
    proc = arch(tmp_path, "nodes", kubeconfig=config)
    assert proc.returncode == 3
    assert proc.stderr.startswith('error: cannot reach API server https://127.0.0.1:9 (context "test"): ')
    assert proc.stderr.endswith(
        "Connection refused; check the server URL in the kubeconfig and the context (--context), and that the cluster is up\n"
    )


def test_request_timeout(tmp_path: Path, gke: ApiServer, kubeconfig: Path) -> None:
    gke.delay = 3
    proc = arch(tmp_path, "nodes", "--request-timeout", "500ms", kubeconfig=kubeconfig)
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: API server {gke.url} (context "test") did not answer within 0.5s (--request-timeout); '
        "check the server URL in the kubeconfig and the context (--context) and the network, or raise --request-timeout\n"
    )


def test_unknown_certificate_authority(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", ca=False)
    proc = arch(tmp_path, "nodes", kubeconfig=config)
    assert proc.returncode == 3
    assert proc.stderr.startswith(f'error: TLS with API server {gke.url} (context "test") failed: ')
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stderr
    assert proc.stderr.endswith("; check certificate-authority in the kubeconfig\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-l", "a in (b"],
            "error: -l/--selector 'a in (b': the API server rejected it: unable to parse requirement: found 'a in (b', expected: key\n",
        ),
        (
            ["--request-timeout", "soon"],
            "error: Invalid value for '--request-timeout': 'soon' is not a duration: use seconds or one such as 30s, 2m or 1m30s\n"
            "See 'kubectl arch nodes --help' for usage.\n",
        ),
    ],
)
def test_input_errors_exit_2(tmp_path: Path, kubeconfig: Path, args: list[str], message: str) -> None:
    proc = arch(tmp_path, "nodes", *args, kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message)


def test_bad_output_format(tmp_path: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "nodes", "-o", "csv", kubeconfig=kubeconfig)
    assert proc.returncode == 2
    assert "'csv' is not one of 'table', 'wide', 'json', 'yaml', 'platforms'" in proc.stderr


def test_through_kubectl_plugin_discovery(tmp_path: Path, kubeconfig: Path) -> None:
    proc = subprocess.run(
        ["kubectl", "arch", "nodes", "-o", "platforms"],
        capture_output=True,
        text=True,
        env=cluster_env(tmp_path, kubeconfig),
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "linux/amd64,linux/arm64,windows/amd64\n", "")
