"""Input errors on the operators' kinds: an object that cannot be read whole is neither judged
nor pinned (no row, no "would pin", not counted as fitting), its error names the field at
its own path in YAML's type names, and every command refuses it alike. Fixtures:
``testdata/kinds-input/``."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from test_cli_pin import ROOT, error_lines, run

HERE = ROOT / "testdata" / "kinds-input"
NODES = ("--nodes-file", "arm64-node.json")  # one Ready linux/arm64 node
ARM = ("--platform", "linux/arm64")
GOOD = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
    "      containers: [{name: c, image: nginx}]\n"
)


def arch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run(*args, stdin=stdin, cwd=HERE)


PARTLY_READABLE = [
    (
        "ray-wgs-map.yaml",
        "RayCluster/a",
        "spec.workerGroupSpecs",
        "spec.workerGroupSpecs is a mapping, not a list",
    ),
    ("spark-driver-list.yaml", "SparkApplication/a", "spec.driver", "spec.driver is a list, not a mapping"),
    (
        "spark-template-str.yaml",
        "SparkApplication/a",
        "spec.driver.template",
        "spec.driver.template is a string, not a mapping",
    ),
    (
        "pr-taskRunSpecs-map.yaml",
        "PipelineRun/a",
        "spec.taskRunSpecs",
        "spec.taskRunSpecs is a mapping, not a list",
    ),
]


@pytest.mark.parametrize(("name", "obj", "field", "error"), PARTLY_READABLE)
def test_an_object_with_an_input_error_is_neither_judged_nor_pinned(
    name: str, obj: str, field: str, error: str
) -> None:
    line = f"error: <stdin> doc 1 {obj}: {error}"
    stream = ((HERE / name).read_text() + "\n---\n" + GOOD).encode()
    result = arch("pin", "--check", *ARM, "-f", "-", stdin=stream)
    assert (result.returncode, error_lines(result)) == (
        2,
        [line, "would pin <stdin> doc 2 Deployment/d", "1 workload(s) not pinned"],
    )
    result = arch("check", *ARM, *NODES, "-f", "-", stdin=stream)
    assert result.returncode == 2
    assert error_lines(result) == [line, "1 workload(s): 1 fit"]
    rows = result.stdout.decode().splitlines()[1:]
    assert [r.split()[:4] for r in rows] == [["<stdin>", "doc", "2", "Deployment/d"]]
    result = arch("check", *ARM, *NODES, "-o", "json", "-f", "-", stdin=stream)
    assert (result.returncode, error_lines(result)) == (2, [line])
    document = json.loads(result.stdout)
    assert [w["kind"] for w in document["workloads"]] == ["Deployment"]
    kind, name_ = obj.split("/")
    assert document["errors"] == [
        {
            "file": "<stdin>",
            "document": 1,
            "apiVersion": document["errors"][0]["apiVersion"],
            "kind": kind,
            "name": name_,
            "field": field,
            "reason": error,
        }
    ]
    assert document["fits"] is True  # every workload checked fits; the errors are listed apart


@pytest.mark.parametrize(("name", "obj", "field", "error"), PARTLY_READABLE)
def test_alone_it_is_only_its_error(name: str, obj: str, field: str, error: str) -> None:
    line = f"error: {name} doc 1 {obj}: {error}"
    for args in (("pin", "--check", *ARM), ("check", *ARM, *NODES), ("check", *ARM, *NODES, "-o", "json")):
        result = arch(*args, "-f", name)
        assert (result.returncode, error_lines(result), result.stdout) == (2, [line], b""), args


WRONG_TYPES = [
    ("wf-nodeSelector-list.yaml", "Workflow/a: spec.nodeSelector is a list, not a mapping"),
    ("wf-tolerations-map.yaml", "Workflow/a: spec.tolerations is a mapping, not a list"),
    ("wf-affinity-str.yaml", "Workflow/a: spec.affinity is a string, not a mapping"),
    (
        "wf-templateDefaults-ns.yaml",
        "Workflow/a: spec.templateDefaults.nodeSelector is a number, not a mapping",
    ),
]


@pytest.mark.parametrize(("name", "error"), WRONG_TYPES)
def test_a_workflow_level_placement_error_names_its_own_path(name: str, error: str) -> None:
    line = f"error: {name} doc 1 {error}"
    for args in (("pin", *ARM), ("pin", "--check", *ARM), ("check", *ARM, *NODES)):
        result = arch(*args, "-f", name)
        assert (result.returncode, error_lines(result), result.stdout) == (2, [line], b""), args


@pytest.mark.parametrize(
    ("placement", "error"),
    [
        ("nodeSelector: true", "spec.nodeSelector is a boolean, not a mapping"),
        ("nodeSelector: 5", "spec.nodeSelector is a number, not a mapping"),
        ("affinity: [a]", "spec.affinity is a list, not a mapping"),
        ("tolerations: {a: 1}", "spec.tolerations is a mapping, not a list"),
        ("tolerations: [x]", "spec.tolerations[0] is a string, not a mapping"),
        (
            "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: "
            "[{matchExpressions: [{key: [a], operator: In, values: [b]}]}]}}}",
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            ".matchExpressions[0].key is a list, not a string",
        ),
    ],
)
def test_wrong_types_are_named_as_yaml_names_them(placement: str, error: str) -> None:
    pod = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  {placement}\n  containers: [{{name: a, image: x}}]\n"
    result = arch("pin", *ARM, stdin=pod.encode())
    assert (result.returncode, error_lines(result)) == (2, [f"error: <stdin> doc 1 Pod/p: {error}"])


OBJECT_TYPES = [  # what follows "error: NAME doc 1"
    ("metadata-list.yaml", " Rollout: metadata is a list, not a mapping"),
    ("apiversion-map.yaml", " Rollout/a: apiVersion is a mapping, not a string"),
    ("kind-int.yaml", ": kind is a number, not a string"),  # no kind to name it by, and no hint
    ("spark-image-map.yaml", " SparkApplication/a: spec.image is a mapping, not an image reference"),
]


@pytest.mark.parametrize(("name", "error"), OBJECT_TYPES)
def test_wrong_types_at_the_object_level_are_input_errors_everywhere(name: str, error: str) -> None:
    line = f"error: {name} doc 1{error}"
    for args in (("pin", *ARM), ("pin", "--check", *ARM), ("check", *ARM, *NODES)):
        result = arch(*args, "-f", name)
        assert (result.returncode, error_lines(result), result.stdout) == (2, [line], b""), args


@pytest.mark.parametrize(
    "document",
    [
        "apiVersion: example.com/v1\nkind: Thing\nmetadata: [1]\nspec:\n  template:\n    spec:\n"
        "      containers: [{name: a, image: nginx}]\n",
        "apiVersion: v1\nkind: [Thing]\nmetadata: {name: a}\n",
    ],
)
def test_any_kind_read_is_refused_with_a_wrong_object_shape(document: str) -> None:
    result = arch("pin", "--check", *ARM, stdin=document.encode())
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: <stdin> doc 1"), lines
    assert "--pod-template-path" not in lines[0]


def test_the_krm_function_refuses_it_alike() -> None:
    doc = (HERE / "kind-int.yaml").read_text()
    resource_list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(
        f"  {line}\n" if i else f"- {line}\n" for i, line in enumerate(doc.splitlines())
    )
    result = arch("pin", *ARM, stdin=resource_list.encode())
    assert result.returncode == 2
    results = yaml.safe_load(result.stdout)["results"]
    assert [(r["severity"], r["message"]) for r in results] == [("error", "kind is a number, not a string")]


@pytest.mark.parametrize(
    ("declaration", "hint"),
    [
        ("Pod=", "Pod.example.com="),
        ("Pod=spec.template.spec", "Pod.example.com=..."),
        ("Service=spec.template.spec", "Service.serving.knative.dev=..."),
    ],
)
def test_the_group_hint_names_a_group_the_kind_has(declaration: str, hint: str) -> None:
    kind = declaration.split("=")[0]
    result = arch("pin", *ARM, "--pod-template-path", declaration, stdin=GOOD.encode())
    assert result.returncode == 0
    assert error_lines(result) == [
        f"warning: --pod-template-path: {kind} without a group matches {kind} objects of every API group "
        f"but the core one (apiVersion: v1); to name one group, write it after the kind: {hint} "
        "(the part of apiVersion before the slash)"
    ]


PATCH_WARNING = (
    "warning: {where}: spec.templates[0].podSpecPatch is not read: the controller applies it to the pod and "
    "it may change where the pod runs; not checked (set the placement in the fields pin reads: affinity, "
    "nodeSelector, tolerations)"
)


def test_an_object_not_checked_is_no_fit_row() -> None:
    where = "wf-sem4.yaml doc 1 Workflow/patch"
    result = arch("check", *ARM, *NODES, "-f", "wf-sem4.yaml")
    assert (result.returncode, result.stdout, error_lines(result)) == (
        1,
        b"",
        [
            PATCH_WARNING.format(where=where),
            f"no workloads found; 1 object(s) not checked: {where}",
        ],
    )
    stream = (HERE / "wf-sem4.yaml").read_text() + "---\n" + GOOD
    result = arch("check", *ARM, *NODES, "-o", "json", "-f", "-", stdin=stream.encode())
    assert result.returncode == 1
    assert error_lines(result) == [PATCH_WARNING.format(where="<stdin> doc 1 Workflow/patch")]
    document = json.loads(result.stdout)
    assert [(w["kind"], w["fits"]) for w in document["workloads"]] == [("Deployment", True)]
    assert [(n["kind"], n["name"]) for n in document["notChecked"]] == [("Workflow", "patch")]


def test_would_pin_names_an_object_once() -> None:
    templates = "".join(
        f"  - name: t{i}\n    container: {{image: alpine}}\n{extra}"
        for i, extra in enumerate(("", "", "    nodeSelector: {kubernetes.io/arch: amd64}\n", ""))
    )
    workflow = f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: w}}\nspec:\n  templates:\n{templates}"
    result = arch("pin", "--check", *ARM, stdin=workflow.encode())
    lines = error_lines(result)
    assert result.returncode == 1
    assert lines[0] == (
        "error: <stdin> doc 1 Workflow/w: nodeSelector kubernetes.io/arch=amd64 excludes every platform the "
        "images support (linux/arm64); containers: 'spec.templates[2].container' alpine"
    )
    assert lines[1:] == ["would pin <stdin> doc 1 Workflow/w", "3 workload(s) not pinned"]


NO_IMAGE = [
    ("tr-step-noimage.yaml", "TaskRun/a: container 'a' has no image"),
    ("wf-noimage.yaml", "Workflow/a: container 'spec.templates[0].container' has no image"),
    ("spark-noimage.yaml", "SparkApplication/a: no image: set spec.driver.image or spec.image"),
    ("flink-noimage.yaml", "FlinkDeployment/a: no image: set spec.image"),
]


@pytest.mark.parametrize(("name", "error"), NO_IMAGE)
def test_a_pod_without_an_image_is_an_input_error_for_every_kind(name: str, error: str) -> None:
    line = f"error: {name} doc 1 {error}"
    for args in (("pin", *ARM), ("pin", "--check", *ARM), ("check", *ARM, *NODES)):
        result = arch(*args, "-f", name)
        lines = error_lines(result)
        assert (result.returncode, lines[0], result.stdout) == (2, line, b""), args
        assert all(x.startswith(f"error: {name} doc 1 ") for x in lines), lines


def test_steps_take_the_step_template_image() -> None:
    task_run = (
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: a}\nspec:\n  taskSpec:\n"
        "    stepTemplate: {image: alpine}\n    steps: [{name: a, script: echo}]\n"
    )
    result = arch("pin", "--check", *ARM, stdin=task_run.encode())
    assert (result.returncode, error_lines(result)) == (
        1,
        ["would pin <stdin> doc 1 TaskRun/a", "1 workload(s) not pinned"],
    )


def test_a_declared_kind_whose_containers_are_absent_is_refused_as_a_plain_declaration() -> None:
    for declaration, line in (
        (
            "Build.ci.example.com=containers:spec.nothere;placement:spec.x",
            "error: custom2.yaml doc 1 Build/b: no containers at spec.nothere",
        ),
        (
            "Build.ci.example.com=spec.nothere",
            "error: custom2.yaml doc 1 Build/b: no pod spec at spec.nothere",
        ),
    ):
        result = arch("pin", "--check", *ARM, "--pod-template-path", declaration, "-f", "custom2.yaml")
        assert (result.returncode, error_lines(result)) == (2, [line])


def test_placement_written_null_is_replaced_when_pinned() -> None:
    """The null rule: a placement key or mapping written null reads as absent, and pin
    writes it there (replacing the null), for every kind whose placement lives apart."""
    result = arch("pin", *ARM, "-f", "placement-null.yaml")
    assert (result.returncode, error_lines(result)) == (0, [])
    pinned = list(yaml.safe_load_all(result.stdout))
    arm = {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}

    def arches(placement: dict) -> list:
        terms = placement["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        return [
            e
            for term in terms["nodeSelectorTerms"]
            for e in term["matchExpressions"]
            if e["key"].endswith("arch")
        ]

    run_, workflow, flink, spark, pipeline = pinned
    assert arches(run_["spec"]["podTemplate"]) == [arm]
    assert arches(workflow["spec"]["templates"][0]) == [arm]
    assert arches(flink["spec"]["podTemplate"]["spec"]) == [arm]
    assert arches(spark["spec"]["driver"]) == [arm] and arches(spark["spec"]["executor"]) == [arm]
    assert arches(pipeline["spec"]["podTemplate"]) == [arm]
    again = arch("pin", *ARM, "-f", "-", stdin=result.stdout)
    assert (again.returncode, again.stdout) == (0, result.stdout)
    judged = arch("check", *ARM, *NODES, "-f", "-", stdin=result.stdout)
    assert (judged.returncode, len(judged.stdout.decode().splitlines())) == (0, 7)  # a heading, 6 rows
    assert "6 workload(s): 6 fit" in (judged.stdout + judged.stderr).decode()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("{a: 1}", "error: <stdin> doc 1 Deployment: metadata.name is a mapping, not a string"),
        ("5", "error: <stdin> doc 1 Deployment/5: metadata.name is a number, not a string"),
        ("true", "error: <stdin> doc 1 Deployment/true: metadata.name is a boolean, not a string"),
    ],
)
def test_a_name_that_is_not_a_string_is_an_input_error(value: str, error: str) -> None:
    """As kubectl refuses it (ObjectMeta.name is a string): never pinned as an unnamed object."""
    doc = GOOD.replace("{name: d}", f"{{name: {value}}}").encode()
    for args in (("pin", *ARM), ("pin", "--check", *ARM), ("check", *ARM, *NODES)):
        result = arch(*args, "-f", "-", stdin=doc)
        assert (result.returncode, error_lines(result), result.stdout) == (2, [error], b"")
    quoted = GOOD.replace("{name: d}", "{name: '5'}").encode()
    assert arch("pin", *ARM, "-f", "-", stdin=quoted).returncode == 0
