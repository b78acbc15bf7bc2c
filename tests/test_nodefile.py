"""``check --nodes-file``: Node objects from files, large and hostile ones included."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import load_nodes, replicate
from cluster_util import ASSORTED, GKE

from kubectl_arch.cluster import nodefile, nodeinfo
from kubectl_arch.errors import InputError


def node_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    """As ``kubectl get nodes -o json`` writes it."""
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def expected(*paths: Path) -> list[nodeinfo.NodeInfo]:
    return [nodeinfo.from_object(n, []) for n in load_nodes(*paths)]


def write(path: Path, data: Any, indent: int | None = 4) -> Path:
    path.write_text(json.dumps(data, indent=indent))
    return path


def test_a_node_list_in_json_and_yaml(tmp_path: Path) -> None:
    nodes, warnings = nodefile.read(str(GKE))
    assert nodes == expected(GKE)
    assert warnings == []
    as_yaml = tmp_path / "nodes.yaml"
    as_yaml.write_text(yaml.safe_dump(json.loads(GKE.read_text())))
    assert nodefile.read(str(as_yaml))[0] == nodes


def test_single_nodes_and_streams(tmp_path: Path) -> None:
    gke, assorted = load_nodes(GKE), load_nodes(ASSORTED)
    stream = tmp_path / "stream.json"
    stream.write_text(json.dumps(node_list(gke)) + "\n" + json.dumps(assorted[0]) + "\n")
    assert nodefile.read(str(stream))[0] == expected(GKE) + expected(ASSORTED)[:1]
    bare = write(tmp_path / "array.json", gke)  # a JSON array of Nodes
    assert nodefile.read(str(bare))[0] == expected(GKE)
    documents = tmp_path / "nodes.yaml"
    documents.write_text("---\n".join(yaml.safe_dump(n) for n in assorted))
    assert nodefile.read(str(documents))[0] == expected(ASSORTED)


def test_items_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Items, keys and numbers cut anywhere by the reader's chunks read the same."""
    path = write(tmp_path / "nodes.json", node_list(load_nodes(GKE, ASSORTED)))
    whole = nodefile.read(str(path))
    for size in (1, 7, 4096):
        monkeypatch.setattr(nodefile, "CHUNK", size)
        assert nodefile.read(str(path)) == whole


def kubectl_dump(path: Path, count: int) -> Path:
    """``count`` clones of the recorded nodes as ``kubectl get nodes -o json`` lays them out
    (four-space indent), written quickly: each recorded node is formatted once and renamed."""
    templates = load_nodes(GKE, ASSORTED)
    texts = [json.dumps(n, indent=4).replace("\n", "\n        ") for n in templates]
    with open(path, "w") as out:
        out.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        for i in range(count):
            name = templates[i % len(templates)]["metadata"]["name"]
            out.write(
                ("        " if i == 0 else ",\n        ")
                + texts[i % len(texts)].replace(name, f"{name}-{i:05d}")
            )
        out.write(
            '\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n'
        )
    return path


def test_a_large_real_dump_is_quick(tmp_path: Path) -> None:
    """The recorded nodes cloned to 20,000 (240 MB), read item by item. (Earlier, 1,000 such
    nodes took 16 s and were refused as an alias bomb.)"""
    path = kubectl_dump(tmp_path / "nodes.json", 20_000)
    started = time.perf_counter()
    nodes, _ = nodefile.read(str(path))
    elapsed = time.perf_counter() - started
    assert len(nodes) == 20_000
    assert nodes[19_999].name.endswith("-19999")
    assert elapsed < 20, f"{elapsed:.1f} s for {path.stat().st_size / 1e6:.0f} MB"


def test_a_yaml_dump_of_six_hundred_nodes(tmp_path: Path) -> None:
    """kubectl get nodes -o yaml: no aliases, so no alias budget to exhaust, however large
    (some 140,000 YAML nodes here; the budget is 100,000 nodes expanded from aliases)."""
    path = tmp_path / "nodes.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(node_list(replicate(load_nodes(GKE, ASSORTED), 600)), Dumper=dumper))
    assert len(nodefile.read(str(path))[0]) == 600


def test_stdin_and_a_fifo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = GKE.read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    assert len(nodefile.read(str(fifo))[0]) == 10
    writer.join()
    with open(GKE, "rb") as handle:
        monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": handle})())
        assert len(nodefile.read("-")[0]) == 10


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "nodes.json: is empty: no nodes to check against; give what kubectl get nodes -o json writes "
         "(kubectl get nodes -o json > FILE)"),
        (b" \n\n", "nodes.json: is empty: no nodes to check against"),
        (b'{"apiVersion": "v1", "kind": "List", "items": []}', "nodes.json: lists no nodes; give what kubectl get "
         "nodes -o json writes (kubectl get nodes -o json > FILE)"),
        (b"apiVersion: v1\nkind: List\nitems: []\n", "nodes.json: lists no nodes"),
        # kubectl never writes aliases: each alias of a node counts its whole node against the budget,
        # an alias of the item just before included.
        (b"kind: List\nitems:\n- &n {kind: Node, metadata: {name: a, labels: {x: y, z: w}}}\n"
         + b"- *n\n" * 40_000, "nodes.json: document contains excessive aliasing (a YAML alias bomb?)"),
        (b'{"kind": "List", "items": [{"kind": "Node", "metadata": {"labels": ' + deep(100_000).encode() + b"}}]}",
         "nodes.json: JSON nests too deeply"),
        (deep(100_000).encode(), "nodes.json: JSON nests too deeply"),
        (b'{"kind": "List", "items": [{"kind": "Node", "spec": {"x": ' + b"9" * 5000 + b"}}]}",
         "nodes.json: a number in it is too long"),
        (b'{"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "caf\xe9"}}]}',
         "nodes.json: not UTF-8 text (kubectl writes UTF-8)"),
        (b"\x00\x01\x02binary", "nodes.json: not a text file (binary data)"),
        (b'{"kind": "List", "items": [{"kind": "Node"}, {"kind": "Pod"}]}',
         "nodes.json: holds a Pod, not only Nodes (kubectl get nodes -o json)"),
        (b'{"kind": "ConfigMap"}', "nodes.json: JSON document 1 is not a list of Nodes (kubectl get nodes -o json)"),
        (b'{"kind": "List", "items": [{"kind": "Node"}', "nodes.json: not valid JSON (unexpected end of the file at character 43)"),
        (b'{"kind": "List", "items": [{"kind": "Node",}]}', "nodes.json: not valid JSON (Expecting property name enclosed"),
        (b'{"items": [1]}', "nodes.json: expected a Node object, got a number"),
        (b"kind: ConfigMap\n", "nodes.json: expected Node objects (kubectl get nodes -o json)"),
        (b"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
         "nodes.json: document contains excessive aliasing (a YAML alias bomb?)"),
    ],
)  # fmt: skip
def test_hostile_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str) -> None:
    path = tmp_path / "nodes.json"
    path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        nodefile.read("nodes.json")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_fifo_nothing_writes_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "nodes.fifo"
    os.mkfifo(fifo)
    from kubectl_arch import localfile

    monkeypatch.setattr(localfile, "FIFO_WAIT", 0.5)
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        nodefile.read(str(fifo))
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        f"{fifo}: a FIFO nothing wrote to within 0.5s; write the nodes to it (kubectl get nodes -o json > FIFO) "
        "or give a file"
    )


def test_a_pipe_as_a_shell_gives_it(tmp_path: Path) -> None:
    """``--nodes-file <(kubectl get nodes -o json)``: /dev/fd/N, a pipe whose writer is there."""
    read_end, write_end = os.pipe()

    def feed() -> None:
        time.sleep(0.2)  # the reader waits for the first byte
        with os.fdopen(write_end, "wb") as handle:
            handle.write(GKE.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert len(nodefile.read(f"/dev/fd/{read_end}")[0]) == 10
    finally:
        writer.join()
        os.close(read_end)


def test_devices_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="binary data"):
        nodefile.read("/dev/zero")
    with pytest.raises(InputError, match="no such file"):
        nodefile.read(str(tmp_path / "missing.json"))
    with pytest.raises(InputError, match="is a directory"):
        nodefile.read(str(tmp_path))


def test_a_quantity_of_five_thousand_digits_is_a_warning(tmp_path: Path) -> None:
    node = load_nodes(GKE)[0]
    node["status"]["allocatable"]["cpu"] = "9" * 5000
    nodes, warnings = nodefile.read(str(write(tmp_path / "nodes.json", node_list([node]))))
    assert nodes[0].cpu is None
    assert warnings == [
        f"node {node['metadata']['name']}: status.allocatable.cpu '99999999999999999999'... "
        "(5000 characters) is not a quantity; not counted"
    ]


def test_check_with_an_empty_nodes_file_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess

    from cluster_util import KUBECTL_ARCH

    (tmp_path / "w.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n"
        "spec:\n  template:\n    spec:\n      containers: [{name: c, image: img}]\n"
    )
    (tmp_path / "nodes.json").write_text("")
    proc = subprocess.run(
        [
            str(KUBECTL_ARCH),
            "check",
            "-f",
            "w.yaml",
            "--platform",
            "linux/amd64",
            "--nodes-file",
            "nodes.json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: nodes.json: is empty: no nodes to check against; give what kubectl get nodes -o json writes "
        "(kubectl get nodes -o json > FILE)\n"
    )
