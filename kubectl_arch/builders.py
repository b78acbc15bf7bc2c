"""The builders ``build`` delegates to, as data: which commands build and push an image.

Pure: every function here returns the commands (argv and environment) to run, nothing runs
them (:mod:`.buildrun` does). A builder either builds every platform in one invocation and
pushes an index itself (``buildx``, ``ko``, a ``custom`` command declared multi-platform) or
builds one platform at a time, each pushed under its own tag ``TAG_<os>_<arch>[_<variant>]``
for :mod:`.stitch` to join (``docker``, ``podman``, ``buildah``, ``custom``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from .platforms import Platform

NAMES = ("buildx", "docker", "buildah", "podman", "ko", "custom")
# Detection order when --builder is not given: the first whose executable is on PATH.
DETECT = ("buildx", "buildah", "podman", "docker", "ko")
TAG_MAX = 128  # the OCI distribution spec's limit on tag length


class BuilderError(ValueError):
    """A builder that cannot be used as asked; the message says why."""


REDACTED = "REDACTED"


class Step(NamedTuple):
    """One command: what it is for (``build``, ``push``), argv and extra environment;
    ``secrets`` are the values never to print (build argument values)."""

    purpose: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = {}
    secrets: tuple[str, ...] = ()

    @property
    def shown(self) -> tuple[str, ...]:
        """``argv`` as it may be printed: ``--build-arg KEY=VALUE`` shown as ``KEY=REDACTED``
        (build arguments carry tokens in CI: ``--build-arg NPM_TOKEN=...``)."""
        out = list(self.argv)
        for i in range(1, len(out)):
            if out[i - 1] == "--build-arg" and "=" in out[i]:
                out[i] = out[i].partition("=")[0] + "=" + REDACTED
            elif out[i].startswith("--build-arg="):
                out[i] = "--build-arg=" + out[i][len("--build-arg=") :].partition("=")[0] + "=" + REDACTED
        return tuple(out)


class Request(NamedTuple):
    image: str  # REGISTRY/NAME (no tag)
    tag: str
    context: str
    dockerfile: str = ""  # "" = the builder's default (Dockerfile in the context)
    build_args: tuple[tuple[str, str], ...] = ()
    insecure: bool = False  # the registry is plain HTTP or has no trusted certificate
    custom_command: str = ""
    builder_args: tuple[str, ...] = ()  # passed to the build command as they are


def platform_tag(tag: str, platform: Platform) -> str:
    """``v1`` + linux/arm/v7 -> ``v1_linux_arm_v7``: the tag one platform's image is pushed under."""
    parts = [tag, platform.os, platform.architecture] + ([platform.variant] if platform.variant else [])
    out = "_".join(parts)
    if len(out) > TAG_MAX:
        raise BuilderError(f"tag {out!r} is longer than {TAG_MAX} characters; use a shorter --tag")
    return out


def temporary_tag(tag: str, suffix: str) -> str:
    """The tag a multi-platform builder pushes under, so that ``tag`` only moves once what it
    pushed has every platform: ``v1`` -> ``v1-kubectl-arch-tmp-<suffix>`` (at most 128
    characters)."""
    tail = f"-kubectl-arch-tmp-{suffix}"
    return tag[: TAG_MAX - len(tail)] + tail


def _secrets(request: Request) -> tuple[str, ...]:
    return tuple(value for _, value in request.build_args if value)


def _build_args(request: Request) -> list[str]:
    out: list[str] = []
    for key, value in request.build_args:
        out += ["--build-arg", f"{key}={value}"]
    return out


def _file(request: Request) -> list[str]:
    return ["-f", request.dockerfile] if request.dockerfile else []


def is_multi_platform(name: str, custom_multi: bool) -> bool:
    """Whether the builder builds all platforms in one invocation and pushes the index itself."""
    return name in ("buildx", "ko") or (name == "custom" and custom_multi)


def multi_platform_steps(name: str, request: Request, platforms: Sequence[Platform]) -> list[Step]:
    """The one invocation of a multi-platform builder, pushing ``image:tag`` as an index."""
    joined = ",".join(str(p) for p in platforms)
    ref = f"{request.image}:{request.tag}"
    if name == "buildx":
        argv = ["docker", "buildx", "build", "--platform", joined, "--push", "-t", ref]
        argv += _file(request) + _build_args(request) + list(request.builder_args) + [request.context]
        return [Step("build", tuple(argv), secrets=_secrets(request))]
    if name == "ko":
        if request.dockerfile or request.build_args:
            raise BuilderError("ko builds Go import paths: --file and --build-arg do not apply")
        argv = ["ko", "build", f"--platform={joined}", "--bare", f"--tags={request.tag}"]
        if request.insecure:
            argv.append("--insecure-registry")
        argv += [*request.builder_args, request.context]
        return [Step("build", tuple(argv), {"KO_DOCKER_REPO": request.image})]
    if name == "custom":
        return [_custom(request, ref, joined)]
    raise BuilderError(f"{name} builds one platform at a time")


def _custom(request: Request, ref: str, platforms: str) -> Step:
    if not request.custom_command:
        raise BuilderError("--builder custom needs --custom-command CMD")
    env = {
        "IMAGE": ref,
        "PLATFORMS": platforms,
        "PUSH_IMAGE": "true",
        "BUILD_CONTEXT": os.path.abspath(request.context),
        "IMAGE_REPO": request.image,
        "IMAGE_TAG": request.tag,
    }
    if request.dockerfile:
        env["DOCKERFILE"] = request.dockerfile
    if request.build_args:
        env["BUILD_ARGS"] = " ".join(f"{k}={v}" for k, v in request.build_args)
    return Step("build", ("/bin/sh", "-c", request.custom_command), env, _secrets(request))


def platform_steps(name: str, request: Request, platform: Platform) -> list[Step]:
    """The commands that build ``platform`` and push it as ``image:TAG_<os>_<arch>``."""
    ref = f"{request.image}:{platform_tag(request.tag, platform)}"
    common = ["--platform", str(platform), "-t", ref, *_file(request), *_build_args(request)]
    common += list(request.builder_args)
    secrets = _secrets(request)
    if name == "docker":
        return [
            Step("build", ("docker", "build", *common, request.context), secrets=secrets),
            Step("push", ("docker", "push", ref), secrets=secrets),
        ]
    if name == "podman":
        tls = ["--tls-verify=false"] if request.insecure else []
        return [
            Step("build", ("podman", "build", *common, request.context), secrets=secrets),
            Step("push", ("podman", "push", *tls, ref, f"docker://{ref}"), secrets=secrets),
        ]
    if name == "buildah":
        tls = ["--tls-verify=false"] if request.insecure else []
        return [
            Step("build", ("buildah", "build", *common, request.context), secrets=secrets),
            Step("push", ("buildah", "push", *tls, ref, f"docker://{ref}"), secrets=secrets),
        ]
    if name == "custom":
        return [_custom(request, ref, str(platform))]
    raise BuilderError(f"{name} builds several platforms at once")


def executable(name: str) -> str:
    """The program a builder runs (``buildx`` is a docker subcommand)."""
    return {"buildx": "docker", "custom": "/bin/sh"}.get(name, name)


def detect(which: Callable[[str], str | None] = shutil.which) -> str:
    """The builder to use when none is named: buildx when docker has it, else the first of
    buildah, podman, docker, ko on PATH."""
    for name in DETECT:
        program = which(executable(name))
        if program is None:
            continue
        if name == "buildx" and not has_buildx(program):
            continue
        return name
    raise BuilderError(
        "no builder found on PATH (looked for docker buildx, buildah, podman, docker, ko); install one "
        "or name it with --builder"
    )


def has_buildx(docker: str) -> bool:
    """Whether ``docker buildx`` works (the plugin is installed)."""
    import subprocess

    try:
        proc = subprocess.run(
            [docker, "buildx", "version"],
            capture_output=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def require(name: str, which: Callable[[str], str | None] = shutil.which) -> None:
    """BuilderError unless the builder's executable is on PATH."""
    program = executable(name)
    if name != "custom" and which(program) is None:
        raise BuilderError(f"--builder {name}: {program!r} not found on PATH")
