"""The workload kinds of the ecosystem's operators that pin knows without being told.

Pure data, read at start-up: nothing is imported. Each kind is named by API group and kind
(and, where its shape changed between versions, the versions); :mod:`.workloads` matches
objects against it.

Two shapes:

* :class:`PodKind`: the kind keeps whole pod specs (containers and placement together) at
  dotted paths, ``[*]`` standing for every item of a list and ``{*}`` for every value of a
  mapping (``spec.tasks[*].template.spec``, ``spec.pytorchReplicaSpecs{*}.template.spec``):
  a value of another type there is an input error;
* :class:`SplitKind`: the kind keeps a pod's containers and its placement (``affinity``,
  ``nodeSelector``, ``tolerations``) in different places, and its controller builds the pod
  from both. Each :class:`Unit` is one pod the controller creates (or one kind of pod: a
  Workflow's template, a SparkApplication's driver).

Paths, groups and the pod each controller builds come from each project's API reference
(CRD documentation); the README lists them.
"""

from __future__ import annotations

from typing import NamedTuple

CONTAINER_LISTS = ("initContainers[*]", "containers[*]", "ephemeralContainers[*]")


class PodKind(NamedTuple):
    """A kind that keeps whole pod specs at ``pods`` (dotted paths from the object).

    A path ending in ``?`` may be absent (LeaderWorkerSet's leader template); the others must
    match. ``refs``: paths that, when present, mean the pod template lives in another object
    (Rollout ``spec.workloadRef``): such an object is not pinned, and it is said."""

    group: str
    kind: str
    pods: tuple[str, ...]
    refs: tuple[str, ...] = ()
    versions: frozenset[str] | None = None  # None: every version
    project: str = ""
    kept: tuple[str, ...] = ()  # of ``pods``: read even when a ref is set (made by this object)


class Unit(NamedTuple):
    """One pod a controller builds from several places of its object.

    ``at``: the path of the unit from the object (``[*]`` every item, ``{*}`` every value; ""
    the object).
    ``containers``: paths from the unit to container mappings (with ``image``) or straight to
    image strings; ``a|b`` takes the first that is present (an image that overrides another).
    ``placement``: the path from the unit to the mapping whose ``affinity``, ``nodeSelector``
    and ``tolerations`` the pod gets ("" the unit itself); created when absent.
    ``defaults``: paths from the object to mappings whose ``affinity``, ``nodeSelector`` and
    ``tolerations`` the pod gets when the placement has none of its own, first first (a
    Workflow's ``spec.affinity``). ``refs``: paths from the unit that, when present, mean
    containers are defined in another object (a TaskRun's ``taskRef``).
    ``needs``: the unit is a pod only when one of these paths is present (a Workflow template
    with a ``container``, ``script`` or ``containerSet``; ``steps`` and ``dag`` make none).
    ``unread``: paths from the unit, and ``patches`` from the object, to placement the
    controller applies to the pod that cannot be read (a patch string): each one present is
    a warning, listed as not checked, and fails ``pin --check`` and ``check``.
    ``overrides``: paths from the unit to mappings that some of its pods put over
    ``placement`` (a PipelineRun's ``taskRunSpecs[].podTemplate``): each one that sets a
    placement key is a pod of its own, merged as ``merge`` says (``keys``, ``nonnull``: key
    by key; ``deep``: recursively, see :func:`.units._merge`) and pinned in that mapping too.
    ``merged``: like ``defaults``, but merged under the pod's own placement recursively
    (Argo Workflows' ``templateDefaults``), before the ``defaults``.
    ``required``: paths from the object that the kind cannot be valid without: missing or
    null, an input error (a walked file: skipped, as a patch).
    ``parts``: paths from the unit to the items that are each a pod of their own with the
    unit's placement (a PipelineRun's tasks); ``containers`` and ``refs`` are then paths from
    each part, and an override belongs to the part its entry's ``match`` key names by
    ``name`` (``pipelineTaskName``): that part's pod; the parts no override takes share the
    unit's placement, pinned there with all their images.
    ``exclusive``: (path, path, why): paths from the object the controller refuses to find
    both set (not null); both set, an input error saying ``why``. ``one_of``: keys of the
    unit of which the controller takes at most one (an Argo template's type); more, an input
    error. ``replaced``: paths from the unit of containers the controller runs with an image
    of its own choosing, whatever the one written (a Spark role template's first container)."""

    at: str
    containers: tuple[str, ...]
    placement: str = ""
    defaults: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()
    patches: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    merge: str = "keys"
    required: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    match: str = ""
    parts_are: str = "parts"  # what a part is called in messages: "tasks"
    exclusive: tuple[tuple[str, str, str], ...] = ()
    one_of: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()


class SplitKind(NamedTuple):
    """A kind whose pods are :class:`Unit` s; ``refs``: paths from the object that, when
    present, mean its pods are defined in another object (a Workflow's
    ``spec.workflowTemplateRef``): not pinned, and said, as for :class:`PodKind`."""

    group: str
    kind: str
    units: tuple[Unit, ...]
    versions: frozenset[str] | None = None
    project: str = ""
    refs: tuple[str, ...] = ()


def _template(prefix: str) -> str:
    return f"{prefix}.template.spec"


_KRUISE = "apps.kruise.io"
_KUBEFLOW_TRAINING = ("PyTorchJob", "pytorch"), ("TFJob", "tf"), ("MPIJob", "mpi"), ("XGBoostJob", "xgb")
_KUBEFLOW_TRAINING += ("PaddleJob", "paddle"), ("JAXJob", "jax"), ("MXJob", "mx")
_RAY_CLUSTER = ("headGroupSpec.template.spec", "workerGroupSpecs[*].template.spec")

POD_KINDS: tuple[PodKind, ...] = (
    PodKind(
        "argoproj.io", "Rollout", ("spec.template.spec",), ("spec.workloadRef",), project="Argo Rollouts"
    ),
    PodKind("serving.knative.dev", "Service", ("spec.template.spec",), project="Knative Serving"),
    PodKind("serving.knative.dev", "Configuration", ("spec.template.spec",), project="Knative Serving"),
    PodKind("serving.knative.dev", "Revision", ("spec",), project="Knative Serving"),
    PodKind(_KRUISE, "CloneSet", ("spec.template.spec",), project="OpenKruise"),
    PodKind(_KRUISE, "StatefulSet", ("spec.template.spec",), project="OpenKruise (Advanced StatefulSet)"),
    PodKind(_KRUISE, "DaemonSet", ("spec.template.spec",), project="OpenKruise (Advanced DaemonSet)"),
    PodKind(_KRUISE, "BroadcastJob", ("spec.template.spec",), project="OpenKruise"),
    PodKind(
        _KRUISE,
        "AdvancedCronJob",
        (
            "spec.template.jobTemplate.spec.template.spec?",
            "spec.template.broadcastJobTemplate.spec.template.spec?",
        ),
        project="OpenKruise",
    ),
    PodKind("keda.sh", "ScaledJob", ("spec.jobTargetRef.template.spec",), project="KEDA"),
    *(
        PodKind(
            "kubeflow.org",
            kind,
            (f"spec.{prefix}ReplicaSpecs{{*}}.template.spec",),
            project="Kubeflow Training",
        )
        for kind, prefix in _KUBEFLOW_TRAINING
    ),
    PodKind("kubeflow.org", "Notebook", ("spec.template.spec",), project="Kubeflow Notebooks"),
    PodKind("ray.io", "RayCluster", tuple(f"spec.{p}" for p in _RAY_CLUSTER), project="KubeRay"),
    PodKind(
        "ray.io",
        "RayJob",
        (*(f"spec.rayClusterSpec.{p}" for p in _RAY_CLUSTER), "spec.submitterPodTemplate.spec?"),
        ("spec.clusterSelector",),
        project="KubeRay",
        # With a clusterSelector the RayJob makes no cluster, but still its submitter Job
        # (submissionMode K8sJobMode, the default: ray-operator's rayjob_controller.go).
        kept=("spec.submitterPodTemplate.spec?",),
    ),
    PodKind(
        "ray.io", "RayService", tuple(f"spec.rayClusterConfig.{p}" for p in _RAY_CLUSTER), project="KubeRay"
    ),
    PodKind("batch.volcano.sh", "Job", ("spec.tasks[*].template.spec",), project="Volcano"),
    PodKind(
        "jobset.x-k8s.io", "JobSet", ("spec.replicatedJobs[*].template.spec.template.spec",), project="JobSet"
    ),
    PodKind(
        "leaderworkerset.x-k8s.io",
        "LeaderWorkerSet",
        ("spec.leaderWorkerTemplate.leaderTemplate.spec?", "spec.leaderWorkerTemplate.workerTemplate.spec"),
        project="LeaderWorkerSet",
    ),
)

# Argo Workflows: each template with a container, script or containerSet is a pod. The
# controller merges spec.templateDefaults under the template (a strategic merge patch:
# mappings merged key by key, mergedTemplateDefaultsInto in workflow/controller/operator.go);
# the pod's affinity, nodeSelector and tolerations are then the template's when set, else the
# workflow's (spec.affinity...), as the controller builds the pod
# (workflow/controller/workflowpod.go, addSchedulingConstraints: a non-empty nodeSelector or
# tolerations, a non-nil affinity; the fields reference: Template, WorkflowSpec).
# podSpecPatch (the template's, templateDefaults', the workflow's) is a JSON or strategic
# merge patch of the pod applied last: not read, and said.
_ARGO_CONTAINERS = (
    "container",
    "script",
    "containerSet.containers[*]",
    "initContainers[*]",
    "sidecars[*]",
)


# The template types, of which a template has exactly one (workflow/validate/validate.go,
# validateTemplateType: "multiple template types specified").
_ARGO_TYPES = ("container", "containerSet", "steps", "dag", "script", "resource", "data", "suspend", "http")
_ARGO_TYPES += ("plugin",)


def _argo(spec: str) -> tuple[Unit, ...]:
    # A step's or a DAG task's inline template (Argo >= 3.2: WorkflowStep.inline,
    # DAGTask.inline) is a template like the others, its pod placed by the same fallback.
    where = (f"{spec}.templates[*]", f"{spec}.templates[*].dag.tasks[*].inline")
    where += (f"{spec}.templates[*].steps[*].[*].inline",)
    return tuple(
        Unit(
            at,
            _ARGO_CONTAINERS,
            "",
            (spec,),
            needs=("container", "script", "containerSet"),
            one_of=_ARGO_TYPES,
            merged=(f"{spec}.templateDefaults",),
            unread=("podSpecPatch",),
            # Only the first unit says the workflow's patches, once.
            patches=(f"{spec}.podSpecPatch", f"{spec}.templateDefaults.podSpecPatch") if not i else (),
            required=(spec,),
        )
        for i, at in enumerate(where)
    )


# Tekton: a TaskRun is one pod, its steps and sidecars. Each task of a PipelineRun
# (spec.pipelineSpec.tasks[], finally[]) is a TaskRun of its own, so a pod of its own: its
# images are its own steps', sidecars' and stepTemplate's, and its placement the run's pod
# template (taskRunTemplate.podTemplate in v1, podTemplate in v1beta1) under the pod template
# of the taskRunSpecs entry naming the task (pipelineTaskName), key by key, the task's
# winning (PipelineRun.GetTaskRunSpec and pod.MergePodTemplateWithDefault in
# tektoncd/pipeline; docs/pipelineruns.md, "Specifying taskRunSpecs"). The tasks without a
# pod template of their own share the run's, pinned for all of them; a task made from
# another object (taskRef) is said, the others still read.
_TEKTON_TASK = ("steps[*]", "sidecars[*]", "stepTemplate")


def _pipeline_run(placement: str, override: str, versions: frozenset[str]) -> SplitKind:
    spec = "spec.pipelineSpec"
    unit = Unit(
        "",
        tuple(f"taskSpec.{c}" for c in _TEKTON_TASK),
        placement,
        (),
        ("taskRef", "pipelineRef"),
        overrides=(f"spec.taskRunSpecs[*].{override}",),
        merge="nonnull",
        required=("spec",),
        parts=(f"{spec}.tasks[*]", f"{spec}.finally[*]"),
        match="pipelineTaskName",
        parts_are="tasks",
    )
    return SplitKind(
        "tekton.dev", "PipelineRun", (unit,), versions, project="Tekton Pipelines", refs=("spec.pipelineRef",)
    )


_V1 = frozenset({"v1"})
_V1BETA1 = frozenset({"v1beta1", "v1alpha1"})


# The Spark operator: the driver and the executors are pods of their own; each runs
# spec.image unless its own image overrides it, with its sidecars and init containers; the
# application's spec.nodeSelector applies to both unless they set their own. A role's pod
# template (spec.driver.template, spec.executor.template: Spark >= 3.0 merges it with what
# the operator sets, by rules of its own) is not read where it sets placement, and said.
def _spark(spec: str) -> tuple[Unit, ...]:
    return tuple(
        Unit(
            spec,
            (
                f"{role}.image|image",
                f"{role}.initContainers[*]",
                f"{role}.sidecars[*]",
                *(f"{role}.template.spec.{c}" for c in ("initContainers[*]", "containers[*]")),
            ),
            role,
            (spec,),
            unread=tuple(
                f"{role}.template.spec.{key}" for key in ("affinity", "nodeSelector", "tolerations")
            ),
            required=(spec,),
            exclusive=((f"{spec}.nodeSelector", f"{spec}.{role}.nodeSelector", _SPARK_NODE_SELECTOR),),
            # Spark runs the template's first container as the driver or executor, with the
            # role's image ("Pod Template" in Spark's running-on-kubernetes docs: the image
            # is always overwritten; spark.kubernetes.*.podTemplateContainerName may name
            # another container, which this does not read).
            replaced=(f"{role}.template.spec.containers[0]",),
        )
        for role in ("driver", "executor")
    )


# The operator's admission webhook refuses an application that sets both (kubeflow/spark-operator,
# the SparkApplication validator: "NodeSelector property can be defined at SparkApplication or at
# any of Driver,Executor").
_SPARK_NODE_SELECTOR = (
    "the Spark operator refuses a nodeSelector at both the application and a role "
    "(it can be defined at the SparkApplication or at the driver or executor); keep one"
)


# Flink: the JobManager and TaskManager pods run spec.image and the containers of the pod
# templates (spec.podTemplate, merged with each role's own); the placement pinned is the
# shared spec.podTemplate's, and that of a role's template that sets placement of its own,
# which the operator merges over the shared one recursively, lists replaced
# (FlinkUtils.mergePodTemplates in apache/flink-kubernetes-operator; its docs, "Pod
# template": "The operator is going to merge the common and specific templates").
_FLINK_TEMPLATES = ("podTemplate", "jobManager.podTemplate", "taskManager.podTemplate")

SPLIT_KINDS: tuple[SplitKind, ...] = (
    SplitKind(
        "argoproj.io",
        "Workflow",
        _argo("spec"),
        project="Argo Workflows",
        refs=("spec.workflowTemplateRef",),
    ),
    SplitKind("argoproj.io", "WorkflowTemplate", _argo("spec"), project="Argo Workflows"),
    SplitKind("argoproj.io", "ClusterWorkflowTemplate", _argo("spec"), project="Argo Workflows"),
    SplitKind(
        "argoproj.io",
        "CronWorkflow",
        _argo("spec.workflowSpec"),
        project="Argo Workflows",
        refs=("spec.workflowSpec.workflowTemplateRef",),
    ),
    SplitKind(
        "tekton.dev",
        "TaskRun",
        (
            Unit(
                "",
                tuple(f"spec.taskSpec.{c}" for c in _TEKTON_TASK),
                "spec.podTemplate",
                (),
                ("spec.taskRef",),
                required=("spec",),
            ),
        ),
        project="Tekton Pipelines",
    ),
    _pipeline_run("spec.taskRunTemplate.podTemplate", "podTemplate", _V1),
    _pipeline_run("spec.podTemplate", "taskPodTemplate", _V1BETA1),
    SplitKind("sparkoperator.k8s.io", "SparkApplication", _spark("spec"), project="Spark operator"),
    SplitKind(
        "sparkoperator.k8s.io", "ScheduledSparkApplication", _spark("spec.template"), project="Spark operator"
    ),
    SplitKind(
        "flink.apache.org",
        "FlinkDeployment",
        (
            Unit(
                "spec",
                ("image", *(f"{t}.spec.{c}" for t in _FLINK_TEMPLATES for c in CONTAINER_LISTS)),
                "podTemplate.spec",
                overrides=("jobManager.podTemplate.spec", "taskManager.podTemplate.spec"),
                merge="deep",
                required=("spec",),
            ),
        ),
        project="Flink Kubernetes operator",
    ),
)

# Kinds that hold containers with images but make no pod of their own: not warned about.
NOT_WORKLOADS: frozenset[tuple[str, str]] = frozenset(
    {
        ("apps.kruise.io", "SidecarSet"),  # injected into other workloads' pods
        ("apps.kruise.io", "ImagePullJob"),
        ("serving.kserve.io", "ServingRuntime"),  # pods come from InferenceServices
        ("serving.kserve.io", "ClusterServingRuntime"),
        ("tekton.dev", "Task"),  # pods come from TaskRuns
        ("tekton.dev", "ClusterTask"),
        ("tekton.dev", "Pipeline"),  # from PipelineRuns
        ("tekton.dev", "StepAction"),
        # Values for charts, and policies that match containers: no pods of their own.
        ("argoproj.io", "Application"),
        ("argoproj.io", "ApplicationSet"),
        ("helm.toolkit.fluxcd.io", "HelmRelease"),
        ("kyverno.io", "ClusterPolicy"),
        ("kyverno.io", "Policy"),
        # Argo Events: the pods of a Sensor or an EventSource run the image the controller
        # is configured with; spec.template.container sets no image (the API reference's
        # Container: env, resources, securityContext, volumeMounts...), so nothing here
        # says their platforms.
        ("argoproj.io", "Sensor"),
        ("argoproj.io", "EventSource"),
    }
)

# Workload kinds whose objects are templates that something else runs (a Workflow made from
# a WorkflowTemplate): pin edits them; audit does not list them (they run nothing themselves).
TEMPLATES_ONLY: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "PodTemplate"),
        ("argoproj.io", "WorkflowTemplate"),
        ("argoproj.io", "ClusterWorkflowTemplate"),
    }
)

# Kinds of the core group (``apiVersion: v1``) whose names other groups reuse.
CORE_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "Service",
        "ConfigMap",
        "Secret",
        "Namespace",
        "Node",
        "Endpoints",
        "Event",
        "ServiceAccount",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "LimitRange",
        "ResourceQuota",
    }
)
