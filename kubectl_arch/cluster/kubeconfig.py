"""The kubeconfig's active context, made self-contained before the ``kubernetes`` client loads
it: its files read, its credential plugin run, each bounded, each failure one line.

* Merging follows kubectl: the first file to define a cluster, user or context name wins.
* The active context is checked the way kubectl checks it before connecting: it names a
  cluster that exists and has a server (an http or https URL; without a scheme, https when the
  cluster has TLS settings, http otherwise, as client-go's ``DefaultServerURL``), and a user
  that exists when it names one.
* The files the context's cluster and user name (``certificate-authority``,
  ``client-certificate``, ``client-key``, ``tokenFile``), relative to the kubeconfig that names
  them, are read through :func:`..localfile.read_regular` (regular files only, at most
  :data:`MAX_FILE` bytes: a FIFO, a device or an endless file is an error, never a hang) and
  put inline (``*-data``, ``token``; a value already inline wins, as in client-go).
* An exec credential plugin (``user.exec``, client.authentication.k8s.io/v1 or v1beta1) runs
  here rather than in the client, in a process group of its own, with ``KUBERNETES_EXEC_INFO``
  (never interactive) and its ``env``; it is ended with everything it started when it runs
  longer than the request timeout (:data:`EXEC_TIMEOUT` without one) or prints more than the
  registry's credential helpers may (:data:`..registry.auth.MAX_HELPER_OUTPUT`). Its
  ``ExecCredential`` answer (a token, or a client certificate and key) is put inline.

Secrets never reach a message: only paths, field names and the first line of what a failing
plugin says (redacted).
"""

from __future__ import annotations

import base64
import copy
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .. import localfile, log
from .client import KubeconfigError

MAX_FILE = 4 * 1024 * 1024  # a certificate bundle or a token
EXEC_TIMEOUT = 300.0  # seconds a credential plugin may take without --request-timeout (a login)
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
# (section, file field, inline field): what a cluster or user may name as a file.
FILE_FIELDS = (
    ("cluster", "certificate-authority", "certificate-authority-data"),
    ("user", "client-certificate", "client-certificate-data"),
    ("user", "client-key", "client-key-data"),
    ("user", "tokenFile", "token"),
)


# The kubeconfig's shape, as client-go's clientcmd/api/v1 types decode it: a field of the wrong
# type fails kubectl for every context, so it fails here too, naming the file and the field.
# null is a field's zero value (Go's encoding/json), unknown fields are ignored.
_STR, _BOOL, _BYTES, _STRINGS, _STRING_MAP = "string", "true or false", "base64", "strings", "string map"
_CLUSTER: dict[str, Any] = {
    "server": _STR,
    "tls-server-name": _STR,
    "insecure-skip-tls-verify": _BOOL,
    "certificate-authority": _STR,
    "certificate-authority-data": _BYTES,
    "proxy-url": _STR,
    "disable-compression": _BOOL,
}
_EXEC: dict[str, Any] = {
    "command": _STR,
    "args": _STRINGS,
    "env": [{"name": _STR, "value": _STR}],
    "apiVersion": _STR,
    "installHint": _STR,
    "provideClusterInfo": _BOOL,
    "interactiveMode": _STR,
}
_USER: dict[str, Any] = {
    "client-certificate": _STR,
    "client-certificate-data": _BYTES,
    "client-key": _STR,
    "client-key-data": _BYTES,
    "token": _STR,
    "tokenFile": _STR,
    "as": _STR,
    "as-uid": _STR,
    "as-groups": _STRINGS,
    "username": _STR,
    "password": _STR,
    "auth-provider": {"name": _STR, "config": _STRING_MAP},
    "exec": _EXEC,
}
_CONTEXT: dict[str, Any] = {"cluster": _STR, "user": _STR, "namespace": _STR}
_CONFIG: dict[str, Any] = {
    "apiVersion": _STR,
    "kind": _STR,
    "current-context": _STR,
    "clusters": [{"name": _STR, "cluster": _CLUSTER}],
    "users": [{"name": _STR, "user": _USER}],
    "contexts": [{"name": _STR, "context": _CONTEXT}],
}


def _kind(value: Any) -> str:
    """What a decoded YAML value is, in the words of a message (never its text: it may be a
    secret)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "a " + type(value).__name__  # a YAML timestamp (date, datetime), binary...


def _shape_error(
    path: str, field: tuple[Any, ...], names: dict[int, str], want: str, value: Any
) -> KubeconfigError:
    wanted = {
        _STR: "a string",
        _BOOL: "true or false",
        _BYTES: "base64 text",
        _STRINGS: "a list of strings",
        _STRING_MAP: "a mapping of strings",
        "list": "a list",
        "mapping": "a mapping",
    }[want]
    return KubeconfigError(
        f"{_where(path, field, names)} is {_kind(value)}, not {wanted}; fix the kubeconfig"
    )


def _where(path: str, field: tuple[Any, ...], names: dict[int, str]) -> str:
    """``kubeconfig F, cluster "c": server`` for a field of a named entry, else
    ``kubeconfig F: clusters[0].name``."""
    if len(field) >= 3 and field[1] in names and field[2] == field[0][:-1]:
        rest = ".".join(_part(p) for p in field[3:]).replace(".[", "[") or field[2]
        return f'kubeconfig {path}, {field[2]} "{names[field[1]]}": {rest}'
    return f"kubeconfig {path}: " + ".".join(_part(p) for p in field).replace(".[", "[")


def _part(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)


def _check_value(path: str, field: tuple[Any, ...], names: dict[int, str], want: Any, value: Any) -> None:
    if value is None:
        return
    if isinstance(want, dict):
        if not isinstance(value, Mapping):
            raise _shape_error(path, field, names, "mapping", value)
        for key, inner in want.items():
            if key in value:
                _check_value(path, (*field, key), names, inner, value[key])
    elif isinstance(want, list):
        if not isinstance(value, list):
            raise _shape_error(path, field, names, "list", value)
        for index, item in enumerate(value):
            name = item.get("name") if isinstance(item, Mapping) and len(field) == 1 else None
            inner_names = {**names, index: name} if isinstance(name, str) and name else names
            _check_value(path, (*field, index), inner_names, want[0], item)
    elif want in (_STR, _BOOL, _BYTES):
        if not isinstance(value, bool if want == _BOOL else str):
            raise _shape_error(path, field, names, want, value)
        if want == _BYTES:
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                raise KubeconfigError(
                    f"{_where(path, field, names)} is not base64 text; fix the kubeconfig"
                ) from None
    elif want == _STRINGS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _shape_error(path, field, names, want, value)
    elif want == _STRING_MAP and (
        not isinstance(value, Mapping) or not all(isinstance(v, str | None) for v in value.values())
    ):
        raise _shape_error(path, field, names, want, value)


def check_shape(path: str, data: Mapping[str, Any]) -> None:
    """KubeconfigError naming ``path`` and the field when a field of the kubeconfig ``data``
    has a type client-go's decoder refuses (``clusters[0].name is a number, not a string``;
    ``user "u".client-key-data is not base64 text``), as kubectl refuses the file."""
    _check_value(path, (), {}, _CONFIG, data)


def _entries(data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    items = data.get(section)
    return [i for i in items if isinstance(i, Mapping) and i.get("name")] if isinstance(items, list) else []


def merge(
    files: Sequence[tuple[str, Mapping[str, Any]]],
) -> dict[str, dict[str, tuple[str, Mapping[str, Any]]]]:
    """Per section, each name's entry and the file that defined it first (kubectl's merge)."""
    merged: dict[str, dict[str, tuple[str, Mapping[str, Any]]]] = {s: {} for s, _ in SECTIONS}
    for path, data in files:
        for section, _ in SECTIONS:
            for entry in _entries(data, section):
                merged[section].setdefault(str(entry["name"]), (path, entry))
    return merged


def _body(entry: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    """A copy of the entry's body without null fields (a null is the field's zero value, as
    in client-go; the Python client would take it for a value)."""
    body = entry.get(field)
    if not isinstance(body, Mapping):
        return None
    return {k: copy.deepcopy(v) for k, v in body.items() if v is not None}


def resolve(
    files: Sequence[tuple[str, Mapping[str, Any]]], context: str, where: str, timeout: float | None
) -> dict[str, Any]:
    """The kubeconfig to load (plain data): the active context, its cluster and its user alone,
    with every file they name read and the credential plugin's answer inline."""
    merged = merge(files)
    _, ctx_entry = merged["contexts"][context]
    ctx = _body(ctx_entry, "context")
    if ctx is None or not ctx.get("cluster"):
        raise KubeconfigError(f'kubeconfig {where}: context "{context}" names no cluster')
    cluster_name = str(ctx["cluster"])
    if cluster_name not in merged["clusters"]:
        listed = ", ".join(merged["clusters"]) or "none"
        raise KubeconfigError(
            f'kubeconfig {where}: context "{context}" names cluster "{cluster_name}", which it does not '
            f"define (clusters: {listed})"
        )
    cluster_file, cluster_entry = merged["clusters"][cluster_name]
    cluster = _body(cluster_entry, "cluster")
    if cluster is None:
        raise KubeconfigError(f'kubeconfig {cluster_file}: cluster "{cluster_name}" is empty (no server)')
    _inline_files(cluster, "cluster", cluster_name, cluster_file)
    cluster["server"] = _server(cluster, cluster_name, cluster_file)
    if cluster.get("proxy-url"):
        _proxy(cluster["proxy-url"], cluster_name, cluster_file)
    out: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "contexts": [{"name": context, "context": ctx}],
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [],
    }
    user_name = str(ctx.get("user") or "")
    if user_name:
        if user_name not in merged["users"]:
            raise KubeconfigError(
                f'kubeconfig {where}: context "{context}" names user "{user_name}", which it does not define'
            )
        user_file, user_entry = merged["users"][user_name]
        user = _body(user_entry, "user") or {}
        _inline_files(user, "user", user_name, user_file)
        if "exec" in user:
            user = _exec(user, user_name, user_file, cluster, context, timeout)
        out["users"] = [{"name": user_name, "user": user}]
    return out


def _server(cluster: Mapping[str, Any], name: str, path: str) -> str:
    from urllib.parse import urlsplit

    raw = cluster.get("server")
    if not isinstance(raw, str) or not raw.strip():
        raise KubeconfigError(f'kubeconfig {path}: cluster "{name}" has no server')
    server = raw.strip()
    if "://" not in server:
        tls = any(cluster.get(k) for k in ("certificate-authority-data", "insecure-skip-tls-verify"))
        server = ("https://" if tls else "http://") + server
    try:
        parts = urlsplit(server)
        _ = parts.port  # a ValueError for a port that is not a number
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise KubeconfigError(
            f'kubeconfig {path}: cluster "{name}": server {log.redact_url(server)!r} is not an http or https '
            "URL (https://HOST[:PORT])"
        )
    return server


def _proxy(url: str, name: str, path: str) -> None:
    """``proxy-url``: an http or https proxy (the ones the Python client can use; kubectl also
    takes socks5)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port
        scheme, host = parts.scheme, parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme.startswith("socks"):
        raise KubeconfigError(
            f'kubeconfig {path}, cluster "{name}": proxy-url {log.redact_url(url)!r} is a SOCKS proxy, which '
            "kubectl-arch cannot use; use an http or https proxy"
        )
    if scheme not in ("http", "https") or not host:
        raise KubeconfigError(
            f'kubeconfig {path}, cluster "{name}": proxy-url {log.redact_url(url)!r} is not an http or https '
            "URL (http://HOST:PORT)"
        )


def _read(path: str, base: str, what: str) -> bytes:
    """A file a kubeconfig names (``what``: where, for messages), relative to its directory."""
    full = os.path.join(os.path.dirname(os.path.abspath(base)), path)
    try:
        return localfile.read_regular(full, MAX_FILE, follow=True)
    except FileNotFoundError:
        why = "does not exist"
    except localfile.NotRegular as exc:
        why = str(exc)
    except OSError as exc:
        why = f"cannot be read: {exc.strerror or exc}"
    raise KubeconfigError(f"kubeconfig {base}, {what} {full}: {why}; fix the path in the kubeconfig")


def _inline_files(body: dict[str, Any], section: str, name: str, path: str) -> None:
    """Read the files ``body`` names and put them inline, as client-go would read them."""
    for field_section, field, inline in FILE_FIELDS:
        if field_section != section or field not in body:
            continue
        value = body.pop(field)
        if body.get(inline) or not value:
            continue  # the inline value wins
        data = _read(str(value), path, f'{section} "{name}": {field}')
        if inline == "token":
            try:
                token = data.decode("utf-8").strip()
            except UnicodeDecodeError:
                token = ""
            if not token or any(c in token for c in "\r\n\0"):
                raise KubeconfigError(
                    f'kubeconfig {path}, user "{name}": tokenFile {value} holds no token that can be sent '
                    "(one line of text)"
                )
            body[inline] = token
        else:
            body[inline] = base64.b64encode(data).decode("ascii")


def _exec(
    user: dict[str, Any],
    name: str,
    path: str,
    cluster: Mapping[str, Any],
    context: str,
    timeout: float | None,
) -> dict[str, Any]:
    """Run the user's exec credential plugin; the user with its answer inline, exec gone."""
    import shutil

    from ..registry import auth

    config = user.pop("exec")
    where = f'getting credentials for context "{context}"'
    if not isinstance(config, Mapping) or not isinstance(config.get("command"), str) or not config["command"]:
        raise KubeconfigError(f'kubeconfig {path}, user "{name}": exec has no command')
    api_version = config.get("apiVersion")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeconfigError(
            f'kubeconfig {path}, user "{name}": exec apiVersion {api_version!r} is not supported '
            f"({', '.join(EXEC_API_VERSIONS)})"
        )
    if config.get("interactiveMode") == "Always":
        raise KubeconfigError(
            f"{where}: the exec credential plugin wants a terminal (interactiveMode: Always), which "
            "kubectl-arch does not give it; log in first (run the plugin yourself), or set interactiveMode "
            "IfAvailable"
        )
    command = config["command"]
    if os.sep in command and not os.path.isabs(command):
        command = os.path.join(os.path.dirname(os.path.abspath(path)), command)
    found = shutil.which(command)
    if found is None:
        hint = str(config.get("installHint") or "").strip().splitlines()
        raise KubeconfigError(
            f"{where}: the exec credential plugin {config['command']} is not installed (not on PATH)"
            + (f"; {log.redact(hint[0][:300])}" if hint else "")
        )
    args = config.get("args") or []
    env = dict(os.environ)
    for item in config.get("env") or ():
        if isinstance(item, Mapping) and item.get("name"):
            env[str(item["name"])] = "" if item.get("value") is None else str(item["value"])
    spec: dict[str, Any] = {"interactive": False}
    if config.get("provideClusterInfo"):
        spec["cluster"] = _cluster_info(cluster)
    import json

    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": api_version, "kind": "ExecCredential", "spec": spec}
    )
    limit = timeout or EXEC_TIMEOUT
    argv = [found, *(str(a) for a in args)] if isinstance(args, list) else [found]
    capture = not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    try:
        code, stdout, stderr = auth.run_capped(argv, b"", limit, env=env, capture_stderr=capture)
    except TimeoutError:
        raise KubeconfigError(
            f"{where}: the exec credential plugin {config['command']} did not answer within {limit:g}s; it "
            "was stopped (see --request-timeout)"
        ) from None
    except OverflowError:
        raise KubeconfigError(
            f"{where}: the exec credential plugin {config['command']} printed more than "
            f"{auth.MAX_HELPER_OUTPUT} bytes; it was stopped"
        ) from None
    except OSError as exc:
        raise KubeconfigError(
            f"{where}: the exec credential plugin {config['command']} could not run: {exc.strerror or exc}"
        ) from None
    if code != 0:
        said = next((s.strip() for s in stderr.decode("utf-8", "replace").splitlines() if s.strip()), "")
        detail = f"exec: process returned {code}" + (f". {log.redact(said[:300])}" if said else "")
        raise KubeconfigError(
            f"{where}: the exec credential plugin failed: {detail}; check that the plugin is installed and "
            "you are logged in"
        )
    return _answer(user, stdout, api_version, where, config["command"])


def _cluster_info(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """``spec.cluster`` of KUBERNETES_EXEC_INFO (provideClusterInfo), as client-go fills it."""
    info = {
        key: cluster[key]
        for key in (
            "server",
            "tls-server-name",
            "insecure-skip-tls-verify",
            "certificate-authority-data",
            "proxy-url",
        )
        if key in cluster
    }
    for extension in cluster.get("extensions") or ():
        if isinstance(extension, Mapping) and extension.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = extension.get("extension")
    return info


def _answer(
    user: dict[str, Any], stdout: bytes, api_version: Any, where: str, command: str
) -> dict[str, Any]:
    from ..jsonload import JsonError, loads

    what = f"{where}: the exec credential plugin {command} answered"
    try:
        data = loads(stdout)
    except JsonError as exc:
        raise KubeconfigError(f"{what} something other than JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise KubeconfigError(f"{what} something other than an ExecCredential")
    if data.get("apiVersion") != api_version:
        raise KubeconfigError(f"{what} apiVersion {str(data.get('apiVersion'))[:80]!r}, not {api_version}")
    status = data.get("status")
    status = status if isinstance(status, dict) else {}
    token = status.get("token")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    for field in ("token", "tokenFile", "client-certificate-data", "client-key-data"):
        user.pop(field, None)
    if isinstance(token, str) and token:
        if any(c in token for c in "\r\n\0"):
            raise KubeconfigError(f"{what} a token that cannot be sent in a header")
        user["token"] = token
    elif isinstance(cert, str) and cert and isinstance(key, str) and key:
        user["client-certificate-data"] = base64.b64encode(cert.encode()).decode("ascii")
        user["client-key-data"] = base64.b64encode(key.encode()).decode("ascii")
    else:
        raise KubeconfigError(f"{what} no token and no client certificate and key")
    return user
