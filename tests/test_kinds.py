"""The workload kinds of the ecosystem's operators, pinned with no flag.

Each manifest under ``testdata/kinds/`` is shaped like its operator's documented examples.
For every kind, the pods its controller would build are worked out here, independently of
the code under test (from each project's API reference: which template, which defaults), and
judged by the scheduler model of ``tests/scheduler.py``: before pinning they may land on an
amd64 node; after ``pin --platform linux/arm64`` only on arm64 nodes. Pinning twice changes
nothing, and ``--check`` fails before and passes after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from integration_util import describe, ok, require, run, tool_env
from scheduler import pod_matches_node
from test_cli_pin import BIN, ROOT, error_lines
from test_cli_pin import run as arch

KINDS = ROOT / "testdata" / "kinds"
PLACEMENT = ("affinity", "nodeSelector", "tolerations")
GKE = ROOT / "testdata" / "nodes" / "gke-mixed.json"


def _get(obj: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _placement(*sources: Any) -> dict[str, Any]:
    """Each placement key from the first source that sets it (a non-empty value)."""
    out: dict[str, Any] = {}
    for key in PLACEMENT:
        for source in sources:
            value = source.get(key) if isinstance(source, Mapping) else None
            if value or (key == "affinity" and value == {}):
                out[key] = value
                break
    return out


def _argo_pods(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    # The workflow controller: a template with a container, script or containerSet is a pod;
    # its affinity, nodeSelector and tolerations are its own, else the workflow's.
    for template in spec.get("templates", []):
        if any(k in template for k in ("container", "script", "containerSet")):
            # spec.templateDefaults is merged under the template (a strategic merge patch).
            yield _placement(_deep(spec.get("templateDefaults") or {}, template), spec)


def _deep(lower: Any, upper: Any) -> Any:
    if isinstance(lower, Mapping) and isinstance(upper, Mapping):
        return {**lower, **{k: _deep(lower[k], v) if k in lower else v for k, v in upper.items()}}
    return upper


def pods(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The placement of every pod the object's controller builds (plain pod specs whole)."""
    kind, group = doc["kind"], doc["apiVersion"].split("/")[0]
    spec = doc.get("spec") or {}
    if group == "argoproj.io" and kind == "Rollout":
        return [] if "workloadRef" in spec else [spec["template"]["spec"]]
    if group == "argoproj.io" and kind == "CronWorkflow":
        return list(_argo_pods(spec["workflowSpec"]))
    if group == "argoproj.io":
        return list(_argo_pods(spec))
    if group == "tekton.dev" and kind == "TaskRun":
        return [] if "taskRef" in spec else [_placement(spec.get("podTemplate") or {})]
    if group == "tekton.dev":
        v1 = doc["apiVersion"].endswith("/v1")
        template = _get(spec, "taskRunTemplate.podTemplate") if v1 else spec.get("podTemplate")
        # A pipeline task's own pod template is merged over the run's, key by key.
        own = "podTemplate" if v1 else "taskPodTemplate"
        tasks = [
            t[own] for t in spec.get("taskRunSpecs") or [] if any(k in (t.get(own) or {}) for k in PLACEMENT)
        ]
        return [_placement(template or {}), *(_placement(t, template or {}) for t in tasks)]
    if group == "sparkoperator.k8s.io":
        app = spec["template"] if kind == "ScheduledSparkApplication" else spec
        return [_placement(app[role], app) for role in ("driver", "executor")]
    if group == "flink.apache.org":
        # Each role's pod template is merged over the shared one, recursively: the pods of a
        # role whose template sets placement differ from the others.
        shared = _get(spec, "podTemplate.spec") or {}
        roles = [_get(spec, f"{r}.podTemplate.spec") or {} for r in ("jobManager", "taskManager")]
        own = [r for r in roles if any(k in r for k in PLACEMENT)]
        return [_placement(shared), *(_placement(_deep(shared, role)) for role in own)]
    if group == "serving.knative.dev" and kind == "Revision":
        return [spec]
    if group == "kubeflow.org" and kind != "Notebook":
        (replicas,) = (v for k, v in spec.items() if k.endswith("ReplicaSpecs"))
        return [r["template"]["spec"] for r in replicas.values()]
    if group == "ray.io":
        cluster = spec.get("rayClusterSpec") or spec.get("rayClusterConfig") or spec
        groups = [cluster["headGroupSpec"], *cluster.get("workerGroupSpecs", [])]
        out = [g["template"]["spec"] for g in groups]
        if "submitterPodTemplate" in spec:
            out.append(spec["submitterPodTemplate"]["spec"])
        return out
    if group == "batch.volcano.sh":
        return [t["template"]["spec"] for t in spec["tasks"]]
    if group == "jobset.x-k8s.io":
        return [j["template"]["spec"]["template"]["spec"] for j in spec["replicatedJobs"]]
    if group == "leaderworkerset.x-k8s.io":
        lws = spec["leaderWorkerTemplate"]
        return [lws[t]["spec"] for t in ("leaderTemplate", "workerTemplate") if t in lws]
    if group == "apps.kruise.io" and kind == "AdvancedCronJob":
        template = spec["template"]
        return [
            template[t]["spec"]["template"]["spec"]
            for t in ("jobTemplate", "broadcastJobTemplate")
            if t in template
        ]
    if group == "apps.kruise.io" and kind == "SidecarSet":
        return []
    if group == "keda.sh":
        return [spec["jobTargetRef"]["template"]["spec"]]
    if group in ("", "v1") or doc["apiVersion"] == "v1":
        return []
    if group == "example.com":
        return []
    return [spec["template"]["spec"]]


def _node(pod: Mapping[str, Any], arch: str) -> dict[str, str]:
    """Labels of a node that meets everything of the pod but its platform."""
    return {
        **(pod.get("nodeSelector") or {}),
        "disk": "ssd",
        "kubernetes.io/hostname": "n1",
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
    }


def _fits(pod: Mapping[str, Any], arch: str) -> bool:
    return pod_matches_node(pod, _node(pod, arch), "n1")


FILES = sorted(p.name for p in KINDS.glob("*.yaml") if p.name != "undeclared.yaml")
# Pods per file, as the controllers build them.
EXPECTED_PODS = {
    "argo-workflows.yaml": 6,
    "flink.yaml": 2,
    "jobset.yaml": 3,
    "keda.yaml": 1,
    "knative.yaml": 3,
    "kruise.yaml": 5,
    "kubeflow.yaml": 10,
    "ray.yaml": 8,
    "rollout.yaml": 1,
    "spark.yaml": 4,
    "tekton.yaml": 4,
    "volcano.yaml": 2,
}


def test_every_file_is_counted() -> None:
    assert sorted(EXPECTED_PODS) == FILES


@pytest.mark.parametrize("name", FILES)
def test_pinned_as_the_scheduler_sees_it(name: str, tmp_path: Path) -> None:
    source = KINDS / name
    before = [p for doc in yaml.safe_load_all(source.read_text()) for p in pods(doc)]
    assert len(before) == EXPECTED_PODS[name]
    assert all(_fits(p, "amd64") for p in before)

    check = arch("pin", "--platform", "linux/arm64", "-f", str(source), "--check")
    assert check.returncode == 1, check.stderr.decode()

    result = arch("pin", "--platform", "linux/arm64", "-f", str(source))
    assert result.returncode == 0, result.stderr.decode()
    docs = list(yaml.safe_load_all(result.stdout))
    after = [p for doc in docs for p in pods(doc)]
    assert len(after) == len(before)
    for pod in after:
        assert _fits(pod, "arm64"), pod
        assert not _fits(pod, "amd64"), pod
    # Nothing but placement changed: the original, and every pod's other fields.
    originals = list(yaml.safe_load_all(source.read_text()))
    if name != "argo-workflows.yaml":  # its templates take the workflow's affinity: below
        for old, new in zip(originals, docs, strict=True):
            assert _strip(new) == _strip(old)

    pinned = tmp_path / name
    pinned.write_bytes(result.stdout)
    again = arch("pin", "--platform", "linux/arm64", "-f", str(pinned))
    assert again.returncode == 0 and again.stdout == result.stdout  # idempotent
    passed = arch("pin", "--platform", "linux/arm64", "-f", str(pinned), "--check")
    assert passed.returncode == 0, passed.stderr.decode()


def _strip(obj: Any) -> Any:
    """The object without the node affinity pin adds (and the mappings it may create)."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key == "nodeAffinity":
                continue
            value = _strip(value)
            if key in ("affinity", "podTemplate") and value in ({}, {"spec": {}}):
                continue
            out[key] = value
        return out
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def test_argo_templates_keep_the_workflow_defaults() -> None:
    """A template without affinity of its own took the workflow's: once pinned it has its own,
    which must still hold the workflow's (pod anti-affinity here), as the pod would have."""
    result = arch("pin", "--platform", "linux/arm64", "-f", str(KINDS / "argo-workflows.yaml"))
    workflow = next(yaml.safe_load_all(result.stdout))
    build, test = workflow["spec"]["templates"][1:3]
    assert build["affinity"]["podAntiAffinity"] == workflow["spec"]["affinity"]["podAntiAffinity"]
    assert (
        build["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"]
        == 10
    )
    assert "affinity" in workflow["spec"] and "nodeAffinity" not in workflow["spec"]["affinity"]
    assert "podAntiAffinity" not in test["affinity"]  # its own affinity replaces the workflow's
    assert "affinity" not in workflow["spec"]["templates"][0]  # steps make no pod


def test_each_pod_gets_what_its_own_images_run_on(tmp_path: Path) -> None:
    """Per-image platforms: a Workflow's templates and a SparkApplication's driver and executor
    are pinned each to what its own images support, not to the whole object's intersection."""
    lock = tmp_path / "platforms.lock"
    images = {
        "golang:1.22": ["linux/amd64", "linux/arm64"],
        "redis:7": ["linux/amd64", "linux/arm64"],
        "python:3.12": ["linux/amd64"],
        "koalaman/shellcheck:v0.10.0": ["linux/amd64", "linux/arm64"],
        "alpine:3.20": ["linux/arm64"],
        "curlimages/curl:8.8.0": ["linux/amd64", "linux/arm64"],
        "postgres:16": ["linux/amd64", "linux/arm64"],
    }
    lock.write_text(_lock(images))
    result = arch("pin", "--locked", str(lock), "-f", str(KINDS / "argo-workflows.yaml"))
    assert result.returncode == 0, result.stderr.decode()
    docs = list(yaml.safe_load_all(result.stdout))
    templates = docs[0]["spec"]["templates"]
    build, test = _placement(templates[1], docs[0]["spec"]), _placement(templates[2], docs[0]["spec"])
    assert _fits(build, "arm64") and _fits(build, "amd64")
    assert _fits(test, "amd64") and not _fits(test, "arm64")
    report = _placement(docs[1]["spec"]["templates"][0])
    assert _fits(report, "arm64") and not _fits(report, "amd64")


def _lock(images: Mapping[str, list[str]]) -> str:
    """A lock file (as ``pin --lock`` writes it) saying which platforms each image runs on."""
    import hashlib

    def digest(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    manifest = "application/vnd.oci.image.manifest.v1+json"
    entries = {}
    for image, platforms in images.items():
        name = image if "/" in image.split(":")[0] else f"library/{image}"
        entries[f"docker.io/{name}"] = {
            "digest": digest(image),
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "platforms": [
                {
                    "os": p.split("/")[0],
                    "architecture": p.split("/")[1],
                    "digest": digest(image + p),
                    "mediaType": manifest,
                }
                for p in platforms
            ],
        }
    return json.dumps({"apiVersion": "kubectl-arch.dev/v1alpha1", "kind": "PlatformLock", "images": entries})


def test_a_core_service_is_not_a_knative_one() -> None:
    result = arch("pin", "--platform", "linux/arm64", "-f", str(KINDS / "knative.yaml"))
    core = list(yaml.safe_load_all(result.stdout))[3]
    assert core == list(yaml.safe_load_all((KINDS / "knative.yaml").read_text()))[3]


def test_a_groupless_declaration_never_takes_core_objects(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: a, image: nginx}]\n"
    )
    result = arch(
        "pin",
        "--platform",
        "linux/arm64",
        "-f",
        str(path),
        "--pod-template-path",
        "Service=spec.template.spec",
    )
    assert result.returncode == 0
    assert result.stdout == path.read_bytes()
    assert error_lines(result)[0] == (
        "warning: --pod-template-path: Service without a group matches Service objects of every API group "
        "but the core one (apiVersion: v1); to name one group, write it after the kind: "
        "Service.serving.knative.dev=... (the part of apiVersion before the slash)"
    )


UNDECLARED_WARNING = (
    "warning: kind Pipeline.example.com has a pod template at spec.stages.*.template.spec; not pinned: "
    "declare it with --pod-template-path 'Pipeline.example.com=spec.stages.*.template.spec' "
    "(or --pod-template-path 'Pipeline.example.com=' if its objects make no pods)"
)


def test_undeclared_kinds_are_said_once_and_fail_the_gates() -> None:
    source = str(KINDS / "undeclared.yaml")
    plain = arch("pin", "--platform", "linux/arm64", "-f", source)
    assert plain.returncode == 0
    assert plain.stdout == (KINDS / "undeclared.yaml").read_bytes()
    assert error_lines(plain)[0] == UNDECLARED_WARNING
    assert error_lines(plain).count(UNDECLARED_WARNING) == 1

    gate = arch("pin", "--platform", "linux/arm64", "-f", source, "--check")
    assert gate.returncode == 1
    assert error_lines(gate)[1:] == [
        f"not checked {source} doc 1 Pipeline/etl",
        f"not checked {source} doc 2 Pipeline/reports",
        "0 workload(s) not pinned, 2 object(s) not checked",
    ]
    checked = arch("check", "--platform", "linux/arm64", "-f", source, "--nodes-file", str(GKE), "-o", "json")
    assert checked.returncode == 1
    document = json.loads(checked.stdout)
    assert [(e["name"], e["reason"]) for e in document["notChecked"]] == [
        ("etl", UNDECLARED_WARNING.removeprefix("warning: ")),
        ("reports", UNDECLARED_WARNING.removeprefix("warning: ")),
    ]
    declared = arch(
        "pin", "--platform", "linux/arm64", "-f", source,
        "--pod-template-path", "Pipeline.example.com=spec.stages.*.template.spec",
    )  # fmt: skip
    assert declared.returncode == 0
    stages = [s for d in yaml.safe_load_all(declared.stdout) for s in d["spec"]["stages"]]
    assert all(
        _fits(s["template"]["spec"], "arm64") and not _fits(s["template"]["spec"], "amd64") for s in stages
    )
    silenced = arch(
        "pin",
        "--platform",
        "linux/arm64",
        "-f",
        source,
        "--check",
        "--pod-template-path",
        "Pipeline.example.com=",
    )
    assert silenced.returncode == 0, silenced.stderr.decode()
    assert "Pipeline" not in silenced.stderr.decode()


def test_pods_made_from_other_objects_are_listed_not_failed() -> None:
    source = str(KINDS / "rollout.yaml")
    result = arch("pin", "--platform", "linux/arm64", "-f", source, "--check")
    assert result.returncode == 1  # the first Rollout is not pinned yet
    lines = error_lines(result)
    assert lines[0] == (
        f"warning: {source} doc 2 Rollout/cart: not pinned nor checked: its pods are made from the object "
        "spec.workloadRef names"
    )
    assert f"not checked {source} doc 2 Rollout/cart" in lines


def test_split_declarations_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(
        "apiVersion: ci.example.com/v1\nkind: Build\nmetadata: {name: b}\nspec:\n  builder: golang:1.22\n"
        "  steps:\n  - name: test\n    image: golang:1.22\n  - name: lint\n    image: golangci/golangci-lint:v1.59\n"
    )
    declaration = "Build.ci.example.com=containers:spec.builder+spec.steps.*;placement:spec.scheduling"
    result = arch("pin", "--platform", "linux/arm64", "-f", str(path), "--pod-template-path", declaration)
    assert result.returncode == 0, result.stderr.decode()
    build = yaml.safe_load(result.stdout)
    scheduling = build["spec"]["scheduling"]
    assert _fits(scheduling, "arm64") and not _fits(scheduling, "amd64")
    bad = arch(
        "pin", "--platform", "linux/arm64", "-f", str(path), "--pod-template-path", "Build=containers:spec.x"
    )
    assert bad.returncode == 2
    assert error_lines(bad) == [
        "error: Invalid value for '--pod-template-path': invalid pod template path 'Build=containers:spec.x': expected "
        "Kind[.group]=dotted.path, e.g. Rollout.argoproj.io=spec.template.spec; "
        "Kind[.group]=containers:PATH[+PATH...];placement:PATH when containers and placement are apart; "
        "or Kind[.group]= for a kind that makes no pods",
        "See 'kubectl arch pin --help' for usage.",
    ]


def test_check_judges_every_pod(tmp_path: Path) -> None:
    result = arch(
        "check",
        "--platform",
        "linux/amd64,linux/arm64",
        "-f",
        str(KINDS),
        "--nodes-file",
        str(GKE),
        "-o",
        "json",
    )
    document = json.loads(result.stdout)
    total = sum(EXPECTED_PODS.values())
    assert len(document["workloads"]) == total
    spark = [(w["name"], w.get("pod")) for w in document["workloads"] if w["kind"] == "SparkApplication"]
    assert spark == [("spark-pi", "spec.driver"), ("spark-pi", "spec.executor")]
    rollouts = [w for w in document["workloads"] if w["kind"] == "Rollout"]
    assert len(rollouts) == 1 and "pod" not in rollouts[0]
    assert [e["name"] for e in document["notChecked"]] == ["cart", "from-task", "etl", "reports"]
    assert result.returncode == 1  # the undeclared kind


def test_kpt_fn_eval(tmp_path: Path) -> None:
    env = tool_env(tmp_path)
    require("kpt", env)
    package = tmp_path / "package"
    package.mkdir()
    for name in ("argo-workflows.yaml", "tekton.yaml", "spark.yaml", "ray.yaml"):
        # kpt wants every object named: generateName becomes a name.
        text = (KINDS / name).read_text().replace("generateName: ci-", "name: ci")
        (package / name).write_text(
            text.replace("generateName: build-", "name: build").replace(
                "generateName: release-", "name: release"
            )
        )
    proc = run(["kpt", "fn", "eval", "--exec", f"{BIN} pin", package, "--", "platform=linux/arm64"], env)
    ok(proc)
    for name in ("argo-workflows.yaml", "tekton.yaml", "spark.yaml", "ray.yaml"):
        docs = [d for d in yaml.safe_load_all((package / name).read_text())]
        for pod in (p for d in docs for p in pods(d)):
            assert _fits(pod, "arm64") and not _fits(pod, "amd64"), (name, pod, describe(proc))


def test_image_rewrites_of_a_shared_image_are_made_once(tmp_path: Path) -> None:
    """A SparkApplication's driver and executors share spec.image: --images-from rewrites it
    once (two edits of one field would not splice)."""
    digest = "sha256:" + "0123456789abcdef" * 4
    artifacts = tmp_path / "builds.json"
    artifacts.write_text(json.dumps({"builds": [{"imageName": "spark", "tag": f"spark:3.5.1@{digest}"}]}))
    source = KINDS / "spark.yaml"
    result = arch("pin", "--platform", "linux/arm64", "--images-from", str(artifacts), "-f", str(source))
    assert result.returncode == 0, result.stderr.decode()
    app, scheduled = yaml.safe_load_all(result.stdout)
    assert app["spec"]["image"] == scheduled["spec"]["template"]["image"] == f"spark:3.5.1@{digest}"
    assert app["spec"]["executor"]["image"] == "registry.example.com/spark/executor:3.5.1"
    assert result.stdout.count(digest.encode()) == 2


def _scan(text: str) -> list[Any]:
    from kubectl_arch.manifest import scan as scanning
    from kubectl_arch.manifest.workloads import Kinds

    found = scanning.scan(text, "t.yaml", Kinds())
    assert not found.findings, found.findings
    return found.workloads


def test_placement_the_controllers_fall_back_to() -> None:
    workflow = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec:
  nodeSelector: {pool: batch}
  tolerations: [{key: dedicated, operator: Exists}]
  templateDefaults:
    affinity: {podAntiAffinity: {}}
  templates:
  - name: a
    nodeSelector: {}
    tolerations: []
    container: {image: alpine}
  - name: b
    nodeSelector: {pool: gpu}
    affinity: {}
    container: {image: alpine}
"""
    a, b = _scan(workflow)
    assert (a.field, a.pod, sorted(a.inherited)) == (
        "spec.templates[0]",
        {
            "affinity": {"podAntiAffinity": {}},
            "nodeSelector": {"pool": "batch"},
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
        },
        ["affinity", "nodeSelector", "tolerations"],
    )
    # templateDefaults is merged under the template as a strategic merge patch: its affinity
    # under the template's empty one.
    assert (b.pod, sorted(b.inherited)) == (
        {
            "affinity": {"podAntiAffinity": {}},
            "nodeSelector": {"pool": "gpu"},
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
        },
        ["affinity", "tolerations"],
    )
    spark = (KINDS / "spark.yaml").read_text().split("---\n")[0]
    driver, executor = _scan(spark)
    assert (driver.field, driver.pod, [c.image for c in driver.containers]) == (
        "spec.driver",
        {"nodeSelector": {"pool": "spark"}},
        ["spark:3.5.1"],
    )
    assert [c.image for c in executor.containers] == [
        "registry.example.com/spark/executor:3.5.1",
        "prom/statsd-exporter:v0.26.1",
    ]
    assert executor.pod["nodeSelector"] == {"pool": "spark"}


def test_inherited_tolerations_are_kept_where_the_template_gets_its_own() -> None:
    source = KINDS / "argo-workflows.yaml"
    result = arch(
        "pin",
        "--platform",
        "linux/arm64",
        "--arch-taint",
        "kubernetes.io/arch=arm64:NoSchedule",
        "-f",
        str(source),
    )
    assert result.returncode == 0, result.stderr.decode()
    cron = list(yaml.safe_load_all(result.stdout))[3]
    spec = cron["spec"]["workflowSpec"]
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
    ]
    assert spec["templates"][0]["tolerations"] == [
        *spec["tolerations"],
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
    ]
    again = arch(
        "pin",
        "--platform",
        "linux/arm64",
        "--arch-taint",
        "kubernetes.io/arch=arm64:NoSchedule",
        stdin=result.stdout,
    )
    assert again.stdout == result.stdout


def test_policies_and_chart_values_are_no_workloads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: no-latest}\nspec:\n  rules:\n"
        "  - name: no-latest\n    validate:\n      pattern:\n        spec:\n          containers:\n"
        "          - image: '!*:latest'\n"
    )
    result = arch("pin", "--platform", "linux/arm64", "-f", str(path), "--check")
    assert result.returncode == 0
    assert "pod template" not in result.stderr.decode()


def test_check_as_a_krm_validator_fails_on_undeclared_kinds() -> None:
    items = (KINDS / "undeclared.yaml").read_text().split("---\n")[0]
    stdin = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(
        ("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(items.splitlines())
    )
    result = arch("check", "--platform", "linux/arm64", "--nodes-file", str(GKE), stdin=stdin.encode())
    assert result.returncode == 1, result.stderr.decode()
    out = yaml.safe_load(result.stdout)
    assert out["items"] == yaml.safe_load(stdin)["items"]
    (entry,) = out["results"]
    assert entry["severity"] == "error"
    # In a function, options are named as the functionConfig spells them.
    assert entry["message"] == UNDECLARED_WARNING.removeprefix("warning: ").replace(
        "--pod-template-path", "pod-template-path"
    )
    assert entry["resourceRef"]["name"] == "etl"


# -- properties: a Workflow's template pods, as the workflow controller builds them --------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NODES = [
    {"kubernetes.io/os": os_, "kubernetes.io/arch": arch_, **({"pool": pool} if pool else {})}
    for os_ in ("linux", "windows")
    for arch_ in ("amd64", "arm64")
    for pool in ("a", "b", None)
]


def _term(key: str, operator: str, values: list[str]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": key, "operator": operator, "values": values}]}


_AFFINITY = st.sampled_from(
    [
        None,
        {},
        {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 5, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
                ]
            }
        },
        {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [_term("kubernetes.io/arch", "In", ["amd64"])]
                }
            }
        },
        {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        _term("pool", "In", ["a"]),
                        _term("kubernetes.io/os", "In", ["windows"]),
                    ]
                }
            }
        },
    ]
)
_SELECTOR = st.sampled_from(
    [None, {}, {"pool": "a"}, {"kubernetes.io/os": "linux"}, {"kubernetes.io/arch": "arm64"}]
)
_PLACEMENT = st.fixed_dictionaries({}, optional={"affinity": _AFFINITY, "nodeSelector": _SELECTOR})
_PLATFORMS = st.sets(st.sampled_from(["linux/amd64", "linux/arm64", "windows/amd64"]), min_size=1)


def _controller_pod(template: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The workflow controller: each of affinity, nodeSelector is the template's when set
    (an empty nodeSelector is unset), else the workflow's."""
    pod = {}
    for key in ("affinity", "nodeSelector"):
        own = template.get(key)
        if own is not None and (own or key == "affinity"):
            pod[key] = own
        elif spec.get(key):
            pod[key] = spec[key]
    return pod


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow=_PLACEMENT, templates=st.lists(_PLACEMENT, min_size=1, max_size=3), platforms=_PLATFORMS)
def test_workflow_pods_are_pinned_never_loosened(
    workflow: dict[str, Any], templates: list[dict[str, Any]], platforms: set[str]
) -> None:
    from kubectl_arch import pin
    from kubectl_arch.manifest import scan as scanning
    from kubectl_arch.manifest.workloads import Kinds
    from kubectl_arch.platforms import parse

    spec = {k: v for k, v in workflow.items() if v is not None}
    spec["templates"] = [
        {"name": f"t{i}", **{k: v for k, v in t.items() if v is not None}, "container": {"image": "alpine"}}
        for i, t in enumerate(templates)
    ]
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": spec}
    text = yaml.safe_dump(doc, sort_keys=False)
    supported = pin.AllImages(frozenset(parse(p) for p in platforms))
    allowed = {tuple(p.split("/")) for p in platforms}
    outcome = pin.pin(scanning.scan(text, "w.yaml", Kinds()), supported)
    after = yaml.safe_load(outcome.text)
    assert after["spec"] == {**after["spec"], **{k: v for k, v in spec.items() if k != "templates"}}
    possible = []
    for before_t, after_t in zip(spec["templates"], after["spec"]["templates"], strict=True):
        old = _controller_pod(before_t, spec)
        new = _controller_pod(after_t, after["spec"])
        runs = []
        for labels in _NODES:
            platform = (labels["kubernetes.io/os"], labels["kubernetes.io/arch"])
            was = pod_matches_node(old, labels, "n")
            runs.append(was and platform in allowed)
            if not outcome.failed:
                assert pod_matches_node(new, labels, "n") == (was and platform in allowed), (old, new, labels)
        possible.append(any(runs))
    # A conflict (nothing written) only when some template's pod could run on no allowed node.
    assert outcome.failed == (not all(possible))
    if not outcome.failed:
        again = pin.pin(scanning.scan(outcome.text, "w.yaml", Kinds()), supported)
        assert again.text == outcome.text


def test_flink_role_placement_is_merged_and_pinned_there_too(tmp_path: Path) -> None:
    path = tmp_path / "flink.yaml"
    path.write_text(
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: f}\nspec:\n"
        "  image: flink:1.19\n  jobManager:\n    podTemplate:\n      spec:\n        nodeSelector: {pool: jm}\n"
    )
    result = arch("pin", "--platform", "linux/arm64", "-f", str(path))
    assert result.returncode == 0, result.stderr
    assert error_lines(result) == []
    spec = yaml.safe_load(result.stdout)["spec"]
    shared = spec["podTemplate"]["spec"]
    role = _deep(shared, spec["jobManager"]["podTemplate"]["spec"])
    assert role["nodeSelector"] == {"pool": "jm"}
    for pod in (shared, role):
        assert _fits(pod, "arm64") and not _fits(pod, "amd64")
