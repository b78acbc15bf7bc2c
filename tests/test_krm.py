"""``kubectl-arch pin`` as a KRM function: a ResourceList on stdin, one on stdout.

Inputs are laid out the way kpt and Kustomize write them (compact sequences, a comment on
an item's first line, annotations in single quotes, block-scalar ids, a flow-style
functionConfig), and outputs are compared byte for byte: only the affinity may change.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from integration_util import KUBECTL_ARCH, describe, platform_term, required_terms, run, tool_env
from registry_util import free_port

from kubectl_arch.config import CONFIGMAP_KEYS

HEADER = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
"""
DEPLOYMENT_ANNOTATIONS = """\
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'apps/web.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'apps/web.yaml'
      internal.config.kubernetes.io/seqindent: 'wide'
      internal.config.kubernetes.io/annotations-migration-resource-id: '0'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
      kustomize.config.k8s.io/id: |
        group: apps
        kind: Deployment
        name: web
        namespace: shop
        version: v1
"""
DEPLOYMENT = (
    """\
- # Package: the web tier.
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # the public name
    namespace: shop
"""
    + DEPLOYMENT_ANNOTATIONS
    + """\
  spec:
    replicas: 2 # scaled by the HPA
    template:
      spec:
        # The application itself.
        containers:
        - name: web
          image: nginx:1.27
        tolerations:
        - key: kubernetes.io/arch
          operator: Exists
"""
)
# A non-workload item, with YAML 1.1 booleans kept as quoted strings.
CONFIGMAP = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: switches
    annotations:
      config.kubernetes.io/index: '1'
      config.kubernetes.io/path: 'apps/web.yaml'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/path: 'apps/web.yaml'
  data:
    enabled: "on"
    legacy: 'yes'
    mode: "off" # kept quoted
"""
SERVICE = """\
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'apps/svc.yaml'
  spec:
    ports:
    - port: 80
      targetPort: "http"
"""
ITEMS = DEPLOYMENT + CONFIGMAP + SERVICE
# As kpt fn eval writes the ConfigMap made of "-- platform=linux/arm64": flow style, no
# apiVersion/kind first.
KPT_CONFIG = """\
functionConfig:
  metadata:
    name: function-input
  data: {platform: linux/arm64}
  kind: ConfigMap
  apiVersion: v1
"""
AFFINITY_ARM64 = """\
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions:
                - key: kubernetes.io/os
                  operator: In
                  values:
                  - linux
                - key: kubernetes.io/arch
                  operator: In
                  values:
                  - arm64
"""
AFFINITY_BOTH = AFFINITY_ARM64.replace(
    "                  - arm64\n", "                  - amd64\n                  - arm64\n"
)
# The affinity goes in ahead of the comment that belongs to "containers".
ANCHOR = "        # The application itself.\n        containers:\n"
PINNED_ITEMS = ITEMS.replace(ANCHOR, AFFINITY_ARM64 + ANCHOR, 1)
# Without platforms the function looks the images up. The environment sends every HTTPS
# request to a proxy address where nothing listens, so the look-up fails the same way with or
# without a network: nginx:1.27 lives on Docker Hub.
# The hint names the options as the functionConfig (a ConfigMap, or none) spells them.
DEAD_PROXY = f"127.0.0.1:{free_port()}"
UNREACHABLE = (
    f"image nginx:1.27: cannot reach proxy http://{DEAD_PROXY} (from $HTTPS_PROXY) for registry-1.docker.io: "
    "connection refused; check the proxy, or add registry-1.docker.io to NO_PROXY",
    "1 image(s) could not be looked up; nothing was pinned (on-unknown-image=skip or "
    "on-unknown-image=assume:os/arch[,...] pins the rest)",
)


def unreachable_env(tmp_path: Path) -> dict[str, str]:
    proxy = f"http://{DEAD_PROXY}"
    env = tool_env(tmp_path, HTTPS_PROXY=proxy, https_proxy=proxy, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for name in ("NO_PROXY", "no_proxy"):
        env.pop(name, None)
    return env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return tool_env(tmp_path)


def pin(env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run([KUBECTL_ARCH, "pin", *args], env, stdin=stdin)


def results_of(output: bytes) -> list[dict[str, Any]]:
    doc = yaml.safe_load(output)
    assert doc["apiVersion"] == "config.kubernetes.io/v1"
    assert doc["kind"] == "ResourceList"
    return doc.get("results") or []


def error_result(message: str) -> str:
    """The results section of a configuration error (no resource to point at)."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'results:\n- message: "{escaped}"\n  severity: error\n'


def test_pins_items_and_keeps_every_other_byte(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + ITEMS + KPT_CONFIG)
    assert proc.returncode == 0, describe(proc)
    assert proc.stderr == b""
    assert proc.stdout.decode() == HEADER + PINNED_ITEMS + KPT_CONFIG


def test_annotations_and_other_items_are_byte_identical(env: dict[str, str]) -> None:
    out = pin(env, HEADER + ITEMS + KPT_CONFIG).stdout.decode()
    # Spelled out on purpose: orchestrators restore files and comments from these.
    assert DEPLOYMENT_ANNOTATIONS in out
    assert "      kustomize.config.k8s.io/id: |\n        group: apps\n" in out
    assert CONFIGMAP in out
    assert SERVICE in out
    doc = yaml.safe_load(out)
    deployment, configmap, service = doc["items"]
    assert required_terms(deployment) == [platform_term(["arm64"])]
    assert configmap["data"] == {"enabled": "on", "legacy": "yes", "mode": "off"}
    assert service["spec"]["ports"] == [{"port": 80, "targetPort": "http"}]
    assert "results" not in doc


@pytest.mark.parametrize(
    "note",
    [
        '    note: "lines that look like keys of the ResourceList\nresults: []\nfunctionConfig: {}\n- x"\n',
        "    note: {text: 'a\nresults: b'}\n",
    ],
)
def test_lines_of_a_multi_line_scalar_that_look_like_top_level_keys(env: dict[str, str], note: str) -> None:
    """Lines of a quoted scalar or flow collection at column 0 are text: they neither end the
    items, nor are results to replace, nor the functionConfig (all of it is kept)."""
    configmap = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: notes\n  data:\n" + note
    stdin = HEADER + configmap + DEPLOYMENT + KPT_CONFIG
    expected = yaml.safe_load(stdin)
    proc = pin(env, stdin)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + configmap + PINNED_ITEMS.split(CONFIGMAP)[0] + KPT_CONFIG
    doc = yaml.safe_load(proc.stdout)
    assert doc["items"][0] == expected["items"][0]
    assert required_terms(doc["items"][1]) == [platform_term(["arm64"])]
    assert "results" not in doc


def test_output_is_stable_when_run_again(env: dict[str, str]) -> None:
    first = pin(env, HEADER + ITEMS + KPT_CONFIG)
    second = pin(env, first.stdout.decode())
    assert second.returncode == 0, describe(second)
    assert second.stdout == first.stdout


def test_wide_sequences_in_items_are_followed(env: dict[str, str]) -> None:
    items = """\
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      annotations:
        config.kubernetes.io/path: 'web.yaml'
    spec:
      template:
        spec:
          containers:
            - name: web
              image: nginx:1.27
"""
    config = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: linux/arm64\n"
    affinity = """\
          affinity:
            nodeAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
                nodeSelectorTerms:
                  - matchExpressions:
                      - key: kubernetes.io/os
                        operator: In
                        values:
                          - linux
                      - key: kubernetes.io/arch
                        operator: In
                        values:
                          - arm64
"""
    anchor = "          containers:\n"
    proc = pin(env, HEADER + items + config)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + items.replace(anchor, affinity + anchor) + config


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(KPT_CONFIG, id="configmap-flow-kpt-order"),
        pytest.param(
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: pin\n"
            "  data:\n    platform: linux/arm64\n",
            id="configmap-block",
        ),
        pytest.param(
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: 'linux/arm64'\n",
            id="configmap-quoted",
        ),
        pytest.param(
            "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n"
            "  metadata:\n    name: pin\n  platforms:\n  - linux/arm64\n",
            id="platformpin-list",
        ),
        pytest.param(
            "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n"
            "  platforms: linux/arm64\n",
            id="platformpin-string",
        ),
    ],
)
def test_function_config_forms(env: dict[str, str], config: str) -> None:
    proc = pin(env, HEADER + ITEMS + config)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + PINNED_ITEMS + config


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n"
            "  data: {platform: 'linux/amd64,linux/arm64'}\n",
            id="configmap-comma-list",
        ),
        pytest.param(
            "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n"
            "  platforms: linux/amd64, linux/arm64\n",
            id="platformpin-comma-string",
        ),
        pytest.param(
            "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n"
            '  metadata:\n    name: pin\n    annotations:\n      config.kubernetes.io/local-config: "true"\n'
            "      config.kubernetes.io/path: 'pin.yaml'\n"
            "  platforms:\n  - linux/arm64\n  - linux/amd64\n",
            id="platformpin-list-kpt-config-path",
        ),
    ],
)
def test_several_platforms(env: dict[str, str], config: str) -> None:
    proc = pin(env, HEADER + ITEMS + config)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + ITEMS.replace(ANCHOR, AFFINITY_BOTH + ANCHOR) + config


def test_pod_template_path_from_function_config(env: dict[str, str]) -> None:
    rollout = """\
- apiVersion: argoproj.io/v1alpha1
  kind: Rollout
  metadata:
    name: canary
  spec:
    template:
      spec:
        containers:
        - name: app
          image: nginx:1.27
"""
    config = (
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    platform: linux/arm64\n"
        "    pod-template-path: Rollout.argoproj.io=spec.template.spec\n"
    )
    proc = pin(env, HEADER + rollout + config)
    assert proc.returncode == 0, describe(proc)
    anchor = "        containers:\n"
    assert proc.stdout.decode() == HEADER + rollout.replace(anchor, AFFINITY_ARM64 + anchor) + config


def test_flags_stand_in_for_a_missing_function_config(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + ITEMS, "--platform", "linux/arm64")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + PINNED_ITEMS


def test_flags_take_precedence_over_function_config(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + ITEMS + KPT_CONFIG, "--platform", "linux/amd64,linux/arm64")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + ITEMS.replace(ANCHOR, AFFINITY_BOTH + ANCHOR) + KPT_CONFIG


# Configuration errors. The KRM function spec makes functionConfig optional for the
# orchestrator, but a function that cannot work without it fails: it exits non-zero, says
# why on stderr, and still writes the ResourceList (items unchanged) with an error result so
# that kpt lists the problem among the function's results.


# Findings are the results of the output ResourceList, which orchestrators show (kpt under
# "Results"); stderr has no second copy, only one line when a result is an error.
ONE_ERROR = "error: 1 error in the results of the output ResourceList\n"


def assert_config_error(proc: subprocess.CompletedProcess[bytes], stdin: str, message: str) -> None:
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout.decode() == stdin + error_result(message)
    assert results_of(proc.stdout) == [{"message": message, "severity": "error"}]
    assert proc.stderr.decode() == ONE_ERROR


def assert_lookup_failed(proc: subprocess.CompletedProcess[bytes], stdin: str) -> None:
    assert proc.returncode == 3, describe(proc)
    assert results_of(proc.stdout) == [{"message": m, "severity": "error"} for m in UNREACHABLE]
    assert proc.stdout.decode() == stdin + "results:\n" + "".join(
        f'- message: "{m}"\n  severity: error\n' for m in UNREACHABLE
    )
    assert (
        proc.stderr.decode()
        == f"error: {len(UNREACHABLE)} errors in the results of the output ResourceList\n"
    )


def test_missing_function_config_looks_images_up(tmp_path: Path) -> None:
    stdin = HEADER + ITEMS
    assert_lookup_failed(pin(unreachable_env(tmp_path), stdin), stdin)


@pytest.mark.parametrize(
    "config",
    [
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n",
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {}\n",
        "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {platform: ''}\n",
        "functionConfig: {}\n",
    ],
    ids=["no-data", "empty-data", "empty-platform", "empty-object"],
)
def test_function_config_without_platforms_looks_images_up(tmp_path: Path, config: str) -> None:
    stdin = HEADER + ITEMS + config
    assert_lookup_failed(pin(unreachable_env(tmp_path), stdin), stdin)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "{platfrom: linux/arm64}",
            "ResourceList functionConfig ConfigMap: unknown option 'platfrom'; did you mean 'platform'? "
            f"(known: {', '.join(CONFIGMAP_KEYS)})",
        ),
        (
            "{platform: linux/arm64, pod-template-paths: 'Rollout=spec.template.spec'}",
            "ResourceList functionConfig ConfigMap: unknown option 'pod-template-paths'; "
            f"did you mean 'pod-template-path'? (known: {', '.join(CONFIGMAP_KEYS)})",
        ),
        (
            "{arch: arm64}",
            "ResourceList functionConfig ConfigMap: unknown option 'arch' "
            "(known: platform, pod-template-path, from-registry, on-unknown-image, lock, locked, digests, images-from, "
            "insecure-registry, registry-ca-file, request-timeout, refresh, tag-cache-ttl, cluster, kubeconfig, context, "
            "selector, tolerate-arch-taints, arch-taint)",
        ),
        (
            "{platform: linux}",
            "ResourceList functionConfig ConfigMap: platform: invalid platform 'linux': "
            "expected os/arch[/variant], e.g. linux/arm64",
        ),
        (
            "{platform: linux/arm64, pod-template-path: Rollout}",
            "ResourceList functionConfig ConfigMap: pod-template-path: invalid pod template path "
            "'Rollout': expected Kind[.group]=dotted.path, e.g. Rollout.argoproj.io=spec.template.spec; "
            "Kind[.group]=containers:PATH[+PATH...];placement:PATH when containers and placement are apart; "
            "or Kind[.group]= for a kind that makes no pods",
        ),
    ],
    ids=["typo", "plural", "unknown", "bad-platform", "bad-pod-template-path"],
)
def test_configmap_errors(env: dict[str, str], data: str, message: str) -> None:
    stdin = HEADER + ITEMS + f"functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {data}\n"
    assert_config_error(pin(env, stdin), stdin, message)


PLATFORMPIN = "functionConfig:\n  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            "  platform: linux/arm64\n",
            "unknown field 'platform'; did you mean 'platforms'? (known: platforms, podTemplatePaths, "
            "fromRegistry, onUnknownImage, lock, locked, digests, imagesFrom, insecureRegistries, registryCAFile, "
            "requestTimeout, refresh, tagCacheTTL, cluster, kubeconfig, context, selector, tolerateArchTaints, "
            "archTaints)",
        ),
        ("  platforms: []\n", "platforms: [] should be non-empty"),
        ("  platforms: 64\n", "platforms: expected a string or a list of strings, got a number"),
        ("  platforms:\n  - linux/arm64\n  - ''\n", "platforms[1]: '' should be non-empty"),
        (
            "  platforms: [linux/arm64]\n"
            "  podTemplatePaths: [Rollout.argoproj.io=spec.template.spec, Rollout]\n",
            "podTemplatePaths[1]: invalid pod template path 'Rollout': expected Kind[.group]=dotted.path, e.g. Rollout.argoproj.io=spec.template.spec; "
            "Kind[.group]=containers:PATH[+PATH...];placement:PATH when containers and placement are apart; "
            "or Kind[.group]= for a kind that makes no pods",
        ),
        (
            "  platforms: [linux/arm46]\n",
            "platforms: invalid platform 'linux/arm46': unknown architecture 'arm46'; "
            "did you mean linux/arm64?",
        ),
        (
            "  spec:\n    platforms: [linux/arm64]\n",
            "unknown field 'spec' (known: platforms, podTemplatePaths, fromRegistry, onUnknownImage, lock, "
            "locked, digests, imagesFrom, insecureRegistries, registryCAFile, requestTimeout, refresh, tagCacheTTL, cluster, kubeconfig, "
            "context, selector, tolerateArchTaints, archTaints)",
        ),
    ],
    ids=["typo", "empty-list", "number", "empty-item", "bad-pod-template-path", "bad-platform", "nested"],
)
def test_platformpin_schema_errors_name_the_field(env: dict[str, str], fields: str, message: str) -> None:
    stdin = HEADER + ITEMS + PLATFORMPIN + fields
    assert_config_error(pin(env, stdin), stdin, f"ResourceList functionConfig PlatformPin: {message}")


def test_unsupported_function_config_kind(env: dict[str, str]) -> None:
    stdin = HEADER + ITEMS + "functionConfig:\n  apiVersion: v1\n  kind: Secret\n  data: {}\n"
    message = (
        "ResourceList functionConfig: unsupported kind v1/Secret; "
        "use a v1 ConfigMap or kubectl-arch.dev/v1alpha1 PlatformPin"
    )
    assert_config_error(pin(env, stdin), stdin, message)


# Findings about the items.

CONFLICT_DEPLOYMENT = DEPLOYMENT.replace(
    "        # The application itself.\n",
    "        nodeSelector:\n          kubernetes.io/arch: s390x\n        # The application itself.\n",
)
CONFLICT_MESSAGE = (
    "nodeSelector kubernetes.io/arch=s390x excludes every platform the images support "
    "(linux/arm64); containers: 'web' nginx:1.27"
)


def test_conflict_is_an_error_result_and_items_stay(env: dict[str, str]) -> None:
    stdin = HEADER + CONFLICT_DEPLOYMENT + CONFIGMAP + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 1, describe(proc)
    out = proc.stdout.decode()
    assert out.startswith(stdin + "results:\n")  # nothing edited, results appended
    [result] = results_of(proc.stdout)
    del result["field"]  # see test_conflict_field_names_the_node_selector
    assert result == {
        "message": CONFLICT_MESSAGE,
        "severity": "error",
        "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"},
        # The index is an integer (kpt rejects a string there).
        "file": {"path": "apps/web.yaml", "index": 0},
    }
    assert proc.stderr.decode() == ONE_ERROR


def test_conflict_field_names_the_node_selector(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + CONFLICT_DEPLOYMENT + KPT_CONFIG)
    [result] = results_of(proc.stdout)
    assert result["field"] == {"path": "spec.template.spec.nodeSelector"}


def test_affinity_conflict_result_is_exact(env: dict[str, str]) -> None:
    deployment = DEPLOYMENT.replace(
        "        # The application itself.\n",
        "        affinity:\n          nodeAffinity:\n"
        "            requiredDuringSchedulingIgnoredDuringExecution:\n"
        "              nodeSelectorTerms:\n              - matchExpressions:\n"
        "                - {key: kubernetes.io/arch, operator: In, values: [s390x]}\n"
        "        # The application itself.\n",
    )
    stdin = HEADER + SERVICE + deployment + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 1, describe(proc)
    message = (
        "required node affinity admits no platform the images support (linux/arm64): "
        "term 0 (kubernetes.io/arch In [s390x]) admits none of them; containers: 'web' nginx:1.27"
    )
    assert proc.stdout.decode() == stdin + (
        "results:\n"
        f'- message: "{message}"\n'
        "  severity: error\n"
        "  resourceRef:\n"
        "    apiVersion: apps/v1\n"
        "    kind: Deployment\n"
        "    name: web\n"
        "    namespace: shop\n"
        "  field:\n"
        "    path: spec.template.spec.affinity\n"
        "  file:\n"
        "    path: apps/web.yaml\n"
        "    index: 0\n"
    )


def test_one_conflict_leaves_every_item_unchanged(env: dict[str, str]) -> None:
    second = """\
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: agent
    annotations:
      config.kubernetes.io/index: '3'
      config.kubernetes.io/path: 'agent.yaml'
  spec:
    template:
      spec:
        containers:
        - name: agent
          image: fluent/fluent-bit:3.1
"""
    stdin = HEADER + second + CONFLICT_DEPLOYMENT + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 1, describe(proc)
    assert proc.stdout.decode().startswith(stdin + "results:\n")
    assert [r["severity"] for r in results_of(proc.stdout)] == ["error"]


def test_item_input_error_is_an_error_result(env: dict[str, str]) -> None:
    broken = """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: broken
    annotations:
      config.kubernetes.io/index: '2'
      config.kubernetes.io/path: 'broken.yaml'
  spec:
    template:
      spec:
        containers:
        - name: app
"""
    stdin = HEADER + DEPLOYMENT + broken + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout.decode().startswith(stdin + "results:\n")
    assert results_of(proc.stdout) == [
        {
            "message": "container 'app' has no image",
            "severity": "error",
            "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "broken"},
            "field": {"path": "spec.template.spec.containers[0].image"},
            "file": {"path": "broken.yaml", "index": 2},
        }
    ]


DROPPED_TERM_DEPLOYMENT = """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '2'
      config.kubernetes.io/path: 'web.yaml'
  spec:
    template:
      spec:
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions:
                - key: kubernetes.io/arch
                  operator: In
                  values: [s390x]
              - matchExpressions:
                - key: disktype
                  operator: In
                  values: [ssd]
        containers:
        - name: web
          image: nginx:1.27
"""
DROPPED_TERM_PINNED = """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '2'
      config.kubernetes.io/path: 'web.yaml'
  spec:
    template:
      spec:
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions:
                - key: disktype
                  operator: In
                  values: [ssd]
                - key: kubernetes.io/os
                  operator: In
                  values:
                  - linux
                - key: kubernetes.io/arch
                  operator: In
                  values:
                  - arm64
        containers:
        - name: web
          image: nginx:1.27
"""
DROPPED_MESSAGE = (
    "dropped required node affinity term 0 (kubernetes.io/arch In [s390x]): "
    "it admits no platform the images support (linux/arm64)"
)
DROPPED_RESULTS = f"""\
results:
- message: "{DROPPED_MESSAGE}"
  severity: warning
  resourceRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  field:
    path: spec.template.spec.affinity
  file:
    path: web.yaml
    index: 2
"""


def test_warning_is_a_result_and_exit_zero(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + DROPPED_TERM_DEPLOYMENT + CONFIGMAP + KPT_CONFIG)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + DROPPED_TERM_PINNED + CONFIGMAP + KPT_CONFIG + DROPPED_RESULTS
    assert proc.stderr.decode() == ""  # the warning is a result: kpt shows it once


STALE_RESULTS = """\
results:
- message: "from an earlier function"
  severity: info
- message: "another one"
  severity: warning
"""


@pytest.mark.parametrize("where", ["end", "before-items", "before-config"])
def test_existing_results_are_replaced(env: dict[str, str], where: str) -> None:
    items = DROPPED_TERM_DEPLOYMENT + CONFIGMAP
    if where == "end":
        stdin = HEADER + items + KPT_CONFIG + STALE_RESULTS
    elif where == "before-items":
        stdin = HEADER.replace("items:\n", STALE_RESULTS + "items:\n") + items + KPT_CONFIG
    else:
        stdin = HEADER + items + STALE_RESULTS + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 0, describe(proc)
    out = proc.stdout.decode()
    assert out.count("results:") == 1
    assert "earlier function" not in out and "another one" not in out
    assert results_of(proc.stdout) == [
        {
            "message": DROPPED_MESSAGE,
            "severity": "warning",
            "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "field": {"path": "spec.template.spec.affinity"},
            "file": {"path": "web.yaml", "index": 2},
        }
    ]
    assert out == stdin.replace(STALE_RESULTS, "").replace(DROPPED_TERM_DEPLOYMENT, DROPPED_TERM_PINNED) + (
        DROPPED_RESULTS
    )


def test_existing_results_are_dropped_when_there_is_nothing_to_report(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + ITEMS + KPT_CONFIG + STALE_RESULTS)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == HEADER + PINNED_ITEMS + KPT_CONFIG


def test_config_error_replaces_existing_results(env: dict[str, str]) -> None:
    config = "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {platform: linux}\n"
    stdin = HEADER + ITEMS + config + STALE_RESULTS
    proc = pin(env, stdin)
    assert proc.returncode == 2, describe(proc)
    message = (
        "ResourceList functionConfig ConfigMap: platform: invalid platform 'linux': "
        "expected os/arch[/variant], e.g. linux/arm64"
    )
    assert proc.stdout.decode() == HEADER + ITEMS + config + error_result(message)


NO_WORKLOADS = (
    "ResourceList: no workloads found, nothing to pin (a workload kind of your own is declared with "
    "pod-template-path)"
)


def test_empty_items(env: dict[str, str]) -> None:
    # No workload is not an error: the items pass through, with a warning result.
    stdin = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n" + KPT_CONFIG
    proc = pin(env, stdin)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == stdin + f'results:\n- message: "{NO_WORKLOADS}"\n  severity: warning\n'
    assert proc.stderr.decode() == ""


def test_crlf_resource_list(env: dict[str, str]) -> None:
    stdin = (HEADER + ITEMS + KPT_CONFIG).replace("\n", "\r\n")
    proc = pin(env, stdin)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.decode() == (HEADER + PINNED_ITEMS + KPT_CONFIG).replace("\n", "\r\n")


def test_resource_list_options_that_do_not_apply(env: dict[str, str]) -> None:
    proc = pin(env, HEADER + ITEMS + KPT_CONFIG, "--check")
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == b""
    assert proc.stderr.decode().startswith(
        "error: --in-place, --diff and --check do not apply to a ResourceList\n"
    )


# -- hints name the options as the functionConfig spells them ----------------------------------


def test_lookup_hint_names_platformpin_fields(tmp_path: Path) -> None:
    stdin = HEADER + ITEMS + PLATFORMPIN + "  metadata:\n    name: pin\n  fromRegistry: true\n"
    proc = pin(unreachable_env(tmp_path), stdin)
    assert proc.returncode == 3, describe(proc)
    assert [r["message"] for r in results_of(proc.stdout)] == [
        UNREACHABLE[0],
        "1 image(s) could not be looked up; nothing was pinned (onUnknownImage: skip or "
        "onUnknownImage: assume:os/arch[,...] pins the rest)",
    ]


def test_lookup_hint_keeps_the_flags_given_in_the_exec_string(tmp_path: Path) -> None:
    stdin = HEADER + ITEMS
    proc = pin(unreachable_env(tmp_path), stdin, "--on-unknown-image", "fail")
    assert proc.returncode == 3, describe(proc)
    assert [r["message"] for r in results_of(proc.stdout)][1] == (
        "1 image(s) could not be looked up; nothing was pinned (--on-unknown-image=skip or "
        "--on-unknown-image=assume:os/arch[,...] pins the rest)"
    )


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        (
            "  kind: ConfigMap\n  apiVersion: v1\n  data: {images-from: missing.json, platform: linux/arm64}\n",
            (),
            "images-from missing.json: no such file or directory",
        ),
        (
            "  apiVersion: kubectl-arch.dev/v1alpha1\n  kind: PlatformPin\n  metadata: {name: p}\n"
            "  platforms: [linux/arm64]\n  imagesFrom: [missing.json]\n",
            (),
            "imagesFrom missing.json: no such file or directory",
        ),
        (
            "  kind: ConfigMap\n  apiVersion: v1\n  data: {platform: linux/arm64}\n",
            ("--images-from", "missing.json"),
            "--images-from missing.json: no such file or directory",
        ),
        (
            "  kind: ConfigMap\n  apiVersion: v1\n  data: {locked: missing.lock}\n",
            (),
            # a command to run keeps its flags
            "missing.lock: no such lock file (write one with kubectl arch pin --lock missing.lock)",
        ),
    ],
    ids=["configmap", "platformpin", "flag", "command"],
)
def test_errors_inside_the_function_name_the_config_key(
    env: dict[str, str], tmp_path: Path, config: str, args: tuple[str, ...], message: str
) -> None:
    stdin = HEADER + ITEMS + "functionConfig:\n" + config
    proc = run([KUBECTL_ARCH, "pin", *args], env, stdin=stdin, cwd=tmp_path)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout.decode() == stdin + error_result(message)
    assert proc.stderr.decode() == ONE_ERROR


@pytest.mark.parametrize(
    ("function_config", "flags", "message", "expected"),
    [
        (None, {}, "--lock and --locked cannot be combined", "lock and locked cannot be combined"),
        (
            {"kind": "ConfigMap"},
            {},
            "nothing was pinned (--on-unknown-image=skip pins the rest)",
            "nothing was pinned (on-unknown-image=skip pins the rest)",
        ),
        (
            {"kind": "PlatformPin"},
            {},
            "nothing was pinned (--on-unknown-image=skip pins the rest); see --request-timeout",
            "nothing was pinned (onUnknownImage: skip pins the rest); see requestTimeout",
        ),
        ({"kind": "PlatformPin"}, {}, "-l/--selector 'a=': rejected", "selector 'a=': rejected"),
        (
            {"kind": "PlatformPin"},
            {"selector": "a="},
            "-l/--selector 'a=': rejected",
            "-l/--selector 'a=': rejected",
        ),
        (
            None,
            {},
            "add --from-registry, --platforms-x --nodes-file",
            "add from-registry, --platforms-x --nodes-file",
        ),
        (
            None,
            {},
            "not in lock file F; update it with kubectl arch pin --lock F",
            "not in lock file F; update it with kubectl arch pin --lock F",
        ),
    ],
)
def test_messages_are_spelt_as_the_function_config(
    function_config: Any, flags: dict[str, Any], message: str, expected: str
) -> None:
    from kubectl_arch import config

    spelling = config.Spelling.of(function_config, config.PinSettings(**flags))
    assert spelling(message) == expected
