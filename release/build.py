"""Build the release archives that plugin.yaml points to, and fill in their sha256.

For each target platform (krew's os/arch), one ``kubectl-arch_vX.Y.Z_<os>_<arch>.tar.gz``
holding ``LICENSE``, ``payload.zip`` (the package and every dependency) and ``kubectl-arch``,
a Python script that runs with any ``python3`` >= 3.11 on ``PATH`` and imports from the
payload, unpacked on first run (see ``release/bootstrap.py``).

Compiled dependencies: ``pip download --only-binary=:all: --platform ...`` fetches wheels for
the target. A compiled wheel whose project also publishes a pure-Python wheel of the same
version (aiohttp, yarl, multidict, frozenlist, propcache, charset-normalizer) is replaced by
that; PyYAML's extension is optional (it falls back to its pure-Python parser), so it is left
out. What stays compiled (pydantic-core, rpds-py) is carried once per CPython version
(``--pythons``) under ``platlib/cpXY/``, and the script picks the one that fits the running
interpreter. The archives are reproducible: same inputs, same bytes (file times come from
SOURCE_DATE_EPOCH, else the last commit that changed anything but plugin.yaml).

    python release/build.py --out dist --manifest plugin.yaml \\
        --release-url https://example.org/releases/download/v0.1.0
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = Path(__file__).resolve().parent / "bootstrap.py"
BIN = "kubectl-arch"
PAYLOAD = "payload.zip"
LICENSE = "LICENSE"
# krew's os/arch -> pip platform tags: the oldest glibc (manylinux2014) and macOS (11) the
# wheels may require; pip also accepts wheels for older ones.
PLATFORM_TAGS = {
    "linux/amd64": ("manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "linux/arm64": ("manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "darwin/amd64": ("macosx_11_0_x86_64",),
    "darwin/arm64": ("macosx_11_0_arm64",),
}
DEFAULT_PLATFORMS = tuple(PLATFORM_TAGS)
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13", "3.14", "3.15")
# Projects whose extension modules are optional: the pure-Python code runs without them.
EXTENSIONS_OPTIONAL = frozenset({"pyyaml"})
EXTENSION_SUFFIXES = (".so", ".pyd", ".dylib")
WHEEL_NAME = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class Wheel:
    path: Path

    @property
    def parts(self) -> re.Match[str]:
        m = WHEEL_NAME.match(self.path.name)
        if m is None:
            raise BuildError(f"not a wheel file name: {self.path.name}")
        return m

    @property
    def project(self) -> str:
        return re.sub(r"[-_.]+", "-", self.parts["name"]).lower()

    @property
    def version(self) -> str:
        return self.parts["version"]

    @property
    def pure(self) -> bool:
        return self.parts["abi"] == "none" and self.parts["plat"] == "any"


@dataclass
class Artifact:
    platform: str
    path: Path
    sha256: str
    compiled: list[str] = field(default_factory=list)


def package_version() -> str:
    init = (ROOT / "kubectl_arch" / "__init__.py").read_text()
    found = re.search(r'^__version__ = "([^"]+)"$', init, re.M)
    pyproject = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    if not found or not pyproject:
        raise BuildError("cannot read the version from kubectl_arch/__init__.py and pyproject.toml")
    if found[1] != pyproject[1]:
        raise BuildError(f"kubectl_arch/__init__.py says {found[1]}, pyproject.toml says {pyproject[1]}")
    if not re.fullmatch(r"\d+\.\d+\.\d+", found[1]):
        raise BuildError(f"version {found[1]} is not X.Y.Z (krew needs semver vX.Y.Z)")
    return found[1]


def source_date_epoch() -> int:
    import os

    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    proc = subprocess.run(
        # Writing the sha256 into plugin.yaml must not change the archives it describes.
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct", "--", ".", ":!plugin.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else 315532800


def pip(args: Sequence[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(f"pip {' '.join(args)} failed:\n{proc.stderr.strip()[-3000:]}")


def build_own_wheel(dest: Path) -> Wheel:
    pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(ROOT)])
    wheels = list(dest.glob("kubectl_arch-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one kubectl_arch wheel in {dest}, found {wheels}")
    return Wheel(wheels[0])


def download(
    requirements: Sequence[str],
    python: str,
    tags: Sequence[str] | None,
    work: Path,
    *,
    deps: bool,
) -> list[Wheel]:
    """Wheels for ``requirements`` on CPython ``python`` and platform ``tags`` (None: pure only)."""
    dest = Path(tempfile.mkdtemp(prefix="wheels-", dir=work))
    args = ["download", "--quiet", "--only-binary=:all:", "--dest", str(dest), "--python-version", python]
    if tags is None:
        args += ["--implementation", "py", "--abi", "none", "--platform", "any"]
    else:
        abi = "cp" + python.replace(".", "")
        args += ["--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none"]
        args += [f"--platform={tag}" for tag in tags]
    if not deps:
        args.append("--no-deps")
    pip([*args, *requirements])
    return [Wheel(p) for p in sorted(dest.glob("*.whl"))]


def unpack_wheel(wheel: Wheel, into: dict[str, bytes], *, drop_extensions: bool = False) -> None:
    """Add the files a wheel installs into site-packages to ``into`` (path -> bytes)."""
    with zipfile.ZipFile(wheel.path) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            head, _, rest = name.partition("/")
            if head.endswith(".data"):
                scheme, _, rest = rest.partition("/")
                if scheme not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: not needed by an import path
                name = rest
            if drop_extensions and name.endswith(EXTENSION_SUFFIXES):
                continue
            if "__pycache__/" in name or name.endswith(".pyc"):
                continue
            if name in into and into[name] != zf.read(info):
                raise BuildError(f"{wheel.path.name} and another wheel both install {name}")
            into[name] = zf.read(info)


def top_level_modules(files: Iterable[str]) -> list[str]:
    names = set()
    for name in files:
        head = name.split("/")[0]
        if head.endswith((".dist-info", ".data")):
            continue
        names.add(head.split(".")[0] if "/" not in name else head)
    return sorted(names)


def deterministic_zip(files: dict[str, bytes], epoch: int, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, files[name], compresslevel=6 if compress == zipfile.ZIP_DEFLATED else None)
    return buffer.getvalue()


def bootstrap_source(build: dict[str, object]) -> bytes:
    text = BOOTSTRAP.read_text()
    marker = "BUILD = {}  # filled in by release/build.py\n"
    if marker not in text:
        raise BuildError(f"{BOOTSTRAP} has no line {marker.strip()!r}")
    return text.replace(marker, f"BUILD = {build!r}\n").encode()


def tarball(members: dict[str, tuple[bytes, int]], epoch: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(members):
            data, mode = members[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=epoch, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


class Builder:
    def __init__(self, pythons: Sequence[str], work: Path, epoch: int) -> None:
        self.pythons = list(pythons)
        self.work = work
        self.epoch = epoch
        # pip spends most of its time waiting on the index: ask it several things at once.
        self.pool = ThreadPoolExecutor(max_workers=8)
        self._lock = threading.Lock()
        self._pure: dict[tuple[str, str], Future[list[Wheel]]] = {}

    def pure_variant(self, wheel: Wheel) -> Future[list[Wheel]]:
        """The pure-Python wheel of the same project and version, if the project has one
        (a future list of none or one wheel); each project is looked up once per build."""
        key = (wheel.project, wheel.version)
        with self._lock:
            if key not in self._pure:
                self._pure[key] = self.pool.submit(self._download_pure, f"{wheel.project}=={wheel.version}")
            return self._pure[key]

    def _download_pure(self, requirement: str) -> list[Wheel]:
        try:
            return download([requirement], self.pythons[0], None, self.work, deps=False)
        except BuildError:
            return []

    def payload(self, own: Wheel, platform: str) -> tuple[bytes, dict[str, object]]:
        tags = PLATFORM_TAGS[platform]
        first = self.pythons[0]
        resolved = download([str(own.path)], first, tags, self.work, deps=True)
        purelib: dict[str, bytes] = {}
        compiled: list[Wheel] = []
        binary = [w for w in resolved if not w.pure and w.project not in EXTENSIONS_OPTIONAL]
        pure_variants = {w.path: self.pure_variant(w) for w in binary}
        for wheel in resolved:
            if wheel.pure:
                unpack_wheel(wheel, purelib)
            elif wheel.project in EXTENSIONS_OPTIONAL:
                unpack_wheel(wheel, purelib, drop_extensions=True)
            elif pure := pure_variants[wheel.path].result():
                unpack_wheel(pure[0], purelib)
            else:
                compiled.append(wheel)
        files = {f"purelib/{name}": data for name, data in purelib.items()}
        pins = [f"{w.project}=={w.version}" for w in compiled]
        later = {
            python: self.pool.submit(download, pins, python, tags, self.work, deps=False)
            for python in self.pythons[1:]
            if compiled
        }
        tags_built = []
        modules: set[str] = set()
        for python in self.pythons:
            wheels = compiled if python == first else later[python].result() if compiled else []
            platlib: dict[str, bytes] = {}
            for wheel in wheels:
                unpack_wheel(wheel, platlib)
            tag = "cp" + python.replace(".", "")
            tags_built.append(tag)
            modules.update(top_level_modules(platlib))
            files.update({f"platlib/{tag}/{name}": data for name, data in platlib.items()})
        payload = deterministic_zip(files, self.epoch)
        build: dict[str, object] = {
            "id": hashlib.sha256(payload).hexdigest()[:16],
            "platform": platform,
            "pythons": tags_built,
            "compiled": sorted(modules),
        }
        return payload, build


def build_platform(builder: Builder, own: Wheel, platform: str, version: str, out: Path) -> Artifact:
    payload, build = builder.payload(own, platform)
    members = {
        BIN: (bootstrap_source(build), 0o755),
        PAYLOAD: (payload, 0o644),
        LICENSE: ((ROOT / LICENSE).read_bytes(), 0o644),
    }
    archive = tarball(members, builder.epoch)
    os_name, arch = platform.split("/")
    path = out / f"kubectl-arch_v{version}_{os_name}_{arch}.tar.gz"
    path.write_bytes(archive)
    return Artifact(platform, path, hashlib.sha256(archive).hexdigest(), list(build["compiled"]))  # type: ignore[arg-type]


def update_manifest(
    manifest: Path, out: Path | None, version: str, url: str, artifacts: list[Artifact]
) -> None:
    """Set each built platform's uri and sha256 in the krew manifest (comments kept)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = yaml.load(manifest.read_text())
    if doc["spec"]["version"] != f"v{version}":
        raise BuildError(f"{manifest}: spec.version is {doc['spec']['version']}, the package is v{version}")
    by_platform = {a.platform: a for a in artifacts}
    seen = set()
    for entry in doc["spec"]["platforms"]:
        labels = entry["selector"]["matchLabels"]
        platform = f"{labels['os']}/{labels['arch']}"
        artifact = by_platform.get(platform)
        if artifact is None:
            continue
        seen.add(platform)
        entry["uri"] = f"{url.rstrip('/')}/{artifact.path.name}"
        entry["sha256"] = artifact.sha256
    missing = sorted(set(by_platform) - seen)
    if missing:
        raise BuildError(f"{manifest} has no platform entry for {', '.join(missing)}")
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    (out or manifest).write_text(buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="directory for the archives (dist)")
    parser.add_argument("--platforms", default=",".join(DEFAULT_PLATFORMS), help="os/arch list")
    parser.add_argument("--pythons", default=",".join(DEFAULT_PYTHONS), help="CPython versions to carry")
    parser.add_argument("--manifest", type=Path, help="krew manifest to fill in (uri, sha256)")
    parser.add_argument("--manifest-out", type=Path, help="write the filled-in manifest here instead")
    parser.add_argument("--release-url", help="URL the archives will be downloaded from (directory)")
    opts = parser.parse_args(argv)
    platforms = [p.strip() for p in opts.platforms.split(",") if p.strip()]
    pythons = [p.strip() for p in opts.pythons.split(",") if p.strip()]
    unknown = [p for p in platforms if p not in PLATFORM_TAGS]
    try:
        if unknown:
            raise BuildError(f"unknown platform {', '.join(unknown)}; known: {', '.join(PLATFORM_TAGS)}")
        if opts.manifest and not opts.release_url:
            raise BuildError("--manifest needs --release-url")
        if not (ROOT / LICENSE).is_file():
            raise BuildError(f"{ROOT / LICENSE} is missing (krew requires a license file in the archive)")
        version = package_version()
        opts.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="kubectl-arch-dist-") as tmp:
            work = Path(tmp)
            own = build_own_wheel(work / "own")
            builder = Builder(pythons, work, source_date_epoch())
            with ThreadPoolExecutor(max_workers=len(platforms) or 1) as pool:
                artifacts = list(
                    pool.map(lambda p: build_platform(builder, own, p, version, opts.out), platforms)
                )
            builder.pool.shutdown()
        if opts.manifest:
            update_manifest(opts.manifest, opts.manifest_out, version, opts.release_url, artifacts)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for a in artifacts:
        size = a.path.stat().st_size / 1e6
        print(f"{a.path.name}  {size:.1f} MB  sha256 {a.sha256}  compiled: {', '.join(a.compiled) or 'none'}")
    if opts.manifest:
        print(
            f"{opts.manifest_out or opts.manifest}: uri and sha256 filled in for {len(artifacts)} platform(s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
