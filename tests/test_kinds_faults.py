"""The gates on the operators' kinds: every placement source their controllers apply is
either read (and pinned where the controller takes it) or a finding that fails the gates,
and a shape the kind cannot have is an input error, the same for pin, pin --check, check and
the KRM function. Fixtures: ``testdata/kinds-faults/``."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from test_cli_pin import ROOT, error_lines, run

HERE = ROOT / "testdata" / "kinds-faults"
NODES = ("--nodes-file", "arm64-node.json")  # one Ready linux/arm64 node
ARM = ("--platform", "linux/arm64")


def arch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run(*args, stdin=stdin, cwd=HERE)


def check(name: str) -> subprocess.CompletedProcess[bytes]:
    return arch("check", *ARM, *NODES, "-f", name)


MALFORMED = [
    ("argo-templ-list.yaml", "Workflow/a: spec.templates is a mapping, not a list"),
    ("volcano-tasks-map.yaml", "Job/v: spec.tasks is a mapping, not a list"),
    ("cron-wfspec-list.yaml", "CronWorkflow/a: spec.workflowSpec is a list, not a mapping"),
    (
        "scheduled-spark-tmpl-null.yaml",
        "ScheduledSparkApplication/s: spec.template is null; a ScheduledSparkApplication cannot be valid "
        "without it",
    ),
    ("ray-wgs-map.yaml", "RayCluster/r: spec.workerGroupSpecs is a mapping, not a list"),
    ("kubeflow-rs-list.yaml", "PyTorchJob/k: spec.pytorchReplicaSpecs is a list, not a mapping"),
    # pin's rule for placement it cannot read, now the reader's: check gives the same verdict
    ("argo-tmpl-aff-str.yaml", "Workflow/a: spec.templates[0].affinity is a string, not a mapping"),
]


@pytest.mark.parametrize(("name", "error"), MALFORMED)
def test_a_shape_the_kind_cannot_have_is_an_input_error_everywhere(name: str, error: str) -> None:
    line = f"error: {name} doc 1 {error}"
    for args in (("pin", *ARM), ("pin", "--check", *ARM), ("check", *ARM, *NODES)):
        result = arch(*args, "-f", name)
        errors = [e for e in error_lines(result) if e.startswith("error:")]
        assert (result.returncode, errors, result.stdout[:0]) == (2, [line], b""), args
        if args[0] == "pin" and "--check" not in args:
            assert result.stdout == b""  # nothing written when anything failed


def test_a_null_optional_list_is_absent() -> None:
    text = (
        "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  workerGroupSpecs: null\n"
        "  headGroupSpec:\n    template:\n      spec:\n        containers: [{name: c, image: nginx}]\n"
    )
    result = arch("pin", "--check", *ARM, "-f", "-", stdin=text.encode())
    assert (result.returncode, error_lines(result)) == (
        1,
        ["would pin <stdin> doc 1 RayCluster/r", "1 workload(s) not pinned"],
    )


def test_krm_function_gives_the_same_error() -> None:
    doc = yaml.safe_load((HERE / "volcano-tasks-map.yaml").read_text())
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [doc]}
    result = arch("pin", *ARM, stdin=yaml.safe_dump(resource_list).encode())
    assert result.returncode == 2
    results = yaml.safe_load(result.stdout)["results"]
    assert [(r["severity"], r["message"]) for r in results] == [
        ("error", "spec.tasks is a mapping, not a list")
    ]


def test_tekton_task_pod_template_conflict_fails_every_gate() -> None:
    name = "tekton-task-pod-template.yaml"
    conflict = (
        f"error: {name} doc 1 PipelineRun/build: nodeSelector kubernetes.io/arch=amd64 excludes every platform "
        "the images support (linux/arm64); containers: 'compile/make' alpine"
    )
    result = arch("pin", *ARM, "-f", name)
    assert (result.returncode, error_lines(result), result.stdout) == (1, [conflict], b"")
    result = arch("pin", "--check", *ARM, "-f", name)
    assert result.returncode == 1 and error_lines(result)[0] == conflict
    result = check(name)
    assert result.returncode == 1
    assert error_lines(result) == [
        f"error: {name} doc 1 PipelineRun/build: fits no Ready node: 0/1 nodes "
        "fit: 1 node(s) not matching the nodeSelector",
        "1 workload(s): 0 fit, 1 fit no Ready node",
    ]


def test_tekton_run_level_conflict_is_still_caught() -> None:
    result = check("tekton-pr-conflict.yaml")
    assert result.returncode == 1


def test_tekton_task_pod_template_is_pinned_too() -> None:
    result = arch("pin", *ARM, "-f", "tekton-task-pool.yaml")
    assert (result.returncode, error_lines(result)) == (0, [])
    spec = yaml.safe_load(result.stdout)["spec"]
    run_level = spec["taskRunTemplate"]["podTemplate"]
    task = spec["taskRunSpecs"][0]["podTemplate"]
    assert task["nodeSelector"] == {"pool": "build"}
    assert run_level["securityContext"] == {"runAsNonRoot": True}
    for template in (run_level, task):
        terms = template["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"] == [
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
                ]
            }
        ]
    again = arch("pin", "--check", *ARM, "-f", "-", stdin=result.stdout)
    assert (again.returncode, error_lines(again)) == (
        0,
        ["1 workload(s) already pinned"],
    ) or again.returncode == 0
    same = arch("pin", *ARM, "-f", "-", stdin=result.stdout)
    assert same.stdout == result.stdout


def test_flink_role_conflict_fails_check() -> None:
    name = "flink-conflict.yaml"
    result = check(name)
    assert result.returncode == 1
    assert error_lines(result) == [
        f"error: {name} doc 1 FlinkDeployment/f spec.taskManager.podTemplate.spec: fits no Ready node: 0/1 nodes "
        "fit: 1 node(s) not matching the nodeSelector",
        "2 workload(s): 1 fit, 1 fit no Ready node",
    ]
    result = arch("pin", "--check", *ARM, "-f", name)
    assert result.returncode == 1
    assert error_lines(result)[0] == (
        f"error: {name} doc 1 FlinkDeployment/f: nodeSelector kubernetes.io/arch=amd64 excludes every platform "
        "the images support (linux/arm64); containers: 'spec.image' flink"
    )


PATCH = (
    "is not read: the controller applies it to the pod and it may change where the pod runs; not checked "
    "(set the placement in the fields pin reads: affinity, nodeSelector, tolerations)"
)


def test_argo_pod_spec_patch_fails_the_gates() -> None:
    name = "argo-pod-spec-patch.yaml"
    where = f"{name} doc 1 Workflow/patched"
    warnings = [
        f"warning: {where}: spec.podSpecPatch {PATCH}",
        f"warning: {where}: spec.templates[0].podSpecPatch {PATCH}",
    ]
    result = arch("pin", *ARM, "-f", name)
    assert (result.returncode, error_lines(result)) == (0, warnings)
    result = arch("pin", "--check", *ARM, "-f", name)
    assert result.returncode == 1
    assert error_lines(result) == [
        *warnings,
        f"would pin {where}",
        f"not checked {where}",
        "1 workload(s) not pinned, 1 object(s) not checked",
    ]
    result = check(name)
    assert result.returncode == 1
    # not checked, so not a fit row either
    assert error_lines(result) == [*warnings, f"no workloads found; 1 object(s) not checked: {where}"]


def test_check_reports_every_document_and_exits_2() -> None:
    good = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: c, image: nginx}]\n"
    )
    stream = (
        (HERE / "ray-wgs-map.yaml").read_text()
        + "---\n"
        + good
        + "---\n"
        + (HERE / "argo-tmpl-aff-str.yaml").read_text()
    )
    result = arch("check", *ARM, *NODES, "-f", "-", stdin=stream.encode())
    assert result.returncode == 2
    assert error_lines(result) == [
        "error: <stdin> doc 1 RayCluster/r: spec.workerGroupSpecs is a mapping, not a list",
        "error: <stdin> doc 3 Workflow/a: spec.templates[0].affinity is a string, not a mapping",
        "1 workload(s): 1 fit",  # the Deployment: a faulty object is not judged in part
    ]
    assert "<stdin> doc 2 Deployment/d" in result.stdout.decode()


def test_tekton_v1beta1_task_pod_template_is_read() -> None:
    name = "tekton-v1beta1-task-pod-template.yaml"
    result = arch("pin", *ARM, "-f", name)
    assert (result.returncode, error_lines(result)) == (
        1,
        [
            f"error: {name} doc 1 PipelineRun/old: nodeSelector kubernetes.io/arch=amd64 excludes every platform "
            "the images support (linux/arm64); containers: 'spec.pipelineSpec.tasks[0].taskSpec.steps[0]' alpine"
        ],
    )
    assert check(name).returncode == 1


def test_flink_role_affinity_is_merged_whole_and_pinned_once() -> None:
    result = arch("pin", *ARM, "-f", "flink-role-affinity.yaml")
    assert (result.returncode, error_lines(result)) == (0, [])
    spec = yaml.safe_load(result.stdout)["spec"]
    shared = spec["podTemplate"]["spec"]["affinity"]
    role = spec["taskManager"]["podTemplate"]["spec"]["affinity"]
    required = shared["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert role["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == required
    assert role["podAntiAffinity"] == shared["podAntiAffinity"]  # the merged value, written whole
    assert role["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 1
    again = arch("pin", "--check", *ARM, "-f", "-", stdin=result.stdout)
    assert (again.returncode, error_lines(again)) == (0, ["2 workload(s) already pinned"])
    assert arch("pin", *ARM, "-f", "-", stdin=result.stdout).stdout == result.stdout


def test_check_as_krm_validator_gives_the_same_error() -> None:
    doc = yaml.safe_load((HERE / "argo-tmpl-aff-str.yaml").read_text())
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [doc]}
    result = arch("check", *ARM, *NODES, stdin=yaml.safe_dump(resource_list).encode())
    assert result.returncode == 2
    results = yaml.safe_load(result.stdout)["results"]
    assert [(r["severity"], r["message"]) for r in results] == [
        ("error", "spec.templates[0].affinity is a string, not a mapping")
    ]


def test_gates_report_every_file() -> None:
    args = ("-f", "argo-tmpl-aff-str.yaml", "-f", "no-such.yaml", "-f", "ray-wgs-map.yaml")
    errors = [
        "error: no-such.yaml: no such file or directory",
        "error: argo-tmpl-aff-str.yaml doc 1 Workflow/a: spec.templates[0].affinity is a string, not a mapping",
        "error: ray-wgs-map.yaml doc 1 RayCluster/r: spec.workerGroupSpecs is a mapping, not a list",
    ]
    result = arch("check", *ARM, *NODES, *args)
    # Objects with input errors are neither judged nor pinned in part: nothing else to judge.
    assert (result.returncode, error_lines(result), result.stdout) == (2, errors, b"")
    result = arch("pin", "--check", *ARM, *args)
    assert (result.returncode, error_lines(result)) == (2, errors)
    result = arch("pin", *ARM, *args)  # a pin that writes stops at the first file it cannot read
    assert (result.returncode, error_lines(result), result.stdout) == (
        2,
        ["error: no-such.yaml: no such file or directory"],
        b"",
    )


def test_argo_template_defaults_are_merged_under_the_template() -> None:
    # A strategic merge patch: the template's nodeSelector gains the defaults' labels, so
    # its pod is held to amd64 though the template names only a pool.
    text = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec:
  templateDefaults:
    nodeSelector: {kubernetes.io/arch: amd64}
  templates:
  - name: a
    nodeSelector: {pool: batch}
    container: {image: alpine}
"""
    result = arch("pin", *ARM, "-f", "-", stdin=text.encode())
    assert (result.returncode, error_lines(result)) == (
        1,
        [
            "error: <stdin> doc 1 Workflow/w: nodeSelector kubernetes.io/arch=amd64 excludes every "
            "platform the images support (linux/arm64); containers: 'spec.templates[0].container' alpine"
        ],
    )


def test_a_workflow_made_from_a_template_is_listed_not_passed_silently() -> None:
    text = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  workflowTemplateRef: {name: t}\n"
    result = arch("check", *ARM, *NODES, "-f", "-", stdin=text.encode())
    assert (result.returncode, error_lines(result)) == (
        0,
        [
            "warning: <stdin> doc 1 Workflow/w: not pinned nor checked: its pods are made from the object "
            "spec.workflowTemplateRef names",
            "no workloads found; 1 object(s) not checked: <stdin> doc 1 Workflow/w",
        ],
    )


# -- properties: pods whose placement a template of their own puts over the shared one ----------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scheduler import pod_matches_node  # noqa: E402
from test_kinds import _NODES, _PLACEMENT, _PLATFORMS, _deep  # noqa: E402


def _clean(placement: dict) -> dict:
    return {k: v for k, v in placement.items() if v is not None}


def _tekton_pod(task: dict, run: dict) -> dict:
    """Tekton's MergePodTemplateWithDefault: each key the task's template holds (not nil),
    else the run's."""
    return {k: task[k] if task.get(k) is not None else run.get(k) for k in ("affinity", "nodeSelector")}


def _flink_pod(role: dict, shared: dict) -> dict:
    """The Flink operator: the role's template merged over the shared one, recursively."""
    return _deep(shared, role)


def _pinned_pods_judged(kind: str, shared: dict, own: list[dict], platforms: set[str]) -> None:
    from kubectl_arch import pin
    from kubectl_arch.manifest import scan as scanning
    from kubectl_arch.manifest.workloads import Kinds
    from kubectl_arch.platforms import parse

    shared, own = _clean(shared), [_clean(o) for o in own]
    if kind == "PipelineRun":
        doc = {
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {"name": "p"},
            "spec": {
                "pipelineSpec": {
                    "tasks": [
                        {"name": f"t{i}", "taskSpec": {"steps": [{"image": "alpine"}]}}
                        for i in range(len(own))
                    ]
                },
                "taskRunTemplate": {"podTemplate": shared},
                "taskRunSpecs": [{"pipelineTaskName": f"t{i}", "podTemplate": o} for i, o in enumerate(own)],
            },
        }

        def pods(d: dict) -> list[dict]:
            """Each task's pod: the run's template under the task's own (each task has its
            taskRunSpecs entry; one that sets no placement key leaves the run's)."""
            run = d["spec"]["taskRunTemplate"]["podTemplate"] or {}
            return [_tekton_pod(t["podTemplate"] or {}, run) for t in d["spec"]["taskRunSpecs"]]
    else:
        doc = {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "f"},
            "spec": {
                "image": "flink",
                "podTemplate": {"spec": shared},
                **{
                    r: {"podTemplate": {"spec": o}}
                    for r, o in zip(("jobManager", "taskManager"), own, strict=False)
                },
            },
        }

        def pods(d: dict) -> list[dict]:
            base = d["spec"]["podTemplate"]["spec"] or {}
            roles = [
                d["spec"].get(r, {}).get("podTemplate", {}).get("spec") or {}
                for r in ("jobManager", "taskManager")
            ]
            return [base, *(_flink_pod(r, base) for r in roles)]

    text = yaml.safe_dump(doc, sort_keys=False)
    supported = pin.AllImages(frozenset(parse(p) for p in platforms))
    allowed = {tuple(p.split("/")) for p in platforms}
    outcome = pin.pin(scanning.scan(text, "x.yaml", Kinds()), supported)
    before = pods(doc)
    possible = []
    after = pods(yaml.safe_load(outcome.text)) if not outcome.failed else before
    for old, new in zip(before, after, strict=True):
        runs = []
        for labels in _NODES:
            was = pod_matches_node(old, labels, "n")
            ok = was and (labels["kubernetes.io/os"], labels["kubernetes.io/arch"]) in allowed
            runs.append(ok)
            if not outcome.failed:  # pinned: exactly the allowed nodes it could land on, never more
                assert pod_matches_node(new, labels, "n") == ok, (old, new, labels)
        possible.append(any(runs))
    # A conflict only when some pod the controller builds could run on no allowed node.
    assert outcome.failed == (not all(possible))
    if not outcome.failed:
        again = pin.pin(scanning.scan(outcome.text, "x.yaml", Kinds()), supported)
        assert again.text == outcome.text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared=_PLACEMENT, own=st.lists(_PLACEMENT, min_size=1, max_size=2), platforms=_PLATFORMS)
def test_pipeline_run_task_pods_are_pinned_never_loosened(
    shared: dict, own: list[dict], platforms: set[str]
) -> None:
    _pinned_pods_judged("PipelineRun", shared, own, platforms)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared=_PLACEMENT, own=st.lists(_PLACEMENT, min_size=1, max_size=2), platforms=_PLATFORMS)
def test_flink_role_pods_are_pinned_never_loosened(
    shared: dict, own: list[dict], platforms: set[str]
) -> None:
    _pinned_pods_judged("FlinkDeployment", shared, own, platforms)


def test_spark_role_pod_template_placement_fails_the_gates() -> None:
    text = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: s}
spec:
  image: spark
  driver:
    template:
      spec:
        nodeSelector: {kubernetes.io/arch: amd64}
  executor: {}
"""
    result = arch("pin", "--check", *ARM, "-f", "-", stdin=text.encode())
    assert result.returncode == 1
    assert (
        error_lines(result)[0]
        == f"warning: <stdin> doc 1 SparkApplication/s: spec.driver.template.spec.nodeSelector {PATCH}"
    )
    assert "not checked <stdin> doc 1 SparkApplication/s" in error_lines(result)


def test_check_as_krm_validator_fails_on_placement_it_cannot_read() -> None:
    """kpt's gate agrees with the command's: an Argo podSpecPatch is an error result, exit 1."""
    doc = yaml.safe_load((HERE / "argo-pod-spec-patch.yaml").read_text())
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [doc]}
    result = arch("check", *ARM, *NODES, stdin=yaml.safe_dump(resource_list).encode())
    assert result.returncode == 1
    results = yaml.safe_load(result.stdout)["results"]
    assert [(r["severity"], r["message"]) for r in results if "podSpecPatch" in r["message"]] == [
        ("error", f"spec.podSpecPatch {PATCH}"),
        ("error", f"spec.templates[0].podSpecPatch {PATCH}"),
    ]
