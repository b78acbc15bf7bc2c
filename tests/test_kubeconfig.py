"""Where kubectl-arch finds its cluster and credentials: kubeconfig files merged like kubectl
merges them, contexts, tokens, client certificates, exec credential plugins, in-cluster."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apiserver import ApiServer
from cluster_util import KUBECTL_ARCH, cluster_env

from kubectl_arch.cluster import client as cluster


def nodes(
    home: Path, *args: str, kubeconfig: Path | str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(KUBECTL_ARCH), "nodes", "-o", "json", *args],
        capture_output=True,
        text=True,
        env=cluster_env(home, kubeconfig, **env),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def write(path: Path, config: dict) -> Path:
    path.write_text(json.dumps(config))
    return path


def two_files(tmp_path: Path, server: ApiServer) -> tuple[Path, Path]:
    """Two kubeconfigs: the first reaches ``server`` as context "a"; the second sets its own
    current-context "b" (a cluster that is down) and redefines cluster "main" wrongly."""
    ca = base64.b64encode(server.pki.ca.read_bytes()).decode() if server.pki else ""
    first = write(
        tmp_path / "first",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "main", "cluster": {"server": server.url, "certificate-authority-data": ca}}
            ],
            "users": [{"name": "me", "user": {"token": "test-token"}}],
            "contexts": [{"name": "a", "context": {"cluster": "main", "user": "me"}}],
            "current-context": "a",
        },
    )
    second = write(
        tmp_path / "second",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "main", "cluster": {"server": "https://127.0.0.1:1"}},
                {"name": "down", "cluster": {"server": "https://127.0.0.1:9"}},
            ],
            "users": [{"name": "me", "user": {"token": "wrong"}}],
            "contexts": [{"name": "b", "context": {"cluster": "down", "user": "me"}}],
            "current-context": "b",
        },
    )
    return first, second


def test_kubeconfig_files_merge_first_one_wins(tmp_path: Path, gke: ApiServer) -> None:
    first, second = two_files(tmp_path, gke)
    listed = os.pathsep.join([str(tmp_path / "missing"), str(first), str(second)])
    proc = nodes(tmp_path, kubeconfig=listed)
    # current-context "a" (the first file's), cluster "main" and user "me" from the first file
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["nodes"] == 10

    proc = nodes(tmp_path, "--context", "b", kubeconfig=listed)  # the second file's context
    assert proc.returncode == 3
    assert proc.stderr.startswith('error: cannot reach API server https://127.0.0.1:9 (context "b"): ')

    reversed_order = os.pathsep.join([str(second), str(first)])
    proc = nodes(tmp_path, kubeconfig=reversed_order)
    assert proc.returncode == 3
    assert 'context "b"' in proc.stderr
    proc = nodes(tmp_path, "--context", "a", kubeconfig=reversed_order)
    assert proc.returncode == 3  # cluster "main" and user "me" now come from the second file
    assert proc.stderr.startswith('error: cannot reach API server https://127.0.0.1:1 (context "a"): ')


def test_kubeconfig_flag_takes_one_file(tmp_path: Path, gke: ApiServer) -> None:
    first, second = two_files(tmp_path, gke)
    proc = nodes(tmp_path, "--kubeconfig", str(first), kubeconfig=second)
    assert proc.returncode == 0, proc.stderr


def test_default_location(tmp_path: Path, gke: ApiServer) -> None:
    (tmp_path / ".kube").mkdir()
    gke.kubeconfig(tmp_path / ".kube" / "config")
    proc = nodes(tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_no_current_context(tmp_path: Path, gke: ApiServer) -> None:
    config = json.loads(gke.kubeconfig(tmp_path / "config").read_text())
    del config["current-context"]
    path = write(tmp_path / "config", config)
    proc = nodes(tmp_path, "--kubeconfig", str(path))
    assert proc.returncode == 3
    assert (
        proc.stderr
        == f"error: kubeconfig {path} sets no current-context; use --context NAME (contexts: test)\n"
    )
    assert nodes(tmp_path, "--kubeconfig", str(path), "--context", "test").returncode == 0


def test_invalid_kubeconfig_does_not_quote_its_secrets(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("users:\n- name: me\n  user:\n    token: sup3r-s3cret\n   bad: [indent\n")
    proc = nodes(tmp_path, "--kubeconfig", str(path))
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"error: kubeconfig {path}: invalid YAML at line ")
    assert "s3cret" not in proc.stderr


def test_client_certificate_as_files(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", token=None, client_cert=True)
    proc = nodes(tmp_path, kubeconfig=config)
    assert proc.returncode == 0, proc.stderr
    assert {r.user for r in gke.list_requests()} == {"ci-admin"}


def test_client_certificate_as_data_leaves_no_key_behind(tmp_path: Path, gke: ApiServer) -> None:
    assert gke.pki is not None
    config = json.loads(gke.kubeconfig(tmp_path / "config", token=None).read_text())
    config["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(gke.pki.client_cert.read_bytes()).decode(),
        "client-key-data": base64.b64encode(gke.pki.client_key.read_bytes()).decode(),
    }
    path = write(tmp_path / "config", config)
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = nodes(tmp_path, kubeconfig=path, TMPDIR=str(temp))
    assert proc.returncode == 0, proc.stderr
    assert {r.user for r in gke.list_requests()} == {"ci-admin"}
    assert list(temp.iterdir()) == []  # the key written for the TLS library is gone


def test_insecure_skip_tls_verify(tmp_path: Path, gke: ApiServer) -> None:
    config = gke.kubeconfig(tmp_path / "config", ca=False, insecure=True)
    proc = nodes(tmp_path, kubeconfig=config)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_library_warnings_never_reach_the_terminal(tmp_path: Path, gke: ApiServer) -> None:
    """Even with Python told to show every warning (urllib3's FutureWarnings, the TLS ones)."""
    config = gke.kubeconfig(tmp_path / "config", ca=False, insecure=True)
    proc = nodes(tmp_path, kubeconfig=config, PYTHONWARNINGS="always")
    assert (proc.returncode, proc.stderr) == (0, "")
    proc = nodes(tmp_path, "--request-timeout", "1s", kubeconfig=write(tmp_path / "down", config_with()),
                 PYTHONWARNINGS="always")  # fmt: skip
    assert proc.returncode == 3
    assert "Warning" not in proc.stderr


PLUGIN = """\
#!{python}
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open({record!r}, "w") as f:
    json.dump({{"info": info, "args": sys.argv[1:]}}, f)
if {fail!r}:
    sys.stderr.write("error: not logged in; run: gcloud auth login\\n")
    sys.exit(1)
json.dump({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
           "status": {{"token": "exec-token", "expirationTimestamp": "2099-01-01T00:00:00Z"}}}}, sys.stdout)
"""


def plugin(tmp_path: Path, fail: bool = False, status: str | None = None) -> tuple[Path, Path]:
    record = tmp_path / "plugin-record.json"
    script = tmp_path / "gke-auth-plugin"
    text = PLUGIN.format(python=sys.executable, record=str(record), fail=fail)
    if status is not None:
        text = text.replace('{"token": "exec-token", "expirationTimestamp": "2099-01-01T00:00:00Z"}', status)
    script.write_text(text)
    script.chmod(0o755)
    return script, record


def test_exec_credential_plugin(tmp_path: Path, gke: ApiServer) -> None:
    script, record = plugin(tmp_path)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(script),
        "args": ["--cluster", "shop"],
        "interactiveMode": "Never",
        "provideClusterInfo": True,
    }
    config = gke.kubeconfig(tmp_path / "config", token=None, exec_plugin=exec_config)
    proc = nodes(tmp_path, kubeconfig=config)
    assert proc.returncode == 0, proc.stderr
    assert {r.user for r in gke.list_requests()} == {"exec-user"}
    seen = json.loads(record.read_text())
    assert seen["args"] == ["--cluster", "shop"]
    assert seen["info"]["kind"] == "ExecCredential"
    assert seen["info"]["spec"]["cluster"]["server"] == gke.url


def test_failing_exec_credential_plugin(tmp_path: Path, gke: ApiServer) -> None:
    script, _ = plugin(tmp_path, fail=True)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(script),
        "interactiveMode": "Never",
    }
    config = gke.kubeconfig(tmp_path / "config", token=None, exec_plugin=exec_config)
    proc = nodes(tmp_path, kubeconfig=config)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == (
        'error: getting credentials for context "test": the exec credential plugin failed: exec: process returned 1. '
        "error: not logged in; run: gcloud auth login; check that the plugin is installed and you are logged in\n"
    )
    assert gke.list_requests() == []


def test_in_cluster_service_account(tmp_path: Path, gke: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gke.pki is not None
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("test-token")
    (account / "ca.crt").write_bytes(gke.pki.ca.read_bytes())
    monkeypatch.setattr(cluster, "SERVICE_ACCOUNT_DIR", str(account))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", gke.url.rsplit(":", 1)[1])
    listing = cluster.read_nodes(cluster.Options())
    assert (len(listing.nodes), listing.context) == (10, "in-cluster")
    assert {r.user for r in gke.list_requests()} == {"ci-admin"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, None), ("0", None), ("30", 30.0), ("1.5", 1.5), ("500ms", 0.5), ("1m30s", 90.0), ("2h", 7200.0)],
)
def test_request_timeout_values(text: str | None, seconds: float | None) -> None:
    assert cluster.parse_timeout(text) == seconds


def test_empty_files_are_skipped_and_a_dangling_current_context_is_named(
    tmp_path: Path, gke: ApiServer
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    good = gke.kubeconfig(tmp_path / "config")
    proc = nodes(tmp_path, kubeconfig=os.pathsep.join([str(empty), str(good)]))
    assert proc.returncode == 0, proc.stderr
    config = json.loads(good.read_text())
    config["current-context"] = "gone"
    path = write(tmp_path / "dangling", config)
    proc = nodes(tmp_path, "--kubeconfig", str(path))
    assert proc.returncode == 3
    assert (
        proc.stderr
        == f'error: kubeconfig {path}: current-context "gone" is not one of its contexts (test); use --context NAME\n'
    )


def test_exec_credential_plugin_with_a_client_certificate(tmp_path: Path, gke: ApiServer) -> None:
    assert gke.pki is not None
    status = json.dumps(
        {
            "clientCertificateData": gke.pki.client_cert.read_text(),
            "clientKeyData": gke.pki.client_key.read_text(),
        }
    )
    script, _ = plugin(tmp_path, status=status)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(script),
        "interactiveMode": "Never",
    }
    config = gke.kubeconfig(tmp_path / "config", token=None, exec_plugin=exec_config)
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = nodes(tmp_path, kubeconfig=config, TMPDIR=str(temp))
    assert proc.returncode == 0, proc.stderr
    assert {r.user for r in gke.list_requests()} == {"ci-admin"}
    assert list(temp.iterdir()) == []


# -- hostile kubeconfigs: each fault one line naming the file and the field -------------------


def config_with(**changes: object) -> dict:
    """A kubeconfig whose context "c" reaches no server; ``changes`` map a dotted place
    (``cluster.server``, ``user.token``, ``context.user``, ``clusters``) to a value."""
    config: dict = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "sekrit-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    for place, value in changes.items():
        section, _, field = place.replace("_", "-").partition(".")
        if field:
            config[section + "s"][0][section][field] = value
        else:
            config[section] = value
    return config


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"cluster.server": 443}, 'kubeconfig {f}, cluster "c": server is a number, not a string'),
        ({"cluster.certificate_authority_data": "!!!"},
         'kubeconfig {f}, cluster "c": certificate-authority-data is not base64 text'),
        ({"cluster.insecure_skip_tls_verify": "yes please"},
         'kubeconfig {f}, cluster "c": insecure-skip-tls-verify is a string, not true or false'),
        ({"user.client_key_data": ["x"]}, 'kubeconfig {f}, user "u": client-key-data is a list, not base64 text'),
        ({"user.token": {"value": "sekrit"}}, 'kubeconfig {f}, user "u": token is a mapping, not a string'),
        ({"user.exec": {"command": "x", "args": ["a", 1]}},
         'kubeconfig {f}, user "u": exec.args is a list, not a list of strings'),
        ({"user.auth_provider": True}, 'kubeconfig {f}, user "u": auth-provider is true or false, not a mapping'),
        ({"context.user": ["u"]}, 'kubeconfig {f}, context "c": user is a list, not a string'),
        ({"contexts": 7}, "kubeconfig {f}: contexts is a number, not a list"),
        ({"clusters": [{"name": 7, "cluster": {}}]}, "kubeconfig {f}: clusters[0].name is a number, not a string"),
        ({"users": ["u"]}, "kubeconfig {f}: users[0] is a string, not a mapping"),
        ({"current-context": ["c"]}, "kubeconfig {f}: current-context is a list, not a string"),
    ],
)  # fmt: skip
def test_malformed_fields_are_named(tmp_path: Path, changes: dict, why: str) -> None:
    path = write(tmp_path / "config", config_with(**changes))
    proc = nodes(tmp_path, "--request-timeout", "2s", kubeconfig=path)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == f"error: {why.format(f=path)}; fix the kubeconfig\n"
    assert "sekrit" not in proc.stderr


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        (
            "socks5://127.0.0.1:1080",
            "is a SOCKS proxy, which kubectl-arch cannot use; use an http or https proxy",
        ),
        ("proxy.example:3128", "is not an http or https URL (http://HOST:PORT)"),
    ],
)
def test_proxy_urls_it_cannot_use(tmp_path: Path, proxy: str, why: str) -> None:
    path = write(tmp_path / "config", config_with(**{"cluster.proxy_url": proxy}))
    proc = nodes(tmp_path, kubeconfig=path)
    assert proc.returncode == 3
    assert proc.stderr == f'error: kubeconfig {path}, cluster "c": proxy-url {proxy!r} {why}\n'


def test_null_fields_are_their_zero_value(tmp_path: Path, gke: ApiServer) -> None:
    """kubectl (Go's JSON decoding) takes a null field for an absent one."""
    config = json.loads(gke.kubeconfig(tmp_path / "config").read_text())
    config["clusters"][0]["cluster"]["proxy-url"] = None
    config["clusters"][0]["cluster"]["tls-server-name"] = None
    config["users"][0]["user"]["client-certificate-data"] = None
    config["contexts"][0]["context"]["namespace"] = None
    proc = nodes(tmp_path, kubeconfig=write(tmp_path / "config", config))
    assert proc.returncode == 0, proc.stderr


def test_files_a_kubeconfig_names_are_read_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "ca.fifo"
    os.mkfifo(fifo)
    path = write(tmp_path / "config", config_with(**{"cluster.certificate_authority": "ca.fifo"}))
    proc = nodes(tmp_path, kubeconfig=path)
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: kubeconfig {path}, cluster "c": certificate-authority {fifo}: not a regular file (a FIFO); '
        "fix the path in the kubeconfig\n"
    )
    path = write(tmp_path / "config", config_with(**{"user.tokenFile": "/dev/zero", "user.token": None}))
    proc = nodes(tmp_path, kubeconfig=path)
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: kubeconfig {path}, user "u": tokenFile /dev/zero: not a regular file (a character device); '
        "fix the path in the kubeconfig\n"
    )
    (tmp_path / "token").write_text("line one\nline two\n")
    path = write(tmp_path / "config", config_with(**{"user.tokenFile": "token", "user.token": None}))
    proc = nodes(tmp_path, kubeconfig=path)
    assert proc.returncode == 3
    assert proc.stderr == (
        f'error: kubeconfig {path}, user "u": tokenFile token holds no token that can be sent (one line of text)\n'
    )


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("sleep 1000", "the exec credential plugin {cmd} did not answer within 1s; it was stopped "
         "(see --request-timeout)"),
        ("head -c 100000000 /dev/zero", "the exec credential plugin {cmd} printed more than 1048576 bytes; "
         "it was stopped"),
        ("printf '\\033[31mnot json'", "the exec credential plugin {cmd} answered something other than JSON "
         "(not valid JSON (Expecting value: line 1 column 1))"),
        ("python3 -c 'print(\"[\" * 100000)'", "the exec credential plugin {cmd} answered something other than "
         "JSON (JSON nests too deeply)"),
        ("echo 'token: sekrit-token' >&2; exit 7", "the exec credential plugin failed: exec: process returned 7. "
         "token: REDACTED; check that the plugin is installed and you are logged in"),
        ("echo \"stderr secret=sekrit-exec-tok $(printf '\\033[2J')\" >&2; exit 7", "the exec credential plugin "
         "failed: exec: process returned 7. stderr secret=REDACTED \\x1b[2J; check that the plugin is installed "
         "and you are logged in"),
    ],
)  # fmt: skip
def test_exec_plugins_are_bounded(tmp_path: Path, script: str, why: str) -> None:
    command = tmp_path / "plugin"
    command.write_text(f"#!/bin/sh\n{script}\n")
    command.chmod(0o755)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(command),
        "interactiveMode": "Never",
    }
    path = write(tmp_path / "config", config_with(**{"user.exec": exec_config, "user.token": None}))
    proc = nodes(tmp_path, "--request-timeout", "1s", kubeconfig=path)
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr == f'error: getting credentials for context "c": {why.format(cmd=command)}\n'
