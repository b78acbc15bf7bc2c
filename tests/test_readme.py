"""The README's quick start, run as written, so the guide cannot drift from the tool.

A shell block preceded by ``<!-- offline ... -->`` needs no cluster, registry or network: it
runs (in order, in one temporary directory, with the installed kubectl-arch and kubectl on
PATH) and must exit 0, or N for ``<!-- offline: exits N -->``. A block preceded by
``<!-- output -->`` right after it is what that block prints, stdout and stderr together as in
a terminal, exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from integration_util import require, run, tool_env

README = Path(__file__).resolve().parent.parent / "README.md"
MARK = re.compile(r"^<!-- (offline(?::? exits (\d+))?|output)\b.*-->$")
FENCE = re.compile(r"^```(\w*)$")
# What unmarked quick-start blocks may do: install, or talk to a cluster or registry.
NEEDS_OUTSIDE = (
    "pipx install",
    "pip install",
    "krew",
    "kubectl apply",
    "kubectl get",
    "imagetools",
    "crane",
    "kubectl arch nodes",
    "kubectl arch inspect",
    "kubectl arch check",
    "kubectl arch audit",
    "kubectl arch build",
    "--images-from",
)


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    mark: str | None  # "offline", "output" or None
    exit_code: int = 0


def blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` with the marker comment before each, if any."""
    found: list[Block] = []
    lines = text.splitlines()
    mark: tuple[str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARK.match(line)
        fence = FENCE.match(line)
        if m:
            kind = "output" if m.group(1) == "output" else "offline"
            mark = (kind, int(m.group(2) or 0))
        elif fence:
            end = lines.index("```", i + 1)
            body = "".join(f"{x}\n" for x in lines[i + 1 : end])
            found.append(Block(i + 1, fence.group(1), body, *(mark or (None, 0))))
            mark = None
            i = end
        elif line.strip() and not line.startswith(">"):
            mark = None  # a marker belongs to the block right after it
        i += 1
    return found


def section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


QUICK_START = blocks(section(README.read_text(), "## Quick start"))


def test_quick_start_has_runnable_examples() -> None:
    offline = [b for b in QUICK_START if b.mark == "offline"]
    outputs = [b for b in QUICK_START if b.mark == "output"]
    assert len(offline) >= 6 and len(outputs) >= 3
    for block in offline:
        assert block.lang == "sh", f"README line {block.line}: only sh blocks run"
    for block in outputs:
        before = QUICK_START[QUICK_START.index(block) - 1]
        assert before.mark == "offline", f"README line {block.line}: output of a block that does not run"


def test_every_other_shell_example_needs_the_outside() -> None:
    for block in QUICK_START:
        if block.lang == "sh" and block.mark is None:
            assert any(word in block.text for word in NEEDS_OUTSIDE), (
                f"README line {block.line}: this example needs no cluster or registry; mark it "
                f"<!-- offline --> so that it is tested:\n{block.text}"
            )


def test_quick_start_runs_as_written(tmp_path: Path) -> None:
    env = tool_env(tmp_path, HOME=str(tmp_path))
    require("kubectl", env)
    bash = require("bash", env)
    work = tmp_path / "work"
    work.mkdir()
    ran = 0
    for i, block in enumerate(QUICK_START):
        if block.mark != "offline":
            continue
        proc = run(
            [bash, "--norc", "--noprofile", "-e", "-o", "pipefail", "-c", "exec 2>&1\n" + block.text],
            env,
            cwd=work,
        )
        output = proc.stdout.decode()
        assert proc.returncode == block.exit_code, (
            f"README line {block.line} exited {proc.returncode}, not {block.exit_code}:\n{block.text}\n--- output\n{output}"
        )
        following = QUICK_START[i + 1] if i + 1 < len(QUICK_START) else None
        if following is not None and following.mark == "output":
            assert output == following.text, f"README line {following.line}: the output differs"
        ran += 1
    assert ran >= 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!-- offline -->\n```sh\necho hi\n```\n", [("sh", "echo hi\n", "offline", 0)]),
        ("<!-- offline: exits 1 -->\n\n```sh\nfalse\n```\n", [("sh", "false\n", "offline", 1)]),
        ("<!-- offline -->\nSome prose.\n```sh\nx\n```\n", [("sh", "x\n", None, 0)]),
        (
            "```sh\nx\n```\n<!-- output -->\n```text\ny\n```\n",
            [("sh", "x\n", None, 0), ("text", "y\n", "output", 0)],
        ),
    ],
)
def test_marker_reading(text: str, expected: list[tuple[str, str, str | None, int]]) -> None:
    assert [(b.lang, b.text, b.mark, b.exit_code) for b in blocks(text)] == expected
