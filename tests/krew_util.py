"""krew's rules for a plugin manifest, and installing an archive the way krew does.

The rules follow krew's ``internal/index/validation`` (ValidatePlugin) and the extra checks of
``cmd/validate-krew-manifest`` that krew-index runs on every submission: each platform
selector matches a platform krew supports, no two selectors match the same one, and an
installed archive contains a license file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "plugin.yaml"
SCHEMA = REPO / "release" / "krew-plugin.schema.json"
# cmd/validate-krew-manifest: allPlatforms.
KREW_PLATFORMS = [
    ("windows", "386"), ("windows", "amd64"), ("windows", "arm64"), ("linux", "386"), ("linux", "amd64"),
    ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"), ("darwin", "386"), ("darwin", "amd64"),
    ("darwin", "arm64"),
]  # fmt: skip
LICENSE_FILES = {"license", "license.txt", "license.md", "licenses", "licenses.txt", "licenses.md", "copying", "copying.txt"}  # fmt: skip


def load(path: Path = MANIFEST) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def selector_matches(selector: Mapping[str, Any], os_name: str, arch: str) -> bool:
    """Kubernetes label selector semantics over the labels {os, arch}."""
    labels = {"os": os_name, "arch": arch}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        have = expr["key"] in labels
        value = labels.get(expr["key"])
        operator = expr["operator"]
        if operator == "In" and value not in expr.get("values", []):
            return False
        if operator == "NotIn" and have and value in expr.get("values", []):
            return False
        if operator == "Exists" and not have:
            return False
        if operator == "DoesNotExist" and have:
            return False
    return True


def problems(manifest: Mapping[str, Any], name: str = "arch") -> list[str]:
    """Everything krew and krew-index would reject, as messages; empty when valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    found = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if found:
        return found
    if manifest["metadata"]["name"] != name:
        found.append(f"plugin should be named {name!r}, not {manifest['metadata']['name']!r}")
    platforms = manifest["spec"]["platforms"]
    for i, platform in enumerate(platforms):
        if not any(selector_matches(platform["selector"], o, a) for o, a in KREW_PLATFORMS):
            found.append(f"spec.platforms[{i}]'s selector matches no platform krew supports")
    for os_name, arch in KREW_PLATFORMS:
        matching = [i for i, p in enumerate(platforms) if selector_matches(p["selector"], os_name, arch)]
        if len(matching) > 1:
            found.append(f"spec.platforms {matching} have overlapping selectors that select {os_name}/{arch}")
    return found


def platform_entry(manifest: Mapping[str, Any], os_name: str, arch: str) -> dict[str, Any]:
    """The platform entry krew picks for os/arch (the first whose selector matches)."""
    for entry in manifest["spec"]["platforms"]:
        if selector_matches(entry["selector"], os_name, arch):
            return dict(entry)
    raise AssertionError(f"no platform entry for {os_name}/{arch}")


def install(manifest: Mapping[str, Any], os_name: str, arch: str, archive: Path, krew_root: Path) -> Path:
    """Install ``archive`` as krew does for os/arch: check its sha256, unpack it (tar.gz or zip,
    by content) into ``store/<name>/<version>``, and link ``bin/kubectl-<name>`` to the
    platform's ``bin``. Returns the link."""
    entry = platform_entry(manifest, os_name, arch)
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == entry["sha256"], f"{archive.name}: sha256 {digest}, manifest says {entry['sha256']}"
    name, version = manifest["metadata"]["name"], manifest["spec"]["version"]
    store = krew_root / "store" / name / version
    store.mkdir(parents=True)
    if data[:2] == b"\x1f\x8b":
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                # krew's extractor handles directories and regular files only.
                assert member.isdir() or member.isfile(), (
                    f"{archive.name}: {member.name} is neither file nor dir"
                )
                assert not Path(member.name).is_absolute() and ".." not in Path(member.name).parts
            tar.extractall(store, filter="data")
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(store)
    else:
        raise AssertionError(f"{archive.name}: neither a tar.gz nor a zip archive")
    for op in entry.get("files") or []:
        raise AssertionError(f"file operations are not modelled here: {op}")
    target = store / entry["bin"]
    assert target.is_file(), f"bin {entry['bin']!r} is not in {archive.name}"
    assert os.access(target, os.X_OK), f"bin {entry['bin']!r} is not executable"
    licenses = [p for p in store.rglob("*") if p.is_file() and p.name.lower() in LICENSE_FILES]
    assert licenses, f"{archive.name} carries no license file (krew-index requires one)"
    bin_dir = krew_root / "bin"
    bin_dir.mkdir(exist_ok=True)
    link = bin_dir / ("kubectl-" + name.replace("-", "_"))
    link.symlink_to(target)
    return link


def archive_name(uri: str) -> str:
    return re.sub(r"^.*/", "", uri)
