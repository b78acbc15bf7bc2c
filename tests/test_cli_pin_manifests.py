"""``kubectl-arch pin`` on manifests as real projects and generators write them: shared nodes,
block scalars, markers and directives, encodings, nested Lists, incomplete workloads, empty
required terms, and documents that fail on their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
BIN = Path(sys.executable).parent / "kubectl-arch"
BOTH = "linux/amd64,linux/arm64"
ARM = "linux/arm64"
NODES = TESTDATA / "nodes" / "gke-mixed.json"
DEPLOY = (TESTDATA / "deploy.yaml").read_text()
PINNED = (TESTDATA / "pinned" / "deploy.yaml").read_text()


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, cwd=cwd or ROOT, timeout=120, check=False
    )


def lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    text = result.stderr.decode()
    assert "Traceback" not in text, text
    return text.splitlines()


def term(*archs: str) -> dict[str, Any]:
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            {"key": "kubernetes.io/arch", "operator": "In", "values": list(archs)},
        ]
    }


def pod_spec(obj: dict[str, Any]) -> Any:
    return obj["spec"]["template"]["spec"] if obj["kind"] != "Pod" else obj["spec"]


def required(pod: dict[str, Any]) -> Any:
    return pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]


def head(kind: str, name: str) -> str:
    api = "v1" if kind == "Pod" else "apps/v1"
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n"


# -- shared nodes ------------------------------------------------------------------------------


def test_a_container_given_by_a_merge_key(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    text = head("Deployment", "relay") + (
        "spec:\n  template:\n    spec:\n      initContainers:\n"
        "      - &base {name: relay, image: ghcr.io/example/relay:2.1}\n"
        "      containers:\n      - <<: *base\n        args: [--serve]\n"
    )
    path.write_text(text)
    result = run("pin", "--platform", BOTH, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    out = yaml.safe_load(result.stdout)
    assert pod_spec(out)["containers"] == [
        {"name": "relay", "image": "ghcr.io/example/relay:2.1", "args": ["--serve"]}
    ]
    assert required(pod_spec(out)) == {"nodeSelectorTerms": [term("amd64", "arm64")]}
    assert result.stdout.decode().endswith(text.split("spec:\n  template:\n    spec:\n")[1])  # only inserted


def test_an_alias_inside_the_affinity_being_edited(tmp_path: Path) -> None:
    path = tmp_path / "zones.yaml"
    path.write_text(
        head("Deployment", "z")
        + "spec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: nginx}\n"
        "      affinity:\n        nodeAffinity:\n"
        "          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms: [{matchExpressions: &zones [{key: zone, operator: In, values: [a, b]}]}]\n"
        "          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "          - weight: 1\n            preference: {matchExpressions: *zones}\n"
    )
    result = run("pin", "--platform", BOTH, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    node = pod_spec(yaml.safe_load(result.stdout))["affinity"]["nodeAffinity"]
    zone = {"key": "zone", "operator": "In", "values": ["a", "b"]}
    assert node["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [zone, *term("amd64", "arm64")["matchExpressions"]]}]
    }
    # the other user of the anchor reads exactly what it read
    assert node["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 1, "preference": {"matchExpressions": [zone]}}
    ]


def test_a_pod_spec_shared_by_two_workloads_of_a_list(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a}\n  spec:\n    template:\n"
        "      spec: &pod\n        containers:\n        - name: app\n          image: nginx   # the web server\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\n  spec:\n    template:\n"
        "      spec: *pod\n"
    )
    path.write_text(text)
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    out = result.stdout.decode()
    assert "image: nginx   # the web server\n" in out  # the anchored pod spec is edited in place
    items = yaml.safe_load(out)["items"]
    assert [required(pod_spec(i)) for i in items] == [{"nodeSelectorTerms": [term("arm64")]}] * 2
    again = run("pin", "--platform", ARM, "--check", "-f", "-", stdin=result.stdout)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("dash", ["", "  "])
@pytest.mark.parametrize(
    "note",
    [
        'text: "first line\n{dash}- apiVersion: v1\n{dash}  kind: Pod"',  # double-quoted, over lines
        "text: 'it''s\n{dash}- still text\n{dash}-'",  # single-quoted
        "labels: {{note: 'a\n{dash}- b', other: x}}",  # a flow mapping over lines
        'args: [a, "b\n{dash}- c"]',  # a flow sequence
    ],
)
def test_list_items_with_multi_line_scalars_that_look_like_items(
    tmp_path: Path, dash: str, note: str
) -> None:
    """Lines of a quoted scalar or a flow collection that start with "- " at the items' column
    are text, not items: the List is read as kubectl reads it, and its workload is pinned."""
    inner = dash + "  "
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        f"{dash}- apiVersion: v1\n{inner}kind: ConfigMap\n{inner}metadata:\n{inner}  name: notes\n"
        f"{inner}data:\n{inner}  {note.format(dash=dash)}\n"
        f"{dash}- apiVersion: apps/v1\n{inner}kind: Deployment\n{inner}metadata: {{name: web}}\n{inner}spec:\n"
        f"{inner}  template:\n{inner}    spec:\n{inner}      containers:\n{inner}      - name: web\n"
        f"{inner}        image: nginx\n"
    )
    expected = yaml.safe_load(text)["items"]
    assert [i["kind"] for i in expected] == ["ConfigMap", "Deployment"]
    path = tmp_path / "list.yaml"
    path.write_text(text)
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    out = result.stdout.decode()
    assert out.startswith(text.split(f"{dash}- apiVersion: apps/v1")[0])  # the ConfigMap, byte for byte
    items = yaml.safe_load(out)["items"]
    assert items[0] == expected[0]
    assert required(pod_spec(items[1])) == {"nodeSelectorTerms": [term("arm64")]}
    del items[1]["spec"]["template"]["spec"]["affinity"]
    assert items[1] == expected[1]
    again = run("pin", "--platform", ARM, "--check", "-f", "-", stdin=result.stdout)
    assert again.returncode == 0, again.stderr


def test_an_anchor_used_elsewhere_keeps_its_meaning_there(tmp_path: Path) -> None:
    path = tmp_path / "tols.yaml"
    path.write_text(
        head("Pod", "p") + "  annotations:\n    example.com/ok: 'true'\nspec:\n"
        "  tolerations: &tols\n  - {key: dedicated, operator: Exists}\n"
        "  containers:\n  - name: c\n    image: nginx\n"
        "---\n"
        + head("Pod", "other")
        + "spec:\n  tolerations: []\n  containers:\n  - name: c\n    image: nginx\n"
    )
    text = path.read_text().replace("tolerations: []", "tolerations: []\n  overhead: {}")
    text = text.replace("---\n", "x-shared: *tols\n---\n", 1)
    path.write_text(text)
    result = run(
        "pin", "--platform", ARM, "--arch-taint", "kubernetes.io/arch=arm64:NoSchedule", "-f", str(path)
    )
    assert (result.returncode, lines(result)) == (0, [])
    first, second = yaml.safe_load_all(result.stdout)
    taint = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
    assert first["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}, taint]
    assert first["x-shared"] == [{"key": "dedicated", "operator": "Exists"}]
    assert second["spec"]["tolerations"] == [taint]


# -- block scalars, markers, directives, styles ------------------------------------------------


def test_block_scalars_in_the_fields_pin_reads(tmp_path: Path) -> None:
    path = tmp_path / "blocks.yaml"
    deployment = head("Deployment", "b") + (
        "spec:\n  template:\n    spec:\n      nodeSelector:\n        pool: >-\n          default-pool\n"
        "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "          - weight: 1\n            preference:\n              matchExpressions:\n"
        "              - key: kubernetes.io/arch\n                operator: In\n                values:\n"
        "                - |-\n                  arm64\n"
        "      tolerations:\n      - key: dedicated\n        operator: Equal\n        value: |2-\n            batch\n"
        "      containers:\n      - name: a\n        image: nginx\n"
    )
    pod = head("Pod", "p") + (
        "spec:\n  tolerations:\n  - key: k\n    operator: Equal\n    value: |-\n      v\n"
        "  containers:\n  - name: a\n    image: >-\n      nginx\n\n"
    )
    path.write_text(deployment + "---\n" + pod)
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    deployment_out, pod_out = yaml.safe_load_all(result.stdout)
    assert required(pod_spec(deployment_out)) == {"nodeSelectorTerms": [term("arm64")]}
    assert required(pod_spec(pod_out)) == {"nodeSelectorTerms": [term("arm64")]}
    assert pod_spec(deployment_out)["tolerations"][0]["value"] == "  batch"
    assert pod_spec(deployment_out)["nodeSelector"] == {"pool": "default-pool"}
    again = run("pin", "--platform", ARM, "-f", "-", "--check", stdin=result.stdout)
    assert again.returncode == 0, again.stderr


def test_markers_directives_and_mixed_styles(tmp_path: Path) -> None:
    path = tmp_path / "styles.yaml"
    text = (
        "%YAML 1.1\n%TAG !k! tag:kubernetes.io,2024:\n--- # first\n" + head("Pod", "flow")
        + "spec: {containers: [{name: a, image: nginx}], nodeSelector: {disk: ssd}}\n...\n"
        "--- !!map\n" + head("Pod", "tagged") + "spec:\n  containers:\n  - !!map {name: a, image: !!str nginx}\n"
        "...\n"
    )  # fmt: skip
    path.write_text(text)
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    docs = list(yaml.safe_load_all(result.stdout))
    assert [required(d["spec"]) for d in docs] == [{"nodeSelectorTerms": [term("arm64")]}] * 2
    assert docs[0]["spec"]["nodeSelector"] == {"disk": "ssd"}
    out = result.stdout.decode()
    assert out.startswith("%YAML 1.1\n%TAG !k! tag:kubernetes.io,2024:\n--- # first\n")
    assert out.count("\n...\n") == 2


def test_explicit_keys_multi_line_flow_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    text = (
        head("Pod", "explicit") + "spec:\n  ? affinity\n  : nodeAffinity:\n"
        "      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n"
        "        - matchExpressions: [{key: zone, operator: In, values: [a]}]\n"
        "  containers:\n  - name: a\n    image: nginx\n---\n"
        + head("Pod", "flowy") + "spec: {\n  containers: [{name: a, image: nginx}],  # one\n  nodeSelector: {disk: ssd}\n}\n"
        "---\n" + head("Pod", "tagged") + "spec: !!map\n  containers: !!seq\n  - !!map\n    name: !!str a\n"
        "    image: !!str nginx\n  tolerations: &t\n  - {key: a, operator: Exists}\n"
    )  # fmt: skip
    path.write_text(text)
    taint = "kubernetes.io/arch=arm64:NoSchedule"
    result = run("pin", "--platform", ARM, "--arch-taint", taint, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    toleration = {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
    explicit, flowy, tagged = yaml.safe_load_all(result.stdout)
    zone = {"key": "zone", "operator": "In", "values": ["a"]}
    assert required(explicit["spec"]) == {
        "nodeSelectorTerms": [{"matchExpressions": [zone, *term("arm64")["matchExpressions"]]}]
    }
    assert explicit["spec"]["tolerations"] == [toleration]
    assert required(flowy["spec"]) == {"nodeSelectorTerms": [term("arm64")]}
    assert flowy["spec"]["tolerations"] == [toleration]
    assert tagged["spec"]["tolerations"] == [{"key": "a", "operator": "Exists"}, toleration]
    again = run("pin", "--platform", ARM, "--arch-taint", taint, "-f", "-", "--check", stdin=result.stdout)
    assert again.returncode == 0, again.stderr


# -- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_encodings_are_read_and_written_back(tmp_path: Path, encoding: str, bom: bytes, newline: str) -> None:
    source = DEPLOY.replace("name: web", "name: wéb-日本").replace("\n", newline)
    path = tmp_path / "deploy.yaml"
    path.write_bytes(bom + source.encode(encoding))
    shown = run("pin", "--platform", BOTH, "-f", str(path))
    assert shown.returncode == 0, shown.stderr
    expected = PINNED.replace("name: web", "name: wéb-日本").replace("\n", newline)
    utf8_bom = b"\xef\xbb\xbf" if bom == b"\xef\xbb\xbf" else b""
    assert shown.stdout == utf8_bom + expected.encode()  # stdout is UTF-8
    result = run("pin", "--platform", BOTH, "-f", str(path), "--in-place", "-q")
    assert (result.returncode, result.stderr) == (0, b"")
    assert path.read_bytes() == bom + expected.encode(encoding)


def test_other_encodings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad16.yaml"
    path.write_bytes(b"\xff\xfe" + b"\x00\xd8")  # a lone surrogate
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert result.returncode == 2
    assert lines(result) == [f"error: {path}: not UTF-16 text (byte 2)"]


# -- nested Lists --------------------------------------------------------------------------------

NESTED = (
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n"
    "- apiVersion: v1\n  kind: DeploymentList\n  items:\n"
    "  - apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: inner\n    spec:\n      template:\n"
    "        spec:\n          containers:\n          - name: a\n            image: nginx\n"
)


def test_nested_lists_are_flattened(tmp_path: Path) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text(NESTED)
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    inner = yaml.safe_load(result.stdout)["items"][1]["items"][0]
    assert required(pod_spec(inner)) == {"nodeSelectorTerms": [term("arm64")]}
    check = run("pin", "--platform", ARM, "-f", str(path), "--check")
    assert check.returncode == 1
    assert lines(check) == [f"would pin {path} doc 1 item 1.0 Deployment/inner", "1 workload(s) not pinned"]
    report = run("check", "--platform", ARM, "-f", str(path), "--nodes-file", str(NODES), "-o", "json")
    workloads = json.loads(report.stdout)["workloads"]
    assert [(w["item"], w["innerItems"], w["kind"], w["name"]) for w in workloads] == [
        (1, [0], "Deployment", "inner")
    ]


# -- empty required terms --------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["{nodeSelectorTerms: []}", "{}", "{nodeSelectorTerms: null}"])
def test_a_required_affinity_without_terms_matches_no_node(tmp_path: Path, section: str) -> None:
    path = tmp_path / "sts.yaml"
    path.write_text(
        head("StatefulSet", "db") + "spec:\n  template:\n    spec:\n      affinity:\n        nodeAffinity:\n"
        f"          requiredDuringSchedulingIgnoredDuringExecution: {section}\n"
        "      containers:\n      - name: db\n        image: postgres\n"
    )
    result = run("pin", "--platform", BOTH, "-f", str(path), "--in-place")
    assert result.returncode == 1
    assert lines(result) == [
        f"error: {path} doc 1 StatefulSet/db: required node affinity admits no platform the images support "
        "(linux/amd64, linux/arm64): it has no nodeSelectorTerms and matches no node; containers: 'db' postgres"
    ]


def test_a_null_required_affinity_is_no_constraint(tmp_path: Path) -> None:
    path = tmp_path / "sts.yaml"
    path.write_text(
        head("StatefulSet", "db") + "spec:\n  template:\n    spec:\n      affinity:\n        nodeAffinity:\n"
        "          requiredDuringSchedulingIgnoredDuringExecution: null\n"
        "      containers:\n      - name: db\n        image: postgres\n"
    )
    result = run("pin", "--platform", ARM, "-f", str(path))
    assert (result.returncode, lines(result)) == (0, [])
    assert required(pod_spec(yaml.safe_load(result.stdout))) == {"nodeSelectorTerms": [term("arm64")]}


# -- one document's fault is its own -----------------------------------------------------------------


def test_a_failing_document_does_not_reach_the_next(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        head("Deployment", "broken") + "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n"
        "        image: {name: nginx}\n---\n" + head("Deployment", "fine")
        + "spec:\n  template:\n    spec:\n      nodeSelector:\n        pool: |-\n          x\n"
        "      containers:\n      - name: a\n        image: nginx\n---\n" + "key: [unclosed\n---\n"
        + head("Pod", "p") + "spec:\n  containers:\n  - name: a\n    image: nginx\n"
    )  # fmt: skip
    before = path.read_bytes()
    result = run("pin", "--platform", ARM, "-f", str(path), "--in-place")
    assert result.returncode == 2
    assert lines(result) == [
        f"error: {path} doc 1 Deployment/broken: container 'a': image is a mapping, not a string (quote it)",
        f"error: {path} doc 3: invalid YAML at line 27, column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ]
    assert path.read_bytes() == before


def test_an_unexpected_fault_names_its_document_only() -> None:
    from kubectl_arch import pin
    from kubectl_arch.manifest import scan as scanning
    from kubectl_arch.manifest.workloads import Kinds
    from kubectl_arch.platforms import Platform

    class Faulty(dict):  # type: ignore[type-arg]
        def __getitem__(self, image: str) -> frozenset[Platform]:
            if image == "boom":
                raise KeyError("boom")
            return frozenset({Platform("linux", "arm64")})

    text = DEPLOY.replace("image: nginx:1.27", "image: boom") + "---\n" + DEPLOY
    outcome = pin.pin(scanning.scan(text, "t.yaml", Kinds()), Faulty())
    assert [str(f) for f in outcome.findings] == [
        "t.yaml doc 1 Deployment/web: unexpected KeyError: 'boom'; please report this with the input"
    ]
    assert outcome.text == text  # an error: nothing changes


# -- incomplete workloads (patch files) in a walked directory ------------------------------------------


def test_patch_files_in_a_directory_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "overlay").mkdir()
    (tmp_path / "base" / "deploy.yaml").write_text(DEPLOY)
    (tmp_path / "overlay" / "image.yaml").write_text(
        head("Deployment", "web") + "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
        "        resources: {limits: {cpu: '1'}}\n"
    )
    (tmp_path / "overlay" / "replicas.yaml").write_text(head("Deployment", "web") + "spec:\n  replicas: 3\n")
    (tmp_path / "overlay" / "zz-json6902.yaml").write_text("- op: add\n  path: /spec/replicas\n  value: 2\n")
    skipped = [
        f"warning: {tmp_path}/overlay/image.yaml doc 1 Deployment/web: not a complete workload: container "
        "'web' has no image; skipped",
        f"warning: {tmp_path}/overlay/replicas.yaml doc 1 Deployment/web: not a complete workload: no pod spec "
        "at spec.template.spec; skipped",
        f"warning: {tmp_path}/overlay/zz-json6902.yaml doc 1: not a Kubernetes object but a list (a JSON patch?); "
        "skipped",
    ]
    check = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R", "--check")
    assert check.returncode == 1
    assert lines(check) == [*skipped, f"would pin {tmp_path}/base/deploy.yaml doc 1 Deployment/web",
                            "1 workload(s) not pinned"]  # fmt: skip
    result = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R", "--in-place")
    assert result.returncode == 0
    assert lines(result) == [
        *skipped,
        "pinned 1 workload(s) in 1 file(s); 0 workload(s) already pinned; 3 skipped (patches, not complete objects)",
    ]
    assert (tmp_path / "base" / "deploy.yaml").read_text() == PINNED
    passed = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R", "--check")
    assert (passed.returncode, lines(passed)) == (
        0,
        [*skipped, "1 workload(s) already pinned; 3 skipped (patches, not complete objects)"],
    )
    report = run(
        "check", "--platform", BOTH, "-f", str(tmp_path), "-R", "--nodes-file", str(NODES), "-o", "json"
    )
    assert [s["file"] for s in json.loads(report.stdout)["skipped"]] == [
        f"{tmp_path}/overlay/image.yaml",
        f"{tmp_path}/overlay/replicas.yaml",
        f"{tmp_path}/overlay/zz-json6902.yaml",
    ]
    # named on its own, the same patch is an error; a real fault in a walked file is one too
    alone = run("pin", "--platform", BOTH, "-f", str(tmp_path / "overlay" / "image.yaml"))
    assert alone.returncode == 2
    (tmp_path / "overlay" / "bad.yaml").write_text(
        head("Deployment", "bad") + "spec:\n  template:\n    spec:\n      containers: {name: a}\n"
    )
    bad = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R")
    assert bad.returncode == 2
    assert lines(bad) == [
        f"error: {tmp_path}/overlay/bad.yaml doc 1 Deployment/bad: spec.template.spec.containers is a mapping, "
        "not a list",
        *skipped,
    ]


def test_in_place_says_what_it_did(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DEPLOY)
    (tmp_path / "b.yaml").write_text(PINNED + "---\n" + DEPLOY.replace("name: web", "name: api"))
    (tmp_path / "c.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    result = run("pin", "--platform", BOTH, "-f", str(tmp_path), "--in-place")
    assert (result.returncode, lines(result)) == (
        0,
        ["pinned 2 workload(s) in 2 file(s); 1 workload(s) already pinned"],
    )
    again = run("pin", "--platform", BOTH, "-f", str(tmp_path), "--in-place")
    assert (again.returncode, lines(again)) == (0, ["no file changed; 3 workload(s) already pinned"])
    quiet = run("pin", "--platform", BOTH, "-f", str(tmp_path), "--in-place", "--quiet")
    assert (quiet.returncode, quiet.stderr) == (0, b"")


@pytest.mark.parametrize(
    ("items", "what"), [("{a: 1}", "a mapping"), ("3", "a number"), ("text", "a string")]
)
def test_resource_list_items_that_are_not_a_list(items: str, what: str) -> None:
    stdin = f"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {items}\n".encode()
    result = run("pin", "--platform", ARM, stdin=stdin)
    assert result.returncode == 2
    assert lines(result) == ["error: 1 error in the results of the output ResourceList"]
    out = yaml.safe_load(result.stdout)
    assert out["results"] == [
        {
            "message": f"ResourceList items is {what}, not a list",
            "severity": "error",
            "field": {"path": "items"},
        }
    ]
