"""pin over real-world manifests (../shared/corpus): nothing but the affinity changes.

The corpus lives beside the checkout (CI has it); without it, this module is skipped, saying so."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import corpus_util
import pytest
import yaml
from corpus_util import CORPUS
from scheduler import pod_matches_node

if not corpus_util.PRESENT:
    pytest.skip(corpus_util.ABSENT, allow_module_level=True)

BIN = Path(sys.executable).parent / "kubectl-arch"
FILES = corpus_util.manifests(".yaml", ".yml")
SPLIT = re.compile(r"^---[ \t]*(?:#.*)?\n", re.M)  # a separate, simple document splitter
WORKLOAD_SPECS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # YAML 1.1, like the API server
NODES = [
    ({"kubernetes.io/os": os, "kubernetes.io/arch": arch}, f"{os}-{arch}")
    for os in ("linux", "windows")
    for arch in ("amd64", "arm64", "s390x")
]


def pin(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), "pin", *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def pod_specs(doc: object) -> list[dict]:
    if not isinstance(doc, dict):
        return []
    if str(doc.get("kind", "")).endswith("List"):
        return [spec for item in doc.get("items") or [] for spec in pod_specs(item)]
    path = WORKLOAD_SPECS.get(doc.get("kind"))  # type: ignore[arg-type]
    if path is None:
        return []
    node = doc
    for key in path:
        node = node[key]
    return [node]


def without_affinity(doc: object) -> object:
    for spec in pod_specs(doc):
        spec.pop("affinity", None)
    return doc


def test_corpus_is_there() -> None:
    assert len(FILES) > 90, f"{CORPUS} holds only {len(FILES)} manifests"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_only_affinity_changes_and_pods_are_pinned(path: Path) -> None:
    result = pin("--platform", "linux/amd64,linux/arm64", "-f", str(path))
    assert result.returncode == 0, result.stderr.decode()
    source, output = path.read_text(), result.stdout.decode()
    before, after = SPLIT.split(source), SPLIT.split(output)
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        old_doc, new_doc = yaml.load(old, LOADER), yaml.load(new, LOADER)
        if old_doc == new_doc:
            assert old == new  # needed no change: byte-identical
            continue
        assert without_affinity(new_doc) == without_affinity(yaml.load(old, LOADER))
        # the other lines are all still there, in order
        kept = iter(new.splitlines())
        assert all(any(line == k for k in kept) for line in old.splitlines())
    for doc in yaml.load_all(output, LOADER):
        for spec in pod_specs(doc):
            for labels, name in NODES:
                if pod_matches_node(spec, labels, name):
                    assert labels["kubernetes.io/os"] == "linux"
                    assert labels["kubernetes.io/arch"] in ("amd64", "arm64")
    if output != source:
        again = pin("--platform", "linux/amd64,linux/arm64", "-f", "-", stdin=result.stdout)
        assert again.stdout == result.stdout  # idempotent


def test_the_big_stream_pins_every_workload() -> None:
    path = CORPUS / "argo-cd" / "manifests" / "install.yaml"
    result = pin("--platform", "linux/arm64", "-f", str(path))
    assert result.returncode == 0
    specs = [s for d in yaml.load_all(result.stdout, LOADER) for s in pod_specs(d)]
    assert len(specs) == 7
    for spec in specs:
        matched = [name for labels, name in NODES if pod_matches_node(spec, labels, name)]
        assert matched == ["linux-arm64"]
