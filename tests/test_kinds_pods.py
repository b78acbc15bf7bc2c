"""Every pod an operator's controller makes from what its object says is read and judged as
a pod of its own: a PipelineRun's tasks, Argo Workflows' inline templates, a Spark role's
pod template containers, a RayJob's submitter. Fixtures: ``testdata/kinds-pods/`` (a lock
file: ``my/amd-only:1`` linux/amd64 only, ``my/executor:arm-only`` linux/arm64 only,
``spark:3.5.0`` both; ``two-nodes.json``: one untainted node of each)."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from corpus_util import CORPUS, needs_corpus
from test_cli_pin import ROOT, error_lines, run

HERE = ROOT / "testdata" / "kinds-pods"
LOCK = ("--locked", "images.lock")
NODES = ("--nodes-file", "two-nodes.json")


def arch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run(*args, stdin=stdin, cwd=HERE)


def gates(name: str, *extra: str) -> tuple[tuple[int, list[str]], ...]:
    """(exit code, stderr lines) of pin, pin --check and check."""
    out = []
    for args in (("pin", *LOCK), ("pin", "--check", *LOCK), ("check", *LOCK, *NODES)):
        result = arch(*args, *extra, "-f", name)
        out.append((result.returncode, error_lines(result)))
    return tuple(out)


def _arch_values(template: dict) -> list[str]:
    terms = template["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = terms["nodeSelectorTerms"][0]["matchExpressions"]
    return next(e["values"] for e in expressions if e["key"] == "kubernetes.io/arch")


def test_pipeline_run_tasks_are_pods_of_their_own() -> None:
    # Two tasks, an amd64-only and an arm64-only image, each with its own pod template.
    assert gates("pr-split2.yaml")[1:] == (
        (1, ["would pin pr-split2.yaml doc 1 PipelineRun/split2", "2 workload(s) not pinned"]),
        (0, ["2 workload(s): 2 fit"]),
    )
    pinned = arch("pin", *LOCK, "-f", "pr-split2.yaml")
    assert (pinned.returncode, error_lines(pinned)) == (0, [])
    again = arch("pin", "--check", *LOCK, "-f", "-", stdin=pinned.stdout)
    assert again.returncode == 0


def test_tasks_without_a_template_of_their_own_share_the_runs() -> None:
    # build has its own pod template (amd64); arm runs with the run's, pinned to arm64 alone.
    pinned = arch("pin", *LOCK, "-f", "pr-split.yaml")
    assert (pinned.returncode, error_lines(pinned)) == (0, [])
    spec = yaml.safe_load(pinned.stdout)["spec"]
    assert _arch_values(spec["taskRunTemplate"]["podTemplate"]) == ["arm64"]
    assert spec["taskRunSpecs"][0]["podTemplate"]["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    check = arch("check", *LOCK, *NODES, "-f", "pr-split.yaml")
    assert (check.returncode, error_lines(check)) == (0, ["2 workload(s): 2 fit"])


def test_tasks_sharing_the_runs_template_that_no_pin_can_place_apart_are_said() -> None:
    error = (
        "error: pr-shared.yaml doc 1 PipelineRun/shared: its images share no platform ('build/b' my/amd-only:1: "
        "linux/amd64; 'arm/a' my/executor:arm-only: linux/arm64); tasks build, arm are pods of their own that "
        "share the placement at spec.taskRunTemplate.podTemplate, so one pin cannot place them apart: give "
        "each its own spec.taskRunSpecs[*].podTemplate"
    )
    (pin, pin_check, check) = gates("pr-shared.yaml")
    assert pin == (1, [error])
    assert pin_check == (1, [error])
    assert check[0] == 1


def test_inline_tasks_are_judged_beside_a_task_made_from_another_object() -> None:
    said = (
        "warning: pr-mixed.yaml doc 1 PipelineRun/pr-v1: not pinned nor checked: its pods are made from the "
        "object spec.pipelineSpec.tasks[1].taskRef names"
    )
    conflict = (
        "error: pr-mixed.yaml doc 1 PipelineRun/pr-v1: nodeSelector kubernetes.io/arch=arm64 excludes every "
        "platform the images support (linux/s390x); containers: 'build/build' golang:1.22"
    )
    for args in (("pin",), ("pin", "--check")):
        result = arch(*args, "--platform", "linux/s390x", "-f", "pr-mixed.yaml")
        assert result.returncode == 1, args
        assert error_lines(result)[:2] == [said, conflict], args
    result = arch("pin", "--platform", "linux/amd64,linux/arm64", "-f", "pr-mixed.yaml")
    assert (result.returncode, error_lines(result)) == (0, [said])
    spec = yaml.safe_load(result.stdout)["spec"]
    # notify (finally) runs with the run's template: pinned there; build keeps its arm64 pool.
    assert _arch_values(spec["taskRunTemplate"]["podTemplate"]) == ["amd64", "arm64"]
    assert spec["taskRunSpecs"][0]["podTemplate"]["nodeSelector"] == {"kubernetes.io/arch": "arm64"}


def test_argo_inline_templates_are_pods() -> None:
    pin, pin_check, check = gates("wf-inline.yaml")
    assert pin == (0, [])
    assert pin_check == (
        1,
        ["would pin wf-inline.yaml doc 1 Workflow/dag-inline", "2 workload(s) not pinned"],
    )
    assert check == (0, ["2 workload(s): 2 fit"])
    pinned = arch("pin", *LOCK, "-f", "wf-inline.yaml")
    templates = yaml.safe_load(pinned.stdout)["spec"]["templates"]
    assert _arch_values(templates[0]["dag"]["tasks"][0]["inline"]) == ["arm64"]
    assert _arch_values(templates[1]["steps"][0][0]["inline"]) == ["amd64"]
    again = arch("pin", "--check", *LOCK, "-f", "-", stdin=pinned.stdout)
    assert (again.returncode, error_lines(again)) == (0, ["2 workload(s) already pinned"])


def test_spark_role_pod_template_containers_count() -> None:
    # The driver's template adds a sidecar and an init container of an arm64-only image.
    pin, pin_check, check = gates("spark-tmpl.yaml")
    assert pin == (0, [])
    assert pin_check == (
        1,
        ["would pin spark-tmpl.yaml doc 1 SparkApplication/spark-tmpl", "1 workload(s) not pinned"],
    )
    assert check == (0, ["2 workload(s): 2 fit"])
    spec = yaml.safe_load(arch("pin", *LOCK, "-f", "spark-tmpl.yaml").stdout)["spec"]
    assert _arch_values(spec["driver"]) == ["arm64"]
    assert _arch_values(spec["executor"]) == ["amd64", "arm64"]
    table = arch("check", *LOCK, *NODES, "-f", "spark-tmpl.yaml").stdout.decode().splitlines()
    assert [line.split()[4:6] for line in table[1:]] == [
        ["spec.driver", "linux/arm64"],
        ["spec.executor", "linux/amd64,linux/arm64"],
    ]


def test_what_an_object_makes_itself_is_read_beside_a_ref() -> None:
    said = [
        "warning: wf-refinline.yaml doc 1 Workflow/refinline: not pinned nor checked: its pods are made from "
        "the object spec.workflowTemplateRef names",
        "warning: wf-refinline.yaml doc 2 RayJob/rj-both: not pinned nor checked: its pods are made from the "
        "object spec.clusterSelector names",
    ]
    result = arch("pin", *LOCK, "-f", "wf-refinline.yaml")
    assert (result.returncode, error_lines(result)) == (0, said)
    workflow, ray_job = yaml.safe_load_all(result.stdout)
    assert _arch_values(workflow["spec"]["templates"][0]) == ["arm64"]
    assert _arch_values(ray_job["spec"]["submitterPodTemplate"]["spec"]) == ["arm64"]
    table = arch("check", *LOCK, *NODES, "-f", "wf-refinline.yaml").stdout.decode().splitlines()
    assert [line.split()[3] for line in table[1:]] == ["Workflow/refinline", "RayJob/rj-both"]


INPUT_ERRORS = [
    (
        "spark-both-selectors.yaml",
        "SparkApplication/spark-pi: spec.nodeSelector and spec.driver.nodeSelector are both set: the Spark "
        "operator refuses a nodeSelector at both the application and a role (it can be defined at the "
        "SparkApplication or at the driver or executor); keep one",
    ),
    (
        "pr-tasks-null-item.yaml",
        "PipelineRun/a: spec.pipelineSpec.tasks[0] is null; a null item is not absent: remove it",
    ),
    (
        "pt-role-null.yaml",
        "PyTorchJob/a: spec.pytorchReplicaSpecs.Master is null; a null item is not absent: remove it",
    ),
    ("volcano-tmpl-null.yaml", "Job/a: no pod spec at spec.tasks[0].template.spec"),
    (
        "wf-sidecars-null-items.yaml",
        "Workflow/a: spec.templates[0].sidecars[0] is null; a null item is not absent: remove it",
    ),
    (
        "wf-container-and-script.yaml",
        "Workflow/a: spec.templates[0] has container and script: a template has one type of container, "
        "containerSet, steps, dag, script, resource, data, suspend, http, plugin; keep one",
    ),
]


@pytest.mark.parametrize(("name", "error"), INPUT_ERRORS)
def test_what_the_controller_refuses_is_an_input_error_everywhere(name: str, error: str) -> None:
    line = f"error: {name} doc 1 {error}"
    for args in (("pin", "--platform", "linux/amd64"), ("pin", "--check", "--platform", "linux/amd64")):
        result = arch(*args, "-f", name)
        assert (result.returncode, [e for e in error_lines(result) if e.startswith("error:")]) == (
            2,
            [line],
        ), args
    result = arch("pin", "--platform", "linux/amd64", "-f", name)
    assert result.stdout == b""
    result = arch("check", "--platform", "linux/amd64", *NODES, "-f", name)
    assert result.returncode == 2 and line in error_lines(result)


def test_krm_function_refuses_a_null_item() -> None:
    doc = yaml.safe_load((HERE / "pt-role-null.yaml").read_text())
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [doc]}
    result = arch("pin", "--platform", "linux/amd64", stdin=yaml.safe_dump(resource_list).encode())
    assert result.returncode == 2
    results = yaml.safe_load(result.stdout)["results"]
    assert [(r["severity"], r["message"]) for r in results] == [
        ("error", "spec.pytorchReplicaSpecs.Master is null; a null item is not absent: remove it")
    ]


RUNNER = """\
apiVersion: ci.example.com/v1
kind: Runner
metadata: {name: r}
spec:
  template:
    nodeSelector: {pool: ci}
    container: {name: main, image: alpine}
"""


def test_a_single_container_template_of_an_undeclared_kind_is_not_passed_over() -> None:
    declare = "Runner.ci.example.com=containers:spec.template.container;placement:spec.template"
    warning = (
        "warning: kind Runner.ci.example.com has a pod template at containers:spec.template.container;"
        f"placement:spec.template; not pinned: declare it with --pod-template-path '{declare}' "
        "(or --pod-template-path 'Runner.ci.example.com=' if its objects make no pods)"
    )
    result = arch("pin", "--check", "--platform", "linux/amd64", "-f", "-", stdin=RUNNER.encode())
    assert (result.returncode, error_lines(result)) == (
        1,
        [warning, "not checked <stdin> doc 1 Runner/r", "0 workload(s) not pinned, 1 object(s) not checked"],
    )
    declared = arch(
        "pin", "--platform", "linux/amd64", "--pod-template-path", declare, "-f", "-", stdin=RUNNER.encode()
    )
    assert declared.returncode == 0
    assert _arch_values(yaml.safe_load(declared.stdout)["spec"]["template"]) == ["amd64"]


def test_argo_events_kinds_run_the_controllers_image() -> None:
    # A Sensor's pod runs the image the Argo Events controller is configured with: nothing to
    # judge, nothing to warn of; the undeclared InferenceService still is.
    result = arch("pin", "--check", "--platform", "linux/amd64", "-f", "unknown.yaml")
    assert result.returncode == 1
    assert not any("Sensor" in line for line in error_lines(result))
    assert "not checked unknown.yaml doc 2 InferenceService/custom" in error_lines(result)


@needs_corpus
def test_the_probe_does_not_fire_on_the_corpus() -> None:
    result = run("pin", "--check", "--platform", "linux/amd64", "-R", "-f", str(CORPUS))
    assert not [line for line in error_lines(result) if "not checked" in line or "pod template at" in line]


def test_krm_function_pins_each_task_where_its_pod_reads_it() -> None:
    doc = yaml.safe_load((HERE / "pr-split.yaml").read_text())
    resource_list = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [doc],
    }
    result = arch("pin", *LOCK, stdin=yaml.safe_dump(resource_list).encode())
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(result.stdout)["items"][0]["spec"]
    assert _arch_values(spec["taskRunTemplate"]["podTemplate"]) == ["arm64"]
    own = spec["taskRunSpecs"][0]["podTemplate"]  # its nodeSelector holds the arch already
    assert own["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    terms = own["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert terms == [
        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
    ]


def test_spark_runs_the_template_first_container_with_the_roles_image() -> None:
    # Its image (amd64 only) is replaced by spark:3.5.0: only the log sidecar constrains the driver.
    result = arch("check", *LOCK, *NODES, "-f", "spark-main-container.yaml")
    assert (result.returncode, error_lines(result)) == (0, ["2 workload(s): 2 fit"])
    spec = yaml.safe_load(arch("pin", *LOCK, "-f", "spark-main-container.yaml").stdout)["spec"]
    assert _arch_values(spec["driver"]) == ["arm64"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (
            "pr-task-twice.yaml",
            "error: pr-task-twice.yaml doc 1 PipelineRun/dup: spec.taskRunSpecs[1].pipelineTaskName names 'arm' "
            "as spec.taskRunSpecs[0].pipelineTaskName does: keep one entry per task",
        ),
        (
            "pr-task-name-number.yaml",
            "error: pr-task-name-number.yaml doc 1 PipelineRun/a: spec.taskRunSpecs[0].pipelineTaskName is a "
            "number, not a string",
        ),
    ],
)
def test_a_task_named_by_two_entries_or_by_no_string_is_an_input_error(name: str, error: str) -> None:
    """Tekton merges every taskRunSpecs entry naming a task, the last one's keys winning: a pin
    written into one may be undone by the other, so neither is judged nor pinned."""
    assert gates(name) == ((2, [error]), (2, [error]), (2, [error]))
