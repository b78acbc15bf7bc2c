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
from apiserver import ApiServer, load_nodes, load_objects
from cluster_util import GKE, KUBECTL_ARCH, REPO, cluster_env

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
        f"error: API server {url} sent a continue token it had sent before, after 2 page(s) holding "
        "1 node(s): the list would never end; the server is faulty\n"
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
        f"error: API server {url} was still sending continue tokens after {client.MAX_PAGES} page(s) "
        "holding 1 node(s): the list would never end; the server is faulty\n"
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


# -- the same guards on every list (audit reads workloads through the same pager) ---------------

EKS = REPO / "testdata" / "nodes" / "eks-mixed.json"
WORKLOADS = REPO / "testdata" / "cluster" / "audit.json"
LOCK = '{"apiVersion": "kubectl-arch.dev/v1alpha1", "kind": "PlatformLock", "images": {}}'


def audit_served(
    tmp_path: Path, *args: str, objects: list[dict[str, Any]] | None = None, **faults: Any
) -> tuple[ApiServer, str, subprocess.CompletedProcess[str]]:
    """``audit -A`` (or ``-n``; images from an empty lock file: no registry) against a server with these faults."""
    if objects is None:
        objects = load_objects(WORKLOADS, REGISTRY="127.0.0.1:1", WEB_DIGEST="", API_OLD_DIGEST="")
    lock = tmp_path / "empty.lock"
    lock.write_text(LOCK)
    server = ApiServer(load_nodes(EKS), objects=objects, **faults).start()
    url = server.url
    try:
        config = server.kubeconfig(tmp_path / "kubeconfig")
        scope = () if "-n" in args else ("-A",)
        proc = arch(tmp_path, "audit", *scope, "--locked", str(lock), *args, kubeconfig=config)
    finally:
        server.stop()
    return server, url, proc


@pytest.mark.parametrize(
    ("fault", "resource", "why"),
    [
        ("same", "deployments", "sent a continue token it had sent before, after 2 page(s) holding 1 deployment(s): "
         "the list would never end; the server is faulty"),
        ("new", "pods", f"was still sending continue tokens after {client.MAX_PAGES} page(s) holding 1 pod(s): "
         "the list would never end; the server is faulty"),
    ],
)  # fmt: skip
def test_endless_workload_lists(tmp_path: Path, fault: str, resource: str, why: str) -> None:
    _, url, proc = audit_served(tmp_path, continue_forever=fault, faulty=frozenset({resource}))
    assert proc.returncode == 3
    assert proc.stderr == f"error: API server {url} {why}\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"kind": "PodList", "items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "JSON nests too deeply"),
        (b'{"kind": "PodList", "metadata": {"resourceVersion": ' + b"7" * 5000 + b'}, "items": []}',
         "a number in it is too long"),
        (b"<html>502 Bad Gateway</html>", "not valid JSON (Expecting value: line 1 column 1)"),
    ],
)  # fmt: skip
def test_workload_pages_it_cannot_read(tmp_path: Path, body: bytes, why: str) -> None:
    _, url, proc = audit_served(tmp_path, list_body=body, faulty=frozenset({"pods"}))
    assert proc.returncode == 3
    assert proc.stderr == f"error: API server {url} answered listing pods with JSON it cannot read: {why}\n"


def test_a_workload_list_that_changes_between_pages_is_read_again(tmp_path: Path) -> None:
    server, _, proc = audit_served(tmp_path, "-o", "json", objects=_many_pods(600), expire_next_continue=True)
    assert proc.returncode == 0, proc.stderr  # every image unknown: nothing certain is wrong
    assert json.loads(proc.stdout)["summary"]["workloads"] == 608
    pods = [r.query for r in server.list_requests("/api/v1/pods")]
    assert ["continue" in q for q in pods] == [False, True, False, True]  # 410, then from the start


def _many_pods(count: int) -> list[dict[str, Any]]:
    objects = load_objects(WORKLOADS, REGISTRY="127.0.0.1:1", WEB_DIGEST="", API_OLD_DIGEST="")
    debug = next(o for o in objects if o["metadata"]["name"] == "debug")
    for i in range(count):
        pod = json.loads(json.dumps(debug))
        pod["metadata"].update(name=f"debug-{i:04d}", uid=f"00000000-0000-4000-9000-{i:012d}")
        objects.append(pod)
    return objects


@pytest.mark.parametrize(
    ("layout", "requests"),
    [
        ("", [False, True]),  # the next page asked for while the first is read
        ("items-first", [False, True]),  # asked for once the first is decoded
        ("stale-metadata", [False, True, True]),  # the page guessed from its start is not used
    ],
)
def test_pages_read_one_ahead_whatever_their_layout(
    tmp_path: Path, layout: str, requests: list[bool]
) -> None:
    server, _, proc = audit_served(tmp_path, "-o", "json", objects=_many_pods(600), page_layout=layout)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["workloads"] == 608
    pods = [r.query for r in server.list_requests("/api/v1/pods")]
    assert ["continue" in q for q in pods] == requests


@pytest.mark.parametrize(
    ("body", "token"),
    [
        (b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"eyJ"},"items":[]}',
         "eyJ"),
        (b' {\n "kind" : "PodList" ,\t"metadata" : { "continue" : "a\\u00e9" } , "items" : [ ] }', "a\u00e9"),
        (b'{"kind":"PodList","metadata":{"resourceVersion":"7"},"items":[]}', None),
        (b'{"kind":"PodList","metadata":{"continue":""},"items":[]}', None),
        (b'{"kind":"PodList","metadata":{"continue":7},"items":[]}', None),
        (b'{"items":[],"metadata":{"continue":"eyJ"}}', None),  # after the items: not guessed
        (b'{"kind":"PodList","metadata":' + b"[" * 100_000, None),
        (b'{"kind":"PodList","metadata":{"continue":"' + b"x" * client.HEAD_BYTES + b'"}}', None),
        (b"[]", None),
        (b"\xff\xfe", None),
        (b"", None),
    ],
)  # fmt: skip
def test_the_continue_token_read_from_the_start_of_a_page(body: bytes, token: str | None) -> None:
    assert client._continue_token(body) == token


def test_control_characters_in_workload_names_never_reach_the_terminal(tmp_path: Path) -> None:
    objects = load_objects(WORKLOADS, REGISTRY="127.0.0.1:1", WEB_DIGEST="", API_OLD_DIGEST="")
    for o in objects:
        if o["metadata"]["name"] == "db":
            o["metadata"]["name"] = "db\x1b]0;owned\x07"
    _, _, proc = audit_served(tmp_path, "-o", "wide", objects=objects)
    assert "\x1b" not in proc.stdout + proc.stderr
    assert "StatefulSet/db\\x1b]0;owned\\x07" in proc.stdout


def test_an_endless_workload_page_is_cut_at_its_bound(tmp_path: Path) -> None:
    """A page that never ends (JSON that stays valid: blanks without end) is read up to
    MAX_ANSWER_BYTES, then given up: no memory exhausted, no hang."""
    _, url, proc = audit_served(tmp_path, body_fault="endless", faulty=frozenset({"pods"}))
    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: API server {url} answered GET /api/v1/pods with more than "
        f"{client.MAX_ANSWER_BYTES // 2**20} MiB (no list page of 500 objects is that large): "
        "the server is faulty\n"
    )


def test_a_dripping_workload_page_ends_at_the_request_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    _, url, proc = audit_served(
        tmp_path, "--request-timeout", "2s", body_fault="drip", faulty=frozenset({"deployments"})
    )
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: API server {url} (context "test") did not answer within 2s (--request-timeout); '
        "check the server URL in the kubeconfig and the context (--context) and the network, or raise "
        "--request-timeout\n"
    )
    assert time.monotonic() - started < 20


def test_rbac_by_namespace(tmp_path: Path) -> None:
    """Lists allowed by RoleBindings in one namespace only: -A and other namespaces are refused
    whole (exit 3, with what to do), that namespace is audited."""
    _, url, proc = audit_served(tmp_path, namespaces=frozenset({"shop"}))
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"error: API server {url} refused to list every workload resource (")
    assert proc.stderr.endswith("); nothing to audit; audit a namespace you may read with -n NAMESPACE\n")
    _, _, proc = audit_served(tmp_path, "-n", "ops", "-o", "json", namespaces=frozenset({"shop"}))
    assert proc.returncode == 3
    assert proc.stderr.endswith(
        "); nothing to audit; ask a cluster administrator for permission to list them\n"
    )
    _, _, proc = audit_served(tmp_path, "-n", "shop", "-o", "json", namespaces=frozenset({"shop"}))
    assert proc.returncode == 0
    document = json.loads(proc.stdout)
    # The Rollout is listed (an ecosystem kind): its ReplicaSet is part of it, nothing said of
    # it; each image, absent from the empty lock file, is named once.
    images = sorted({i["image"] for w in document["workloads"] for i in w["images"]})
    lock = tmp_path / "empty.lock"
    assert sorted(proc.stderr.splitlines(keepends=True)) == [
        f"warning: image {i}: not in lock file {lock}; update it with kubectl arch pin --lock {lock}\n"
        for i in images
    ]
    assert document["warnings"] == [line[len("warning: ") :] for line in proc.stderr.splitlines()]
    assert (document["namespace"], document["unreadable"]) == ("shop", [])
    assert {w["namespace"] for w in document["workloads"]} == {"shop"}
    assert len(document["workloads"]) == 6


def test_secrets_never_appear_with_verbose_logging(tmp_path: Path) -> None:
    _, _, proc = audit_served(tmp_path, "-v", "-o", "json", forbidden_resources=frozenset({"daemonsets"}))
    assert proc.returncode == 0, proc.stderr
    assert "GET " in proc.stderr  # the requests are logged...
    assert "test-token" not in proc.stdout + proc.stderr  # ...never the bearer token


def test_remote_text_is_escaped_in_every_output_format(tmp_path: Path) -> None:
    """Escape sequences, bidi overrides, NEL and a lone surrogate (JSON can carry one) in names
    from the server: the table escapes them as printable() does; JSON and YAML spell them as
    \\uXXXX escapes, so both read back as the same document and neither prints them raw."""
    import yaml

    name = "db\x1b]0;owned\x07\u202e\x85\ud800"
    objects = load_objects(WORKLOADS, REGISTRY="127.0.0.1:1", WEB_DIGEST="", API_OLD_DIGEST="")
    for o in objects:
        if o["metadata"]["name"] == "db":
            o["metadata"]["name"] = name
    outputs = {}
    for output in ("wide", "json", "yaml"):
        _, _, proc = audit_served(tmp_path, "-o", output, objects=objects)
        assert proc.returncode == 0, proc.stderr
        outputs[output] = proc.stdout
        for char in "\x1b\x07\u202e\x85\ud800":
            assert char not in proc.stdout + proc.stderr, (output, char)
    assert "StatefulSet/db\\x1b]0;owned\\x07\\u202e\\x85\\ud800 " in outputs["wide"]
    document = json.loads(outputs["json"])
    assert [w["name"] for w in document["workloads"] if w["kind"] == "StatefulSet"] == [name]
    assert yaml.safe_load(outputs["yaml"]) == document


def test_a_redirect_to_another_host_is_not_followed(tmp_path: Path) -> None:
    """The bearer token is for the API server only: a list answered with a redirect elsewhere
    ends the audit (exit 3) without a request to that host."""
    server, url, proc = audit_served(tmp_path, redirect_to="http://127.0.0.2:9", faulty=frozenset({"jobs"}))
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: API server {url} (context "test") answered with a redirect, which is not followed (the '
        "credentials are for that server only); check the server URL in the kubeconfig\n"
    )
    assert [r.path for r in server.requests if r.path.endswith("/jobs")] == ["/apis/batch/v1/jobs"]


def test_items_sent_again_on_a_later_page_are_counted_once(tmp_path: Path) -> None:
    from apiserver import replicate

    server, config, url = served(tmp_path, replicate(load_nodes(GKE), 1200), repeat_items=True)
    try:
        proc = arch(tmp_path, "nodes", kubeconfig=config)
        document = json.loads(arch(tmp_path, "nodes", "-o", "json", kubeconfig=config).stdout)
    finally:
        server.stop()
    assert proc.returncode == 0
    assert proc.stderr == (
        f"warning: API server {url} listed 2 node(s) more than once (the same uid or name on another page); "
        "each was counted once\n"
    )
    assert document["nodes"] == 1200


@pytest.mark.parametrize(
    ("faults", "why"),
    [
        # A redirect is not followed (the credentials are for this server), and its target, which
        # may carry user info and secrets, is not shown.
        ({"list_status": 302, "list_headers": {"Location": "https://user:pw@elsewhere.example/api?token=abc"},
          "list_body": b""},
         'error: API server {url} (context "test") answered with a redirect, which is not followed (the '
         "credentials are for that server only); check the server URL in the kubeconfig"),
        # A Status whose message is not text says nothing of it.
        ({"list_status": 500, "list_body": json.dumps({"kind": "Status", "message": {"a": [1]}}).encode()},
         'error: API server {url} (context "test") answered listing nodes with 500 Internal Server Error'),
        # Remote text is clipped to one limit.
        ({"list_status": 500, "list_body": json.dumps({"kind": "Status", "message": "x" * 5000}).encode()},
         'error: API server {url} (context "test") answered listing nodes with 500 Internal Server Error: '
         + "x" * 297 + "..."),
        ({"list_body": json.dumps({"kind": "NodeList", "metadata": {"continue": 12345}, "items": []}).encode()},
         "error: API server {url} sent a continue token that is not a string (int), after 1 page(s) holding "
         "0 node(s); the server is faulty"),
    ],
)  # fmt: skip
def test_answers_it_does_not_take(tmp_path: Path, faults: dict[str, Any], why: str) -> None:
    server, config, url = served(tmp_path, **faults)
    try:
        proc = arch(tmp_path, "nodes", kubeconfig=config)
    finally:
        server.stop()
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == why.format(url=url) + "\n"
