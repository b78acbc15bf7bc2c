"""What the kubelet, the DaemonSet controller and containerd decide beyond kube-scheduler's filters,
in check and pin alike: ``spec.os.name`` (PodOSNotSupported), ``spec.nodeName`` (no scheduler,
only the kubelet's admission), the tolerations DaemonSets get, CPU variants no label tells,
Windows nodes whose build is unknown, and Windows builds newer than any known today. Through
the real entry point, with nodes from a file and from the suite's API server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer
from cluster_util import KUBECTL_ARCH, cluster_env

from kubectl_arch import fit
from kubectl_arch.cluster import nodeinfo
from kubectl_arch.platforms import parse

BUILD = "node.kubernetes.io/windows-build"
WARN_NO_BUILD = (
    "warning: 1 Ready Windows node(s) carry no node.kubernetes.io/windows-build label: their build is "
    "unknown, so images built for a Windows build (with an os.version) are not counted as fitting them, "
    "and pods pinned to builds do not schedule there; the kubelet sets the label (kubectl get nodes -L "
    "node.kubernetes.io/windows-build)"
)


def node(
    name: str,
    platform: str = "linux/amd64",
    *,
    taints: tuple[tuple[str, str, str], ...] = (),
    cordoned: bool = False,
    build: str = "",
    ready: bool = True,
) -> dict[str, Any]:
    os, arch = platform.split("/")
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": os, "kubernetes.io/arch": arch}
    if build:
        labels[BUILD] = build
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = [
            {"key": k, "value": v, "effect": e} if v else {"key": k, "effect": e} for k, v, e in taints
        ]
    if cordoned:
        spec["unschedulable"] = True
        spec.setdefault("taints", []).append(
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": labels},
        "spec": spec,
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "nodeInfo": {"operatingSystem": os, "architecture": arch},
        },
    }


# The tester's Linux cluster: amd64 nodes plain, NoExecute-tainted and cordoned; arm64 nodes
# with the arch taint and a PreferNoSchedule one; and one with network-unavailable.
LINUX = [
    node("amd-a"),
    node("arm-a", "linux/arm64", taints=(("kubernetes.io/arch", "arm64", "NoSchedule"),)),
    node("arm-pref", "linux/arm64", taints=(("dedicated", "x", "PreferNoSchedule"),)),
    node("amd-noexec", taints=(("maint", "", "NoExecute"),)),
    node("amd-cordon", cordoned=True),
    node("amd-netless", taints=(("node.kubernetes.io/network-unavailable", "", "NoSchedule"),)),
]
# Windows: a host of each build, one newer than any known, and one without the build label.
WINDOWS = [
    node("lin1"),
    node("win2019", "windows/amd64", build="10.0.17763"),
    node("win2022", "windows/amd64", build="10.0.20348"),
    node("win23h2", "windows/amd64", build="10.0.25398"),
    node("win2025", "windows/amd64", build="10.0.26100"),
    node("winfuture", "windows/amd64", build="10.0.30000"),
    node("winnolabel", "windows/amd64"),
]


def pod(name: str, image: str = "img", kind: str = "Pod", **spec: Any) -> dict[str, Any]:
    body = {"containers": [{"name": "c", "image": image}], **spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"spec": body}},
    }


def run(
    home: Path, *args: str, stdin: str | None = None, kubeconfig: Path | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def files(tmp_path: Path, nodes: list[dict[str, Any]], *objects: dict[str, Any]) -> tuple[str, str]:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    nodes_file = tmp_path / "nodes.json"
    nodes_file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes}))
    return str(manifest), str(nodes_file)


def check_json(
    tmp_path: Path, nodes: list[dict[str, Any]], *objects: dict[str, Any], platform: str = "linux/amd64"
) -> tuple[int, list[dict[str, Any]], str]:
    manifest, nodes_file = files(tmp_path, nodes, *objects)
    proc = run(
        tmp_path, "check", "-f", manifest, "--nodes-file", nodes_file, "--platform", platform, "-o", "json"
    )
    return proc.returncode, json.loads(proc.stdout)["workloads"], proc.stderr


def terms(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document["spec"]
    spec = spec.get("template", {}).get("spec", spec)
    return spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]


# -- spec.os.name: the kubelet admits a pod only on a node of that OS -----------------------------


def test_check_counts_only_nodes_of_the_pods_os(tmp_path: Path) -> None:
    code, workloads, _ = check_json(tmp_path, LINUX, pod("os-windows", os={"name": "windows"}))
    assert code == 1
    assert workloads[0]["fittingNodes"] == 0
    assert workloads[0]["allowedPlatforms"] == []
    assert workloads[0]["reasons"] == [
        {"reason": "cordoned", "detail": "", "nodes": 1},
        {"reason": "untolerated taint", "detail": "kubernetes.io/arch=arm64:NoSchedule", "nodes": 1},
        {"reason": "untolerated taint", "detail": "maint:NoExecute", "nodes": 1},
        {
            "reason": "untolerated taint",
            "detail": "node.kubernetes.io/network-unavailable:NoSchedule",
            "nodes": 1,
        },
        {
            "reason": "os",
            "detail": "run linux, not windows (spec.os.name: the kubelet rejects the pod there)",
            "nodes": 2,
        },
    ]
    # with images for both, only the Windows nodes count
    code, workloads, _ = check_json(
        tmp_path, WINDOWS, pod("os-windows", os={"name": "windows"}), platform="linux/amd64,windows/amd64"
    )
    assert code == 0
    assert workloads[0]["fittingPlatforms"] == ["windows/amd64"]
    assert workloads[0]["fittingNodes"] == 6


def test_pin_limits_to_the_pods_os(tmp_path: Path) -> None:
    manifest, _ = files(tmp_path, [], pod("os-windows", os={"name": "windows"}))
    proc = run(tmp_path, "pin", "-f", manifest, "--platform", "linux/amd64,windows/amd64")
    assert proc.returncode == 0, proc.stderr
    assert terms(yaml.safe_load(proc.stdout)) == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": ["windows"]},
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            ]
        }
    ]
    refused = run(tmp_path, "pin", "-f", manifest, "--platform", "linux/amd64,linux/arm64")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        f"error: {manifest} doc 1 Pod/os-windows: spec.os.name is windows, but its images run only on "
        "linux/amd64,linux/arm64 ('c' img: linux/amd64,linux/arm64)\n"
    )


def test_fit_reason_for_the_pods_os() -> None:
    nodes = [nodeinfo.from_object(n, []) for n in WINDOWS[:2]]
    result = fit.fit(
        {"os": {"name": "linux"}}, {"img": [parse("linux/amd64"), parse("windows/amd64")]}, nodes
    )
    assert result.nodes == ("lin1",)
    assert result.explain() == (
        "1/2 nodes fit: 1 node(s) run windows, not linux (spec.os.name: the kubelet rejects the pod there)"
    )


# -- spec.nodeName: no scheduler, only the kubelet's admission on that one node -------------------


def test_check_a_pod_bound_to_a_node(tmp_path: Path) -> None:
    code, workloads, stderr = check_json(tmp_path, LINUX, pod("nodename", nodeName="arm-a"))
    assert code == 1
    assert workloads[0]["allowedPlatforms"] == ["linux/arm64"]
    assert workloads[0]["message"] == (
        "0/6 nodes fit: 5 node(s) other than spec.nodeName arm-a, "
        "1 node(s) run linux/arm64, which image img cannot run on"
    )
    assert f"error: {tmp_path / 'app.yaml'} doc 1 Pod/nodename: fits no Ready node: 0/6 nodes fit: " in stderr
    # cordons and NoSchedule taints do not keep a bound pod off its node; NoExecute ones do
    code, workloads, _ = check_json(
        tmp_path,
        LINUX,
        pod("cordoned", nodeName="amd-cordon"),
        pod("netless", nodeName="amd-netless"),
        pod("noexec", nodeName="amd-noexec"),
        pod("ghost", nodeName="ghost"),
    )
    assert code == 1
    assert [w["fits"] for w in workloads] == [True, True, False, False]
    assert workloads[2]["message"] == (
        "0/6 nodes fit: 5 node(s) other than spec.nodeName amd-noexec, 1 node(s) with untolerated taint "
        "maint:NoExecute"
    )
    assert (
        workloads[3]["message"]
        == "0/6 nodes fit: 6 node(s) other than spec.nodeName ghost (no node has that name)"
    )


def test_pin_leaves_a_bound_pod_alone_and_says_why(tmp_path: Path) -> None:
    manifest, _ = files(tmp_path, [], pod("nodename", nodeName="arm-a"))
    proc = run(tmp_path, "pin", "-f", manifest, "--platform", "linux/amd64")
    assert proc.returncode == 0
    assert proc.stdout == Path(manifest).read_text()
    assert proc.stderr == (
        f"warning: {manifest} doc 1 Pod/nodename: spec.nodeName arm-a places the pod without the scheduler, "
        "so it is not pinned; its images run on linux/amd64: check that the node does (kubectl arch check)\n"
    )


def test_pin_cluster_refuses_a_bound_pod_on_a_node_its_images_cannot_run_on(tmp_path: Path) -> None:
    manifest, _ = files(
        tmp_path,
        [],
        pod("on-arm", nodeName="arm-a"),
        pod("on-amd", nodeName="amd-a"),
        pod("on-ghost", nodeName="ghost"),
    )
    with ApiServer(LINUX) as server:
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
        proc = run(
            tmp_path, "pin", "--cluster", "-f", manifest, "--platform", "linux/amd64", kubeconfig=kubeconfig
        )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {manifest} doc 1 Pod/on-arm: spec.nodeName arm-a is a linux/arm64 node, which its images "
        "cannot run on ('c' img: linux/amd64); an affinity cannot move a pod that skips the scheduler: "
        "name another node\n"
        f"error: {manifest} doc 3 Pod/on-ghost: spec.nodeName ghost is not a node of the cluster: the pod "
        "would never run\n"
    )


# -- DaemonSets: the controller's tolerations ---------------------------------------------------------


def test_daemonset_pods_tolerate_cordons_and_node_conditions(tmp_path: Path) -> None:
    code, workloads, _ = check_json(
        tmp_path,
        LINUX,
        pod("ds", kind="DaemonSet"),
        pod("ds-host", kind="DaemonSet", hostNetwork=True),
        pod("deploy", kind="Deployment"),
    )
    assert code == 0
    # cordoned: tolerated by every DaemonSet; network-unavailable only by those on the host network
    assert [w["fittingNodes"] for w in workloads] == [2, 3, 1]
    assert workloads[0]["reasons"][-2] == {
        "reason": "untolerated taint",
        "detail": "node.kubernetes.io/network-unavailable:NoSchedule",
        "nodes": 1,
    }
    assert {r["reason"] for r in workloads[2]["reasons"]} == {
        "cordoned",
        "untolerated taint",
        "image platforms",
    }


# -- CPU variants: no node label tells them; check warns as pin does ----------------------------------


def test_check_warns_about_variants_no_label_can_tell(tmp_path: Path) -> None:
    nodes = [node("a1"), node("r1", "linux/arm64")]
    manifest, nodes_file = files(tmp_path, nodes, pod("v94", kind="Deployment"))
    proc = run(
        tmp_path, "check", "-f", manifest, "--nodes-file", nodes_file, "--platform", "linux/arm64/v9.4"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"warning: {manifest} doc 1 Deployment/v94: images need linux/arm64/v9.4 or newer, but nodes carry no "
        "CPU variant label: the 1 linux/arm64 node(s) counted as fitting may have CPUs older than v9.4, which "
        "cannot run them\n"
        "1 workload(s): 1 fit\n"
    )
    document = json.loads(
        run(
            tmp_path,
            "check",
            "-f",
            manifest,
            "--nodes-file",
            nodes_file,
            "--platform",
            "linux/amd64/v3",
            "-o",
            "json",
        ).stdout
    )
    assert document["workloads"][0]["warnings"] == [
        "images need linux/amd64/v3 or newer, but nodes carry no CPU variant label: the 1 linux/amd64 node(s) "
        "counted as fitting may have CPUs older than v3, which cannot run them"
    ]
    # pin warns the same way
    pinned = run(tmp_path, "pin", "-f", manifest, "--platform", "linux/amd64/v3")
    assert "images need linux/amd64/v3 or newer, but nodes carry no variant label" in pinned.stderr


# -- Windows: unknown builds, and builds newer than any known -----------------------------------------


def windows_lock(tmp_path: Path, **images: str) -> str:
    lock = {"apiVersion": "kubectl-arch.dev/v1alpha1", "kind": "PlatformLock", "images": {}}
    for i, (name, version) in enumerate(images.items()):
        lock["images"][f"example.com/{name}:1"] = {
            "digest": "sha256:" + f"{i:064x}",
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "platforms": [
                {
                    "os": "windows",
                    "architecture": "amd64",
                    "os.version": version,
                    "digest": "sha256:" + f"{i + 100:064x}",
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                }
            ],
        }
    path = tmp_path / "lock.json"
    path.write_text(json.dumps(lock))
    return str(path)


LOCKED = {"w19": "10.0.17763.5458", "w22": "10.0.20348.2340", "w25": "10.0.26100.1", "wbad": "10.0"}


def test_a_windows_node_without_a_build_is_judged_one_way(tmp_path: Path) -> None:
    """check of the manifest, check of what pin wrote, and pin agree: an image that names a
    build is not counted on a node whose build is unknown; one warning says how many."""
    lock = windows_lock(tmp_path, **LOCKED)
    manifest, nodes_file = files(
        tmp_path, WINDOWS, *(pod(n, f"example.com/{n}:1", "Deployment") for n in LOCKED)
    )
    checked = run(
        tmp_path, "check", "-f", manifest, "--locked", lock, "--nodes-file", nodes_file, "-o", "json"
    )
    assert checked.returncode == 1
    assert [w["fittingNodes"] for w in json.loads(checked.stdout)["workloads"]] == [1, 3, 2, 0]
    assert checked.stderr.splitlines()[0] == WARN_NO_BUILD
    # pin: the same images, the same counts once pinned; "10.0" is no build, for pin as for check
    pinned = run(tmp_path, "pin", "-f", manifest, "--locked", lock)
    assert pinned.returncode == 1
    assert pinned.stderr == (
        f"error: {manifest} doc 4 Deployment/wbad: its images share no platform ('c' example.com/wbad:1: "
        "windows(10.0)/amd64); os.version 10.0 names no Windows build (10.0.<build>), so no host runs it\n"
    )
    manifest, _ = files(
        tmp_path, WINDOWS, *(pod(n, f"example.com/{n}:1", "Deployment") for n in ("w19", "w22", "w25"))
    )
    pinned = run(tmp_path, "pin", "-f", manifest, "--locked", lock)
    assert pinned.returncode == 0, pinned.stderr
    again = tmp_path / "pinned.yaml"
    again.write_text(pinned.stdout)
    rechecked = run(
        tmp_path, "check", "-f", str(again), "--locked", lock, "--nodes-file", nodes_file, "-o", "json"
    )
    assert [w["fittingNodes"] for w in json.loads(rechecked.stdout)["workloads"]] == [1, 3, 2]


def test_nodes_shows_the_unknown_builds(tmp_path: Path) -> None:
    with ApiServer(WINDOWS) as server:
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
        proc = run(tmp_path, "nodes", "-o", "json", kubeconfig=kubeconfig)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    windows = next(p for p in document["platforms"] if p["platform"] == "windows/amd64")
    assert windows["windowsBuilds"] == {
        "10.0.17763": 1,
        "10.0.20348": 1,
        "10.0.25398": 1,
        "10.0.26100": 1,
        "10.0.30000": 1,
        "unknown": 1,
    }
    assert document["warnings"] == [WARN_NO_BUILD.removeprefix("warning: ")]


def test_pin_cluster_whose_windows_nodes_all_lack_the_build(tmp_path: Path) -> None:
    lock = windows_lock(tmp_path, w19="10.0.17763.5458")
    manifest, _ = files(tmp_path, [], pod("w19", "example.com/w19:1", "Deployment"))
    with ApiServer([node("lin1"), node("winnolabel", "windows/amd64")]) as server:
        kubeconfig = server.kubeconfig(tmp_path / "kubeconfig")
        proc = run(tmp_path, "pin", "--cluster", "-f", manifest, "--locked", lock, kubeconfig=kubeconfig)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"{WARN_NO_BUILD}\n"
        f"error: {manifest} doc 1 Deployment/w19: its images run on windows(10.0.17763)/amd64, none of which the "
        "cluster allows (linux/amd64,windows(unknown build)/amd64); containers: 'c' example.com/w19:1\n"
    )


def test_builds_newer_than_any_known(tmp_path: Path) -> None:
    """An ltsc2025 image runs on every later host (containerd's compatLTSCReleases): pin says so in
    a way the scheduler evaluates (NotIn the known builds that do not run it, and Exists), so a
    10.0.30000 host is admitted, by check too; a nodeSelector naming that build is no conflict."""
    lock = windows_lock(tmp_path, w25="10.0.26100.1")
    manifest, nodes_file = files(tmp_path, WINDOWS, pod("w25", "example.com/w25:1", "Deployment"))
    pinned = run(tmp_path, "pin", "-f", manifest, "--locked", lock)
    assert pinned.returncode == 0, pinned.stderr
    build_terms = [
        e for e in terms(yaml.safe_load(pinned.stdout))[0]["matchExpressions"] if e["key"] == BUILD
    ]
    assert build_terms == [
        {
            "key": BUILD,
            "operator": "NotIn",
            "values": [
                "10.0.14393",
                "10.0.16299",
                "10.0.17134",
                "10.0.17763",
                "10.0.18362",
                "10.0.18363",
                "10.0.19041",
                "10.0.19042",
                "10.0.20348",
                "10.0.25398",
            ],
        },
        {"key": BUILD, "operator": "Exists"},
    ]
    again = tmp_path / "pinned.yaml"
    again.write_text(pinned.stdout)
    assert run(tmp_path, "pin", "-f", str(again), "--locked", lock).stdout == pinned.stdout  # idempotent
    checked = run(
        tmp_path, "check", "-f", str(again), "--locked", lock, "--nodes-file", nodes_file, "-o", "json"
    )
    assert json.loads(checked.stdout)["workloads"][0]["fittingNodes"] == 2  # win2025, winfuture
    selected = pod("w25", "example.com/w25:1", "Deployment", nodeSelector={BUILD: "10.0.30000"})
    manifest, _ = files(tmp_path, [], selected)
    proc = run(tmp_path, "pin", "-f", manifest, "--locked", lock)
    assert proc.returncode == 0, proc.stderr
    assert all(e["key"] != BUILD for e in terms(yaml.safe_load(proc.stdout))[0]["matchExpressions"])


def test_a_build_in_platform_means_the_same_with_or_without_the_registry(tmp_path: Path) -> None:
    lock = windows_lock(tmp_path, w22="10.0.20348.2340")
    manifest, _ = files(tmp_path, [], pod("w22", "example.com/w22:1", "Deployment"))
    offline = run(tmp_path, "pin", "-f", manifest, "--platform", "windows(10.0.20348)/amd64")
    bounded = run(
        tmp_path, "pin", "-f", manifest, "--locked", lock, "--platform", "windows(10.0.20348)/amd64"
    )
    assert offline.returncode == bounded.returncode == 0, bounded.stderr
    assert offline.stdout == bounded.stdout
    build = [e for e in terms(yaml.safe_load(offline.stdout))[0]["matchExpressions"] if e["key"] == BUILD]
    assert build == [{"key": BUILD, "operator": "In", "values": ["10.0.20348", "10.0.25398", "10.0.26100"]}]


# -- terms the scheduler cannot parse ----------------------------------------------------------------

INVALID = """\
apiVersion: v1
kind: Pod
metadata: {name: inv-value}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: kubernetes.io/arch, operator: In, values: [amd64, "bad value!"]}
  containers: [{name: c, image: img}]
---
apiVersion: v1
kind: Pod
metadata: {name: one-dead}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: kubernetes.io/arch, operator: NotIn, values: ["-bad"]}
        - matchExpressions:
          - {key: zone, operator: In, values: [a]}
  containers: [{name: c, image: img}]
"""


def test_pin_never_revives_a_term_the_scheduler_cannot_parse(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVALID)
    proc = run(tmp_path, "pin", "-f", str(path), "--platform", "linux/amd64")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {path} doc 1 Pod/inv-value: required node affinity admits no platform the images support "
        "(linux/amd64): term 0 matches no node (the scheduler cannot parse it: 'bad value!' is not a valid "
        "label value); containers: 'c' img\n"
        f"warning: {path} doc 2 Pod/one-dead: dropped required node affinity term 0: the scheduler cannot "
        "parse it (affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0]: '-bad' is not a valid label value), so it matches no node\n"
    )
    path.write_text(INVALID.split("---\n")[1])
    proc = run(tmp_path, "pin", "-f", str(path), "--platform", "linux/amd64")
    assert proc.returncode == 0, proc.stderr
    assert terms(yaml.safe_load(proc.stdout)) == [
        {
            "matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a"]},
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            ]
        }
    ]
    assert proc.stderr == (
        f"warning: {path} doc 1 Pod/one-dead: dropped required node affinity term 0: the scheduler cannot "
        "parse it (affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0]: '-bad' is not a valid label value), so it matches no node\n"
    )


@pytest.mark.parametrize("tolerated", [True, False])
def test_implied_tolerations(tolerated: bool) -> None:
    from kubectl_arch import tolerations

    spec = {"hostNetwork": tolerated}
    keys = {t["key"] for t in tolerations.implied("DaemonSet", spec)}
    assert ("node.kubernetes.io/network-unavailable" in keys) == tolerated
    assert "node.kubernetes.io/unschedulable" in keys
    assert {t["key"] for t in tolerations.implied("Deployment", spec)} == {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    }


# -- --platform for Windows: with a build and without ---------------------------------------------


@pytest.mark.parametrize(
    ("platform", "fitting", "build_terms"),
    [
        # No build: any Windows build, the node without the label included; no build requirement.
        ("windows/amd64", 6, []),
        # containerd's spelling and crane's say the same: images of 10.0.17763, which only that host runs.
        ("windows(10.0.17763)/amd64", 1, [{"key": BUILD, "operator": "In", "values": ["10.0.17763"]}]),
        ("windows/amd64:10.0.17763", 1, [{"key": BUILD, "operator": "In", "values": ["10.0.17763"]}]),
        # ltsc2022 images: that host, and the later ones up to the next stable-ABI release.
        ("windows(10.0.20348)/amd64", 3,
         [{"key": BUILD, "operator": "In", "values": ["10.0.20348", "10.0.25398", "10.0.26100"]}]),
        # Images of a build newer than any known: no known host runs them, a host of an unknown
        # build may (the 10.0.30000 one does).
        ("windows(10.0.30000)/amd64", 1,
         [{"key": BUILD, "operator": "NotIn", "values": ["10.0.14393", "10.0.16299", "10.0.17134", "10.0.17763",
                                                          "10.0.18362", "10.0.18363", "10.0.19041", "10.0.19042",
                                                          "10.0.20348", "10.0.25398", "10.0.26100"]},
          {"key": BUILD, "operator": "Exists"}]),
    ],
)  # fmt: skip
def test_windows_platforms_with_and_without_a_build(
    tmp_path: Path, platform: str, fitting: int, build_terms: list[dict[str, Any]]
) -> None:
    """In pin and check, ``--platform`` says what the images are: ``windows/amd64`` alone is any
    build, a build (``windows(B)/amd64``, ``windows/amd64:B``) the build they were made for."""
    manifest, nodes_file = files(tmp_path, WINDOWS, pod("w", "example.com/w:1", "Deployment"))
    pinned = run(tmp_path, "pin", "-f", manifest, "--platform", platform)
    assert pinned.returncode == 0, pinned.stderr
    expressions = terms(yaml.safe_load(pinned.stdout))[0]["matchExpressions"]
    assert [e for e in expressions if e["key"] == BUILD] == build_terms
    checked = run(
        tmp_path, "check", "-f", manifest, "--platform", platform, "--nodes-file", nodes_file, "-o", "json"
    )
    assert json.loads(checked.stdout)["workloads"][0]["fittingNodes"] == fitting
    assert checked.returncode == 0, checked.stderr


# -- fields that are lists or mappings where the API server wants a string -------------------------


def test_lists_and_mappings_where_strings_belong_are_never_quoted_as_python_prints_them(
    tmp_path: Path,
) -> None:
    expression = {"key": ["kubernetes.io/arch"], "operator": "In", "values": ["amd64"]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [expression]}]}}}  # fmt: skip
    objects = [
        pod("bad-key", affinity=affinity),
        pod(
            "bad-value",
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "zone", "operator": "In", "values": ["a", {"b": 1}]}
                                ]
                            }
                        ]
                    }
                }
            },
        ),
        pod(
            "no-operator",
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "values": ["a"]}]}]
                    }
                }
            },
        ),
        pod("bound", nodeName=["amd-a"]),
        pod("os", os={"name": {"linux": True}}),
    ]
    manifest, _ = files(tmp_path, LINUX, *objects)
    proc = run(tmp_path, "pin", "-f", manifest, "--platform", "linux/amd64")
    assert proc.returncode == 2  # objects the API server refuses: an input error
    prefix = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
    lines = proc.stderr.splitlines()
    assert (
        f"error: {manifest} doc 1 Pod/bad-key: {prefix}.matchExpressions[0].key is a list, not a string"
        in lines
    )
    assert (
        f"error: {manifest} doc 2 Pod/bad-value: {prefix}.matchExpressions[0].values[1] is a mapping, not a string"
        in lines
    )
    assert any(
        "Pod/no-operator" in line and "(the scheduler cannot parse it: no operator)" in line for line in lines
    )
    assert any(
        "Pod/bound: spec.nodeName (a list) places the pod without the scheduler" in line for line in lines
    )
    assert any(
        "Pod/os: spec.os.name is (a mapping), but its images run only on linux/amd64" in line
        for line in lines
    )
    assert "['" not in proc.stderr and "{'" not in proc.stderr
