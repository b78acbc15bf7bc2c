"""The audit's pure parts: objects reduced and pods attributed to their top-level owners
(cluster/owners.py), and the judgement (audit.py) on hand-made workloads and recorded nodes,
with the scheduler model's rules: taints, selectors, Windows builds, unknown images."""

from __future__ import annotations

import json
from typing import Any

import pytest
from apiserver import load_nodes, load_objects
from cluster_util import AKS_WINDOWS, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_arch import audit
from kubectl_arch import platforms as plat
from kubectl_arch.cluster import owners
from kubectl_arch.cluster.nodeinfo import from_object

EKS = REPO / "testdata" / "nodes" / "eks-mixed.json"
WORKLOADS = REPO / "testdata" / "cluster" / "audit.json"
KINDS = {
    "Deployment": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "Rollout": "spec.template.spec",
}


def nodes_of(path: Any) -> list[Any]:
    return [from_object(n, []) for n in load_nodes(path)]


def inventory(
    objects: list[dict[str, Any]], nodes: list[Any], skip: tuple[str, ...] = ()
) -> owners.Inventory:
    found = owners.Inventory({n.name: audit.platform_key(n) for n in nodes})
    for obj in objects:
        if obj["kind"] in skip:
            continue
        if obj["kind"] == "Pod":
            continue
        reduced = owners.controller(obj, obj["kind"], obj["apiVersion"], [KINDS[obj["kind"]].split(".")])
        assert reduced is not None
        found.add_controller(reduced)
    for obj in objects:
        if obj["kind"] == "Pod":
            assert found.add_pod(obj)
    return found


LISTED = [("apps", k) for k in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")] + [
    ("", "ReplicationController"), ("batch", "Job"), ("batch", "CronJob"), ("", "Pod"), ("argoproj.io", "Rollout"),
]  # fmt: skip


@pytest.fixture
def objects() -> list[dict[str, Any]]:
    return load_objects(
        WORKLOADS, REGISTRY="r.example", WEB_DIGEST="sha256:" + "1" * 64, API_OLD_DIGEST="sha256:" + "2" * 64
    )


def test_pods_are_attributed_to_their_top_level_owners(objects: list[dict[str, Any]]) -> None:
    nodes = nodes_of(EKS)
    workloads, unlisted = inventory(objects, nodes).workloads(LISTED)
    assert unlisted == {}
    assert [(w.namespace, w.kind, w.name, w.pods, w.from_pods) for w in workloads] == [
        ("ops", "CronJob", "report", 1, False),
        ("ops", "DaemonSet", "node-exporter", 2, False),
        ("shop", "Deployment", "api", 1, False),
        ("shop", "Deployment", "web", 2, False),
        ("shop", "Pod", "debug", 1, False),
        ("shop", "ReplicationController", "legacy", 1, False),
        ("shop", "Rollout", "checkout", 1, False),
        ("shop", "StatefulSet", "db", 1, False),
    ]
    web = workloads[3]
    assert web.placed == (
        owners.Placed(("linux", "amd64", ""), ("r.example/audit/web:1.0",), 2,
                      ("ip-10-0-40-2.us-west-2.compute.internal", "ip-10-0-41-7.us-west-2.compute.internal")),
    )  # fmt: skip
    assert web.running == (owners.Running("r.example/audit/web:1.0", "sha256:" + "1" * 64, 2),)
    assert workloads[0].templates[0].path == "spec.jobTemplate.spec.template.spec"
    assert workloads[0].templates[0].placement == {"nodeSelector": {"kubernetes.io/arch": "amd64"}}
    # The bare Pod is assigned: nothing more will be made from it.
    assert workloads[4].templates == ()


def test_pods_whose_controller_was_not_read_are_judged_from_their_pods(objects: list[dict[str, Any]]) -> None:
    nodes = nodes_of(EKS)
    listed = [k for k in LISTED if k != ("apps", "DaemonSet")]
    workloads, unlisted = inventory(objects, nodes, skip=("DaemonSet",)).workloads(listed)
    ds = next(w for w in workloads if w.kind == "DaemonSet")
    assert (ds.name, ds.from_pods, ds.templates, ds.pods) == ("node-exporter", True, (), 2)
    assert [c.image for c in ds.containers] == ["r.example/audit/exporter:1.7"]
    assert unlisted == {("apps", "DaemonSet"): 2}


def test_a_selector_leaves_out_objects_whose_owner_was_not_selected(objects: list[dict[str, Any]]) -> None:
    nodes = nodes_of(EKS)
    chosen = [o for o in objects if o["metadata"]["labels"].get("app") == "report" and o["kind"] != "CronJob"]
    workloads, _ = inventory(chosen, nodes).workloads(LISTED, selected=True)
    assert workloads == []
    # Without a selector, a Job whose CronJob is gone is a workload of its own.
    workloads, _ = inventory(chosen, nodes).workloads(LISTED)
    assert [(w.kind, w.name, w.pods) for w in workloads] == [("Job", "report-29409540", 1)]


def test_static_pods_are_workloads_of_their_own(objects: list[dict[str, Any]]) -> None:
    nodes = nodes_of(EKS)
    found = owners.Inventory({n.name: audit.platform_key(n) for n in nodes})
    for name in ("kube-proxy-a", "kube-proxy-b"):
        pod = json.loads(json.dumps(next(o for o in objects if o["metadata"]["name"] == "debug")))
        pod["metadata"].update(name=name, uid=name, ownerReferences=[
            {"apiVersion": "v1", "kind": "Node", "name": "n", "uid": "node-uid", "controller": True}
        ])  # fmt: skip
        found.add_pod(pod)
    workloads, unlisted = found.workloads(LISTED)
    assert [(w.kind, w.name) for w in workloads] == [("Pod", "kube-proxy-a"), ("Pod", "kube-proxy-b")]
    assert unlisted == {}


@pytest.mark.parametrize(
    ("image_id", "digest"),
    [
        ("docker.io/library/nginx@sha256:" + "a" * 64, "sha256:" + "a" * 64),
        ("docker-pullable://nginx@sha256:" + "b" * 64, "sha256:" + "b" * 64),
        ("sha256:" + "c" * 64, ""),  # the config: no manifest digest
        ("nginx@sha256:short", ""),
        (None, ""),
    ],
)
def test_running_digest(image_id: Any, digest: str) -> None:
    assert owners.running_digest(image_id) == digest


def test_pod_specs_with_wildcards() -> None:
    obj = {"spec": {"replicaSpecs": {"Master": {"template": {"spec": {"containers": []}}},
                                     "Worker": {"template": {"spec": {}}}}},
           "list": [{"spec": {}}, {"spec": {}}]}  # fmt: skip
    assert [p for p, _ in owners.pod_specs(obj, ["spec", "replicaSpecs", "*", "template", "spec"])] == [
        "spec.replicaSpecs.Master.template.spec",
        "spec.replicaSpecs.Worker.template.spec",
    ]
    assert [p for p, _ in owners.pod_specs(obj, ["list", "*", "spec"])] == ["list[0].spec", "list[1].spec"]
    assert owners.pod_specs(obj, ["spec", "missing"]) == []


# -- the judgement -------------------------------------------------------------------------------


def image(*platforms: str) -> audit.Image:
    return audit.Image(frozenset(plat.parse(p) for p in platforms), "", "sha256:" + "0" * 64)


def workload(placement: dict[str, Any] | None = None, images: tuple[str, ...] = ("app:1",), placed: tuple = (),
             kind: str = "Deployment", templates: bool = True) -> owners.Workload:  # fmt: skip
    containers = tuple(owners.Container("containers", f"c{i}", i_) for i, i_ in enumerate(images))
    template = owners.Template("spec.template.spec", placement or {}, containers)
    return owners.Workload(kind, "apps/v1", "ns", "w", (template,) if templates else (), containers,
                           sum(p.pods for p in placed), placed, ())  # fmt: skip


def judge(
    w: owners.Workload, images: dict[str, audit.Image], nodes: list[Any], targets: tuple = ()
) -> audit.Finding:
    return audit.judge([w], images, nodes, targets)[0]


def test_statuses_on_a_mixed_cluster() -> None:
    nodes = nodes_of(EKS)
    amd = {"app:1": image("linux/amd64")}
    assert judge(workload(), amd, nodes).status == "at-risk"
    pinned = {"nodeSelector": {"kubernetes.io/arch": "amd64"}}
    assert judge(workload(pinned), amd, nodes).status == "ok"
    arm_only = {"nodeSelector": {"kubernetes.io/arch": "arm64"}}
    found = judge(workload(arm_only), amd, nodes)
    assert found.status == "unschedulable"
    assert found.reason == (
        "fits no Ready node: 0/4 nodes fit: 2 node(s) not matching the nodeSelector, 2 node(s) run linux/arm64, "
        "which image app:1 cannot run on"
    )
    both = {"app:1": image("linux/amd64", "linux/arm64/v8")}
    assert judge(workload(), both, nodes).status == "ok"
    assert (
        judge(workload(), {"app:1": audit.Image(None, "image app:1: gone")}, nodes).reason
        == "image app:1: gone"
    )


def test_certain_problems_win_over_an_unknown_image() -> None:
    nodes = nodes_of(EKS)
    images = {"app:1": image("linux/amd64"), "side:1": audit.Image(None, "image side:1: gone")}
    on_arm = owners.Placed(("linux", "arm64", ""), ("app:1", "side:1"), 1, ("n",))
    assert judge(workload(images=("app:1", "side:1"), placed=(on_arm,)), images, nodes).status == "broken"
    arm_only = {"nodeSelector": {"kubernetes.io/arch": "arm64"}}
    assert judge(workload(arm_only, images=("app:1", "side:1")), images, nodes).status == "unschedulable"
    # at-risk is not certain: the unknown image might make it unschedulable
    found = judge(workload(images=("app:1", "side:1")), images, nodes)
    assert (found.status, found.platforms) == ("unknown", None)


def test_windows_builds_decide_broken_pods() -> None:
    nodes = nodes_of(AKS_WINDOWS)
    builds = sorted({n.windows_build for n in nodes if n.windows_build})
    ltsc2019 = {"iis:1": image("windows(10.0.17763.5458)/amd64")}
    placed = tuple(owners.Placed(("windows", "amd64", b), ("iis:1",), 1, (f"node-{b}",)) for b in builds)
    found = judge(workload(images=("iis:1",), placed=placed, templates=False), ltsc2019, nodes)
    assert found.status == "broken"
    assert [b.platform for b in found.broken] == [f"windows({b})/amd64" for b in builds if b != "10.0.17763"]


def test_targets_with_variants_and_windows() -> None:
    nodes = nodes_of(EKS)
    images = {"a:1": image("linux/arm/v6"), "b:1": image("windows(10.0.20348.1)/amd64")}
    targets = tuple(plat.parse(t) for t in ("linux/arm/v7", "windows(10.0.26100)/amd64", "linux/arm64"))
    found = judge(workload(images=("a:1", "b:1")), images, nodes, targets)
    assert [(t.platform.spec, t.ready, [b.image for b in t.blocked_by]) for t in found.targets] == [
        ("linux/arm/v7", False, ["b:1"]),  # an arm/v7 node runs the arm/v6 image
        ("windows(10.0.26100)/amd64", False, ["a:1"]),  # 2025 hosts run ltsc2022 images
        ("linux/arm64", False, ["a:1", "b:1"]),
    ]


def test_summary_line() -> None:
    summary = audit.Summary(52, 9, {"ok": 41, "at-risk": 6, "broken": 1, "unschedulable": 2, "unknown": 2}, 2,
                            (audit.TargetSummary(plat.parse("linux/arm64"), 37, 15, 0, 7, 4),))  # fmt: skip
    assert summary.line() == (
        "52 workloads in 9 namespaces: 41 ok, 6 at risk, 1 broken (2 pods), 2 unschedulable, 2 unknown; "
        "linux/arm64: 37 ready, 15 blocked by 7 images (4 with a newer tag)"
    )
    one = audit.Summary(1, 1, {"ok": 1}, 0, (audit.TargetSummary(plat.parse("linux/arm64"), 1, 0, 0, 0, 0),))
    assert one.line() == "1 workload in 1 namespace: 1 ok; linux/arm64: 1 ready"
    assert not one.failed


PLATFORMS = ["linux/amd64", "linux/arm64", "linux/s390x", "windows(10.0.20348.1)/amd64"]


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.sampled_from(PLATFORMS), min_size=1),
    st.sets(st.sampled_from(PLATFORMS)),
    st.sampled_from([None, "amd64", "arm64"]),
)
def test_more_platforms_never_make_a_workload_worse(have: set[str], more: set[str], arch: str | None) -> None:
    """Adding platforms to an image never loosens a problem into a worse status: the rank of
    the status (ok < at-risk < unschedulable < broken) never rises."""
    nodes = nodes_of(EKS)
    placement = {"nodeSelector": {"kubernetes.io/arch": arch}} if arch else {}
    placed = (owners.Placed(("linux", "arm64", ""), ("app:1",), 1, ("n",)),)
    rank = {"ok": 0, "at-risk": 1, "unknown": 1, "unschedulable": 2, "broken": 3}
    before = judge(workload(placement, placed=placed), {"app:1": image(*have)}, nodes)
    after = judge(workload(placement, placed=placed), {"app:1": image(*(have | more))}, nodes)
    assert rank[after.status] <= rank[before.status]
    # and judging is a function of its input: the same answer twice
    assert judge(workload(placement, placed=placed), {"app:1": image(*have)}, nodes) == before


def test_the_kinds_audit_lists() -> None:
    """Kubernetes' own workloads, the ecosystem's, the declared ones; not the templates that
    nothing runs, nor a kind declared not to be a workload."""
    from kubectl_arch.manifest.kinds import POD_KINDS, SPLIT_KINDS
    from kubectl_arch.manifest.workloads import Kinds

    known = Kinds.parse(["Canary.example.com=spec.template.spec", "Rollout.argoproj.io="]).known()
    pairs = {(kind, group) for kind, groups in known for group in (groups or {None})}
    assert ("Deployment", "apps") in pairs and ("Pod", "") in pairs and ("PodTemplate", "") not in pairs
    assert ("Canary", "example.com") in pairs
    assert ("Rollout", "argoproj.io") not in pairs  # declared no workload
    ecosystem = {(k.kind, k.group) for k in (*POD_KINDS, *SPLIT_KINDS)} - {("Rollout", "argoproj.io")}
    templates = {("WorkflowTemplate", "argoproj.io"), ("ClusterWorkflowTemplate", "argoproj.io")}
    assert ecosystem - templates <= pairs
    assert not templates & pairs
    assert ("Rollout", "argoproj.io") in {(k, g) for k, gs in Kinds().known() for g in (gs or {None})}


def _owned(
    kind: str, name: str, namespace: str, uid: str, owner: Any = None, spec: Any = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid}
    if owner is not None:
        metadata["ownerReferences"] = [{**owner, "controller": True}]
    api_version = "v1" if kind == "Pod" else "apps/v1"
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _ref(kind: str, name: str, uid: str) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid}


POD_SPEC = {
    "nodeName": "ip-10-0-40-2.us-west-2.compute.internal",
    "containers": [{"name": "c", "image": "r/a:1"}],
}
TEMPLATE = {"template": {"spec": {"containers": [{"name": "c", "image": "r/a:1"}]}}}


def test_owner_references_resolve_by_uid_in_the_dependents_namespace_only() -> None:
    """As the garbage collector: a namespaced dependent's owner is in its namespace; a
    reference whose uid no object of that namespace has names no owner. The pods are then
    judged under the reference, the same in one namespace and in all, with a note."""
    nodes = nodes_of(EKS)
    everything = [
        _owned("Deployment", "cross", "b", "uid-dep-b"),
        _owned("ReplicaSet", "cross-1", "b", "uid-rs-b", _ref("Deployment", "cross", "uid-dep-b"), TEMPLATE),
        # A pod of namespace a naming the ReplicaSet of namespace b.
        _owned("Pod", "cross-pod", "a", "uid-pod-a", _ref("ReplicaSet", "cross-1", "uid-rs-b"), POD_SPEC),
        # A Deployment of namespace a, and a pod naming it with another uid.
        _owned("Deployment", "uidm", "a", "uid-dep-a", spec=TEMPLATE),
        _owned("Pod", "uidm-pod", "a", "uid-pod-a2", _ref("Deployment", "uidm", "uid-other"), POD_SPEC),
    ]
    everything[0]["spec"] = TEMPLATE
    cross = (
        "its controller ReplicaSet cross-1 (uid uid-rs-b) is not in namespace a ({}): the garbage collector "
        "takes it as absent; its objects are judged on their own"
    )
    uidm = (
        "its controller Deployment uidm (uid uid-other) is not in namespace a (the Deployment of that name "
        "has uid uid-dep-a): the garbage collector takes it as absent; its objects are judged on their own"
    )
    for scope in (None, "a"):
        objects = [o for o in everything if scope is None or o["metadata"]["namespace"] == scope]
        found, _ = inventory(objects, nodes).workloads(LISTED)
        got = [(w.namespace, w.kind, w.name, w.pods, w.from_pods, w.notes) for w in found]
        why = (
            "the object with that uid is in namespace b, and owner references do not cross namespaces"
            if scope is None
            else "no such object was listed"
        )
        expected = [
            ("a", "Deployment", "uidm", 0, False, ()),
            ("a", "Deployment", "uidm", 1, True, (uidm,)),
            ("a", "ReplicaSet", "cross-1", 1, True, (cross.format(why),)),
        ]
        if scope is None:
            expected.append(("b", "Deployment", "cross", 0, False, ()))
        assert got == expected


def test_a_controller_owned_across_namespaces_is_reported_on_its_own() -> None:
    nodes = nodes_of(EKS)
    objects = [
        _owned("Deployment", "web", "b", "uid-dep-b", spec=TEMPLATE),
        _owned("ReplicaSet", "web-1", "a", "uid-rs-a", _ref("Deployment", "web", "uid-dep-b"), TEMPLATE),
        _owned("Pod", "web-1-x", "a", "uid-pod", _ref("ReplicaSet", "web-1", "uid-rs-a"), POD_SPEC),
    ]
    found, _ = inventory(objects, nodes).workloads(LISTED)
    assert [(w.namespace, w.kind, w.name, w.pods, len(w.notes)) for w in found] == [
        ("a", "ReplicaSet", "web-1", 1, 1),
        ("b", "Deployment", "web", 0, 0),
    ]


def test_one_node_runs() -> None:
    nodes = nodes_of(EKS)[:3]  # two amd64 nodes and one arm64 node
    found = judge(workload(), {"app:1": image("linux/amd64")}, nodes)
    assert found.reason == (
        "the scheduler may place pods on nodes it cannot run on: 1 Ready node runs linux/arm64, which image "
        "app:1 cannot run on"
    )


def test_progress_counts_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_arch.commands.audit import TerminalProgress

    progress = TerminalProgress()
    progress.objects(1)
    progress.objects(1)
    assert capsys.readouterr().err == "\rreading the cluster: 1 object\rreading the cluster: 2 objects"
