"""Every line of a manifest outside what pin inserts stays byte for byte, for every kind whose
placement pin writes: into an empty mapping (``driver: {}``), beside a placement key the pod
has from a shared template (a Flink role's podAntiAffinity), under a list item's first key (an
Argo template), with comments around. Fixtures: ``testdata/fidelity/`` (each kind's usual
layouts, with comments)."""

from __future__ import annotations

import re

import pytest
from test_cli_pin import ROOT, error_lines, run

HERE = ROOT / "testdata" / "fidelity"
FLAGS = [
    ("--platform", "linux/amd64,linux/arm64"),
    ("--platform", "linux/amd64,linux/arm64", "--arch-taint", "kubernetes.io/arch=arm64:NoSchedule"),
    (
        "--platform",
        "linux/amd64,linux/arm64,linux/s390x",
        "--arch-taint",
        "kubernetes.io/arch=s390x:NoExecute",
    ),
]
_EMPTY = re.compile(r":[ \t]*\{\}(?=[ \t]*(#.*)?$)")  # "key: {}", which becomes "key:" and a block


def lost(original: str, pinned: str) -> list[str]:
    """The lines of ``original`` not found, in order, in ``pinned`` (``key: {}`` looked for as
    ``key:``, its comment kept)."""
    wanted = [_EMPTY.sub(":", line) for line in original.splitlines()]
    out = iter(pinned.splitlines())
    missing = []
    for line in wanted:
        for candidate in out:
            if candidate == line:
                break
        else:
            missing.append(line)
            out = iter(())
    return missing


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: " ".join(f))
@pytest.mark.parametrize("name", sorted(p.name for p in HERE.glob("*.yaml")))
def test_lines_outside_the_insertion_stay(name: str, flags: tuple[str, ...]) -> None:
    original = (HERE / name).read_text()
    result = run("pin", *flags, "-f", name, cwd=HERE)
    assert result.returncode == 0, error_lines(result)
    pinned = result.stdout.decode()
    assert pinned != original
    assert lost(original, pinned) == []
    again = run("pin", *flags, "-f", "-", stdin=result.stdout, cwd=HERE)
    assert (again.returncode, again.stdout) == (0, result.stdout)  # idempotent


def test_an_empty_role_mapping_becomes_a_block_and_its_sibling_keeps_its_comments() -> None:
    result = run(*("pin", *FLAGS[1], "-f", "sp-fmt2.yaml"), cwd=HERE)
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "  driver:\n    affinity:\n      nodeAffinity:\n" in text
    assert "    instances: 3   # three executors\n    # spot instances only\n    tolerations:\n" in text


def test_a_role_pod_template_keeps_its_own_affinity_as_written() -> None:
    result = run("pin", *FLAGS[0], "-f", "flink-comment.yaml", cwd=HERE)
    assert result.returncode == 0
    assert (
        "            - labelSelector: {matchLabels: {app: fl}}   # one JM per node\n"
        in result.stdout.decode()
    )
