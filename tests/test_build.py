"""``kubectl arch build``: real buildah into a real registry, docker/buildx/podman/ko through
stand-ins on PATH that record their arguments and push images, and custom builder scripts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from apiserver import ApiServer
from registry_util import Registry, client_for, skopeo_raw, start_registry

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KUBECTL_ARCH = BIN / "kubectl-arch"
FAKE = Path(__file__).resolve().parent / "fakebuilder.py"
BOTH = "linux/amd64,linux/arm64"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(Path(tmp_path_factory.mktemp("build-registry")))
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Containerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (tmp_path / "ctx" / "hello.txt").write_text("hello\n")
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for name in ("docker", "podman", "ko"):
        (fakes / name).symlink_to(FAKE)
    (tmp_path / "state").mkdir()
    return tmp_path


def env_for(work: Path, *, fakes: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "DOCKER_CONFIG")}
    path = [str(BIN), "/usr/bin", "/bin"]
    if fakes:
        path.insert(0, str(work / "fakes"))
    env.update(
        PATH=os.pathsep.join(path),
        HOME=str(work / "home"),
        XDG_CACHE_HOME=str(work / "cache"),
        XDG_CONFIG_HOME=str(work / "config"),
        FAKE_LOG=str(work / "fake.log"),
        FAKE_STATE=str(work / "state"),
        PYTHON=sys.executable,
    )
    env.update(extra)
    return env


def build(work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL_ARCH), "build", *args],
        capture_output=True,
        text=True,
        cwd=work,
        env=env or env_for(work),
        timeout=300,
        check=False,
    )


TEMPORARY = re.compile(r"-kubectl-arch-tmp-[0-9a-f]{8}")


def recorded(work: Path) -> list[tuple[str, list[str], str | None]]:
    """What the stand-ins were asked, temporary tags written ``TAG-kubectl-arch-tmp-X``."""
    lines = (work / "fake.log").read_text().splitlines()
    return [
        (r["tool"], [TEMPORARY.sub("-kubectl-arch-tmp-X", a) for a in r["argv"]], r["KO_DOCKER_REPO"])
        for r in map(json.loads, lines)
    ]


def index_of(registry: Registry, ref: str) -> dict:
    return json.loads(skopeo_raw(f"{registry.host}/{ref}"))


def platforms_of(document: dict) -> list[str]:
    return [f"{m['platform']['os']}/{m['platform']['architecture']}" for m in document["manifests"]]


def tag_exists(registry: Registry, ref: str) -> bool:
    from kubectl_arch.registry.client import RegistryError
    from kubectl_arch.registry.reference import parse

    try:
        client_for(registry).head_manifest(parse(f"{registry.host}/{ref}"))
    except RegistryError as exc:
        assert exc.status == 404
        return False
    return True


def test_buildah_builds_each_platform_and_the_index_is_stitched(registry: Registry, work: Path) -> None:
    if shutil.which("buildah") is None:
        pytest.fail("buildah is missing: install the Debian package buildah (.ci/run does)")
    conf = work / "storage.conf"
    conf.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{work}/graph"\nrunroot = "{work}/run"\n')
    env = env_for(work, fakes=False, CONTAINERS_STORAGE_CONF=str(conf), BUILDAH_ISOLATION="chroot")
    ref = f"{registry.host}/real/app:v1"
    proc = build(
        work, "-t", ref, "--builder", "buildah", "--platform", BOTH, "--context", "ctx",
        "-f", "ctx/Containerfile", "--file-output", "out.json", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = index_of(registry, "real/app:v1")
    assert document["mediaType"] == OCI_INDEX
    assert platforms_of(document) == ["linux/amd64", "linux/arm64"]
    digest = "sha256:" + __import__("hashlib").sha256(skopeo_raw(ref)).hexdigest()
    assert proc.stdout == f"{ref}@{digest}\n"
    assert json.loads((work / "out.json").read_text()) == {
        "builds": [{"imageName": f"{registry.host}/real/app", "tag": f"{ref}@{digest}"}]
    }
    lines = proc.stderr.splitlines()
    assert lines[0] == f"building for {BOTH}"
    assert (
        f"[linux/arm64] $ buildah build --platform linux/arm64 -t {ref}_linux_arm64 -f ctx/Containerfile ctx"
        in lines
    )
    assert (
        f"[linux/amd64] $ buildah push --tls-verify=false {ref}_linux_amd64 docker://{ref}_linux_amd64"
        in lines
    )
    assert lines[-3].split() == ["PLATFORM", "DIGEST", "SECONDS"]
    # what kubectl-arch inspect sees in the registry, and that each child really is that platform
    inspected = subprocess.run(
        [str(KUBECTL_ARCH), "inspect", "-o", "json", ref], capture_output=True, text=True, env=env, check=True
    )
    (info,) = json.loads(inspected.stdout)
    assert info["digest"] == digest
    assert [(p["os"], p["architecture"]) for p in info["platforms"]] == [
        ("linux", "amd64"),
        ("linux", "arm64"),
    ]
    for entry in document["manifests"]:
        child = json.loads(skopeo_raw(f"{registry.host}/real/app@{entry['digest']}"))
        assert child["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (
            "buildx",
            [("docker", ["buildx", "build", "--platform", BOTH, "--push", "-t", "{ref}-kubectl-arch-tmp-X",
                         "--build-arg", "V=1", "ctx"], None)],
        ),
        (
            "docker",
            [
                ("docker", ["build", "--platform", "linux/amd64", "-t", "{ref}_linux_amd64", "--build-arg", "V=1",
                            "ctx"], None),
                ("docker", ["push", "{ref}_linux_amd64"], None),
                ("docker", ["build", "--platform", "linux/arm64", "-t", "{ref}_linux_arm64", "--build-arg", "V=1",
                            "ctx"], None),
                ("docker", ["push", "{ref}_linux_arm64"], None),
            ],
        ),
        (
            "podman",
            [
                ("podman", ["build", "--platform", "linux/amd64", "-t", "{ref}_linux_amd64", "--build-arg", "V=1",
                            "ctx"], None),
                ("podman", ["push", "--tls-verify=false", "{ref}_linux_amd64", "docker://{ref}_linux_amd64"],
                 None),
                ("podman", ["build", "--platform", "linux/arm64", "-t", "{ref}_linux_arm64", "--build-arg", "V=1",
                            "ctx"], None),
                ("podman", ["push", "--tls-verify=false", "{ref}_linux_arm64", "docker://{ref}_linux_arm64"],
                 None),
            ],
        ),
    ],
)  # fmt: skip
def test_builders_are_invoked_as_documented(
    registry: Registry, work: Path, builder: str, expected: list[tuple[str, list[str], str | None]]
) -> None:
    ref = f"{registry.host}/fake/{builder}:v1"
    proc = build(
        work, "-t", ref, "--builder", builder, "--platform", BOTH, "--context", "ctx", "--build-arg", "V=1",
        "--concurrency", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    want = [(tool, [a.replace("{ref}", ref) for a in argv], repo) for tool, argv, repo in expected]
    assert recorded(work) == want
    assert platforms_of(index_of(registry, f"fake/{builder}:v1")) == ["linux/amd64", "linux/arm64"]
    assert proc.stdout.startswith(f"{ref}@sha256:")


def test_ko_gets_the_repository_in_its_environment(registry: Registry, work: Path) -> None:
    ref = f"{registry.host}/fake/ko:v2"
    proc = build(work, "-t", ref, "--builder", "ko", "--platform", BOTH, "--context", "./cmd/app")
    assert proc.returncode == 0, proc.stderr
    assert recorded(work) == [
        (
            "ko",
            [
                "build",
                f"--platform={BOTH}",
                "--bare",
                "--tags=v2-kubectl-arch-tmp-X",
                "--insecure-registry",
                "./cmd/app",
            ],
            f"{registry.host}/fake/ko",
        )
    ]
    assert platforms_of(index_of(registry, "fake/ko:v2")) == ["linux/amd64", "linux/arm64"]


def test_detected_builder_is_buildx_when_docker_has_it(registry: Registry, work: Path) -> None:
    proc = build(work, "-t", f"{registry.host}/fake/detect:v1", "--platform", BOTH, "--context", "ctx")
    assert proc.returncode == 0, proc.stderr
    assert [tool_argv[1][:2] for tool_argv in recorded(work)] == [["buildx", "version"], ["buildx", "build"]]


def test_missing_builder_is_a_clear_error(registry: Registry, work: Path) -> None:
    env = env_for(work, fakes=False, PATH=str(BIN))
    proc = build(work, "-t", f"{registry.host}/x/y:v1", "--builder", "podman", "--platform", BOTH, env=env)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "error: --builder podman: 'podman' not found on PATH\n"
    proc = build(work, "-t", f"{registry.host}/x/y:v1", "--platform", BOTH, env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no builder found on PATH (looked for docker buildx, buildah")


def custom(work: Path, script: str) -> str:
    path = work / "build.sh"
    path.write_text("#!/bin/sh\nset -e\n" + script)
    path.chmod(0o755)
    return str(path)


PUSH = f'"$PYTHON" {FAKE} push "$IMAGE" "$PLATFORMS"\n'


def test_custom_builder_per_platform_and_rerun_makes_no_new_index(registry: Registry, work: Path) -> None:
    script = custom(
        work, 'echo "building $IMAGE for $PLATFORMS from $BUILD_CONTEXT push=$PUSH_IMAGE"\n' + PUSH
    )
    ref = f"{registry.host}/custom/app:v1"
    args = (
        "-t",
        ref,
        "--builder",
        "custom",
        "--custom-command",
        script,
        "--platform",
        BOTH,
        "--context",
        "ctx",
    )
    proc = build(work, *args)
    assert proc.returncode == 0, proc.stderr
    ctx = work / "ctx"
    assert f"[linux/arm64] building {ref}_linux_arm64 for linux/arm64 from {ctx} push=true" in proc.stderr
    assert platforms_of(index_of(registry, "custom/app:v1")) == ["linux/amd64", "linux/arm64"]
    again = build(work, *args)
    assert again.returncode == 0, again.stderr
    assert again.stdout == proc.stdout
    assert f"{ref}: unchanged (the tag already points to this index)" in again.stderr.splitlines()


def test_custom_multi_platform_builder(registry: Registry, work: Path) -> None:
    script = custom(work, PUSH)
    ref = f"{registry.host}/custom/multi:v1"
    proc = build(
        work, "-t", ref, "--custom-command", script, "--custom-multi-platform", "--platform", BOTH,
        "--context", "ctx",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert platforms_of(index_of(registry, "custom/multi:v1")) == ["linux/amd64", "linux/arm64"]
    assert not tag_exists(registry, "custom/multi:v1_linux_arm64")


def test_one_platform_failing_pushes_nothing_under_the_tag(registry: Registry, work: Path) -> None:
    script = custom(work, PUSH)
    ref = f"{registry.host}/custom/fails:v1"
    env = env_for(work, FAKE_FAIL="linux/arm64")
    proc = build(work, "-t", ref, "--custom-command", script, "--platform", BOTH, "--context", "ctx", env=env)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines()[-2:] == [
        "error: [linux/arm64] build failed (/bin/sh exited 1): fake build for linux/arm64 failed",
        f"error: 1 of 2 build(s) failed; nothing pushed as {ref}",
    ]
    assert not tag_exists(registry, "custom/fails:v1")
    assert tag_exists(registry, "custom/fails:v1_linux_amd64")


def test_a_builder_that_built_the_wrong_architecture_is_caught(registry: Registry, work: Path) -> None:
    script = custom(work, PUSH)
    ref = f"{registry.host}/custom/wrong:v1"
    env = env_for(work, FAKE_BUILDS="arm64:amd64")
    proc = build(work, "-t", ref, "--custom-command", script, "--platform", BOTH, "--context", "ctx", env=env)
    assert proc.returncode == 1
    assert (
        f"error: [linux/arm64] custom built linux/amd64 when asked for linux/arm64: {ref}_linux_arm64 has "
        "config os/architecture linux/amd64; the builder ignored the platform"
    ) in proc.stderr.splitlines()
    assert not tag_exists(registry, "custom/wrong:v1")
    # A multi-platform builder whose index lacks a platform: it pushed under a temporary tag,
    # and the tag still holds what it held before.
    multi = f"{registry.host}/custom/wrong-multi:v1"
    args = (
        "-t",
        multi,
        "--custom-command",
        script,
        "--custom-multi-platform",
        "--platform",
        BOTH,
        "--context",
        "ctx",
    )
    good = build(work, *args)
    assert good.returncode == 0, good.stderr
    before = index_of(registry, "custom/wrong-multi:v1")
    proc = build(work, *args, env=env)
    assert (proc.returncode, proc.stdout) == (1, "")
    temporary = TEMPORARY.search(proc.stderr)
    assert temporary is not None
    tmp = "v1" + temporary.group()
    assert proc.stderr.splitlines()[-2:] == [
        f"error: [linux/amd64,linux/arm64] custom pushed {multi}{temporary.group()} without linux/arm64 (it has "
        "linux/amd64, linux/amd64)",
        f"error: 1 of 1 build(s) failed; nothing pushed as {multi} (the incomplete image is left under {tmp})",
    ]
    assert index_of(registry, "custom/wrong-multi:v1") == before
    assert platforms_of(index_of(registry, f"custom/wrong-multi:{tmp}")) == ["linux/amd64", "linux/amd64"]


def test_a_builder_that_moves_the_tag_itself_is_caught(registry: Registry, work: Path) -> None:
    """A multi-platform builder that pushes the final tag (amd64 only) instead of $IMAGE: the
    build fails, and the error says what the tag now holds and what it held before."""
    ref = f"{registry.host}/custom/moved:v1"
    args = ("-t", ref, "--custom-multi-platform", "--platform", BOTH, "--context", "ctx")
    good = build(work, "--custom-command", custom(work, PUSH), *args)
    assert good.returncode == 0, good.stderr
    before = good.stdout.strip().rpartition("@")[2]
    script = custom(work, f'"$PYTHON" {FAKE} push "{ref}" linux/amd64\n')
    proc = build(work, "--custom-command", script, *args)
    assert (proc.returncode, proc.stdout) == (1, "")
    now = json.loads(skopeo_raw(f"{registry.host}/custom/moved:v1"))
    from kubectl_arch.registry.index import digest_of

    moved = digest_of(skopeo_raw(f"{registry.host}/custom/moved:v1"))
    assert now["mediaType"] != OCI_INDEX
    assert proc.stderr.splitlines()[-1] == (
        f"error: 1 of 1 build(s) failed, but the builder moved {ref} itself: it now holds {moved} (linux/amd64; "
        f"without linux/arm64), where it held {before} before; build again, or make the builder push to $IMAGE"
    )


def test_a_multi_platform_builder_that_pushes_nothing(registry: Registry, work: Path) -> None:
    script = custom(work, 'echo "pushed nothing"\n')
    ref = f"{registry.host}/custom/nothing:v1"
    proc = build(
        work, "-t", ref, "--custom-command", script, "--custom-multi-platform", "--platform", BOTH,
        "--context", "ctx",
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.splitlines()[-1] == f"error: 1 of 1 build(s) failed; nothing pushed as {ref}"
    assert not tag_exists(registry, "custom/nothing:v1")


def test_docker_index_format_and_platform_tags_deletion(registry: Registry, work: Path) -> None:
    script = custom(work, PUSH)
    ref = f"{registry.host}/custom/fmt:v1"
    proc = build(
        work, "-t", ref, "--custom-command", script, "--platform", BOTH, "--context", "ctx",
        "--index-format", "docker", "--keep-platform-tags=false",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        index_of(registry, "custom/fmt:v1")["mediaType"]
        == "application/vnd.docker.distribution.manifest.list.v2+json"
    )
    # CNCF distribution 2.8 deletes manifests by digest only: the tags stay, with a warning each
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: kept tag")]
    assert [w.split(":")[1].strip() for w in warnings] == [
        "kept tag v1_linux_amd64",
        "kept tag v1_linux_arm64",
    ]


def test_platforms_from_the_cluster(registry: Registry, work: Path, gke: ApiServer) -> None:
    script = custom(work, PUSH)
    kubeconfig = gke.kubeconfig(work / "kubeconfig")
    ref = f"{registry.host}/custom/cluster:v1"
    proc = build(
        work, "-t", ref, "--custom-command", script, "--context", "ctx", "--kubeconfig", str(kubeconfig)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == (
        "building for linux/amd64,linux/arm64,windows/amd64 (the cluster's Ready nodes)"
    )
    assert platforms_of(index_of(registry, "custom/cluster:v1")) == [
        "linux/amd64",
        "linux/arm64",
        "windows/amd64",
    ]


def test_local_platform_when_no_cluster(registry: Registry, work: Path) -> None:
    script = custom(work, PUSH)
    ref = f"{registry.host}/custom/local:v1"
    proc = build(work, "-t", ref, "--custom-command", script, "--context", "ctx")
    assert proc.returncode == 0, proc.stderr
    import platform

    from kubectl_arch.platforms import normalize

    local = str(normalize("linux", platform.machine()))
    assert proc.stderr.splitlines()[0].startswith(f"building for {local} (this machine; no cluster to ask: ")
    assert platforms_of(index_of(registry, "custom/local:v1")) == [local]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-t", "HOST/app"), "error: Invalid value for '-t' / '--tag': 'HOST/app': give REGISTRY/NAME:TAG (a tag, no digest)"
         "\nSee 'kubectl arch build --help' for usage."),
        (("-t", "HOST/app:v1", "--platform", "lunix/amd64"), "error: Invalid value for '--platform': invalid "
         "platform 'lunix/amd64': unknown os 'lunix'; did you mean linux/amd64?\nSee 'kubectl arch build --help' for usage."),
        (("-t", "HOST/app:v1", "--build-arg", "NOVALUE"), "error: --build-arg #1 has no '=': expected KEY=VALUE "
         "(the argument is not shown: it may hold a secret)"),
        (("-t", "HOST/app:v1", "--build-arg", "A=1", "--build-arg", "=npm_S3cr3tTok3n"), "error: --build-arg #2 has "
         "no KEY: expected KEY=VALUE (the argument is not shown: it may hold a secret)"),
        (("-t", "HOST/app:v1", "--context", "missing"), "error: --context missing: no such directory; --context "
         "is the build directory, as in docker build (the kubeconfig context is given with --kube-context)"),
    ],
)  # fmt: skip
def test_bad_input(registry: Registry, work: Path, args: tuple[str, ...], message: str) -> None:
    args = tuple(a.replace("HOST", registry.host) for a in args)
    proc = build(work, "--builder", "custom", "--custom-command", "true", "--platform", BOTH, "--context", "ctx",
                 *args)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = message.replace("HOST", registry.host).splitlines()
    assert proc.stderr.splitlines()[-len(lines) :] == lines


def kubeconfig_with_context(work: Path, name: str) -> Path:
    path = work / "kubeconfig"
    path.write_text(
        f"apiVersion: v1\nkind: Config\ncurrent-context: {name}\nclusters: []\nusers: []\n"
        f"contexts:\n- name: {name}\n  context: {{cluster: c, user: u}}\n"
    )
    return path


def test_a_kubeconfig_context_given_as_build_context_points_at_kube_context(
    registry: Registry, work: Path
) -> None:
    # As in docker build and Skaffold, --context is the build directory; kubectl users type it
    # for the kube context.
    kubeconfig = kubeconfig_with_context(work, "prod-eu")
    ref = f"{registry.host}/app:v1"
    for env in (env_for(work, KUBECONFIG=str(kubeconfig)), None):
        extra = () if env else ("--kubeconfig", str(kubeconfig))
        proc = build(work, "-t", ref, "--custom-command", "true", "--context", "prod-eu", *extra, env=env)
        assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
        assert proc.stderr == (
            "error: --context prod-eu: no such directory; --context is the build directory, as in docker "
            'build: to use the kubeconfig context "prod-eu", give --kube-context prod-eu\n'
        )


def test_a_build_directory_named_as_a_context_is_used_with_a_warning(registry: Registry, work: Path) -> None:
    kubeconfig = kubeconfig_with_context(work, "ctx")
    env = env_for(work, KUBECONFIG=str(kubeconfig))
    script = custom(work, PUSH)
    proc = build(work, "-t", f"{registry.host}/custom/named:v1", "--custom-command", script, "--context", "ctx",
                 "--platform", "local", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # --platform local: no cluster read, no warning
    assert "warning" not in proc.stderr
    proc = build(work, "-t", f"{registry.host}/custom/named:v2", "--custom-command", script, "--context", "ctx",
                 env=env)  # fmt: skip
    assert proc.stderr.splitlines()[0] == (
        'warning: --context ctx is the build directory; the kubeconfig context "ctx" is given with '
        "--kube-context ctx"
    )


def test_cluster_hints_name_builds_options(registry: Registry, work: Path) -> None:
    kubeconfig = work / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: {}\n")
    ref = f"{registry.host}/app:v1"
    proc = build(work, "-t", ref, "--custom-command", "true", "--context", "ctx", "--platform", "cluster",
                 env=env_for(work, KUBECONFIG=str(kubeconfig)))  # fmt: skip
    # --platform cluster is an explicit choice: a kubeconfig that cannot be used is an input error.
    assert (proc.returncode, proc.stderr) == (
        2,
        f"error: kubeconfig $KUBECONFIG ({kubeconfig}) sets no current-context; use --kube-context NAME "
        "(contexts: a)\n",
    )
    proc = build(work, "-t", ref, "--custom-command", "true", "--context", "ctx", "--platform", "cluster",
                 env=env_for(work, KUBECONFIG=str(work / "none")))  # fmt: skip
    assert (proc.returncode, proc.stderr) == (
        2,
        f"error: no kubeconfig: $KUBECONFIG ({work / 'none'}) names no existing file and this is not a pod in a "
        "cluster; point --kubeconfig or $KUBECONFIG at one (or log in to the cluster), or give the platforms "
        "with --platform (a list, or local)\n",
    )


def test_build_argument_values_are_never_printed(registry: Registry, work: Path) -> None:
    secret = "npm_Tok3n-Secret"
    ref = f"{registry.host}/fake/secret:v1"
    proc = build(
        work, "-t", ref, "--builder", "docker", "--platform", BOTH, "--context", "ctx",
        "--build-arg", f"NPM_TOKEN={secret}", "--build-arg", "V=1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert secret not in proc.stderr + proc.stdout
    assert (
        f"[linux/amd64] $ docker build --platform linux/amd64 -t {ref}_linux_amd64 --build-arg "
        "NPM_TOKEN=REDACTED --build-arg V=REDACTED ctx"
    ) in proc.stderr.splitlines()
    # The builder received the value, and what it prints is masked too.
    assert any(f"NPM_TOKEN={secret}" in argv for _, argv, _ in recorded(work))
    script = custom(work, 'echo "token is $BUILD_ARGS"\n' + PUSH)
    echoed = build(
        work, "-t", f"{registry.host}/custom/secret:v1", "--custom-command", script, "--platform", BOTH,
        "--context", "ctx", "--build-arg", f"NPM_TOKEN={secret}",
    )  # fmt: skip
    assert echoed.returncode == 0, echoed.stderr
    assert secret not in echoed.stderr
    assert "[linux/arm64] token is NPM_TOKEN=REDACTED" in echoed.stderr.splitlines()
