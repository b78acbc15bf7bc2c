"""Cluster-aware ``pin``: the cluster's Ready platforms bound each workload, and platform
taints are tolerated for exactly the platforms a workload is pinned to. Through the real
entry point, against the test API server; as a command and as a KRM function."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer, Pki
from cluster_util import CRONJOB, KUBECTL_ARCH, cluster_env

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
      - name: api
        image: registry.example.com/shop/api:2.3
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      tolerations: []
      containers:
      - name: agent
        image: registry.example.com/shop/agent:1.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      tolerations:
      - key: dedicated
        operator: Equal
        value: batch
        effect: NoSchedule
      containers:
      - name: migrate
        image: registry.example.com/shop/migrate:2.3
"""
AFFINITY = """\
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
                - amd64
                - arm64
"""
ARM_TOLERATION = """\
      - key: kubernetes.io/arch
        operator: Equal
        value: arm64
        effect: NoSchedule
"""
PINNED = (
    APP.replace(
        "    spec:\n      containers:\n      - name: api\n",
        "    spec:\n"
        + AFFINITY
        + "      tolerations:\n"
        + ARM_TOLERATION
        + "      containers:\n      - name: api\n",
    )
    .replace(
        "    spec:\n      tolerations: []\n",
        "    spec:\n" + AFFINITY + "      tolerations:\n" + ARM_TOLERATION,
    )
    .replace(
        "    spec:\n      restartPolicy: Never\n",
        "    spec:\n" + AFFINITY + "      restartPolicy: Never\n",
    )
    .replace(
        "        effect: NoSchedule\n      containers:\n      - name: migrate\n",
        "        effect: NoSchedule\n" + ARM_TOLERATION + "      containers:\n      - name: migrate\n",
    )
)
BOTH = "linux/amd64,linux/arm64"


def arch(
    home: Path, *args: str, stdin: str | None = None, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(APP)
    return path


@pytest.fixture
def kubeconfig(gke: ApiServer, tmp_path: Path) -> Path:
    return gke.kubeconfig(tmp_path / "config")


def pod_specs(text: str) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in yaml.safe_load_all(text)]


def arch_values(pod: dict[str, Any]) -> list[list[str]]:
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    return [
        [v for e in t["matchExpressions"] if e["key"] == "kubernetes.io/arch" for v in e["values"]]
        for t in terms
    ]


# -- tolerations --------------------------------------------------------------------------------


def test_tolerates_the_cluster_arch_taints(tmp_path: Path, app: Path, kubeconfig: Path) -> None:
    proc = arch(
        tmp_path,
        "pin",
        "--platform",
        BOTH,
        "--cluster",
        "--tolerate-arch-taints",
        "-f",
        str(app),
        kubeconfig=kubeconfig,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == PINNED
    again = arch(
        tmp_path,
        "pin",
        "--platform",
        BOTH,
        "--cluster",
        "--tolerate-arch-taints",
        "-f",
        "-",
        stdin=PINNED,
        kubeconfig=kubeconfig,
    )
    assert (again.returncode, again.stdout) == (0, PINNED)
    check = arch(
        tmp_path,
        "pin",
        "--platform",
        BOTH,
        "--cluster",
        "--tolerate-arch-taints",
        "--check",
        "-f",
        "-",
        stdin=PINNED,
        kubeconfig=kubeconfig,
    )
    assert (check.returncode, check.stderr) == (0, "3 workload(s) already pinned\n")


def test_declared_arch_taints_work_offline(tmp_path: Path, app: Path) -> None:
    proc = arch(
        tmp_path,
        "pin",
        "--platform",
        BOTH,
        "--arch-taint",
        "kubernetes.io/arch=arm64:NoSchedule",
        "-f",
        str(app),
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, PINNED, "")


def test_no_toleration_for_a_platform_the_pod_cannot_run_on(
    tmp_path: Path, app: Path, kubeconfig: Path
) -> None:
    proc = arch(
        tmp_path,
        "pin",
        "--platform",
        "linux/amd64,windows/amd64",
        "--cluster",
        "--tolerate-arch-taints",
        "-f",
        str(app),
        kubeconfig=kubeconfig,
    )
    assert proc.returncode == 0, proc.stderr
    for pod in pod_specs(proc.stdout):
        added = [t for t in pod["tolerations"] if t["key"] != "dedicated"]
        assert added == [
            {"key": "node.kubernetes.io/os", "operator": "Equal", "value": "windows", "effect": "NoSchedule"}
        ]
    amd64 = arch(
        tmp_path,
        "pin",
        "--platform",
        "linux/amd64",
        "--cluster",
        "--tolerate-arch-taints",
        "-f",
        str(app),
        kubeconfig=kubeconfig,
    )
    assert amd64.returncode == 0, amd64.stderr
    assert [p.get("tolerations") for p in pod_specs(amd64.stdout)] == [
        None,
        [],
        [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
    ]


def test_without_tolerate_flag_no_toleration_is_added(tmp_path: Path, app: Path, kubeconfig: Path) -> None:
    proc = arch(tmp_path, "pin", "--platform", BOTH, "--cluster", "-f", str(app), kubeconfig=kubeconfig)
    assert proc.returncode == 0, proc.stderr
    assert [p.get("tolerations") for p in pod_specs(proc.stdout)] == [
        None,
        [],
        [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
    ]


# -- the cluster's platforms as a bound ---------------------------------------------------------


def test_platforms_without_ready_nodes_are_left_out(tmp_path: Path, app: Path, kubeconfig: Path) -> None:
    proc = arch(
        tmp_path,
        "pin",
        "--platform",
        "linux/amd64,linux/arm64,linux/ppc64le",
        "--cluster",
        "-f",
        str(app),
        kubeconfig=kubeconfig,
    )
    assert proc.returncode == 0, proc.stderr
    assert [arch_values(p) for p in pod_specs(proc.stdout)] == [[["amd64", "arm64"]]] * 3


def test_not_ready_nodes_do_not_count(tmp_path: Path, app: Path, pki: Pki, gke_nodes: list) -> None:
    nodes = copy.deepcopy(gke_nodes)
    for node in nodes:
        if node["metadata"]["labels"]["kubernetes.io/arch"] == "arm64":
            for condition in node["status"]["conditions"]:
                if condition["type"] == "Ready":
                    condition["status"] = "False"
    with ApiServer(nodes, pki=pki) as server:
        config = server.kubeconfig(tmp_path / "config")
        proc = arch(tmp_path, "pin", "--platform", BOTH, "--cluster", "-f", str(app), kubeconfig=config)
        conflict = arch(
            tmp_path, "pin", "--platform", "linux/arm64", "--cluster", "-f", str(app), kubeconfig=config
        )
    assert proc.returncode == 0, proc.stderr
    assert [arch_values(p) for p in pod_specs(proc.stdout)] == [[["amd64"]]] * 3
    assert conflict.returncode == 1
    assert conflict.stderr.splitlines()[0] == (
        f"error: {tmp_path / 'app.yaml'} doc 1 Deployment/api: its images run on linux/arm64, none of which the cluster allows (linux/amd64,windows/amd64); "
        "containers: 'api' registry.example.com/shop/api:2.3"
    )


def test_conflict_names_images_and_cluster_platforms_and_writes_nothing(
    tmp_path: Path, app: Path, kubeconfig: Path
) -> None:
    proc = arch(
        tmp_path, "pin", "--platform", "linux/s390x", "--cluster", "-i", "-f", str(app), kubeconfig=kubeconfig
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines() == [
        f"error: {app} doc 1 Deployment/api: its images run on linux/s390x, none of which the cluster allows (linux/amd64,linux/arm64,windows/amd64); containers: 'api' registry.example.com/shop/api:2.3",
        f"error: {app} doc 2 DaemonSet/agent: its images run on linux/s390x, none of which the cluster allows (linux/amd64,linux/arm64,windows/amd64); containers: 'agent' registry.example.com/shop/agent:1.0",
        f"error: {app} doc 3 Job/migrate: its images run on linux/s390x, none of which the cluster allows (linux/amd64,linux/arm64,windows/amd64); containers: 'migrate' registry.example.com/shop/migrate:2.3",
    ]
    assert app.read_text() == APP


def test_selector_limits_the_nodes(tmp_path: Path, app: Path, gke: ApiServer, kubeconfig: Path) -> None:
    proc = arch(
        tmp_path,
        "pin",
        "--platform",
        BOTH,
        "--cluster",
        "-l",
        "cloud.google.com/gke-nodepool=arm-pool",
        "-f",
        str(app),
        kubeconfig=kubeconfig,
    )
    assert proc.returncode == 0, proc.stderr
    assert [arch_values(p) for p in pod_specs(proc.stdout)] == [[["arm64"]]] * 3
    assert gke.list_requests()[-1].query == {
        "limit": "500",
        "labelSelector": "cloud.google.com/gke-nodepool=arm-pool",
    }


def test_rbac_forbidden_is_a_remote_failure(
    tmp_path: Path, app: Path, gke: ApiServer, kubeconfig: Path
) -> None:
    gke.forbidden = True
    proc = arch(tmp_path, "pin", "--platform", BOTH, "--cluster", "-i", "-f", str(app), kubeconfig=kubeconfig)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr.startswith(
        f'error: API server {gke.url} (context "test") refused to list nodes (403 Forbidden: '
    )
    assert proc.stderr.endswith(
        "(a ClusterRole with verb list on nodes), or leave out --cluster to pin without the cluster's platforms\n"
    )
    assert app.read_text() == APP


def test_without_a_kubeconfig_the_hint_is_to_leave_out_cluster(tmp_path: Path, app: Path) -> None:
    # --platform is already given: the way out is to pin without the cluster, not --platform.
    proc = arch(tmp_path, "pin", "--platform", BOTH, "--cluster", "-f", str(app))
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (
        "error: no kubeconfig: ~/.kube/config names no existing file and this is not a pod in a cluster; "
        "point --kubeconfig or $KUBECONFIG at one (or log in to the cluster), or leave out --cluster to pin "
        "without the cluster's platforms\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--kubeconfig", "k", "-l", "a=b"],
            "error: --kubeconfig, --selector: used only when reading the cluster; add --cluster",
        ),
        (
            ["--tolerate-arch-taints"],
            "error: --tolerate-arch-taints needs the taints: add --cluster to find them on the nodes, or give them with --arch-taint KEY=VALUE:EFFECT",
        ),
        (
            ["--arch-taint", "arch=arm64:NoSchedule"],
            "error: Invalid value for '--arch-taint': invalid arch taint 'arch=arm64:NoSchedule': the key must be one of kubernetes.io/arch, beta.kubernetes.io/arch, kubernetes.io/os, beta.kubernetes.io/os, node.kubernetes.io/os\n"
            "See 'kubectl arch pin --help' for usage.",
        ),
        (
            ["--cluster", "--request-timeout", "x"],
            "error: Invalid value for '--request-timeout': 'x' is not a duration: use seconds or one such as 30s, 2m or 1m30s\n"
            "See 'kubectl arch pin --help' for usage.",
        ),
    ],
)
def test_usage_errors(tmp_path: Path, app: Path, args: list[str], message: str) -> None:
    proc = arch(tmp_path, "pin", "--platform", BOTH, *args, "-f", str(app))
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message + "\n")


# -- as a KRM function --------------------------------------------------------------------------


def resource_list(function_config: str) -> str:
    items = "".join("- " + doc.replace("\n", "\n  ").rstrip() + "\n" for doc in APP.split("---\n"))
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items + function_config


def test_krm_configmap_reads_the_cluster(tmp_path: Path, kubeconfig: Path) -> None:
    config = (
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: pin\n  data:\n"
        f"    platform: {BOTH}\n    cluster: 'true'\n    kubeconfig: {kubeconfig}\n    tolerate-arch-taints: 'true'\n"
    )
    proc = arch(tmp_path, "pin", stdin=resource_list(config))
    assert (proc.returncode, proc.stderr) == (0, "")
    out = yaml.safe_load(proc.stdout)
    assert "results" not in out
    pinned = [d["spec"]["template"]["spec"] for d in yaml.safe_load_all(PINNED)]
    assert [i["spec"]["template"]["spec"] for i in out["items"]] == pinned


def test_krm_platformpin_reads_the_cluster(tmp_path: Path, kubeconfig: Path) -> None:
    config = (
        "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  metadata:\n    name: pin\n"
        f"  platforms: [linux/s390x]\n  cluster: true\n  kubeconfig: {kubeconfig}\n  requestTimeout: 30s\n"
    )
    proc = arch(tmp_path, "pin", stdin=resource_list(config))
    assert proc.returncode == 1
    results = yaml.safe_load(proc.stdout)["results"]
    assert [r["message"] for r in results] == [
        f"its images run on linux/s390x, none of which the cluster allows (linux/amd64,linux/arm64,windows/amd64); containers: {c}"
        for c in (
            "'api' registry.example.com/shop/api:2.3",
            "'agent' registry.example.com/shop/agent:1.0",
            "'migrate' registry.example.com/shop/migrate:2.3",
        )
    ]


def test_krm_remote_failure_is_a_result(tmp_path: Path, gke: ApiServer, kubeconfig: Path) -> None:
    gke.forbidden = True
    config = f"functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: {BOTH}\n    cluster: 'true'\n    kubeconfig: {kubeconfig}\n"
    proc = arch(tmp_path, "pin", stdin=resource_list(config))
    assert proc.returncode == 3
    (result,) = yaml.safe_load(proc.stdout)["results"]
    assert result["severity"] == "error"
    assert result["message"].startswith(
        f'API server {gke.url} (context "test") refused to list nodes (403 Forbidden: '
    )
    # The way out is named as the functionConfig spells it.
    assert result["message"].endswith(
        "(a ClusterRole with verb list on nodes), or leave out cluster to pin without the cluster's platforms"
    )


def test_krm_without_a_kubeconfig_names_the_config_keys(tmp_path: Path) -> None:
    config = "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  platforms: [linux/arm64]\n  cluster: true\n"
    proc = arch(tmp_path, "pin", stdin=resource_list(config))
    assert proc.returncode == 3
    (result,) = yaml.safe_load(proc.stdout)["results"]
    assert result == {
        "message": "no kubeconfig: ~/.kube/config names no existing file and this is not a pod in a cluster; "
        "point kubeconfig or $KUBECONFIG at one (or log in to the cluster), or leave out cluster to pin "
        "without the cluster's platforms",
        "severity": "error",
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: linux/arm64\n    selector: a=b\n",
            "ResourceList functionConfig ConfigMap: selector: used only when reading the cluster; add cluster",
        ),
        (
            "  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: linux/arm64\n    cluster: 'yes'\n",
            "ResourceList functionConfig ConfigMap: option 'cluster' must be 'true' or 'false', not 'yes'",
        ),
        (
            "  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: linux/arm64\n    arch-taint: arch=arm64:NoSchedule\n",
            "ResourceList functionConfig ConfigMap: arch-taint: invalid arch taint 'arch=arm64:NoSchedule': the key must be one of kubernetes.io/arch, beta.kubernetes.io/arch, kubernetes.io/os, beta.kubernetes.io/os, node.kubernetes.io/os",
        ),
        (
            "  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  platforms: linux/arm64\n  tolerateArchTaints: true\n",
            "ResourceList functionConfig PlatformPin: tolerateArchTaints needs the taints: add cluster to find them on the nodes, or give them with archTaints KEY=VALUE:EFFECT",
        ),
        (
            "  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  platforms: linux/arm64\n  cluster: true\n  requestTimeout: soon\n",
            "ResourceList functionConfig PlatformPin: requestTimeout: 'soon' is not a duration: use seconds or one such as 30s, 2m or 1m30s",
        ),
        (
            "  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  platforms: linux/arm64\n  cluster: 'true'\n",
            "ResourceList functionConfig PlatformPin: cluster: 'true' is not of type 'boolean'",
        ),
        (
            "  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  platforms: linux/arm64\n  cluster: true\n  requestTimeout: [1]\n",
            "ResourceList functionConfig PlatformPin: requestTimeout: expected a string or a number, got a list",
        ),
    ],
    ids=[
        "selector-without-cluster",
        "bad-switch",
        "bad-arch-taint",
        "tolerate-without-taints",
        "bad-timeout",
        "string-switch",
        "timeout-type",
    ],
)
def test_krm_config_errors(tmp_path: Path, config: str, message: str) -> None:
    proc = arch(tmp_path, "pin", stdin=resource_list("functionConfig:\n" + config))
    assert proc.returncode == 2
    (result,) = yaml.safe_load(proc.stdout)["results"]
    assert result == {"message": message, "severity": "error"}


def test_typed_config_file_with_arch_taints(tmp_path: Path, app: Path) -> None:
    config = tmp_path / "pin.yaml"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "kubectl-arch.dev/v1alpha1",
                "kind": "PlatformPin",
                "platforms": [BOTH],
                "archTaints": "kubernetes.io/arch=arm64:NoSchedule",
            }
        )
    )
    proc = arch(tmp_path, "pin", "--config", str(config), "-f", str(app))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, PINNED, "")


def test_under_real_kpt(tmp_path: Path, gke: ApiServer, kubeconfig: Path) -> None:
    """kpt runs the function with its own environment: the kubeconfig is found as usual."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "app.yaml").write_text(APP)
    proc = subprocess.run(
        [
            "kpt",
            "fn",
            "eval",
            "--exec",
            "kubectl-arch pin",
            str(package),
            "--",
            f"platform={BOTH}",
            "cluster=true",
            "tolerate-arch-taints=true",
        ],
        capture_output=True,
        text=True,
        env=cluster_env(tmp_path, kubeconfig),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert pod_specs((package / "app.yaml").read_text()) == pod_specs(PINNED)  # kpt may reorder keys
    assert len(gke.list_requests()) == 1


def test_nodes_without_ga_platform_labels_are_named_in_one_warning(
    tmp_path: Path, assorted_nodes: list[dict[str, Any]]
) -> None:
    """Two Ready nodes of the assorted cluster have no kubernetes.io/arch label (one has only
    the beta label, one only status.nodeInfo): pinning keeps pods off them, which is said
    once; check then judges the pinned CronJob by the labels the nodes have."""
    with ApiServer(assorted_nodes) as server:
        config = server.kubeconfig(tmp_path / "config")
        pinned = arch(
            tmp_path, "pin", "--cluster", "--platform", "linux/amd64", stdin=CRONJOB, kubeconfig=config
        )
        checked = arch(
            tmp_path, "check", "-f", "-", "--platform", "linux/amd64", "-o", "json", stdin=pinned.stdout,
            kubeconfig=config,
        )  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr
    warning = (
        "warning: 2 Ready node(s) carry no kubernetes.io/os or kubernetes.io/arch label (only "
        "beta.kubernetes.io labels or status.nodeInfo say their platform): they are counted by those, but "
        "pods pinned to kubernetes.io/os and kubernetes.io/arch do not schedule on them; label them "
        "(kubectl label node NAME kubernetes.io/os=OS kubernetes.io/arch=ARCH)"
    )
    assert pinned.stderr.splitlines().count(warning) == 1
    assert warning in checked.stderr.splitlines()
    workload = json.loads(checked.stdout)["workloads"][0]
    assert workload["fittingNodes"] == 3
    assert {"reason": "affinity", "detail": "", "nodes": 4} in workload["reasons"]
