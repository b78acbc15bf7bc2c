"""``kubectl-arch pin`` under the real kpt: ``fn eval --exec``, ``fn render`` of a Kptfile
pipeline with an exec function, and ResourceList piping with ``-o stdout``/``fn sink``.

kpt writes the files back itself (it may move a new field within its mapping), so the
assertions are: the affinity block is exactly what pin writes, in the file's own
sequence style; taking it out gives back the original file byte for byte; every other file
is untouched; and a second run changes nothing.
"""

from __future__ import annotations

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
    snapshot,
    split_affinity,
    tool_env,
    without_affinity,
    write_tree,
)

DEPLOY = """\
# Package: the web tier.
# Owned by the platform group.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the public name
  labels:
    app: web
spec:
  replicas: 2 # scaled by the HPA
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        # The application itself.
        - name: web
          image: nginx:1.27 # pinned minor
          args:
            - "--port=80"
            - 'quiet'
        # Ships logs to the collector.
        - name: logs
          image: fluent/fluent-bit:3.1
      tolerations:
        # Tolerate any architecture taint.
        - key: kubernetes.io/arch
          operator: Exists
---
# The front door.
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80 # http
      targetPort: "8080"
"""
CONFIG = """\
# Feature switches, as strings.
apiVersion: v1
kind: ConfigMap
metadata:
  name: switches
data:
  enabled: "on"
  legacy: 'yes'
  mode: "off" # kept quoted
  count: "3"
"""
PACKAGE = {"deploy.yaml": DEPLOY, "config.yaml": CONFIG}
# In the file's wide sequence style, at the pod spec's indentation.
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
AFFINITY_BOTH = AFFINITY.replace(
    "                      - arm64\n", "                      - amd64\n                      - arm64\n"
)
COMMENTS = [line.strip() for line in DEPLOY.splitlines() if "#" in line]
KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: web
  annotations:
    config.kubernetes.io/local-config: "true"
info:
  description: The web tier.
pipeline:
  mutators:
"""
PLATFORMPIN = """\
# Where the images run.
apiVersion: kubectl-arch.dev/v1alpha1
kind: PlatformPin
metadata:
  name: pin
  annotations:
    config.kubernetes.io/local-config: "true"
platforms:
  - linux/amd64
  - linux/arm64
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = tool_env(tmp_path)
    require("kpt", env)
    return env


@pytest.fixture
def package(tmp_path: Path) -> Path:
    directory = tmp_path / "web"
    write_tree(directory, PACKAGE)
    return directory


def assert_pinned(directory: Path, affinity: str = AFFINITY, extra: dict[str, str] | None = None) -> None:
    files = snapshot(directory)
    expected_names = sorted({*PACKAGE, *(extra or {})})
    assert sorted(files) == expected_names
    deploy = files["deploy.yaml"].decode()
    rest, block = split_affinity(deploy)
    assert block == affinity
    assert rest == DEPLOY
    for comment in COMMENTS:
        assert deploy.count(comment) == 1, comment
    deployment, service = load_all(deploy)
    assert without_affinity(deployment) == yaml.safe_load(DEPLOY.split("---\n")[0])
    assert service == yaml.safe_load(DEPLOY.split("---\n")[1])
    assert files["config.yaml"] == CONFIG.encode()
    for name, text in (extra or {}).items():
        assert files[name] == text.encode(), name


def fn_eval(env: dict[str, str], directory: Path, *args: str) -> None:
    ok(run(["kpt", "fn", "eval", "--exec", "kubectl-arch pin", directory, *args], env))


def test_fn_eval_pins_and_keeps_comments_and_quotes(env: dict[str, str], package: Path) -> None:
    fn_eval(env, package, "--", "platform=linux/arm64")
    assert_pinned(package)
    first = snapshot(package)
    fn_eval(env, package, "--", "platform=linux/arm64")
    assert snapshot(package) == first


def test_fn_eval_several_platforms(env: dict[str, str], package: Path) -> None:
    fn_eval(env, package, "--", "platform=linux/amd64,linux/arm64")
    assert_pinned(package, AFFINITY_BOTH)


def test_fn_eval_with_a_platformpin_config_file(env: dict[str, str], package: Path, tmp_path: Path) -> None:
    config = tmp_path / "pin.yaml"
    config.write_text(PLATFORMPIN)
    fn_eval(env, package, "--fn-config", str(config))
    assert_pinned(package, AFFINITY_BOTH)


def test_fn_eval_conflict_fails_and_changes_nothing(
    env: dict[str, str], package: Path, tmp_path: Path
) -> None:
    conflicting = DEPLOY.replace(
        "      containers:\n", "      nodeSelector:\n        kubernetes.io/arch: s390x\n      containers:\n"
    )
    (package / "deploy.yaml").write_text(conflicting)
    before = snapshot(package)
    results = tmp_path / "results"
    results.mkdir()
    proc = run(
        [
            "kpt",
            "fn",
            "eval",
            "--exec",
            "kubectl-arch pin",
            package,
            "--results-dir",
            results,
            "--",
            "platform=linux/arm64",
        ],
        env,
    )
    assert proc.returncode != 0, describe(proc)
    message = (
        "nodeSelector kubernetes.io/arch=s390x excludes every platform the images support (linux/arm64); "
        "containers: 'web' nginx:1.27, 'logs' fluent/fluent-bit:3.1"
    )
    assert message in proc.stderr.decode(), describe(proc)
    assert snapshot(package) == before
    # kpt could read our results (an integer file index, among others) and recorded them.
    recorded = yaml.safe_load((results / "results.yaml").read_text())
    assert recorded["exitCode"] == 1, recorded
    [item] = recorded["items"]
    assert item["exitCode"] == 1
    assert item["results"] == [
        {
            "message": message,
            "severity": "error",
            "resourceRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "field": {"path": "spec.template.spec.nodeSelector"},
            "file": {"path": "deploy.yaml"},  # kpt omits index 0
        }
    ]


def test_fn_eval_without_platform_looks_images_up(env: dict[str, str], package: Path) -> None:
    # No platforms: the images are looked up. HTTPS goes to a proxy address where nothing
    # listens, so the look-up fails alike with or without a network.
    from registry_util import free_port

    proxy = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in env.items() if k.lower() != "no_proxy"}
    env.update(HTTPS_PROXY=proxy, https_proxy=proxy, XDG_CACHE_HOME=str(package.parent / "cache"))
    proc = run(["kpt", "fn", "eval", "--exec", "kubectl-arch pin", package], env)
    assert proc.returncode != 0, describe(proc)
    out = proc.stderr.decode()
    assert (
        f"[error]: image nginx:1.27: cannot reach proxy {proxy} (from $HTTPS_PROXY) for registry-1.docker.io: "
        "connection refused; check the proxy, or add registry-1.docker.io to NO_PROXY"
    ) in out, describe(proc)
    assert "Exit code: 3" in out
    # The way out is named as kpt fn eval takes it (KEY=VALUE after --), not as a flag.
    assert (
        "[error]: 2 image(s) could not be looked up; nothing was pinned (on-unknown-image=skip or "
        "on-unknown-image=assume:os/arch[,...] pins the rest)" in out
    ), describe(proc)
    assert "--on-unknown-image" not in out
    assert snapshot(package) == {k: v.encode() for k, v in PACKAGE.items()}


def test_fn_eval_errors_name_the_function_config_key(env: dict[str, str], package: Path) -> None:
    proc = run(
        ["kpt", "fn", "eval", "--exec", "kubectl-arch pin", package, "--", "platform=linux/arm64",
         "images-from=missing.json"],
        env,
        cwd=package.parent,
    )  # fmt: skip
    assert proc.returncode != 0, describe(proc)
    assert "[error]: images-from missing.json: no such file or directory" in proc.stderr.decode(), describe(
        proc
    )
    assert snapshot(package) == {k: v.encode() for k, v in PACKAGE.items()}


def kptfile(mutator: str) -> str:
    return KPTFILE + mutator


# What kpt 1.0.0-beta.56 accepts for an exec function in a Kptfile: "exec" is split like a
# shell command line (program found on PATH or given as a path, then its arguments), and
# rendering needs --allow-exec.
MUTATOR_CONFIGMAP = """\
    - exec: kubectl-arch pin
      configMap:
        platform: linux/arm64
"""
MUTATOR_CONFIG_PATH = """\
    - exec: kubectl-arch pin
      configPath: pin.yaml
"""


@pytest.mark.parametrize(
    ("mutator", "extra", "affinity"),
    [
        pytest.param(MUTATOR_CONFIGMAP, {}, AFFINITY, id="configMap"),
        pytest.param(MUTATOR_CONFIG_PATH, {"pin.yaml": PLATFORMPIN}, AFFINITY_BOTH, id="configPath"),
        pytest.param(
            MUTATOR_CONFIGMAP.replace("kubectl-arch pin", f"{KUBECTL_ARCH} pin"),
            {},
            AFFINITY,
            id="absolute-path",
        ),
    ],
)
def test_kptfile_pipeline_render(
    env: dict[str, str], package: Path, mutator: str, extra: dict[str, str], affinity: str
) -> None:
    files = {"Kptfile": kptfile(mutator), **extra}
    write_tree(package, files)
    ok(run(["kpt", "fn", "render", "--allow-exec", package], env))
    assert_pinned(package, affinity, files)
    first = snapshot(package)
    ok(run(["kpt", "fn", "render", "--allow-exec", package], env))
    assert snapshot(package) == first


def test_kptfile_render_needs_allow_exec(env: dict[str, str], package: Path) -> None:
    write_tree(package, {"Kptfile": kptfile(MUTATOR_CONFIGMAP)})
    before = snapshot(package)
    proc = run(["kpt", "fn", "render", package], env)
    assert proc.returncode != 0, describe(proc)
    assert snapshot(package) == before


def test_kptfile_render_reports_a_bad_config(env: dict[str, str], package: Path) -> None:
    write_tree(package, {"Kptfile": kptfile(MUTATOR_CONFIGMAP.replace("platform:", "platfrom:"))})
    before = snapshot(package)
    proc = run(["kpt", "fn", "render", "--allow-exec", package], env)
    assert proc.returncode != 0, describe(proc)
    assert (
        "ResourceList functionConfig ConfigMap: unknown option 'platfrom'; did you mean 'platform'?"
        in proc.stderr.decode()
    ), describe(proc)
    assert snapshot(package) == before


def test_fn_eval_to_stdout_and_sink(env: dict[str, str], package: Path, tmp_path: Path) -> None:
    proc = ok(
        run(
            [
                "kpt",
                "fn",
                "eval",
                "--exec",
                "kubectl-arch pin",
                package,
                "-o",
                "stdout",
                "--",
                "platform=linux/arm64",
            ],
            env,
        )
    )
    assert snapshot(package) == {k: v.encode() for k, v in PACKAGE.items()}  # only printed
    resource_list = yaml.safe_load(proc.stdout)
    assert resource_list["kind"] == "ResourceList"
    by_kind = {item["kind"]: item for item in resource_list["items"]}
    assert sorted(by_kind) == ["ConfigMap", "Deployment", "Service"]
    assert required_terms(by_kind["Deployment"]) == [platform_term(["arm64"])]

    sunk = tmp_path / "sunk"
    ok(run(["kpt", "fn", "sink", sunk], env, stdin=proc.stdout))
    fn_eval(env, package, "--", "platform=linux/arm64")
    assert snapshot(sunk) == snapshot(package)
    assert_pinned(sunk)


def test_fn_source_piped_through_kubectl_arch(env: dict[str, str], package: Path, tmp_path: Path) -> None:
    source = ok(run(["kpt", "fn", "source", package], env))
    pinned = ok(run([KUBECTL_ARCH, "pin", "--platform", "linux/arm64"], env, stdin=source.stdout))
    assert pinned.stderr == b""
    sunk = tmp_path / "sunk"
    ok(run(["kpt", "fn", "sink", sunk], env, stdin=pinned.stdout))
    assert_pinned(sunk)


def test_fn_eval_from_stdin(env: dict[str, str], package: Path, tmp_path: Path) -> None:
    source = ok(run(["kpt", "fn", "source", package], env))
    evaluated = ok(
        run(
            ["kpt", "fn", "eval", "-", "--exec", "kubectl-arch pin", "--", "platform=linux/arm64"],
            env,
            stdin=source.stdout,
        )
    )
    sunk = tmp_path / "sunk"
    ok(run(["kpt", "fn", "sink", sunk], env, stdin=evaluated.stdout))
    assert_pinned(sunk)
