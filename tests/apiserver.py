"""A small read-only Kubernetes API server for the tests and benchmarks (standard library only).

It serves recorded Node objects and workloads with the semantics clients rely on:

* discovery: ``/version``, ``/api``, ``/api/v1``, ``/apis`` and ``/apis/GROUP/VERSION`` for
  ``v1`` (nodes, pods, replicationcontrollers), ``apps/v1`` (deployments, statefulsets,
  daemonsets, replicasets), ``batch/v1`` (jobs, cronjobs) and one custom group
  (``argoproj.io/v1alpha1`` rollouts), enough for real ``kubectl get``, and the custom
  resources a test adds (``custom_kinds``);
* lists (``GET /api/v1/nodes``, ``/apis/apps/v1/deployments``, and for namespaced resources
  ``.../namespaces/NS/PLURAL``) with ``limit`` and ``continue`` paging (opaque continue tokens
  that expire with a 410 ``Expired`` Status when the list changes, like etcd compaction), and
  ``labelSelector`` with equality- and set-based requirements (``a=b``, ``a==b``, ``a!=b``,
  ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``); bad selectors get a 400 Status; items of
  built-in kinds are listed without ``kind``/``apiVersion``, as the real server lists them;
* ``GET /api/v1/nodes/NAME``;
* authentication by bearer token or TLS client certificate (the certificate's CN is the
  user), 401 ``Unauthorized`` otherwise; ``forbidden=True`` answers ``list nodes`` with the
  403 Status RBAC gives, as in multi-tenant clusters, and ``forbidden_resources`` does the same
  for the lists of other resources (``{"daemonsets"}``).

Errors are ``v1`` Status objects, as the real server sends them. Every request is recorded
(method, path, query, user) in :attr:`ApiServer.requests` for assertions; secrets are not.

``make_pki`` makes a CA, a server certificate for 127.0.0.1 and a client certificate with
the ``openssl`` command line tool.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.5-gke.1023000",
    "gitCommit": "5f2d0a4c7a1e4b0e8e2b6d1c2a3f4e5d6c7b8a90",
    "gitTreeState": "clean",
    "buildDate": "2026-10-21T04:18:12Z",
    "goVersion": "go1.22.10 X:boringcrypto",
    "compiler": "gc",
    "platform": "linux/amd64",
}


class Kind(NamedTuple):
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def resource(self) -> dict[str, Any]:
        """The APIResource entry of discovery."""
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        }
        if self.short:
            entry["shortNames"] = list(self.short)
        return entry


KINDS = (
    Kind("", "v1", "nodes", "Node", False, ("no",)),
    Kind("", "v1", "pods", "Pod", True, ("po",)),
    Kind("", "v1", "replicationcontrollers", "ReplicationController", True, ("rc",)),
    Kind("apps", "v1", "deployments", "Deployment", True, ("deploy",)),
    Kind("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",)),
    Kind("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",)),
    Kind("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",)),
    Kind("batch", "v1", "jobs", "Job", True),
    Kind("batch", "v1", "cronjobs", "CronJob", True, ("cj",)),
    Kind("argoproj.io", "v1alpha1", "rollouts", "Rollout", True, ("ro",)),
)
CUSTOM_GROUPS = frozenset({"argoproj.io"})  # served as custom resources: items keep kind and apiVersion
EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the first "
    "chunk was returned and now may show up in the list."
)


def status(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        out["details"] = dict(details)
    return out


# -- label selectors ------------------------------------------------------------------------


class SelectorError(ValueError):
    pass


class Requirement(NamedTuple):
    key: str
    operator: str  # =, !=, in, notin, exists, !
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        return not present  # "!"


_KEY = r"(?:[a-z0-9A-Z.\-]+/)?[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?"
_SET = re.compile(rf"\s*({_KEY})\s+(in|notin)\s*\(\s*([^()]*)\)\s*")
_EQUALITY = re.compile(rf"\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*")
_EXISTS = re.compile(rf"\s*(!?)\s*({_KEY})\s*")


def _split_requirements(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_selector(text: str) -> list[Requirement]:
    """A label selector as ``kubectl -l`` writes it; raises SelectorError like the server."""
    if not text.strip():
        return []
    out = []
    for part in _split_requirements(text):
        if m := _SET.fullmatch(part):
            values = tuple(v.strip() for v in m[3].split(","))
            if any(not re.fullmatch(_VALUE, v) for v in values) or values == ("",):
                raise SelectorError(f"unable to parse requirement: invalid values in {part.strip()!r}")
            out.append(Requirement(m[1], m[2], values))
        elif m := _EQUALITY.fullmatch(part):
            out.append(Requirement(m[1], "!=" if m[2] == "!=" else "=", (m[3],)))
        elif m := _EXISTS.fullmatch(part):
            out.append(Requirement(m[2], "!" if m[1] else "exists", ()))
        else:
            raise SelectorError(f"unable to parse requirement: found '{part.strip()}', expected: key")
    return out


def selector_matches(requirements: Iterable[Requirement], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)


# -- certificates ---------------------------------------------------------------------------


class Pki(NamedTuple):
    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True, timeout=60)


def _signed(directory: Path, name: str, subject: str, extensions: str) -> None:
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory,
    )  # fmt: skip
    (directory / f"{name}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", f"{name}.crt", "-days", "3", "-extfile", f"{name}.ext", cwd=directory,
    )  # fmt: skip


def make_pki(directory: Path, client_subject: str = "/O=system:masters/CN=ci-admin") -> Pki:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate (openssl CLI)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "3", "-subj", "/CN=kubectl-arch-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _signed(
        directory,
        "server",
        "/CN=kube-apiserver",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature\n",
    )
    _signed(
        directory,
        "client",
        client_subject,
        "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n",
    )
    d = directory
    return Pki(
        d / "ca.crt", d / "ca.key", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key"
    )


# -- the server -----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    user: str  # "" when not authenticated


@dataclass
class ApiServer:
    """Serve ``nodes`` (Node objects) until :meth:`stop`. Use as a context manager."""

    nodes: Sequence[Mapping[str, Any]]
    tokens: Mapping[str, str] = field(default_factory=lambda: {"test-token": "ci-admin"})  # token -> user
    pki: Pki | None = None  # TLS (and client certificates) when given
    forbidden: bool = False  # 403 on listing nodes
    anonymous: bool = False  # accept requests without credentials
    requests: list[Request] = field(default_factory=list)
    resource_version: int = 48213377
    expire_next_continue: bool = False  # the next continue token gets 410 Expired (list changed)
    delay: float = 0.0  # seconds to wait before answering a list (for timeouts)
    # Faults of a broken or hostile server: every list page ends with a continue token, the
    # same one ("same") or a new one each time ("new"); or every list is answered with these bytes.
    continue_forever: str = ""
    list_body: bytes | None = None
    # Workload objects (with kind and apiVersion) served besides the nodes, the lists whose
    # plural names are refused with 403, and the lists the faults above apply to.
    objects: Sequence[Mapping[str, Any]] = ()
    forbidden_resources: frozenset[str] = frozenset()
    faulty: frozenset[str] = frozenset({"nodes"})
    # RBAC by RoleBindings: namespaced lists are allowed in these namespaces only (None: all),
    # never at the cluster scope.
    namespaces: frozenset[str] | None = None
    # Bodies of a hostile server on the faulty lists: "endless" (a JSON start, then blanks
    # without end), or "drip" (the real page, one byte every tenth of a second).
    body_fault: str = ""
    # API groups whose discovery document answers 503 (an aggregated API whose backend is down).
    unavailable_groups: frozenset[str] = frozenset()
    redirect_to: str = ""  # the faulty lists answer 302 to this URL (another host)
    list_status: int = 200  # the status list_body is sent with
    list_headers: Mapping[str, str] = field(default_factory=dict)  # and these headers (Location...)
    repeat_items: bool = False  # every page after the first starts with the last item of the one before
    # Pages laid out otherwise than the API server writes them (valid JSON all the same):
    # "items-first" (the list metadata after the items), "stale-metadata" (a first metadata
    # member naming a continue token from the start of the list; the second, which JSON
    # readers keep, the right one).
    page_layout: str = ""
    # Custom resources served besides KINDS (an operator's kinds: Kubeflow's pytorchjobs...),
    # through discovery and lists like the others, their items with kind and apiVersion.
    custom_kinds: Sequence[Kind] = ()

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return (*KINDS, *self.custom_kinds)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[Any, ...], bytes] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ApiServer:
        handler = type("Handler", (_Handler,), {"api": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        if self.pki is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
            context.load_verify_locations(self.pki.ca)
            context.verify_mode = ssl.CERT_OPTIONAL
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        scheme = "https" if self.pki is not None else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    def change(self) -> None:
        """Simulate a write to the node list: outstanding continue tokens expire (410)."""
        with self._lock:
            self.resource_version += 1
            self._pages.clear()

    def list_requests(self, path: str = "/api/v1/nodes") -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def served(self, kind: Kind) -> list[Mapping[str, Any]]:
        """The objects of a resource."""
        if kind.plural == "nodes":
            return list(self.nodes)
        by_kind = self.__dict__.get("_by_kind")
        if by_kind is None:
            by_kind = {}
            for obj in self.objects:
                group = str(obj.get("apiVersion", "")).rpartition("/")[0]
                by_kind.setdefault((group, obj.get("kind")), []).append(obj)
            for found in by_kind.values():  # in etcd's key order, as the real server lists them
                found.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            self.__dict__["_by_kind"] = by_kind
        return list(by_kind.get((kind.group, kind.kind), ()))

    # -- kubeconfig --------------------------------------------------------------------------
    def kubeconfig(
        self,
        path: Path,
        *,
        context: str = "test",
        token: str | None = "test-token",
        client_cert: bool = False,
        exec_plugin: Mapping[str, Any] | None = None,
        ca: bool = True,
        insecure: bool = False,
        server: str | None = None,
        namespace: str | None = None,
    ) -> Path:
        """Write a kubeconfig for this server (JSON, which is YAML) and return its path."""
        cluster: dict[str, Any] = {"server": server or self.url}
        if self.pki is not None and ca:
            cluster["certificate-authority-data"] = base64.b64encode(self.pki.ca.read_bytes()).decode()
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        user: dict[str, Any] = {}
        if token is not None:
            user["token"] = token
        if client_cert:
            assert self.pki is not None
            user["client-certificate"] = str(self.pki.client_cert)
            user["client-key"] = str(self.pki.client_key)
        if exec_plugin is not None:
            user["exec"] = dict(exec_plugin)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": context, "user": user}],
            "contexts": [
                {
                    "name": context,
                    "context": {
                        "cluster": context,
                        "user": context,
                        **({"namespace": namespace} if namespace else {}),
                    },
                }
            ],
            "current-context": context,
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    # -- serving -----------------------------------------------------------------------------
    def _page(
        self, selector: str, start: int, limit: int, kind: Kind = KINDS[0], namespace: str = ""
    ) -> tuple[int, bytes]:
        key = (kind.plural, namespace, selector, start, limit, self.resource_version)
        with self._lock:
            cached = self._pages.get(key)
        if cached is not None:
            return 200, cached
        try:
            requirements = parse_selector(selector)
        except SelectorError as exc:
            return 400, json.dumps(status(400, "BadRequest", str(exc))).encode()
        matching = [
            n
            for n in self.served(kind)
            if selector_matches(requirements, n["metadata"].get("labels") or {})
            and (not namespace or n["metadata"].get("namespace") == namespace)
        ]
        end = len(matching) if limit <= 0 else min(len(matching), start + limit)
        metadata: dict[str, Any] = {"resourceVersion": str(self.resource_version)}
        if end < len(matching):
            token = {"v": "meta.k8s.io/v1", "rv": self.resource_version, "start": end, "selector": selector}
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            metadata["remainingItemCount"] = len(matching) - end
        items = matching[start:end]
        if (
            kind.group not in CUSTOM_GROUPS and kind not in self.custom_kinds
        ):  # typed lists carry kind and apiVersion once, not per item
            items = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items]
        body = {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.group_version,
            "metadata": metadata,
            "items": items,
        }
        data = json.dumps(body, separators=(",", ":")).encode()
        if self.page_layout == "items-first":
            data = json.dumps({k: body[k] for k in ("kind", "apiVersion", "items", "metadata")}).encode()
        elif self.page_layout == "stale-metadata" and "continue" in metadata:
            stale = dict(metadata, **{"continue": base64.urlsafe_b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": self.resource_version, "start": 0, "selector": selector}
            ).encode()).decode()})  # fmt: skip
            data = b'{"metadata":' + json.dumps(stale).encode() + b"," + data[1:]
        with self._lock:
            self._pages[key] = data
        return 200, data


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as from a real server
    server_version = "kube-apiserver-fixture"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":  # case-insensitive, as the API server's authenticator
            return self.api.tokens.get(credentials.strip())
        if header:
            return None
        connection = self.connection
        if isinstance(connection, ssl.SSLSocket):
            cert = connection.getpeercert()
            if cert:
                for rdn in cert.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            return str(value)
        return "system:anonymous" if self.api.anonymous else None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        user = self._user()
        self.api.requests.append(Request("GET", parts.path, query, user or ""))
        if user is None:
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return
        path = parts.path.rstrip("/") or "/"
        listed = _list_path(path, self.api.kinds)
        if path == "/version":
            self._send(200, VERSION)
        elif path == "/api":
            body = {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
            }
            self._send(200, body)
        elif path == "/apis":
            self._send(200, _group_list(self.api.kinds))
        elif path == "/api/v1" or (path.startswith("/apis/") and path.count("/") == 3):
            version = path[len("/api/") :] if path == "/api/v1" else path[len("/apis/") :]
            if version.split("/")[0] in self.api.unavailable_groups:
                message = "the server is currently unable to handle the request"
                self._send(503, status(503, "ServiceUnavailable", message))
                return
            resources = [k.resource() for k in self.api.kinds if k.group_version == version]
            if not resources:
                self._send(404, status(404, "NotFound", "the server could not find the requested resource"))
            else:
                body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": version}
                self._send(200, {**body, "resources": resources})
        elif listed is not None:
            kind, namespace = listed
            self._list(user, query, kind, namespace)
        elif path.startswith("/api/v1/nodes/"):
            self._get(user, path.rsplit("/", 1)[1])
        else:
            self._send(404, status(404, "NotFound", "the server could not find the requested resource"))

    def _forbidden(self, user: str, verb: str, kind: Kind = KINDS[0], namespace: str = "") -> None:
        name = f"{kind.plural}.{kind.group}" if kind.group else kind.plural
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (
            f'{name} is forbidden: User "{user}" cannot {verb} resource "{kind.plural}" in API group '
            f'"{kind.group}" {scope}'
        )
        self._send(403, status(403, "Forbidden", message, {"group": kind.group, "kind": kind.plural}))

    def _list(self, user: str, query: Mapping[str, str], kind: Kind = KINDS[0], namespace: str = "") -> None:
        faulty = kind.plural in self.api.faulty
        if self.api.delay and faulty:
            time.sleep(self.api.delay)
        if (self.api.forbidden and kind.plural == "nodes") or kind.plural in self.api.forbidden_resources:
            self._forbidden(user, "list", kind, namespace)
            return
        if self.api.namespaces is not None and kind.namespaced and namespace not in self.api.namespaces:
            self._forbidden(user, "list", kind, namespace)
            return
        if self.api.redirect_to and faulty:
            self.send_response(302)
            self.send_header("Location", self.api.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.api.body_fault == "endless" and faulty:
            self._endless(f'{{"kind": "{kind.kind}List", "items": ['.encode())
            return
        if self.api.list_body is not None and faulty:
            self._send(self.api.list_status, self.api.list_body, self.api.list_headers)
            return
        if self.api.continue_forever and faulty:
            pages = sum(
                1 for r in self.api.requests if _list_path(r.path, self.api.kinds) == (kind, namespace)
            )
            token = "c2FtZQ" if self.api.continue_forever == "same" else f"page-{pages}"
            items = [] if query.get("continue") else list(self.api.served(kind)[:1])
            metadata = {"resourceVersion": str(self.api.resource_version), "continue": token}
            body = {"kind": f"{kind.kind}List", "apiVersion": kind.group_version, "metadata": metadata}
            self._send(200, {**body, "items": items})
            return
        selector = query.get("labelSelector", "")
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            self._send(400, status(400, "BadRequest", f"invalid limit {query['limit']!r}"))
            return
        start = 0
        token = query.get("continue")
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                rv, start = int(decoded["rv"]), int(decoded["start"])
                selector = str(decoded["selector"])
            except (ValueError, KeyError, TypeError):
                self._send(400, status(400, "BadRequest", "continue key is not valid: invalid token"))
                return
            if self.api.expire_next_continue:
                self.api.expire_next_continue = False
                self.api.change()
            if rv != self.api.resource_version:
                self._send(410, status(410, "Expired", EXPIRED_MESSAGE))
                return
            if self.api.repeat_items:
                start -= 1
        code, body = self.api._page(selector, start, limit, kind, namespace)
        if self.api.body_fault == "drip" and faulty:
            self._drip(body)
            return
        self._send(code, body)

    def _endless(self, start: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        blanks = b" " * 65536
        try:
            self.wfile.write(start)
            while True:
                self.wfile.write(blanks)
        except OSError:  # the client hung up
            self.close_connection = True

    def _drip(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            self.close_connection = True

    def _get(self, user: str, name: str) -> None:
        if self.api.forbidden:
            self._forbidden(user, "get")
            return
        for node in self.api.nodes:
            if node["metadata"]["name"] == name:
                self._send(200, node)
                return
        self._send(404, status(404, "NotFound", f'nodes "{name}" not found', {"name": name, "kind": "nodes"}))


def _list_path(path: str, kinds: Sequence[Kind] = KINDS) -> tuple[Kind, str] | None:
    """(the resource, the namespace or "") of a list path, or None."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
        version = parts[2]
    else:
        return None
    version = "v1" if not group else version
    namespace = ""
    if len(rest) == 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if len(rest) != 1:
        return None
    for kind in kinds:
        if (kind.group, kind.version, kind.plural) == (group, version, rest[0]):
            if namespace and not kind.namespaced:
                return None
            return kind, namespace
    return None


def _group_list(kinds: Sequence[Kind] = KINDS) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for kind in kinds:
        if kind.group:
            groups.setdefault(kind.group, [])
            if kind.version not in groups[kind.group]:
                groups[kind.group].append(kind.version)
    entries = []
    for name, versions in groups.items():
        listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        entries.append({"name": name, "versions": listed, "preferredVersion": listed[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": entries}


def load_objects(path: Path, **replace: str) -> list[dict[str, Any]]:
    """The items of a recorded List file, with each ``{NAME}`` in it replaced (``REGISTRY``:
    the test registry's host)."""
    text = Path(path).read_text()
    for key, value in replace.items():
        text = text.replace("{" + key + "}", value)
    return list(json.loads(text)["items"])


def load_nodes(*paths: Path) -> list[dict[str, Any]]:
    """The items of recorded NodeList files."""
    out: list[dict[str, Any]] = []
    for path in paths:
        out.extend(json.loads(Path(path).read_text())["items"])
    return out


def replicate(templates: Sequence[Mapping[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` nodes cloned from ``templates`` in turn, each with its own name and uid."""
    encoded = [json.dumps(t) for t in templates]
    out = []
    for i in range(count):
        node = json.loads(encoded[i % len(encoded)])
        name = f"{node['metadata']['name']}-{i:05d}"
        node["metadata"]["name"] = name
        node["metadata"]["uid"] = f"00000000-0000-4000-8000-{i:012d}"
        labels = node["metadata"].get("labels")
        if isinstance(labels, dict) and "kubernetes.io/hostname" in labels:
            labels["kubernetes.io/hostname"] = name
        out.append(node)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Serve recorded nodes (and workloads) from a process of its own (the benchmarks use this, so that their
    own memory stays small): prints the server's URL, writes a kubeconfig for it, and serves
    until its standard input closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("nodes", nargs="+", type=Path, help="recorded NodeList files")
    parser.add_argument("--replicate", type=int, default=0, help="serve this many clones of the nodes")
    parser.add_argument("--pki", type=Path, help="directory of make_pki's files: serve TLS")
    parser.add_argument("--kubeconfig", type=Path, required=True, help="write a kubeconfig here")
    parser.add_argument("--objects", type=Path, help="a List file of workloads to serve besides the nodes")
    opts = parser.parse_args(argv)
    nodes = load_nodes(*opts.nodes)
    if opts.replicate:
        nodes = replicate(nodes, opts.replicate)
    pki = None
    if opts.pki is not None:
        d = opts.pki
        pki = Pki(
            d / "ca.crt", d / "ca.key", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key"
        )
    objects = load_objects(opts.objects) if opts.objects is not None else []
    with ApiServer(nodes, pki=pki, objects=objects) as server:
        server.kubeconfig(opts.kubeconfig)
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
