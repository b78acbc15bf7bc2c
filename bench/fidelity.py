"""Fidelity of ``kubectl-arch pin`` on every .yaml/.yml file of the shared corpus.

Each file is pinned on its own; input and output are cut into documents at ``---`` lines
and paired. A document whose value (PyYAML) did not change must come back byte for byte; a
changed document may differ in value only under its pod spec's ``affinity``. Goal: zero of
either kind of violation. Any non-zero exit of kubectl-arch is reported with its stderr and
makes this script exit 1 (the file could not be checked).
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchlib as b
import yaml

PLATFORMS = "linux/amd64,linux/arm64"
SEPARATOR = re.compile(rb"---(?:[ \t][^\r\n]*)?\r?\n?")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TEMPLATE = ("spec", "template", "spec")
# Where each workload kind keeps its pod spec (kept apart from the package, as an oracle).
POD_SPEC: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "ReplicationController": TEMPLATE,
    "Deployment": TEMPLATE,
    "DaemonSet": TEMPLATE,
    "ReplicaSet": TEMPLATE,
    "StatefulSet": TEMPLATE,
    "Job": TEMPLATE,
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
Path_ = tuple[Any, ...]


@dataclass
class Tally:
    files: int = 0
    documents: int = 0
    changed: int = 0
    altered: int = 0  # value unchanged, bytes changed
    outside: int = 0  # changed documents with a value difference outside the pod affinity
    rewritten: int = 0  # changed documents whose text edit is more than inserted lines
    failures: int = 0  # kubectl-arch exited non-zero, or the document counts differ
    unloadable: int = 0  # documents PyYAML cannot load (compared byte for byte only)
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in (
            "files",
            "documents",
            "changed",
            "altered",
            "outside",
            "rewritten",
            "failures",
            "unloadable",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes.extend(other.notes)


def split_documents(data: bytes) -> list[bytes]:
    """Cut a stream before every line that is ``---`` (optionally followed by a blank or comment)."""
    docs: list[bytes] = []
    current: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if SEPARATOR.fullmatch(line) and (current or docs):
            docs.append(b"".join(current))
            current = []
        current.append(line)
    docs.append(b"".join(current))
    return docs


def differences(a: Any, b_: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Paths where two loaded values differ (a list of another length differs as a whole)."""
    if isinstance(a, dict) and isinstance(b_, dict):
        for key in a.keys() | b_.keys():
            if key not in a or key not in b_:
                yield (*path, key)
            else:
                yield from differences(a[key], b_[key], (*path, key))
    elif isinstance(a, list) and isinstance(b_, list) and len(a) == len(b_):
        for i, (x, y) in enumerate(zip(a, b_, strict=True)):
            yield from differences(x, y, (*path, i))
    elif type(a) is not type(b_) or a != b_:
        yield path


def under_affinity(doc: Any, path: Path_) -> bool:
    """Whether ``path`` lies under (or is) the affinity of a workload's pod spec in ``doc``."""
    obj = doc
    if (
        isinstance(doc, dict)
        and str(doc.get("kind", "")).endswith("List")
        and len(path) >= 2
        and path[0] == "items"
        and isinstance(doc.get("items"), list)
        and isinstance(path[1], int)
    ):
        obj, path = doc["items"][path[1]], path[2:]
    if not isinstance(obj, dict):
        return False
    prefix = POD_SPEC.get(str(obj.get("kind")))
    if prefix is None:
        return False
    wanted = (*prefix, "affinity")
    return path[: len(wanted)] == wanted


def load(text: bytes) -> tuple[bool, Any]:
    try:
        return True, list(yaml.load_all(text, Loader=LOADER))
    except yaml.YAMLError:
        return False, None


def describe(docs: Any) -> str:
    """``Kind/name`` of the first object of a loaded chunk, for findings."""
    for doc in docs or ():
        if isinstance(doc, dict):
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            return f" {doc.get('kind', '?')}/{meta.get('name', '?')}"
    return ""


def only_inserted(before: bytes, after: bytes) -> bool:
    ops = difflib.SequenceMatcher(None, before.splitlines(True), after.splitlines(True), autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in ops.get_opcodes())


def check_file(arch: str, path: Path, rel: str) -> Tally:
    tally = Tally(files=1)
    proc = subprocess.run(
        [arch, "pin", "--platform", PLATFORMS, "-f", str(path)], capture_output=True, check=False
    )
    if proc.returncode != 0:
        tally.failures += 1
        stderr = proc.stderr.decode(errors="replace").strip()
        tally.notes.append(f"{rel}: kubectl-arch exited {proc.returncode}: {stderr}")
        return tally
    before = split_documents(path.read_bytes())
    after = split_documents(proc.stdout)
    if len(before) != len(after):
        tally.failures += 1
        tally.notes.append(f"{rel}: {len(before)} documents in, {len(after)} out")
        return tally
    for number, (src, out) in enumerate(zip(before, after, strict=True), 1):
        tally.documents += 1
        ok_in, value_in = load(src)
        ok_out, value_out = load(out)
        where = f"{rel} doc {number}{describe(value_in)}"
        if not (ok_in and ok_out):
            tally.unloadable += 1
            if src != out:
                tally.altered += 1
                tally.notes.append(f"{where}: not loadable by PyYAML and changed")
            continue
        if value_in == value_out:
            if src != out:
                tally.altered += 1
                tally.notes.append(f"{where}: value unchanged but bytes differ")
            continue
        tally.changed += 1
        if len(value_in) != len(value_out):
            tally.outside += 1
            tally.notes.append(f"{where}: document count changed inside the chunk")
            continue
        stray = [
            p
            for doc_in, doc_out in zip(value_in, value_out, strict=True)
            for p in differences(doc_in, doc_out)
            if not under_affinity(doc_in, p)
        ]
        if stray:
            tally.outside += 1
            shown = ", ".join(".".join(map(str, p)) or "(document)" for p in stray[:3])
            tally.notes.append(f"{where}: changed outside the pod affinity: {shown}")
        if not only_inserted(src, out):
            tally.rewritten += 1
    return tally


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=b.CORPUS, help=f"corpus folder (default {b.CORPUS})")
    p.add_argument("--notes", type=int, default=20, help="findings to print at most (default 20)")
    opts = p.parse_args()
    arch = b.require("kubectl-arch")
    corpus: Path = b.require_corpus("fidelity", opts.corpus)
    files = sorted(f for f in corpus.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())
    if not files:
        raise b.BenchError(f"no .yaml/.yml files under {corpus}")

    per_folder: dict[str, Tally] = {}
    for path in files:
        rel = path.relative_to(corpus).as_posix()
        per_folder.setdefault(rel.split("/", 1)[0], Tally()).add(check_file(arch, path, rel))
    total = Tally()
    for tally in per_folder.values():
        total.add(tally)

    print(f"kubectl-arch pin --platform {PLATFORMS} -f FILE, for every .yaml/.yml under {corpus}\n")
    heads = ("folder", "files", "docs", "changed", "altered", "outside", "rewritten", "failed", "no-pyyaml")
    width = max(len(n) for n in [*per_folder, "total"])
    print(f"{heads[0]:<{width}}" + "".join(f"  {h:>9}" for h in heads[1:]))
    for name, t in [*sorted(per_folder.items()), ("total", total)]:
        cells = (t.files, t.documents, t.changed, t.altered, t.outside, t.rewritten, t.failures, t.unloadable)
        print(f"{name:<{width}}" + "".join(f"  {c:>9}" for c in cells))
    print(
        "\naltered: value unchanged but bytes differ (goal 0); outside: changed documents with a value\n"
        "difference outside the pod spec's affinity (goal 0); rewritten: changed documents whose edit\n"
        "is more than inserted lines (informational); failed: kubectl-arch exited non-zero or the\n"
        "document count changed; no-pyyaml: documents PyYAML cannot load (compared as bytes)."
    )
    for note in total.notes[: opts.notes]:
        print(f"  {note}")
    if len(total.notes) > opts.notes:
        print(f"  ... and {len(total.notes) - opts.notes} more")
    ok = total.altered == 0 and total.outside == 0 and total.failures == 0
    print(
        f"\nfidelity: {total.altered} unchanged documents altered, {total.outside} changes outside affinity, "
        f"{total.failures} failures "
        f"({total.files} files, {total.documents} documents, {total.changed} changed) "
        f"goal 0 {b.verdict(ok)}"
    )
    if total.failures:
        raise b.BenchError(f"{total.failures} file(s) could not be checked (see above)")


if __name__ == "__main__":
    b.main_wrapper(main)
