"""``kubectl arch audit`` on the ecosystem's workload kinds, listed without any declaration
when the API server serves them (discovery), against the suite's API server and the real
registry:

* ml/front: an Argo Rollout -> ReplicaSet -> Pod on an arm64 node, amd64-only image -> broken,
  attributed to the Rollout;
* ml/train: a Kubeflow PyTorchJob (Master and Worker templates) whose pods it owns -> ok;
* ml/nightly: an Argo Workflow (containers in its templates, placement from the workflow's
  spec.nodeSelector, as the workflow controller builds the pod) -> ok;
* ml/build: a Tekton PipelineRun -> TaskRun -> Pod, the TaskRun's image amd64 only -> at-risk;
* ml/etl: a SparkApplication -> driver Pod -> executor Pod on an arm64 node, amd64-only image
  -> broken, the executor attributed to the application through its driver;
* ray.io (KubeRay) is not served: nothing is asked of it, nothing said.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, Kind, load_nodes
from registry_util import LINUX_AMD64, LINUX_ARM64, Populated, client_for, push_image, push_multiarch
from test_cli_audit import AMD, AMD1, ARM1, BOTH, EKS, audit, workload

CUSTOM = (
    Kind("argoproj.io", "v1alpha1", "workflows", "Workflow", True, ("wf",)),
    Kind("kubeflow.org", "v1", "pytorchjobs", "PyTorchJob", True),
    Kind("tekton.dev", "v1", "pipelineruns", "PipelineRun", True, ("pr",)),
    Kind("tekton.dev", "v1", "taskruns", "TaskRun", True, ("tr",)),
    Kind("sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication", True),
)
NS = "ml"


class Images:
    def __init__(self, registry: Populated) -> None:
        client = client_for(registry.registry)
        self.host = host = registry.registry.host
        self.app = push_image(client, f"{host}/eco/app:1.0", LINUX_AMD64).digest
        self.train = push_multiarch(client, f"{host}/eco/train:2.0", [LINUX_AMD64, LINUX_ARM64]).digest

    def ref(self, name: str) -> str:
        return f"{self.host}/eco/{name}"


@pytest.fixture(scope="module")
def images(populated_registry: Populated) -> Images:
    return Images(populated_registry)


def _obj(api_version: str, kind: str, name: str, spec: dict[str, Any], owner: Any = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{kind.lower()}-{name}"}
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _pod(name: str, owner: Any, node: str, container: str, image: str) -> dict[str, Any]:
    pod = _obj(
        "v1", "Pod", name, {"nodeName": node, "containers": [{"name": container, "image": image}]}, owner
    )
    pod["status"] = {"phase": "Running"}
    return pod


def objects(images: Images) -> list[dict[str, Any]]:
    app, train = images.ref("app:1.0"), images.ref("train:2.0")
    rollout = _obj(
        "argoproj.io/v1alpha1", "Rollout", "front",
        {"replicas": 1, "template": {"spec": {"containers": [{"name": "front", "image": app}]}}},
    )  # fmt: skip
    replicas = _obj(
        "apps/v1", "ReplicaSet", "front-7c5d9f", {"template": {"spec": {"containers": [{"name": "front", "image": app}]}}},
        rollout,
    )  # fmt: skip
    replica = {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch", "image": train}]}}}
    job = _obj(
        "kubeflow.org/v1",
        "PyTorchJob",
        "train",
        {"pytorchReplicaSpecs": {"Master": replica, "Worker": replica}},
    )
    workflow = _obj(
        "argoproj.io/v1alpha1", "Workflow", "nightly",
        {
            "entrypoint": "all",
            "nodeSelector": {"kubernetes.io/arch": "amd64"},
            "templates": [
                {"name": "all", "steps": [[{"name": "main", "template": "main"}]]},
                {"name": "main", "container": {"image": app, "command": ["run"]}},
            ],
        },
    )  # fmt: skip
    steps = {"steps": [{"name": "compile", "image": app}]}
    pipeline = _obj(
        "tekton.dev/v1",
        "PipelineRun",
        "build",
        {"pipelineSpec": {"tasks": [{"name": "compile", "taskSpec": steps}]}},
    )
    task = _obj("tekton.dev/v1", "TaskRun", "build-compile", {"taskSpec": steps}, pipeline)
    spark = _obj(
        "sparkoperator.k8s.io/v1beta2", "SparkApplication", "etl",
        {"image": app, "nodeSelector": {"kubernetes.io/arch": "amd64"}, "driver": {}, "executor": {"instances": 1}},
    )  # fmt: skip
    driver = _pod("etl-driver", spark, AMD1, "spark-kubernetes-driver", app)
    return [
        rollout, replicas, _pod("front-7c5d9f-zq8xw", replicas, ARM1, "front", app),
        job, _pod("train-master-0", job, AMD1, "pytorch", train), _pod("train-worker-0", job, ARM1, "pytorch", train),
        workflow, _pod("nightly-main-1", workflow, AMD1, "main", app),
        pipeline, task, _pod("build-compile-pod", task, AMD1, "step-compile", app),
        spark, driver, _pod("etl-exec-1", driver, ARM1, "spark-kubernetes-executor", app),
    ]  # fmt: skip


@pytest.fixture
def server(images: Images) -> Any:
    with ApiServer(load_nodes(EKS), objects=objects(images), custom_kinds=CUSTOM) as api:
        yield api


def _image(container: str, image: str, digest: str, platforms: list[str]) -> dict[str, Any]:
    return {
        "container": container,
        "image": image,
        "platforms": platforms,
        "digest": digest,
        "staleDigests": [],
    }


def expected_workloads(images: Images, forbidden_job: bool = False) -> list[dict[str, Any]]:
    app, train = images.ref("app:1.0"), images.ref("train:2.0")
    train_images = [_image("pytorch", train, images.train, BOTH)]
    return [
        workload(
            "PipelineRun", "tekton.dev/v1", NS, "build", "at-risk",
            [_image("compile/compile", app, images.app, AMD)], 1,  # task/step
            reason=f"the scheduler may place pods on nodes it cannot run on: 2 Ready nodes run linux/arm64, "
            f"which image {app} cannot run on",
        ),
        workload(
            "PyTorchJob", "kubeflow.org/v1", NS, "train", "ok", train_images, 2, BOTH, from_pods=forbidden_job
        ),
        workload(
            "Rollout", "argoproj.io/v1alpha1", NS, "front", "broken", [_image("front", app, images.app, AMD)], 1,
            reason=f"1 pod on linux/arm64 nodes ({ARM1}), which image {app} cannot run on",
            broken=[{"platform": "linux/arm64", "pods": 1, "nodes": [ARM1]}],
        ),
        workload(
            "SparkApplication", "sparkoperator.k8s.io/v1beta2", NS, "etl", "broken",
            [_image("spec.image", app, images.app, AMD)], 2,
            reason=f"1 pod on linux/arm64 nodes ({ARM1}), which image {app} cannot run on",
            broken=[{"platform": "linux/arm64", "pods": 1, "nodes": [ARM1]}],
        ),
        workload(
            "Workflow", "argoproj.io/v1alpha1", NS, "nightly", "ok",
            [_image("spec.templates[1].container", app, images.app, AMD)], 1,
        ),
    ]  # fmt: skip


def test_ecosystem_kinds_are_listed_and_own_their_pods(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    proc = audit(tmp_path, server, "-A", "-o", "json")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""  # ray.io and the other unserved groups: nothing said
    document = json.loads(proc.stdout)
    assert document["workloads"] == expected_workloads(images)
    assert document["unreadable"] == []
    assert document["warnings"] == []
    assert document["summary"]["text"] == "5 workloads in 1 namespace: 2 ok, 1 at risk, 2 broken (2 pods)"
    # One discovery pass: /apis, then the documents of the groups served that hold kinds it
    # lists, each once; nothing of the groups not served; each served kind listed once.
    paths = [r.path for r in server.requests]
    discovery = sorted(
        p for p in paths if p in ("/api/v1", "/apis") or (p.startswith("/apis/") and p.count("/") == 3)
    )
    assert discovery == sorted(
        [
            "/api/v1", "/apis", "/apis/apps/v1", "/apis/batch/v1", "/apis/argoproj.io/v1alpha1",
            "/apis/kubeflow.org/v1", "/apis/tekton.dev/v1", "/apis/sparkoperator.k8s.io/v1beta2",
        ]
    )  # fmt: skip
    listed = sorted(p for p in paths if p not in discovery)
    assert listed == sorted(
        [
            "/api/v1/nodes", "/api/v1/pods", "/api/v1/replicationcontrollers",
            *(f"/apis/apps/v1/{r}" for r in ("daemonsets", "deployments", "replicasets", "statefulsets")),
            "/apis/batch/v1/cronjobs", "/apis/batch/v1/jobs",
            "/apis/argoproj.io/v1alpha1/rollouts", "/apis/argoproj.io/v1alpha1/workflows",
            "/apis/kubeflow.org/v1/pytorchjobs", "/apis/tekton.dev/v1/pipelineruns", "/apis/tekton.dev/v1/taskruns",
            "/apis/sparkoperator.k8s.io/v1beta2/sparkapplications",
        ]
    )  # fmt: skip


def test_a_refused_ecosystem_resource_is_unreadable_and_the_rest_audited(
    tmp_path: Path, images: Images, server: ApiServer
) -> None:
    server.forbidden_resources = frozenset({"pytorchjobs"})
    proc = audit(tmp_path, server, "-A", "-o", "json")
    assert proc.returncode == 1, proc.stderr
    refused = (
        f'API server {server.url} (context "test") refused to list pytorchjobs.kubeflow.org (403 Forbidden: '
        'pytorchjobs.kubeflow.org is forbidden: User "ci-admin" cannot list resource "pytorchjobs" in API group '
        '"kubeflow.org" at the cluster scope); ask a cluster administrator for permission to list '
        'pytorchjobs.kubeflow.org (verb list on pytorchjobs in API group "kubeflow.org")'
    )
    document = json.loads(proc.stdout)
    assert document["unreadable"] == [{"resource": "pytorchjobs.kubeflow.org", "message": refused}]
    assert document["warnings"] == [f"{refused}; the rest is audited without it"]
    assert proc.stderr == f"warning: {refused}; the rest is audited without it\n"
    # Its pods are still one workload, judged from the pods alone (its object was not read).
    assert document["workloads"] == expected_workloads(images, forbidden_job=True)


def test_the_table_names_the_top_level_owners(tmp_path: Path, images: Images, server: ApiServer) -> None:
    proc = audit(tmp_path, server, "-n", NS)
    assert proc.returncode == 1
    assert proc.stdout == (
        "NAMESPACE   WORKLOAD               STATUS    PLATFORMS\n"
        "ml          PipelineRun/build      at-risk   linux/amd64\n"
        "ml          PyTorchJob/train       ok        linux/amd64,linux/arm64\n"
        "ml          Rollout/front          broken    linux/amd64\n"
        "ml          SparkApplication/etl   broken    linux/amd64\n"
        "ml          Workflow/nightly       ok        linux/amd64\n"
    )
