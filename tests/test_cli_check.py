"""``kubectl arch check``: does every workload fit a Ready node? Through the real entry point,
with recorded nodes (a file, and the test API server) and a real registry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer
from cluster_util import ASSORTED, CRONJOB, GKE, KUBECTL_ARCH, cluster_env
from registry_util import Populated

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: web
        image: {image}
"""
TOLERATE_ARM64 = """\
      tolerations:
      - key: kubernetes.io/arch
        operator: Equal
        value: arm64
        effect: NoSchedule
"""
ON_ARM64 = """\
      nodeSelector:
        kubernetes.io/arch: arm64
"""


def arch(
    home: Path, *args: str, stdin: str | None = None, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        timeout=120,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def check(tmp_path: Path, manifest: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = write(tmp_path / "app.yaml", manifest)
    return arch(tmp_path, "check", "-f", str(path), "--nodes-file", str(GKE), *args)


def test_fits_table_and_summary(tmp_path: Path) -> None:
    proc = check(tmp_path, WEB.format(image="nginx:1.27"), "--platform", "linux/amd64,linux/arm64")
    assert proc.returncode == 0, proc.stderr
    workload = f"{tmp_path / 'app.yaml'} doc 1 Deployment/web"
    pad = " " * (len(workload) - len("WORKLOAD"))
    # NODES FIT counts every node read, as the messages do; nothing restricts the platforms
    assert proc.stdout == (
        f"WORKLOAD{pad}   IMAGE PLATFORMS           ALLOWED   NODES FIT   ON\n"
        f"{workload}   linux/amd64,linux/arm64   <any>     4/10        linux/amd64\n"
    )
    assert proc.stderr == "1 workload(s): 1 fit\n"
    pinned = check(tmp_path, WEB.format(image="nginx:1.27") + ON_ARM64, "--platform", "linux/arm64")
    assert pinned.stdout.splitlines()[1].split()[-2:] == ["linux/arm64", "0/10"]


def test_untolerated_taint_fails_with_the_reason(tmp_path: Path) -> None:
    proc = check(tmp_path, WEB.format(image="nginx:1.27") + ON_ARM64, "--platform", "linux/arm64")
    assert proc.returncode == 1
    path = tmp_path / "app.yaml"
    # in the scheduler's order: the taints before the nodeSelector
    assert proc.stderr.splitlines() == [
        f"error: {path} doc 1 Deployment/web: fits no Ready node: 0/10 nodes fit: 1 node(s) not Ready, "
        "1 node(s) cordoned, 2 node(s) with untolerated taint kubernetes.io/arch=arm64:NoSchedule, "
        "2 node(s) with untolerated taint node.kubernetes.io/os=windows:NoSchedule, "
        "4 node(s) not matching the nodeSelector",
        "1 workload(s): 0 fit, 1 fit no Ready node",
    ]
    tolerated = check(
        tmp_path, WEB.format(image="nginx:1.27") + ON_ARM64 + TOLERATE_ARM64, "--platform", "linux/arm64"
    )
    assert tolerated.returncode == 0, tolerated.stderr


def test_json_contract(tmp_path: Path) -> None:
    proc = check(
        tmp_path, WEB.format(image="nginx:1.27") + ON_ARM64, "--platform", "linux/arm64", "-o", "json"
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "fits": False,
        "cluster": {"nodes": 10, "ready": 9, "platforms": ["linux/amd64", "linux/arm64", "windows/amd64"]},
        "workloads": [
            {
                "file": str(tmp_path / "app.yaml"),
                "document": 1,
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "namespace": "shop",
                "containers": [{"name": "web", "image": "nginx:1.27", "platforms": ["linux/arm64"]}],
                "imagePlatforms": ["linux/arm64"],
                "allowedPlatforms": ["linux/arm64"],
                "fits": False,
                "fittingNodes": 0,
                "fittingPlatforms": [],
                "reasons": [
                    {"reason": "not Ready", "detail": "", "nodes": 1},
                    {"reason": "cordoned", "detail": "", "nodes": 1},
                    {
                        "reason": "untolerated taint",
                        "detail": "kubernetes.io/arch=arm64:NoSchedule",
                        "nodes": 2,
                    },
                    {
                        "reason": "untolerated taint",
                        "detail": "node.kubernetes.io/os=windows:NoSchedule",
                        "nodes": 2,
                    },
                    {"reason": "nodeSelector", "detail": "", "nodes": 4},
                ],
                "message": "0/10 nodes fit: 1 node(s) not Ready, 1 node(s) cordoned, 2 node(s) with untolerated "
                "taint kubernetes.io/arch=arm64:NoSchedule, 2 node(s) with untolerated taint "
                "node.kubernetes.io/os=windows:NoSchedule, 4 node(s) not matching the nodeSelector",
            }
        ],
    }
    assert proc.stderr.splitlines()[-1].startswith("error: ")  # no table summary with -o json


def test_against_the_api_server_with_registry_images(
    tmp_path: Path, gke: ApiServer, populated_registry: Populated
) -> None:
    kubeconfig = gke.kubeconfig(tmp_path / "config")
    single = populated_registry.ref("single/oci:1")  # linux/arm64 only
    multi = populated_registry.ref("library/multi:1")  # linux/amd64, arm64, arm/v7
    manifest = WEB.format(image=multi) + "---\n" + WEB.format(image=single).replace("name: web", "name: arm")
    path = write(tmp_path / "app.yaml", manifest)
    proc = arch(tmp_path, "check", "-f", str(path), "-o", "json", kubeconfig=kubeconfig)
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    assert [(w["name"], w["imagePlatforms"], w["fits"]) for w in document["workloads"]] == [
        ("web", ["linux/amd64", "linux/arm", "linux/arm64"], True),
        ("arm", ["linux/arm64"], False),
    ]
    assert [r["reason"] for r in document["workloads"][1]["reasons"]][-2:] == [
        "untolerated taint",
        "image platforms",
    ]


def test_unknown_images(tmp_path: Path, populated_registry: Populated) -> None:
    missing = populated_registry.ref("no/such:image")
    failed = check(tmp_path, WEB.format(image=missing))
    assert failed.returncode == 3
    assert failed.stdout == ""
    # check pins nothing: the summary says what was not done, and what checks the rest.
    assert failed.stderr.splitlines()[-1] == (
        "error: 1 image(s) could not be looked up; nothing was checked (--on-unknown-image=skip or "
        "--on-unknown-image=assume:os/arch[,...] checks the rest)"
    )
    skipped = check(tmp_path, WEB.format(image=missing), "--on-unknown-image=skip")
    assert skipped.returncode == 0, skipped.stderr
    assert "warning:" in skipped.stderr and "not checked:" in skipped.stderr
    assert skipped.stderr.splitlines()[-1] == "1 workload(s): 0 fit, 1 not checked"


def test_resource_list_is_validated_as_a_krm_function(tmp_path: Path) -> None:
    resource_list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(
        ("- " if i == 0 else "  ") + line + "\n"
        for i, line in enumerate((WEB.format(image="nginx:1.27") + ON_ARM64).splitlines())
    )
    proc = arch(tmp_path, "check", "--platform", "linux/arm64", "--nodes-file", str(GKE), stdin=resource_list)
    assert proc.returncode == 1
    assert proc.stdout.startswith(resource_list)  # items unchanged
    results: list[dict[str, Any]] = __import__("yaml").safe_load(proc.stdout)["results"]
    assert [(r["severity"], r["resourceRef"]["name"], r["field"]["path"]) for r in results] == [
        ("error", "web", "spec.template.spec")
    ]
    assert results[0]["message"].startswith("fits no Ready node: 0/10 nodes fit")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--nodes-file", "missing.json"), "error: missing.json: no such file or directory"),
        (("--nodes-file", "app.yaml"), "error: app.yaml: expected Node objects (kubectl get nodes -o json)"),
        (
            ("--nodes-file", str(GKE), "--context", "prod"),
            "error: --nodes-file replaces the cluster: --kubeconfig, --context and -l do not apply",
        ),
    ],
)
def test_bad_options(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    write(tmp_path / "app.yaml", WEB.format(image="nginx:1.27"))
    proc = subprocess.run(
        [str(KUBECTL_ARCH), "check", "-f", "app.yaml", "--platform", "linux/amd64", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cluster_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == message
    assert "Traceback" not in proc.stderr


def kpt_check(tmp_path: Path, manifest: str, *config: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    app = write(package / "app.yaml", manifest)
    proc = subprocess.run(
        [
            "kpt",
            "fn",
            "eval",
            "--exec",
            f"kubectl-arch check --nodes-file {GKE}",
            str(package),
            "--",
            *config,
        ],
        capture_output=True,
        text=True,
        env=cluster_env(tmp_path),
        timeout=120,
        check=False,
    )
    return proc, app


def test_under_real_kpt_as_a_validator(tmp_path: Path) -> None:
    """Flags in the exec string, options in the functionConfig; the package is left as it is."""
    manifest = WEB.format(image="nginx:1.27") + ON_ARM64
    proc, app = kpt_check(tmp_path, manifest, "platform=linux/arm64")
    assert proc.returncode != 0
    assert (
        "[error] apps/v1/Deployment/shop/web spec.template.spec: fits no Ready node: 0/10 nodes fit"
        in proc.stderr
    )
    assert "with untolerated taint kubernetes.io/arch=arm64:NoSchedule" in proc.stderr
    assert app.read_text() == manifest

    tolerated = manifest + TOLERATE_ARM64
    proc, app = kpt_check(tmp_path, tolerated, "platform=linux/arm64")
    assert proc.returncode == 0, proc.stderr
    assert app.read_text() == tolerated

    proc, _ = kpt_check(tmp_path, tolerated, "platform=linux/arm64", "lock=platforms.lock")
    assert proc.returncode != 0
    assert "ResourceList functionConfig ConfigMap: lock: not an option of check" in proc.stderr


def test_unknown_image_as_a_krm_validator_is_a_result_naming_config_keys(
    tmp_path: Path, populated_registry: Populated
) -> None:
    missing = populated_registry.ref("no/such:image")
    resource_list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(
        ("- " if i == 0 else "  ") + line + "\n"
        for i, line in enumerate(WEB.format(image=missing).splitlines())
    )
    proc = arch(tmp_path, "check", "--nodes-file", str(GKE), stdin=resource_list)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.startswith(resource_list)  # items unchanged, results appended
    messages = [r["message"] for r in __import__("yaml").safe_load(proc.stdout)["results"]]
    assert messages[1:] == [
        "1 image(s) could not be looked up; nothing was checked (on-unknown-image=skip or "
        "on-unknown-image=assume:os/arch[,...] checks the rest)"
    ]
    assert messages[0].startswith(f"image {missing}: ")


def test_cluster_hint_points_at_nodes_file(tmp_path: Path) -> None:
    proc = arch(tmp_path, "check", "--platform", "linux/arm64", stdin=WEB.format(image="nginx:1.27"))
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (
        "error: no kubeconfig: ~/.kube/config names no existing file and this is not a pod in a cluster; point --kubeconfig or $KUBECONFIG at one (or log in to the cluster), "
        "or give the nodes with --nodes-file FILE (kubectl get nodes -o json > FILE)\n"
    )


PINNED_CRONJOB = (
    CRONJOB
    + """\
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                - matchExpressions:
                  - {key: kubernetes.io/os, operator: In, values: [linux]}
                  - {key: kubernetes.io/arch, operator: In, values: [amd64]}
"""
)


def test_nodes_with_only_beta_labels(tmp_path: Path) -> None:
    """legacy-node-1 (linux/amd64 by its beta labels) and bare-metal-7 (by status.nodeInfo)
    carry no GA labels: one warning says so, and the pinned pod is judged by the labels the
    nodes have, as the scheduler judges it: neither fits."""
    path = write(tmp_path / "app.yaml", PINNED_CRONJOB)
    proc = arch(
        tmp_path, "check", "-f", str(path), "--nodes-file", str(ASSORTED), "--platform", "linux/amd64"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[1:] == [
        "warning: 2 Ready node(s) carry no kubernetes.io/os or kubernetes.io/arch label (only "
        "beta.kubernetes.io labels or status.nodeInfo say their platform): they are counted by those, but "
        "pods pinned to kubernetes.io/os and kubernetes.io/arch do not schedule on them; label them "
        "(kubectl label node NAME kubernetes.io/os=OS kubernetes.io/arch=ARCH)",
        "1 workload(s): 1 fit",
    ]
    document = json.loads(
        arch(tmp_path, "check", "-f", str(path), "--nodes-file", str(ASSORTED), "--platform", "linux/amd64",
             "-o", "json").stdout
    )  # fmt: skip
    workload = document["workloads"][0]
    assert workload["fittingNodes"] == 3  # ip-10-0-40-2, aks-nodepool1, mislabelled-1 (by its label)
    assert {"reason": "affinity", "detail": "", "nodes": 4} in workload["reasons"]
