"""``kubectl-arch pin`` through its real entry point: outputs, exit codes, errors, files."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
BIN = Path(sys.executable).parent / "kubectl-arch"
BOTH = "linux/amd64,linux/arm64"


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, cwd=cwd or ROOT, timeout=60, check=False
    )


def error_lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    text = result.stderr.decode()
    assert "Traceback" not in text
    return text.splitlines()


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


# -- output contract -----------------------------------------------------------------------


def test_example_output_is_exactly_the_golden_file() -> None:
    result = run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (TESTDATA / "pinned" / "deploy.yaml").read_bytes()
    assert result.stderr == b""


def test_pinning_twice_gives_the_same_bytes() -> None:
    once = run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml").stdout
    twice = run("pin", "--platform", BOTH, "-f", "-", stdin=once)
    assert twice.returncode == 0
    assert twice.stdout == once


def test_only_the_affinity_changes() -> None:
    before = list(yaml.safe_load_all((TESTDATA / "deploy.yaml").read_text()))
    after = list(yaml.safe_load_all(run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml").stdout))
    assert after[1] == before[1]  # the Service
    assert pod_spec(after[0]).pop("affinity") == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                        ]
                    }
                ]
            }
        }
    }
    assert after[0] == before[0]


def test_yaml_1_1_values_and_layout_survive() -> None:
    source = (TESTDATA / "yaml11.yaml").read_text()
    result = run("pin", "--platform", "linux/arm64", "-f", "testdata/yaml11.yaml")
    assert result.returncode == 0
    out = result.stdout.decode()
    for line in source.splitlines():
        assert line in out.splitlines()  # every original line is still there, as written
    before, after = yaml.safe_load(source), yaml.safe_load(out)  # PyYAML reads YAML 1.1
    assert pod_spec(after)["volumes"][0]["configMap"]["defaultMode"] == 0o644
    del pod_spec(after)["affinity"]
    assert after == before


def test_stdin_without_filename_and_with_dash() -> None:
    data = (TESTDATA / "deploy.yaml").read_bytes()
    golden = (TESTDATA / "pinned" / "deploy.yaml").read_bytes()
    assert run("pin", "--platform", BOTH, stdin=data).stdout == golden
    assert run("pin", "--platform", BOTH, "-f", "-", stdin=data).stdout == golden


def test_several_files_become_one_stream(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    (tmp_path / "b.yaml").write_text("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b")
    result = run("pin", "--platform", BOTH, "-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path / "b.yaml"))
    assert result.stdout.decode() == (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b"
    )


def test_directories_like_kubectl(tmp_path: Path) -> None:
    shutil.copy(TESTDATA / "deploy.yaml", tmp_path / "1-deploy.yaml")
    (tmp_path / "notes.txt").write_text("not a manifest: [")
    (tmp_path / "sub").mkdir()
    shutil.copy(TESTDATA / "rollout.yaml", tmp_path / "sub" / "2-pod.json")
    (tmp_path / "sub" / "2-pod.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, indent=2)
    )  # fmt: skip
    flat = run("pin", "--platform", BOTH, "-f", str(tmp_path))
    assert flat.returncode == 0
    assert flat.stdout.count(b"nodeAffinity") == 1
    deep = run("pin", "--platform", BOTH, "-f", str(tmp_path), "-R")
    assert deep.returncode == 0
    docs = deep.stdout.decode().split("\n---\n")
    pod = json.loads(docs[-1])  # JSON stays JSON
    assert pod["spec"]["affinity"]["nodeAffinity"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("pin", "--platform", BOTH, "-f", str(empty))
    assert result.returncode == 2
    assert error_lines(result) == [f"error: {empty}: no manifest files (*.yaml, *.yml, *.json) found"]


def test_lists_and_their_items() -> None:
    result = run("pin", "--platform", BOTH, "-f", "testdata/list.yaml")
    assert result.returncode == 0
    docs = list(yaml.safe_load_all(result.stdout))
    cron = docs[0]["items"][1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert "nodeAffinity" in cron["affinity"]
    original = list(yaml.safe_load_all((TESTDATA / "list.yaml").read_text()))
    assert docs[0]["items"][0] == original[0]["items"][0]
    assert docs[1] == original[1]


def test_declared_kinds(tmp_path: Path) -> None:
    # Argo Rollouts' Rollout is known; the same kind in a group of one's own is not.
    known = yaml.safe_load(run("pin", "--platform", "linux/arm64", "-f", "testdata/rollout.yaml").stdout)
    assert "affinity" in known["spec"]["template"]["spec"]
    source = (
        (TESTDATA / "rollout.yaml").read_bytes().replace(b"argoproj.io/v1alpha1", b"deploy.example.com/v1")
    )
    (tmp_path / "rollout.yaml").write_bytes(source)
    args = ("pin", "--platform", "linux/arm64", "-f", str(tmp_path / "rollout.yaml"))
    assert run(*args).stdout == source  # unknown kind: untouched
    for declaration in ("Rollout=spec.template.spec", "Rollout.deploy.example.com=spec.template.spec"):
        out = yaml.safe_load(run(*args, "--pod-template-path", declaration).stdout)
        assert "affinity" in out["spec"]["template"]["spec"]
    other_group = run(*args, "--pod-template-path", "Rollout.example.com=spec.template.spec")
    assert other_group.stdout == source
    bad = run(*args, "--pod-template-path", "Rollout:spec")
    assert bad.returncode == 2
    assert error_lines(bad)[0].startswith(
        "error: Invalid value for '--pod-template-path': invalid pod template path 'Rollout:spec'"
    )
    assert error_lines(bad)[1:] == ["See 'kubectl arch pin --help' for usage."]


def test_bom_and_crlf_are_kept(tmp_path: Path) -> None:
    source = (TESTDATA / "deploy.yaml").read_text().replace("\n", "\r\n")
    path = tmp_path / "win.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + source.encode())
    result = run("pin", "--platform", BOTH, "-f", str(path))
    assert result.returncode == 0
    assert result.stdout.startswith(b"\xef\xbb\xbf# A small web app")
    body = result.stdout[3:].decode()
    assert "\n" not in body.replace("\r\n", "")
    golden = (TESTDATA / "pinned" / "deploy.yaml").read_text().replace("\n", "\r\n")
    assert body == golden


def test_variant_warning() -> None:
    result = run("pin", "--platform", "linux/arm/v7", "-f", "testdata/deploy.yaml")
    assert result.returncode == 0
    assert error_lines(result) == [
        "warning: testdata/deploy.yaml doc 1 Deployment/web: images need linux/arm/v7 or newer, but "
        "nodes carry no variant label: pinned to kubernetes.io/arch=arm, which also admits "
        "linux/arm/v6 nodes"
    ]
    assert b"- arm\n" in result.stdout


# -- --in-place, --diff, --check -----------------------------------------------------------


def test_in_place_rewrites_changed_files_only(tmp_path: Path) -> None:
    deploy = tmp_path / "deploy.yaml"
    shutil.copy(TESTDATA / "deploy.yaml", deploy)
    deploy.chmod(0o640)
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    os.utime(config, (1_000_000, 1_000_000))
    link = tmp_path / "link.yaml"
    link.symlink_to(deploy)
    result = run("pin", "--platform", BOTH, "-f", str(link), "-f", str(config), "--in-place")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert link.is_symlink()
    assert deploy.read_bytes() == (TESTDATA / "pinned" / "deploy.yaml").read_bytes()
    assert stat.S_IMODE(deploy.stat().st_mode) == 0o640
    assert config.stat().st_mtime == 1_000_000  # not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "deploy.yaml", "link.yaml"]


def test_in_place_writes_nothing_when_any_file_fails(tmp_path: Path) -> None:
    good = tmp_path / "a.yaml"
    shutil.copy(TESTDATA / "deploy.yaml", good)
    bad = tmp_path / "b.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  nodeSelector:\n"
        "    kubernetes.io/arch: s390x\n  containers:\n  - name: c\n    image: nginx\n"
    )
    result = run("pin", "--platform", BOTH, "-f", str(tmp_path), "--in-place")
    assert result.returncode == 1
    assert good.read_bytes() == (TESTDATA / "deploy.yaml").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_diff() -> None:
    result = run("pin", "--platform", "linux/arm64", "-f", "testdata/rollout.yaml", "--diff",
                 "--pod-template-path", "Rollout=spec.template.spec")  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.decode() == (
        "--- testdata/rollout.yaml\n"
        "+++ testdata/rollout.yaml\n"
        "@@ -9,6 +9,19 @@\n"
        "       - setWeight: 20\n"
        "   template:\n"
        "     spec:\n"
        "+      affinity:\n"
        "+        nodeAffinity:\n"
        "+          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "+            nodeSelectorTerms:\n"
        "+            - matchExpressions:\n"
        "+              - key: kubernetes.io/os\n"
        "+                operator: In\n"
        "+                values:\n"
        "+                - linux\n"
        "+              - key: kubernetes.io/arch\n"
        "+                operator: In\n"
        "+                values:\n"
        "+                - arm64\n"
        "       containers:\n"
        "       - name: app\n"
        "         image: ghcr.io/example/app:2.1\n"
    )


def test_check_is_a_ci_gate() -> None:
    result = run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml", "--check")
    assert result.returncode == 1
    assert result.stdout == b""
    assert error_lines(result) == [
        "would pin testdata/deploy.yaml doc 1 Deployment/web",
        "1 workload(s) not pinned",
    ]
    pinned = run("pin", "--platform", BOTH, "-f", "testdata/pinned/deploy.yaml", "--check")
    assert (pinned.returncode, pinned.stdout, pinned.stderr) == (0, b"", b"1 workload(s) already pinned\n")
    quiet = run("pin", "--platform", BOTH, "-f", "testdata/pinned/deploy.yaml", "--check", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"", b"")
    both = run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml", "--check", "--diff")
    assert both.returncode == 1 and both.stdout.startswith(b"--- testdata/deploy.yaml\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--in-place", "--check"), "error: --in-place cannot be combined with --check or --diff"),
        (("--in-place", "-f", "-"), "error: --in-place needs files given with -f (not stdin)"),
        (
            ("--platfrom", "linux/arm64"),
            "error: No such option '--platfrom'. (Did you mean one of: '--images-from', '--platform'?)",
        ),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run("pin", "--platform", BOTH, "-f", "testdata/deploy.yaml", *args)
    assert result.returncode == 2
    assert error_lines(result) == [message, "See 'kubectl arch pin --help' for usage."]


# -- bad input: one line, exit code, nothing written ---------------------------------------

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n"


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (
            DEPLOYMENT + "      containers: [\n      - name: x\n",
            2,
            "error: {f} doc 1: invalid YAML at line 9, column 7: expected the node content, but found "
            "'-' (while parsing a flow node)",
        ),
        ("---\n- a\n- b\n", 2, "error: {f} doc 1: document is a list, not a Kubernetes object (a mapping)"),
        (DEPLOYMENT + "      containers: []\n", 2, "error: {f} doc 1 Deployment/d: spec.template.spec has no containers"),
        (
            DEPLOYMENT + "      containers:\n      - name: a\n        image: 1.5\n",
            2,
            "error: {f} doc 1 Deployment/d: container 'a': image is a number, not a string (quote it)",
        ),
        (
            DEPLOYMENT + "      containers:\n      - name: a\n        image: yes\n",
            2,
            "error: {f} doc 1 Deployment/d: container 'a': image is a boolean, not a string (quote it)",
        ),
        (
            DEPLOYMENT + "      containers:\n      - name: a\n",
            2,
            "error: {f} doc 1 Deployment/d: container 'a' has no image",
        ),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: {}\n", 2,
         "error: {f} doc 1 Deployment/d: no pod spec at spec.template.spec"),
        (
            DEPLOYMENT + "      affinity: broken\n      containers:\n      - name: a\n        image: x\n",
            2,
            "error: {f} doc 1 Deployment/d: spec.template.spec.affinity is a string, not a mapping",
        ),
        (
            DEPLOYMENT + "      nodeSelector:\n        kubernetes.io/arch: s390x\n"
            "      containers:\n      - name: web\n        image: nginx:1.27\n      - name: side\n"
            "        image: busybox\n",
            1,
            "error: {f} doc 1 Deployment/d: nodeSelector kubernetes.io/arch=s390x excludes every platform "
            "the images support (linux/amd64, linux/arm64); containers: 'web' nginx:1.27, 'side' busybox",
        ),
    ],
)  # fmt: skip
def test_bad_input(tmp_path: Path, content: str, code: int, message: str) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(content)
    result = run("pin", "--platform", BOTH, "-f", str(path))
    assert result.returncode == code
    assert result.stdout == b""
    assert error_lines(result) == [message.format(f=path)]
    in_place = run("pin", "--platform", BOTH, "-f", str(path), "--in-place")
    assert in_place.returncode == code
    assert path.read_text() == content


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: bomb", "  annotations:",
             "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]  # fmt: skip
    lines += [f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    lines += [
        "spec:",
        "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
        "{nodeSelectorTerms: [{matchExpressions: [{key: x, operator: In, values: *a11}]}]}}}",
        "  containers:",
        "  - {name: c, image: nginx}",
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    result = run("pin", "--platform", BOTH, "-f", str(path))
    assert result.returncode == 2
    assert error_lines(result) == [
        f"error: {path} doc 1 Pod/bomb: document contains excessive aliasing (a YAML alias bomb?)"
    ]


def test_unreadable_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x7fELF\x00\x01\x02")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"kind: Pod\nname: caf\xe9\n")
    for path, message in [
        (binary, f"error: {binary}: not a text file (binary data)"),
        (
            latin,
            f"error: {latin}: not UTF-8 text (byte 19); YAML manifests must be UTF-8, or UTF-16 or "
            "UTF-32 with a byte order mark",
        ),
        (tmp_path / "missing.yaml", f"error: {tmp_path / 'missing.yaml'}: no such file or directory"),
    ]:
        result = run("pin", "--platform", BOTH, "-f", str(path))
        assert result.returncode == 2
        assert error_lines(result) == [message]


def test_platform_flag_errors() -> None:
    for value, message in [
        ("lunix/amd64", "error: Invalid value for '--platform': invalid platform 'lunix/amd64': unknown os "
                        "'lunix'; did you mean linux/amd64?"),
        ("arm64", "error: Invalid value for '--platform': invalid platform 'arm64': expected "
                  "os/arch[/variant]; did you mean linux/arm64?"),
    ]:  # fmt: skip
        result = run("pin", "--platform", value, "-f", "testdata/deploy.yaml")
        assert result.returncode == 2
        assert error_lines(result) == [message, "See 'kubectl arch pin --help' for usage."]


def test_version_and_help() -> None:
    assert run("--version").stdout == b"kubectl-arch 0.1.0\n"
    text = run("pin", "--help").stdout.decode()
    assert "--platform" in text and "Exit codes:" in text
