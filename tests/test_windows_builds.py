"""Windows OS builds as part of the platform, end to end: the recorded AKS cluster of
``testdata/nodes/aks-windows.json`` (Windows Server 2019, 2022 and 2025 pools, the builds in
``node.kubernetes.io/windows-build``), images of one, two and three builds in the test
registry, and ``nodes``, ``pin`` and ``check`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer, load_nodes
from cluster_util import AKS_WINDOWS, GKE, KUBECTL_ARCH
from registry_util import Populated, arch_env

BUILD = "node.kubernetes.io/windows-build"
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
{containers}"""


def manifest(*images: str) -> str:
    return WEB.format(
        containers="".join(f"      - name: c{i}\n        image: {image}\n" for i, image in enumerate(images))
    )


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def terms(document: str) -> list[dict[str, Any]]:
    pod = yaml.safe_load(document)["spec"]["template"]["spec"]
    return pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]


def windows_term(*builds: str) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/os", "operator": "In", "values": ["windows"]},
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": BUILD, "operator": "In", "values": list(builds)},
        ]
    }


@pytest.fixture
def aks(tmp_path: Path) -> Any:
    with ApiServer(load_nodes(AKS_WINDOWS)) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, aks: ApiServer) -> dict[str, str]:
    out = arch_env(tmp_path, KUBECONFIG=str(aks.kubeconfig(tmp_path / "kubeconfig")))
    return {k: v for k, v in out.items() if not k.startswith("KUBERNETES_")}


def test_nodes_shows_the_builds_of_each_platform(env: dict[str, str]) -> None:
    wide = run(env, "nodes", "-o", "wide")
    assert wide.returncode == 0, wide.stderr
    table = wide.stdout.split("\n\n")[0].splitlines()[1:]
    rows = {tuple(line.split()[:2]): line.split()[8] for line in table}
    assert rows[("windows/amd64", "*")] == "10.0.17763,10.0.20348,10.0.26100"
    assert rows[("windows/amd64", "win19")] == "10.0.17763"
    assert rows[("windows/amd64", "win25")] == "10.0.26100"
    assert rows[("linux/amd64", "*")] == "<none>"
    document = json.loads(run(env, "nodes", "-o", "json").stdout)
    by_platform = {p["platform"]: p for p in document["platforms"]}
    assert by_platform["windows/amd64"]["windowsBuilds"] == {
        "10.0.17763": 2,
        "10.0.20348": 2,
        "10.0.26100": 1,
    }
    assert by_platform["linux/amd64"]["windowsBuilds"] == {}


def test_check_counts_only_the_hosts_that_run_the_build(
    env: dict[str, str], populated_registry: Populated
) -> None:
    """An ltsc2019 image on ltsc2019 and ltsc2022 nodes: the ltsc2022 ones cannot run it
    (process isolation needs the host's build), so only the ltsc2019 nodes fit."""
    ltsc2019 = populated_registry.ref("win/iis:ltsc2019")
    proc = run(env, "check", "-f", "-", "-o", "json", stdin=manifest(ltsc2019))
    assert proc.returncode == 0, proc.stderr
    workload = json.loads(proc.stdout)["workloads"][0]
    assert workload["containers"][0]["platforms"] == ["windows(10.0.17763.5458)/amd64"]
    assert workload["fittingNodes"] == 2
    assert workload["reasons"] == [
        {"reason": "not Ready", "detail": "", "nodes": 1},
        {
            "reason": "image platforms",
            "detail": f"run linux/amd64, which image {ltsc2019} cannot run on",
            "nodes": 1,
        },
        {
            "reason": "image platforms",
            "detail": f"run windows(10.0.20348)/amd64, which image {ltsc2019} cannot run on",
            "nodes": 1,
        },
        {
            "reason": "image platforms",
            "detail": f"run windows(10.0.26100)/amd64, which image {ltsc2019} cannot run on",
            "nodes": 1,
        },
    ]
    # an ltsc2022 image runs on the 2022 host and, by containerd's rules, on the 2025 one
    ltsc2022 = populated_registry.ref("win/iis:ltsc2022")
    document = json.loads(run(env, "check", "-f", "-", "-o", "json", stdin=manifest(ltsc2022)).stdout)
    assert document["workloads"][0]["fittingNodes"] == 2


def test_pin_adds_the_build_requirement_to_the_windows_part(
    env: dict[str, str], populated_registry: Populated
) -> None:
    reg = populated_registry
    ltsc2019, ltsc2022, every = (
        reg.ref("win/iis:ltsc2019"),
        reg.ref("win/iis:ltsc2022"),
        reg.ref("win/servercore:all"),
    )
    stream = "---\n".join(
        [manifest(ltsc2019), manifest(ltsc2022, every), manifest(every), manifest(reg.ref("win/server:ltsc"))]
    )
    proc = run(env, "pin", stdin=stream)
    assert proc.returncode == 0, proc.stderr
    docs = proc.stdout.split("---\n")
    assert terms(docs[0]) == [windows_term("10.0.17763")]
    # intersected across the pod's images: the ltsc2022 image decides
    assert terms(docs[1]) == [windows_term("10.0.20348", "10.0.25398", "10.0.26100")]
    assert terms(docs[2]) == [windows_term("10.0.17763", "10.0.20348", "10.0.25398", "10.0.26100")]
    # the Linux part of a mixed image gets no build requirement
    assert terms(docs[3])[0] == {
        "matchExpressions": [
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        ]
    }
    # pinning again changes nothing; check agrees with what pin wrote
    again = run(env, "pin", stdin=proc.stdout)
    assert again.stdout == proc.stdout
    checked = json.loads(run(env, "check", "-f", "-", "-o", "json", stdin=proc.stdout).stdout)
    assert [w["fittingNodes"] for w in checked["workloads"]] == [2, 2, 4, 5]

    # --cluster: the builds of the cluster's Ready Windows nodes bound the requirement
    clustered = run(env, "pin", "--cluster", stdin=manifest(ltsc2022, every))
    assert clustered.returncode == 0, clustered.stderr
    assert terms(clustered.stdout) == [windows_term("10.0.20348", "10.0.26100")]

    # images of builds that no host runs together
    conflict = run(env, "pin", stdin=manifest(ltsc2019, ltsc2022))
    assert conflict.returncode == 1
    assert conflict.stderr == (
        f"error: <stdin> doc 1 Deployment/web: its images share no platform ('c0' {ltsc2019}: "
        f"windows(10.0.17763.5458)/amd64; 'c1' {ltsc2022}: windows(10.0.20348.2227)/amd64)\n"
    )


def test_pin_with_a_build_on_the_command_line(tmp_path: Path, populated_registry: Populated) -> None:
    env = arch_env(tmp_path)
    offline = run(env, "pin", "--platform", "windows(10.0.17763)/amd64,linux/arm64", stdin=manifest("app:1"))
    assert offline.returncode == 0, offline.stderr
    assert terms(offline.stdout)[1] == windows_term("10.0.17763")
    crane = run(env, "pin", "--platform", "windows/amd64:10.0.20348", stdin=manifest("app:1"))
    assert terms(crane.stdout) == [windows_term("10.0.20348", "10.0.25398", "10.0.26100")]
    # an upper bound on what the registry says
    every = populated_registry.ref("win/servercore:all")
    bounded = run(
        env, "pin", "--from-registry", "--platform", "windows(10.0.20348)/amd64", stdin=manifest(every)
    )
    assert terms(bounded.stdout) == [windows_term("10.0.20348")]
    refused = run(
        env, "pin", "--from-registry", "--platform", "windows(10.0.20348)/amd64",
        stdin=manifest(populated_registry.ref("win/iis:ltsc2019")),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "its images run on windows(10.0.17763)/amd64, none of which --platform allows " in refused.stderr
    assert "(windows(10.0.20348)/amd64)" in refused.stderr


def test_pin_cluster_refuses_a_build_the_cluster_has_no_host_for(
    tmp_path: Path, populated_registry: Populated
) -> None:
    """GKE's Windows pool runs ltsc2022 (10.0.20348): an ltsc2019-only image has no node."""
    with ApiServer(load_nodes(GKE)) as gke:
        env = arch_env(tmp_path, KUBECONFIG=str(gke.kubeconfig(tmp_path / "kubeconfig")))
        ltsc2019 = populated_registry.ref("win/iis:ltsc2019")
        proc = run(env, "pin", "--cluster", stdin=manifest(ltsc2019))
    assert proc.returncode == 1
    assert proc.stderr == (
        "error: <stdin> doc 1 Deployment/web: its images run on windows(10.0.17763)/amd64, none of which "
        "the cluster allows (linux/amd64,linux/arm64,windows(10.0.20348)/amd64); "
        f"containers: 'c0' {ltsc2019}\n"
    )
