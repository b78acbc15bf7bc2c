"""The cluster side against broken and hostile servers and files: endless or repeating
``continue`` tokens, pages nested too deeply or with numbers too long, absurd quantities,
label values with control characters, kubeconfigs that are not UTF-8 or nest too deeply.
Each gives one line naming the source (or a warning and a correct result), never a
traceback or a hang."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from apiserver import ApiServer, load_nodes
from cluster_util import GKE, KUBECTL_ARCH, cluster_env

from kubectl_arch.cluster import client
from kubectl_arch.cluster import quantity as q


def arch(home: Path, *args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), *args],
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def served(
    tmp_path: Path, nodes: list[dict[str, Any]] | None = None, **faults: Any
) -> tuple[ApiServer, Path, str]:
    """A started server (stop it), a kubeconfig for it, and its URL."""
    server = ApiServer(load_nodes(GKE) if nodes is None else nodes, **faults).start()
    return server, server.kubeconfig(tmp_path / "kubeconfig"), server.url


def test_the_same_continue_token_again(tmp_path: Path) -> None:
    server, config, url = served(tmp_path, continue_forever="same")
    try:
        proc = arch(tmp_path, "nodes", kubeconfig=config)
    finally:
        server.stop()
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: API server {url} sent a continue token it had sent before, after 2 page(s) of "
        "the node list: the list would never end; the server is faulty\n"
    )
    assert len(server.list_requests()) == 2


def test_endless_new_continue_tokens(tmp_path: Path) -> None:
    """Bounded by the number of pages, not by --request-timeout (each page is quick)."""
    server, config, url = served(tmp_path, continue_forever="new")
    try:
        started = time.monotonic()
        proc = arch(tmp_path, "nodes", "--request-timeout", "30s", kubeconfig=config)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: API server {url} was still sending continue tokens after {client.MAX_PAGES} pages "
        f"of {client.PAGE_SIZE} nodes: the list would never end; the server is faulty\n"
    )
    assert len(server.list_requests()) == client.MAX_PAGES
    assert elapsed < 60


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"kind": "NodeList", "items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "JSON nests too deeply"),
        (b'{"kind": "NodeList", "metadata": {"resourceVersion": ' + b"7" * 5000 + b'}, "items": []}',
         "a number in it is too long"),
        (b'{"kind": "NodeList", "items": [{"metadata": {"name": "caf\xe9"}}]}', "not UTF-8 text"),
        (b"<html>502 Bad Gateway</html>", "not valid JSON (Expecting value: line 1 column 1)"),
    ],
)  # fmt: skip
def test_pages_it_cannot_read(tmp_path: Path, body: bytes, why: str) -> None:
    server, config, url = served(tmp_path, list_body=body)
    try:
        proc = arch(tmp_path, "nodes", kubeconfig=config)
    finally:
        server.stop()
    assert proc.returncode == 3
    assert proc.stderr == f"error: API server {url} answered listing nodes with JSON it cannot read: {why}\n"


def test_a_quantity_of_five_thousand_digits(tmp_path: Path) -> None:
    nodes = load_nodes(GKE)
    nodes[0]["status"]["allocatable"]["memory"] = "9" * 5000 + "Ki"
    server, config, _ = served(tmp_path, nodes)
    try:
        proc = arch(tmp_path, "nodes", "-o", "json", kubeconfig=config)
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["warnings"] == [
        f"node {nodes[0]['metadata']['name']}: status.allocatable.memory '99999999999999999999'... "
        "(5002 characters) is not a quantity; not counted"
    ]
    others = [q.parse(n["status"]["allocatable"]["memory"]) for n in nodes[1:5]]  # the other amd64 nodes
    assert document["platforms"][0]["allocatable"]["memory"] == q.canonical(q.total(others, q.BINARY_SI))


def test_control_characters_from_the_server_never_reach_the_terminal(tmp_path: Path) -> None:
    nodes = load_nodes(GKE)
    labels = nodes[0]["metadata"]["labels"]
    labels["kubernetes.io/arch"] = "amd64\x1b]0;owned\x07"
    labels["cloud.google.com/gke-nodepool"] = "pool\x1b[2J\u202e"
    nodes[0]["spec"]["taints"] = [{"key": "evil\x1b[31m", "value": "x\ny", "effect": "NoSchedule"}]
    server, config, _ = served(tmp_path, nodes)
    try:
        table = arch(tmp_path, "nodes", "-o", "wide", kubeconfig=config)
        platforms = arch(tmp_path, "nodes", "-o", "platforms", kubeconfig=config)
        manifest = tmp_path / "app.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: app:1}]\n"
            "  nodeSelector: {kubernetes.io/arch: s390x}\n"
        )
        check = arch(tmp_path, "check", "-f", str(manifest), "--platform", "linux/s390x", kubeconfig=config)
    finally:
        server.stop()
    for proc in (table, platforms, check):
        assert "\x1b" not in proc.stdout + proc.stderr
        assert "\u202e" not in proc.stdout + proc.stderr
    assert "linux/amd64\\x1b]0;owned\\x07" in table.stdout
    assert "pool\\x1b[2J\\u202e" in table.stdout
    assert "linux/amd64\\x1b]0;owned\\x07" in platforms.stdout
    assert "untolerated taint evil\\x1b[31m=x\\ny:NoSchedule" in check.stderr
    assert check.returncode == 1


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"apiVersion: v1\nkind: Config\ncurrent-context: caf\xe9\n",
         "not UTF-8 text (byte 48); save it as UTF-8, as kubectl needs"),
        (b"apiVersion: v1\nkind: Config\nclusters: " + b"[" * 20_000 + b"]" * 20_000 + b"\n",
         "nests too deeply to be a kubeconfig"),
        (b'{"apiVersion": "v1", "kind": "Config", "preferences": ' + b'{"a": ' * 20_000 + b"1" + b"}" * 20_001,
         "nests too deeply to be a kubeconfig"),
    ],
)  # fmt: skip
def test_kubeconfigs_it_cannot_read(tmp_path: Path, content: bytes, why: str) -> None:
    config = tmp_path / "kubeconfig"
    config.write_bytes(content)
    proc = arch(tmp_path, "nodes", kubeconfig=config)
    assert proc.returncode == 3
    assert proc.stderr == f"error: kubeconfig {config}: {why}\n"
