"""kubectl-arch as a Kustomize plugin, run by the real ``kubectl kustomize``.

Installed as ``$XDG_CONFIG_HOME/kustomize/plugin/kubectl-arch.dev/v1alpha1/platformpin/PlatformPin``
(a symlink to kubectl-arch, or a shell shim), it is a legacy exec transformer: Kustomize runs
``PlatformPin CONFIG_FILE`` with the resources as a YAML stream on stdin. The build output
must be what Kustomize gives without the transformer, plus the affinity.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from integration_util import (
    KUBECTL_ARCH,
    describe,
    load_all,
    ok,
    platform_term,
    require,
    required_terms,
    run,
    split_affinity,
    tool_env,
    without_affinity,
    write_tree,
)

PLUGIN_DIR = Path("kustomize/plugin/kubectl-arch.dev/v1alpha1/platformpin")
DEPLOY = """\
# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
        - name: logs
          image: fluent/fluent-bit:3.1
      tolerations:
        - key: kubernetes.io/arch
          operator: Exists
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
"""
CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: switches
data:
  enabled: "on"
  legacy: 'yes'
"""
KUSTOMIZATION = """\
namespace: shop
namePrefix: prod-
resources:
  - deploy.yaml
  - config.yaml
"""
PIN = """\
apiVersion: kubectl-arch.dev/v1alpha1
kind: PlatformPin
metadata:
  name: pin
platforms: linux/arm64
"""
# Kustomize writes compact sequences.
AFFINITY = """\
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
SHIM = '#!/bin/sh\nexec kubectl-arch pin --config "$1"\n'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = tool_env(tmp_path)
    require("kubectl", env)
    return env


def plugin_path(env: dict[str, str]) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / PLUGIN_DIR / "PlatformPin"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(params=["symlink", "shim"])
def plugin(request: pytest.FixtureRequest, env: dict[str, str]) -> Path:
    path = plugin_path(env)
    if request.param == "symlink":
        path.symlink_to(KUBECTL_ARCH)
    else:
        path.write_text(SHIM)
        path.chmod(0o755)
    return path


def make_app(directory: Path, *, transformer: str | None = PIN, deploy: str = DEPLOY) -> Path:
    files = {"deploy.yaml": deploy, "config.yaml": CONFIG, "kustomization.yaml": KUSTOMIZATION}
    if transformer is not None:
        files["pin.yaml"] = transformer
        files["kustomization.yaml"] += "transformers:\n  - pin.yaml\n"
    write_tree(directory, files)
    return directory


def build(env: dict[str, str], directory: Path) -> str:
    return ok(run(["kubectl", "kustomize", "--enable-alpha-plugins", directory], env)).stdout.decode()


def baseline(env: dict[str, str], tmp_path: Path, deploy: str = DEPLOY) -> str:
    return build(env, make_app(tmp_path / "baseline", transformer=None, deploy=deploy))


def test_legacy_exec_plugin_pins_workloads(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    out = build(env, make_app(tmp_path / "app"))
    expected = baseline(env, tmp_path)
    docs = load_all(out)
    by_kind = {d["kind"]: d for d in docs}
    assert sorted(by_kind) == ["ConfigMap", "CronJob", "Deployment", "Service"]
    assert required_terms(by_kind["Deployment"]) == [platform_term(["arm64"])]
    cron_pod = by_kind["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert cron_pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [platform_term(["arm64"])]
    }
    # Outside the affinity, the build is what Kustomize gives without the transformer:
    # names, namespace, ids (kustomize.config.k8s.io/id round-trips) and quoting.
    assert [without_affinity(d) for d in docs] == load_all(expected)
    assert by_kind["Deployment"]["metadata"] == {
        "name": "prod-web",
        "namespace": "shop",
        "labels": {"app": "web"},
    }
    assert by_kind["ConfigMap"]["data"] == {"enabled": "on", "legacy": "yes"}
    deployment_text = out.split("kind: Deployment\n", 1)[1].split("\n---\n", 1)[0]
    _, block = split_affinity(deployment_text)
    assert block == AFFINITY
    assert "annotations" not in out  # no orchestration annotation leaks into the build


def test_output_without_the_affinity_is_the_plain_build(
    env: dict[str, str], plugin: Path, tmp_path: Path
) -> None:
    out = build(env, make_app(tmp_path / "app", deploy=DEPLOY.split("---\n")[0]))
    rest, block = split_affinity(out)
    assert block == AFFINITY
    assert rest == baseline(env, tmp_path, deploy=DEPLOY.split("---\n")[0])


def test_pod_template_paths_from_the_plugin_config(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    rollout = """\
apiVersion: argoproj.io/v1alpha1
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
    transformer = PIN + "podTemplatePaths:\n  - Rollout.argoproj.io=spec.template.spec\n"
    out = build(env, make_app(tmp_path / "app", transformer=transformer, deploy=rollout))
    [rollout_out, _configmap] = sorted(load_all(out), key=lambda d: d["kind"] != "Rollout")
    assert required_terms(rollout_out) == [platform_term(["arm64"])]


def test_conflict_fails_the_build_with_our_message(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    deploy = DEPLOY.replace(
        "      containers:\n",
        "      nodeSelector:\n        kubernetes.io/arch: s390x\n      containers:\n",
        1,
    )
    proc = run(
        ["kubectl", "kustomize", "--enable-alpha-plugins", make_app(tmp_path / "app", deploy=deploy)], env
    )
    assert proc.returncode != 0, describe(proc)
    assert proc.stdout == b""
    assert (
        "Deployment/prod-web: nodeSelector kubernetes.io/arch=s390x excludes every platform the images "
        "support (linux/arm64); containers: 'web' nginx:1.27, 'logs' fluent/fluent-bit:3.1"
    ) in proc.stderr.decode(), describe(proc)


def test_plugin_config_with_block_scalars(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    transformer = PIN.replace(
        "  name: pin\n",
        "  name: pin\n  annotations:\n    description: |\n      Where the images run.\n      Both lines.\n",
    )
    out = build(env, make_app(tmp_path / "app", transformer=transformer))
    by_kind = {d["kind"]: d for d in load_all(out)}
    assert required_terms(by_kind["Deployment"]) == [platform_term(["arm64"])]


def test_bad_plugin_config_fails_the_build(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    transformer = PIN.replace("platforms:", "platform:")
    proc = run(
        [
            "kubectl",
            "kustomize",
            "--enable-alpha-plugins",
            make_app(tmp_path / "app", transformer=transformer),
        ],
        env,
    )
    assert proc.returncode != 0, describe(proc)
    assert "PlatformPin: unknown field 'platform'; did you mean 'platforms'?" in proc.stderr.decode(), (
        describe(proc)
    )


def test_plugins_need_enable_alpha_plugins(env: dict[str, str], plugin: Path, tmp_path: Path) -> None:
    proc = run(["kubectl", "kustomize", make_app(tmp_path / "app")], env)
    assert proc.returncode != 0, describe(proc)
    assert "PlatformPin" in proc.stderr.decode()


def test_exec_function_annotation_is_not_run_by_kubectl_kustomize(
    env: dict[str, str], plugin: Path, tmp_path: Path
) -> None:
    """kubectl kustomize has no --enable-exec: a transformer declared as an exec KRM function
    is skipped without a word, so the legacy plugin layout is the one to use with kubectl."""
    transformer = PIN.replace(
        "  name: pin\n",
        "  name: pin\n  annotations:\n    config.kubernetes.io/function: |\n"
        f"      exec:\n        path: {KUBECTL_ARCH}\n",
    )
    out = build(env, make_app(tmp_path / "app", transformer=transformer))
    assert "affinity" not in out
    assert load_all(out) == load_all(baseline(env, tmp_path))


# What Kustomize sends to a legacy exec plugin (captured from kubectl kustomize 1.32).
LEGACY_STDIN = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    kustomize.config.k8s.io/id: |
      group: apps
      kind: Deployment
      name: web
      version: v1
  name: web
spec:
  template:
    spec:
      containers:
      - image: nginx:1.27
        name: web
---
apiVersion: v1
data:
  enabled: "on"
kind: ConfigMap
metadata:
  annotations:
    kustomize.config.k8s.io/id: |
      kind: ConfigMap
      name: switches
      version: v1
  name: switches
"""
LEGACY_PINNED = LEGACY_STDIN.replace(
    "    spec:\n      containers:\n",
    "    spec:\n" + AFFINITY + "      containers:\n",
)


def test_plugin_binary_in_legacy_mode(env: dict[str, str], tmp_path: Path) -> None:
    path = plugin_path(env)
    path.symlink_to(KUBECTL_ARCH)
    config = tmp_path / "kust-plugin-config-123"
    config.write_text(PIN)
    proc = ok(run([path, config], env, stdin=LEGACY_STDIN))
    assert proc.stdout.decode() == LEGACY_PINNED
    assert proc.stderr == b""


# What Kustomize sends to an exec KRM function (kustomize build --enable-alpha-plugins
# --enable-exec): no arguments, a ResourceList on stdin.
KRM_STDIN = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/annotations-migration-resource-id: '0'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
      kustomize.config.k8s.io/id: |
        group: apps
        kind: Deployment
        name: web
        version: v1
  spec:
    template:
      spec:
        containers:
        - image: nginx:1.27
          name: web
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: switches
    annotations:
      config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/annotations-migration-resource-id: '1'
      internal.config.kubernetes.io/id: '2'
      config.k8s.io/id: '2'
  data:
    enabled: "on"
functionConfig:
  apiVersion: kubectl-arch.dev/v1alpha1
  kind: PlatformPin
  metadata:
    name: pin
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: ./PlatformPin
  platforms: linux/arm64
"""
KRM_PINNED = KRM_STDIN.replace(
    "      spec:\n        containers:\n",
    "      spec:\n" + "".join("  " + line + "\n" for line in AFFINITY.splitlines()) + "        containers:\n",
)


def test_plugin_binary_as_exec_krm_function(env: dict[str, str]) -> None:
    path = plugin_path(env)
    path.symlink_to(KUBECTL_ARCH)
    proc = ok(run([path], env, stdin=KRM_STDIN))
    assert proc.stdout.decode() == KRM_PINNED
    assert proc.stderr == b""
    assert "results" not in yaml.safe_load(proc.stdout)


def test_plugin_binary_as_exec_krm_function_reports_errors(env: dict[str, str]) -> None:
    path = plugin_path(env)
    path.symlink_to(KUBECTL_ARCH)
    stdin = KRM_STDIN.replace("  platforms: linux/arm64\n", "  platforms: []\n")
    proc = run([path], env, stdin=stdin)
    assert proc.returncode == 2, describe(proc)
    message = "ResourceList functionConfig PlatformPin: platforms: [] should be non-empty"
    assert proc.stdout.decode() == stdin + f'results:\n- message: "{message}"\n  severity: error\n'
    assert proc.stderr.decode() == f"error: {message}\n"


def test_plugin_name_is_what_selects_plugin_mode(env: dict[str, str], tmp_path: Path) -> None:
    """Under another name the binary is the plain CLI: a config file argument is a command."""
    other = tmp_path / "bin" / "platformpin"
    other.parent.mkdir()
    other.symlink_to(KUBECTL_ARCH)
    proc = run([other, os.devnull], env, stdin=LEGACY_STDIN)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == b""
