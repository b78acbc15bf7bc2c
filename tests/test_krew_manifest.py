"""plugin.yaml against krew's schema and rules, and the checker itself against broken copies."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from krew_util import archive_name, load, platform_entry, problems

from kubectl_arch import __version__

TARGETS = [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")]


@pytest.fixture
def manifest() -> dict[str, Any]:
    return load()


def test_plugin_yaml_is_valid(manifest: dict[str, Any]) -> None:
    assert problems(manifest) == []


def test_plugin_yaml_describes_this_package(manifest: dict[str, Any]) -> None:
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    assert manifest["metadata"]["name"] == "arch"
    spec = manifest["spec"]
    assert spec["version"] == f"v{__version__}"
    pyproject = (load.__globals__["REPO"] / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(__version__)}"$', pyproject, re.M)
    assert spec["homepage"].startswith("https://")
    assert 0 < len(spec["shortDescription"]) <= 80
    assert "pin" in spec["description"]
    assert "Python 3.11 or newer" in spec["caveats"]
    assert "kubectl_complete-arch" in spec["caveats"]


def test_every_target_has_its_own_archive(manifest: dict[str, Any]) -> None:
    names = set()
    for os_name, arch in TARGETS:
        entry = platform_entry(manifest, os_name, arch)
        assert entry["selector"] == {"matchLabels": {"os": os_name, "arch": arch}}
        assert entry["bin"] == "kubectl-arch"
        assert entry["uri"].startswith("https://")
        name = archive_name(entry["uri"])
        assert name == f"kubectl-arch_v{__version__}_{os_name}_{arch}.tar.gz"
        assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        names.add(name)
    assert len(manifest["spec"]["platforms"]) == len(names) == 4


def broken(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of manifest with the dotted path set to value (None: deleted)."""
    out = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "apiVersion",
            "krew.googlecontainertools.github.com/v1alpha1",
            "apiVersion: 'krew.googlecontainertools.github.com/v1alpha2' was expected",
        ),
        ("kind", "Plugins", "kind: 'Plugin' was expected"),
        ("metadata.name", "arch/x", "metadata.name: 'arch/x' does not match '^[A-Za-z0-9_-]+$'"),
        (
            "metadata.name",
            "con",
            "metadata.name: 'con' should not be valid under {'pattern': '^(?i:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$'}",
        ),
        ("spec.version", "0.1.0", "spec.version: '0.1.0' does not match"),
        ("spec.version", "v0.1", "spec.version: 'v0.1' does not match"),
        ("spec.version", "v01.1.0", "spec.version: 'v01.1.0' does not match"),
        ("spec.shortDescription", "", "spec.shortDescription: '' should be non-empty"),
        (
            "spec.shortDescription",
            "two\nlines",
            "spec.shortDescription: 'two\\nlines' does not match '^[^\\\\r\\\\n]+$'",
        ),
        (
            "spec.shortDescripton",
            "typo",
            "spec: Additional properties are not allowed ('shortDescripton' was unexpected)",
        ),
        ("spec.platforms", [], "spec.platforms: [] should be non-empty"),
        ("spec.platforms.0.sha256", "ABC", "spec.platforms.0.sha256: 'ABC' does not match '^[a-f0-9]{64}$'"),
        ("spec.platforms.0.sha256", None, "spec.platforms.0: 'sha256' is a required property"),
        ("spec.platforms.0.uri", None, "spec.platforms.0: 'uri' is a required property"),
        ("spec.platforms.0.bin", "", "spec.platforms.0.bin: '' should be non-empty"),
        ("spec.platforms.0.files", [], "spec.platforms.0.files: [] should be non-empty"),
        ("spec.platforms.0.selector", {}, "spec.platforms.0.selector: {} should be non-empty"),
        (
            "spec.platforms.0.selector",
            {"matchLabels": {"cpu": "x"}},
            "spec.platforms.0.selector.matchLabels: 'cpu' is not one of ['os', 'arch']",
        ),
        (
            "spec.platforms.0.selector",
            {"matchExpressions": [{"key": "os", "operator": "In"}]},
            "spec.platforms.0.selector.matchExpressions.0: 'values' is a required property",
        ),
    ],
)
def test_checker_rejects_what_krew_rejects(
    manifest: dict[str, Any], path: str, value: Any, message: str
) -> None:
    found = problems(broken(manifest, path, value))
    assert any(p.startswith(message) for p in found), found


def test_checker_rejects_overlapping_and_unusable_selectors(manifest: dict[str, Any]) -> None:
    overlapping = broken(manifest, "spec.platforms.1.selector", {"matchLabels": {"os": "linux"}})
    assert problems(overlapping) == [
        "spec.platforms [0, 1] have overlapping selectors that select linux/amd64",
    ]
    nowhere = broken(manifest, "spec.platforms.3.selector", {"matchLabels": {"os": "plan9"}})
    assert problems(nowhere) == ["spec.platforms[3]'s selector matches no platform krew supports"]
    renamed = broken(manifest, "metadata.name", "arch-v2")
    assert problems(renamed) == ["plugin should be named 'arch', not 'arch-v2'"]
    expressions = broken(
        manifest,
        "spec.platforms.0.selector",
        {
            "matchExpressions": [
                {"key": "os", "operator": "In", "values": ["linux"]},
                {"key": "arch", "operator": "NotIn", "values": ["arm64"]},
            ]
        },
    )
    # linux and not arm64: overlaps the linux/amd64 entry... no: entry 0 is replaced, so it
    # selects linux/386, amd64, arm and ppc64le, none of which another entry selects.
    assert problems(expressions) == []
