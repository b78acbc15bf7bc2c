"""``kubectl-arch pin`` on valid manifests a text scanner or an in-place rewrite could get
wrong: byte order marks inside a stream, line breaks other than LF, merge keys overriding a
key written before them, aliases reused legitimately, files changed while pin runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "kubectl-arch"
ARCH = "kubernetes.io/arch"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {app: web}}\n"
    "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n"
    "        image: nginx\n"
)


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, cwd=cwd or ROOT, timeout=120, check=False
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return result


def test_a_byte_order_mark_starting_a_later_document(tmp_path: Path) -> None:
    # "cat a.yaml b.yaml" where b.yaml was saved with a byte order mark: kubectl drops it.
    path = tmp_path / "bom_mid.yaml"
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\ufeff" + DEPLOYMENT
    path.write_bytes(text.encode())
    check = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert check.returncode == 1
    assert check.stderr.decode().splitlines() == [
        f"would pin {path} doc 2 Deployment/a",
        "1 workload(s) not pinned",
    ]
    out = run("pin", "--platform", "linux/amd64", "-f", str(path))
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout.decode().replace("\ufeff", "")))
    assert docs[1]["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    assert out.stdout.decode().count("\ufeff") == 1  # kept where it was


def test_line_breaks_that_are_a_lone_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "cr.yaml"
    path.write_bytes(DEPLOYMENT.replace("\n", "\r").encode())
    check = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert (check.returncode, check.stderr.decode().splitlines()[0]) == (
        1,
        f"would pin {path} doc 1 Deployment/a",
    )
    result = run("pin", "--platform", "linux/amd64", "-f", str(path), "-i")
    assert result.returncode == 0, result.stderr
    written = path.read_bytes().decode()
    assert "\n" not in written  # the file's own line breaks, new lines included
    pinned = yaml.safe_load(written.replace("\r", "\n"))
    terms = pinned["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    assert terms["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"
    ][1] == {
        "key": ARCH,
        "operator": "In",
        "values": ["amd64"],
    }
    again = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert again.returncode == 0, again.stderr


def test_yaml_1_1_line_breaks_nel_ls_ps(tmp_path: Path) -> None:
    for brk in ("\x85", "\u2028", "\u2029"):
        path = tmp_path / "odd.yaml"
        path.write_bytes(DEPLOYMENT.replace("\n", brk, 3).encode())
        result = run("pin", "--platform", "linux/amd64", "-f", str(path))
        assert result.returncode == 0, result.stderr
        out = result.stdout.decode()
        assert out.startswith(DEPLOYMENT.replace("\n", brk, 3)[:40])
        assert ARCH in out


def test_object_and_file_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    path = tmp_path / "esc\x1b[2J.yaml"
    path.write_text(
        'apiVersion: v1\nkind: Pod\nmetadata: {name: "p\\x1b]0;pwned\\x07\\x1b[2J"}\n'
        "spec:\n  containers: [{name: a, image: nginx}]\n"
    )
    check = run("pin", "--platform", "linux/amd64", "-f", str(tmp_path), "--check")
    assert check.returncode == 1
    where = str(tmp_path) + "/esc\\x1b[2J.yaml"
    assert check.stderr.decode().splitlines() == [
        f"would pin {where} doc 1 Pod/p\\x1b]0;pwned\\x07\\x1b[2J",
        "1 workload(s) not pinned",
    ]
    diff = run("pin", "--platform", "linux/amd64", "-f", str(tmp_path), "--diff")
    assert b"\x1b" not in b"".join(
        line for line in diff.stdout.splitlines(True) if line.startswith((b"---", b"+++"))
    )
    assert not check.stderr.count(b"\x1b")


def test_check_still_reports_the_other_documents_and_files(tmp_path: Path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {}}}\nspec:\n  containers: [{{name: a, image: {}}}]\n"
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(
        pod.format("good1", "nginx")
        + "---\n"
        + pod.format("bad", "{x: 1}")
        + "---\n"
        + pod.format("good2", "nginx")
    )
    (tmp_path / "other.yaml").write_text(pod.format("other", "nginx"))
    result = run(
        "pin", "--platform", "linux/amd64", "-f", "mixed.yaml", "-f", "other.yaml", "--check", cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "error: mixed.yaml doc 2 Pod/bad: container 'a': image is a mapping, not a string (quote it)",
        "would pin mixed.yaml doc 1 Pod/good1",
        "would pin mixed.yaml doc 3 Pod/good2",
        "would pin other.yaml doc 1 Pod/other",
        "3 workload(s) not pinned",
    ]


def _alias_list(items: int) -> str:
    head = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d0}\n"
        "  spec: &spec\n    replicas: 1\n    selector: {matchLabels: {app: x, tier: a, team: b}}\n"
        "    template:\n      metadata: {labels: {app: x, tier: a, team: b}, annotations: {a: b, c: d}}\n"
        "      spec:\n        containers:\n"
        "        - {name: m, image: nginx, ports: [{containerPort: 80}], args: [a, b, c, d]}\n"
    )
    return head + "".join(
        f"- {{apiVersion: apps/v1, kind: Deployment, metadata: {{name: d{i}}}, spec: *spec}}\n"
        for i in range(1, items)
    )


def test_a_list_sharing_one_spec_through_an_alias_is_no_alias_bomb(tmp_path: Path) -> None:
    # About 150,000 nodes once expanded, 90% of them through aliases: go-yaml (kubectl) accepts it.
    path = tmp_path / "aliaslist.yaml"
    path.write_text(_alias_list(6000))
    check = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert check.returncode == 1, check.stderr
    assert check.stderr.decode().splitlines()[-2:] == [
        f"would pin {path} doc 1 item 5999 Deployment/d5999",
        "6000 workload(s) not pinned",
    ]


def test_an_alias_bomb_in_a_list_is_named_by_its_kind(tmp_path: Path) -> None:
    lines = [
        "apiVersion: v1",
        "kind: List",
        "metadata:",
        "  annotations:",
        "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]",
    ]
    lines += [f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 20)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*lines, "items:", "- *a19", ""]))
    result = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"error: {path} doc 1 List: document contains excessive aliasing (a YAML alias bomb?)"
    ]


def _deployment(name: str) -> str:
    return DEPLOYMENT.replace("{name: a}", f"{{name: {name}}}")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_in_place_in_a_sticky_directory_changes_nothing_when_one_file_is_not_ours() -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="sticky", dir="/tmp"))  # pytest's own is root's alone (0700)
    base.chmod(0o755)
    sticky = base / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    try:
        _sticky(sticky)
    finally:
        shutil.rmtree(base)


def _sticky(sticky: Path) -> None:
    (sticky / "mine.yaml").write_text(_deployment("mine"))
    os.chown(sticky / "mine.yaml", 65534, 65534)
    (sticky / "theirs.yaml").write_text(_deployment("theirs"))
    (sticky / "theirs.yaml").chmod(0o666)  # root's, writable by all: still not renamed over
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(BIN), "pin", "--platform",
         "linux/amd64", "-f", "mine.yaml", "-f", "theirs.yaml", "-i"],
        capture_output=True, cwd=sticky, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr.decode().splitlines() == [
        f"error: theirs.yaml: cannot write: the directory {sticky} is sticky (like /tmp) and the file belongs "
        "to another user"
    ]
    assert (sticky / "mine.yaml").read_text() == _deployment("mine")
    assert sorted(p.name for p in sticky.iterdir()) == ["mine.yaml", "theirs.yaml"]


def test_a_signal_during_in_place_leaves_all_files_or_none_changed(tmp_path: Path) -> None:
    names = [f"f{i:03}.yaml" for i in range(120)]
    outcomes = set()
    for delay in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2):
        for name in names:
            (tmp_path / name).write_text(_deployment(name[:4]))
        args = [
            str(BIN),
            "pin",
            "--platform",
            "linux/amd64",
            "-i",
            "-q",
            *(a for n in names for a in ("-f", n)),
        ]
        process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        pinned = sum(ARCH in (tmp_path / n).read_text() for n in names)
        assert pinned in (0, len(names)), (delay, pinned)
        outcomes.add(pinned)
        assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary file, no original kept
    assert outcomes  # which of the two depends on the machine's speed


def test_the_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DEPLOYMENT)
    (tmp_path / "link.yaml").symlink_to("a.yaml")
    result = run(
        "pin",
        "--platform",
        "linux/amd64",
        "-f",
        "a.yaml",
        "-f",
        "a.yaml",
        "-f",
        "link.yaml",
        "-i",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines() == [
        "warning: a.yaml: given more than once; read once",
        "warning: link.yaml: given more than once; read once",
        "pinned 1 workload(s) in 1 file(s); 0 workload(s) already pinned",
    ]
    assert (tmp_path / "link.yaml").is_symlink()


REQ = "requiredDuringSchedulingIgnoredDuringExecution"
OWN = "{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [own]}]}]}"
MERGED = "{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [merged]}]}]}"


@pytest.mark.parametrize(
    "spec",
    [
        # the pod spec's own affinity, then a merge key bringing another (go-yaml v2: the merge wins)
        f"  affinity: {{nodeAffinity: {{{REQ}: {OWN}}}}}\n  <<: {{affinity: {{nodeAffinity: {{{REQ}: {MERGED}}}}}}}\n"
        "  containers: [{name: a, image: nginx}]\n",
        f"  affinity:\n    nodeAffinity: {{{REQ}: {OWN}}}\n  <<: {{affinity: {{nodeAffinity: {{{REQ}: {MERGED}}}}}}}\n"
        "  containers:\n  - {name: a, image: nginx}\n",
        # one level down: nodeAffinity written before a merge into affinity
        f"  affinity:\n    nodeAffinity: {{{REQ}: {OWN}}}\n    <<: {{nodeAffinity: {{{REQ}: {MERGED}}}}}\n"
        "  containers: [{name: a, image: nginx}]\n",
        f"  affinity: {{nodeAffinity: {{{REQ}: {OWN}}}, <<: {{nodeAffinity: {{{REQ}: {MERGED}}}}}}}\n"
        "  containers: [{name: a, image: nginx}]\n",
    ],
)
def test_a_key_written_before_a_merge_that_overrides_it(tmp_path: Path, spec: str) -> None:
    path = tmp_path / "mo.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + spec)
    result = run("pin", "--platform", "linux/amd64", "-f", str(path))
    assert (result.returncode, result.stderr) == (0, b"")
    out = result.stdout.decode()
    pod = yaml.safe_load(out)["spec"]
    terms = pod["affinity"]["nodeAffinity"][REQ]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["merged"]},
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                {"key": ARCH, "operator": "In", "values": ["amd64"]},
            ]
        }
    ]
    path.write_text(out)
    again = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert again.returncode == 0, again.stderr


def test_a_json_list_is_read_item_by_item(tmp_path: Path) -> None:
    import json

    def deployment(i: int) -> dict[str, object]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"d{i}"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}}},
        }

    nested = {"apiVersion": "v1", "kind": "List", "items": [deployment(9)]}
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [
            deployment(0),
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            nested,
        ],
    }
    path = tmp_path / "list.json"
    path.write_text(json.dumps(document, indent=4) + "\n")
    check = run("pin", "--platform", "linux/amd64", "-f", str(path), "--check")
    assert check.stderr.decode().splitlines() == [
        f"would pin {path} doc 1 item 0 Deployment/d0",
        f"would pin {path} doc 1 item 2.0 Deployment/d9",
        "2 workload(s) not pinned",
    ]
    out = run("pin", "--platform", "linux/amd64", "-f", str(path))
    pinned = json.loads(out.stdout)  # still JSON
    for pod in (
        pinned["items"][0]["spec"]["template"]["spec"],
        pinned["items"][2]["items"][0]["spec"]["template"]["spec"],
    ):
        assert pod["affinity"]["nodeAffinity"][REQ]["nodeSelectorTerms"][0]["matchExpressions"][1][
            "values"
        ] == ["amd64"]
    assert pinned["items"][1] == document["items"][1]


def _resource_list() -> dict[str, object]:
    return {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "functionConfig": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"platform": "linux/amd64"}},
        "items": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "annotations": {"config.kubernetes.io/path": "web.yaml"}},
                "spec": {
                    "replicas": 2,
                    "template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}},
                },
            }
        ],
    }


@pytest.mark.parametrize("form", ["json", "flow", "utf-16"])
def test_a_resource_list_in_json_flow_style_or_utf_16_is_answered_in_utf_8_yaml(form: str) -> None:
    import json

    document = _resource_list()
    if form == "json":
        stdin = json.dumps(document, indent=2).encode()
    elif form == "flow":
        stdin = yaml.safe_dump(document, default_flow_style=True).encode()
    else:
        stdin = b"\xff\xfe" + yaml.safe_dump(document, sort_keys=False).encode("utf-16-le")
    result = run("pin", stdin=stdin)
    assert (result.returncode, result.stderr) == (0, b"")
    text = result.stdout.decode("utf-8")  # UTF-8, no byte order mark
    assert not text.startswith("\ufeff") and not text.lstrip().startswith("{")
    answer = yaml.safe_load(text)
    assert answer["kind"] == "ResourceList"
    item = answer["items"][0]
    assert item["metadata"] == document["items"][0]["metadata"]  # type: ignore[index]
    assert item["spec"]["replicas"] == 2
    terms = item["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][REQ]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][1] == {"key": ARCH, "operator": "In", "values": ["amd64"]}
