"""``make dist``: the krew release archives, installed the way krew installs them and run
through the real kubectl with a bare ``python3``, against the pip-installed kubectl-arch.

One build per session (all four platforms, three CPython versions; about a minute, wheels
come from PyPI or pip's cache)."""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from integration_util import KUBECTL_ARCH, TESTDATA, describe, ok, require, run, tool_env
from krew_util import archive_name, install, platform_entry, problems

from kubectl_arch import __version__

REPO = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
TARGETS = [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")]
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]
# The real interpreter behind this venv: no site-packages holding kubectl-arch.
BASE_PYTHON = Path(sys._base_executable)  # type: ignore[attr-defined]
PYENV = Path.home() / ".pyenv" / "versions"
PLATFORM_PIN = """\
apiVersion: kubectl-arch.dev/v1alpha1
kind: PlatformPin
metadata:
  name: pin
platforms: [linux/amd64, linux/arm64]
"""


@dataclass
class Dist:
    directory: Path
    manifest: dict[str, Any]
    manifest_text: str
    log: str

    def archive(self, os_name: str, arch: str) -> Path:
        return self.directory / archive_name(platform_entry(self.manifest, os_name, arch)["uri"])


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    manifest = out / "plugin.yaml"
    proc = subprocess.run(
        [
            "make", "-C", str(REPO), "--no-print-directory", "dist", f"DIST_DIR={out}",
            f"DIST_MANIFEST={manifest}", f"DIST_PYTHONS={','.join(PYTHONS)}",
        ],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"make dist failed:\n{proc.stdout}\n{proc.stderr}"
    text = manifest.read_text()
    return Dist(out, yaml.safe_load(text), text, proc.stdout)


def python_dir(tmp: Path, python: Path, name: str = "python3") -> Path:
    """A directory holding only ``name`` -> ``python``, for PATH."""
    directory = tmp / f"py-{name}-{python.name}"
    directory.mkdir(exist_ok=True)
    (directory / name).symlink_to(python)
    return directory


@dataclass
class Krew:
    root: Path
    link: Path
    env: dict[str, str]


def krew_install(dist: Dist, tmp: Path, python: Path = BASE_PYTHON, **extra: str) -> Krew:
    """kubectl-arch installed from the linux archive for this machine, krew-style, with PATH
    holding only krew's bin directory, ``python3`` and kubectl (not the venv, nor any other
    Python)."""
    root = tmp / "krew"
    link = install(dist.manifest, "linux", HOST_ARCH, dist.archive("linux", HOST_ARCH), root)
    env = tool_env(tmp)
    tools = tmp / "tools"  # kubectl and bash alone: /usr/bin would bring other Pythons along
    tools.mkdir()
    for tool in ("kubectl", "bash"):
        (tools / tool).symlink_to(require(tool, env))
    env["PATH"] = os.pathsep.join([str(root / "bin"), str(python_dir(tmp, python)), str(tools)])
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env.pop("PYTHONPATH", None)
    env.update(extra)
    assert shutil.which("kubectl-arch", path=env["PATH"]) == str(link)
    return Krew(root, link, env)


def pip_run(args: list[str], tmp: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run([KUBECTL_ARCH, *args], tool_env(tmp), stdin=stdin)


# -- the archives and the manifest ------------------------------------------------------------


def test_make_dist_fills_in_the_manifest(dist: Dist) -> None:
    assert problems(dist.manifest) == []
    for os_name, arch in TARGETS:
        entry = platform_entry(dist.manifest, os_name, arch)
        archive = dist.archive(os_name, arch)
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"]
        assert entry["uri"] == (
            f"https://github.com/kubectl-arch/kubectl-arch/releases/download/v{__version__}/{archive.name}"
        )
    # Only the sha256 values differ from the checked-in plugin.yaml: comments, order and
    # every other field stay as written.
    checked_in = (REPO / "plugin.yaml").read_text().splitlines()
    built = dist.manifest_text.splitlines()
    assert len(built) == len(checked_in)
    differing = [(a, b) for a, b in zip(checked_in, built, strict=True) if a != b]
    assert all(a.split(":")[0] == b.split(":")[0] == "      sha256" for a, b in differing), differing
    assert sorted(p.name for p in dist.directory.iterdir()) == sorted(
        [f"kubectl-arch_v{__version__}_{o}_{a}.tar.gz" for o, a in TARGETS] + ["plugin.yaml"]
    )


ELF_MACHINE = {"amd64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64
MACHO_CPU = {"amd64": 0x01000007, "arm64": 0x0100000C}  # CPU_TYPE_X86_64, CPU_TYPE_ARM64


def binary_arch_ok(data: bytes, os_name: str, arch: str) -> bool:
    if os_name == "linux":
        return data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == ELF_MACHINE[arch]
    magic = int.from_bytes(data[:4], "little")
    if magic == 0xFEEDFACF:  # thin Mach-O, 64-bit
        return int.from_bytes(data[4:8], "little") == MACHO_CPU[arch]
    if data[:4] == b"\xca\xfe\xba\xbe":  # universal: one of its slices
        count = int.from_bytes(data[4:8], "big")
        cpus = [int.from_bytes(data[8 + 20 * i : 12 + 20 * i], "big") for i in range(count)]
        return MACHO_CPU[arch] in cpus
    return False


@pytest.mark.parametrize(("os_name", "arch"), TARGETS)
def test_archive_layout(dist: Dist, os_name: str, arch: str) -> None:
    with tarfile.open(dist.archive(os_name, arch)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["LICENSE", "kubectl-arch", "payload.zip"]
        assert [members[n].mode for n in sorted(members)] == [0o644, 0o755, 0o644]
        assert all(m.isfile() and m.uid == 0 and m.gid == 0 for m in members.values())
        script = tar.extractfile("kubectl-arch").read().decode()  # type: ignore[union-attr]
        data = tar.extractfile("payload.zip").read()  # type: ignore[union-attr]
        assert tar.extractfile("LICENSE").read() == (REPO / "LICENSE").read_bytes()  # type: ignore[union-attr]
    assert script.startswith("#!/usr/bin/env python3\n")
    assert f"'id': '{hashlib.sha256(data).hexdigest()[:16]}'" in script
    assert f"'platform': '{os_name}/{arch}'" in script
    assert "'pythons': ['cp311', 'cp312', 'cp313']" in script
    assert "'compiled': ['pydantic_core', 'rpds']" in script
    payload = zipfile.ZipFile(io.BytesIO(data))
    names = payload.namelist()
    for module in ("kubectl_arch/cli.py", "kubectl_arch/schemas/platformpin.json", "click/core.py", "ruamel/yaml/main.py",
                   "kubernetes/config/kube_config.py", "requests/sessions.py", "jsonschema/validators.py", "yaml/__init__.py"):  # fmt: skip
        assert f"purelib/{module}" in names, module
    # Compiled code only where each interpreter gets its own copy, built for this platform.
    compiled = [n for n in names if n.endswith((".so", ".dylib", ".pyd"))]
    assert compiled and all(n.startswith("platlib/cp3") for n in compiled), compiled
    for tag in ("cp311", "cp312", "cp313"):
        ours = [n for n in compiled if n.startswith(f"platlib/{tag}/")]
        assert {n.split("/")[2] for n in ours} == {"pydantic_core", "rpds"}
        for name in ours:
            assert binary_arch_ok(payload.read(name), os_name, arch), name
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_builds_are_reproducible(dist: Dist, tmp_path: Path) -> None:
    again = subprocess.run(
        [sys.executable, str(REPO / "release" / "build.py"), "--out", str(tmp_path),
         "--platforms", "linux/arm64", "--pythons", ",".join(PYTHONS)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    archive = dist.archive("linux", "arm64")
    assert (tmp_path / archive.name).read_bytes() == archive.read_bytes()


# -- installed the way krew installs it --------------------------------------------------------


def test_kubectl_finds_and_runs_the_krew_install(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    listed = run(["kubectl", "plugin", "list"], krew.env)
    assert str(krew.link) in listed.stdout.decode().split(), describe(listed)

    for args in (["--help"], ["pin", "--help"], ["--version"]):
        via_krew = ok(run(["kubectl", "arch", *args], krew.env))
        assert via_krew.stdout == ok(pip_run(args, tmp_path)).stdout
        assert via_krew.stderr == b""
    assert (
        ok(run(["kubectl", "arch", "--version"], krew.env)).stdout == f"kubectl-arch {__version__}\n".encode()
    )

    pin = ["pin", "--platform", "linux/arm64", "-f", str(TESTDATA / "deploy.yaml")]
    via_krew = ok(run(["kubectl", "arch", *pin], krew.env))
    assert via_krew.stdout == ok(pip_run(pin, tmp_path)).stdout
    assert b"kubernetes.io/arch" in via_krew.stdout
    assert via_krew.stderr == b""


def test_krew_install_matches_pip_install_on_every_path(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    config = tmp_path / "pin.yaml"
    config.write_text(PLATFORM_PIN)
    pinned = tmp_path / "pinned.yaml"
    pinned.write_bytes(
        ok(
            pip_run(["pin", "--platform", "linux/amd64", "-f", str(TESTDATA / "deploy.yaml")], tmp_path)
        ).stdout
    )
    cases: list[tuple[list[str], bytes | None]] = [
        # jsonschema checks the PlatformPin: referencing and the compiled rpds load.
        (["pin", "--config", str(config), "-f", str(TESTDATA / "deploy.yaml")], None),
        (["pin", "--platform", "linux/amd64,linux/arm64", "-f", str(TESTDATA / "list.yaml"), "--diff"], None),
        (["pin", "--platform", "linux/arm64", "--check", "-f", str(pinned)], None),
        (["pin", "--platform", "linux/s390"], (TESTDATA / "deploy.yaml").read_bytes()),
        (["pin", "--platform", "linux/arm64"], b"kind: Deployment\nspec: [\n"),
        (["nodes"], None),
        (["completion", "bash"], None),
    ]
    for args, stdin in cases:
        via_krew = run(["kubectl", "arch", *args], krew.env, stdin=stdin)
        direct = pip_run(args, tmp_path, stdin=stdin)
        assert (via_krew.returncode, via_krew.stdout, via_krew.stderr) == (
            direct.returncode, direct.stdout, direct.stderr,
        ), f"{args}\n{describe(via_krew)}\n{describe(direct)}"  # fmt: skip
    # As a KRM function, kpt runs it by name from PATH.
    docs = [d for d in yaml.safe_load_all((TESTDATA / "deploy.yaml").read_text()) if d]
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pin"}}
    resource_list = yaml.safe_dump(
        {
            "apiVersion": "config.kubernetes.io/v1",
            "kind": "ResourceList",
            "functionConfig": {**config_map, "data": {"platform": "linux/arm64"}},
            "items": docs,
        }
    )
    via_krew = ok(run(["kubectl-arch", "pin"], krew.env, stdin=resource_list))
    assert via_krew.stdout == ok(pip_run(["pin"], tmp_path, stdin=resource_list.encode())).stdout


def test_completion_through_the_krew_install(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    # What the manifest's caveats tell krew users to do.
    (krew.root / "bin" / "kubectl_complete-arch").symlink_to("kubectl-arch")
    proc = ok(run(["kubectl", "__complete", "arch", "pin", "--platform", "linux/arm"], krew.env))
    assert proc.stdout == b"linux/arm64\nlinux/arm/v7\nlinux/arm/v6\n:4\n"


def test_every_dependency_imports_without_site_packages(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    ok(run(["kubectl-arch", "--version"], krew.env))  # unpacks
    [unpacked] = (tmp_path / "cache" / "kubectl-arch" / "dist").iterdir()
    assert sorted(p.name for p in (unpacked / "platlib").iterdir()) == ["cp311"]  # only what runs here
    probe = (
        "import sys; sys.path[:0] = sys.argv[1:3]\n"
        "import kubectl_arch.cli, click, ruamel.yaml, requests, jsonschema, yaml, kubernetes.client, kubernetes.config\n"
        "jsonschema.validate({'a': 1}, {'properties': {'a': {'type': 'integer'}}})\n"
        "assert not yaml.__with_libyaml__\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('rpds', 'pydantic_core')}))\n"
        "print(kubectl_arch.cli.__file__.startswith(sys.argv[1]))\n"
    )
    proc = ok(
        run(
            [BASE_PYTHON, "-I", "-S", "-c", probe, unpacked / "purelib", unpacked / "platlib" / "cp311"],
            krew.env,
        )
    )
    # The kubernetes client (for nodes and check) loads pydantic-core, jsonschema rpds.
    assert proc.stdout.decode().splitlines() == ["['pydantic_core', 'rpds']", "True"]


def test_first_runs_at_once_unpack_once(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    args = ["kubectl-arch", "pin", "--platform", "linux/arm64", "-f", str(TESTDATA / "deploy.yaml")]
    procs = [
        subprocess.Popen(args, env=krew.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    expected = ok(pip_run(args[1:], tmp_path)).stdout
    assert results == [(expected, b"", 0)] * 4
    dist_cache = tmp_path / "cache" / "kubectl-arch" / "dist"
    assert len(list(dist_cache.iterdir())) == 1  # no staging directory left behind


def test_unwritable_cache_falls_back_to_the_temporary_directory(dist: Dist, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    krew = krew_install(dist, tmp_path, XDG_CACHE_HOME="/dev/null/cache", TMPDIR=str(temp))
    ok(run(["kubectl-arch", "--version"], krew.env))
    assert [p.name for p in (temp / f"kubectl-arch-{os.getuid()}" / "dist").iterdir()]


def test_bytecode_is_cached_even_with_dont_write_bytecode(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path, PYTHONDONTWRITEBYTECODE="1")
    ok(
        run(
            ["kubectl-arch", "pin", "--platform", "linux/arm64", "-f", str(TESTDATA / "deploy.yaml")],
            krew.env,
        )
    )
    [unpacked] = (tmp_path / "cache" / "kubectl-arch" / "dist").iterdir()
    assert list((unpacked / "purelib" / "kubectl_arch").glob("__pycache__/cli.*.pyc"))


# -- other interpreters ------------------------------------------------------------------------


def pyenv_python(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} on this machine (looked in {PYENV})")
    return found[-1]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_runs_with_other_supported_pythons(dist: Dist, tmp_path: Path, version: str) -> None:
    python = pyenv_python(version)
    krew = krew_install(dist, tmp_path, python)
    config = tmp_path / "pin.yaml"
    config.write_text(PLATFORM_PIN)
    args = ["pin", "--config", str(config), "-f", str(TESTDATA / "deploy.yaml")]
    assert ok(run(["kubectl", "arch", *args], krew.env)).stdout == ok(pip_run(args, tmp_path)).stdout
    [unpacked] = (tmp_path / "cache" / "kubectl-arch" / "dist").iterdir()
    assert [p.name for p in (unpacked / "platlib").iterdir()] == ["cp" + version.replace(".", "")]


def test_old_python3_says_what_it_needs(dist: Dist, tmp_path: Path) -> None:
    old = pyenv_python("3.9")
    krew = krew_install(dist, tmp_path, old)
    proc = run(["kubectl", "arch", "--version"], krew.env)
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == b""
    assert proc.stderr.decode() == (
        f"error: kubectl-arch needs Python 3.11 or newer; {tmp_path}/py-python3-{old.name}/python3 is Python 3.9. "
        "Install a newer python3 on PATH, or point KUBECTL_ARCH_PYTHON at one.\n"
    )
    # A python3.X >= 3.11 elsewhere on PATH is used instead.
    newer = python_dir(tmp_path, BASE_PYTHON, "python3.11")
    env = {**krew.env, "PATH": krew.env["PATH"] + os.pathsep + str(newer)}
    assert ok(run(["kubectl", "arch", "--version"], env)).stdout == f"kubectl-arch {__version__}\n".encode()
    # And KUBECTL_ARCH_PYTHON names one explicitly.
    env = {**krew.env, "KUBECTL_ARCH_PYTHON": str(BASE_PYTHON)}
    assert ok(run(["kubectl", "arch", "--version"], env)).stdout == f"kubectl-arch {__version__}\n".encode()


def test_interpreter_without_compiled_dependencies_fails_cleanly(dist: Dist, tmp_path: Path) -> None:
    # The same install, told it carries compiled dependencies for 3.12 and 3.13 only.
    krew = krew_install(dist, tmp_path)
    script = krew.link.resolve()
    script.write_text(script.read_text().replace("'pythons': ['cp311', ", "'pythons': ["))
    # pin needs nothing compiled.
    pin = ["pin", "--platform", "linux/arm64", "-f", str(TESTDATA / "deploy.yaml")]
    assert ok(run(["kubectl", "arch", *pin], krew.env)).stdout == ok(pip_run(pin, tmp_path)).stdout
    # A PlatformPin config is checked with jsonschema, which needs rpds.
    config = tmp_path / "pin.yaml"
    config.write_text(PLATFORM_PIN)
    proc = run(
        ["kubectl", "arch", "pin", "--config", str(config), "-f", str(TESTDATA / "deploy.yaml")], krew.env
    )
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == b""
    assert proc.stderr.decode() == (
        "error: this kubectl-arch build carries rpds for cp312, cp313 only, not for cp311 "
        f"({tmp_path}/py-python3-{BASE_PYTHON.name}/python3); run it with one of those Pythons "
        "(KUBECTL_ARCH_PYTHON=python3.X) or install it with pipx\n"
    )


def test_a_payload_from_elsewhere_is_refused(dist: Dist, tmp_path: Path) -> None:
    krew = krew_install(dist, tmp_path)
    payload = krew.link.resolve().parent / "payload.zip"
    payload.write_bytes(payload.read_bytes() + b"\0")
    proc = run(["kubectl", "arch", "--version"], krew.env)
    assert (proc.returncode, proc.stdout) == (2, b""), describe(proc)
    assert proc.stderr.decode() == f"error: {payload} is not the payload of this kubectl-arch; reinstall it\n"
    payload.unlink()
    proc = run(["kubectl", "arch", "--version"], krew.env)
    assert (proc.returncode, proc.stdout) == (2, b""), describe(proc)
    assert (
        proc.stderr.decode()
        == f"error: cannot read {payload}: No such file or directory; reinstall kubectl-arch\n"
    )
    assert not (tmp_path / "cache" / "kubectl-arch" / "dist").exists() or not any(
        (tmp_path / "cache" / "kubectl-arch" / "dist").iterdir()
    )
