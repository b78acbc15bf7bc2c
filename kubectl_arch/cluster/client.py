"""Read a cluster's nodes through the ``kubernetes`` client, as kubectl would.

Configuration: ``--kubeconfig FILE``, else ``$KUBECONFIG`` (several files, merged as kubectl
merges them: the first file to define a cluster, user or context, or ``current-context``,
wins), else ``~/.kube/config``, else the in-cluster service account. ``--context`` picks a
context. Client certificates, bearer tokens and token files, exec credential plugins
(``gke-gcloud-auth-plugin``, ``aws eks get-token``...), auth providers, a custom CA and
``insecure-skip-tls-verify`` all come from the client's kubeconfig loader.

Listing: ``GET /api/v1/nodes`` in pages of :data:`PAGE_SIZE` (``limit`` and ``continue``),
with ``-l/--selector`` sent to the server as ``labelSelector``, through the client's
connection pool and credentials. Each page is read as raw JSON and turned into
:class:`~.nodeinfo.NodeInfo` records before the next is decoded (which is fetched meanwhile:
one page ahead); the client's model objects are never built (for thousands of nodes they
cost more than the transfer).

Every failure is one :class:`ClusterError` line (exit 3) saying what happened and what to do;
tokens, keys and credential plugin output never appear in it. The ``kubernetes`` package is
imported here only, inside the functions that need it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from .. import log
from ..errors import InputError, RemoteError
from .nodeinfo import NodeError, NodeInfo, from_object

PAGE_SIZE = 500
# A list needs at most this many pages (500,000 nodes, a hundred times the largest supported
# cluster): a server that keeps sending continue tokens past it would never end the list.
MAX_PAGES = 1000
# With --request-timeout T, a whole list may take T for every PAGE_SIZE items received and
# LIST_SLACK_PAGES times T more: a server that sends a few items a page, slowly, with a new
# continue token each time, is stopped by time long before MAX_PAGES.
LIST_SLACK_PAGES = 4
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
MAX_KUBECONFIG_BYTES = 64 * 1024 * 1024
# One answer (a list page of PAGE_SIZE objects, a discovery document) is read up to this size:
# etcd keeps objects under 1.5 MiB, and a page of real pods or Deployments is a few MiB; a
# server sending more (an endless body) is faulty, and would otherwise exhaust memory.
MAX_ANSWER_BYTES = 256 * 1024 * 1024
# Without --request-timeout, connecting gives up after this long (Go's default dialer does
# the same for kubectl); reading waits as long as the server takes.
CONNECT_TIMEOUT = 30.0
T = TypeVar("T")
NO_ACCESS_HINT = (
    "ask a cluster administrator for permission to list nodes (a ClusterRole with verb list on nodes)"
)


class ClusterError(RemoteError):
    """Reading the cluster failed (exit 3)."""


class Refused(ClusterError):
    """The API server answered listing a resource with an error status (403, 404, 500...;
    not 401, which no other list would escape): that list cannot be read, others may."""


class Forbidden(Refused):
    """The API server refused to list a resource (403): RBAC withholds it."""


class Resource(NamedTuple):
    """A resource the API server serves, as discovery names it."""

    group: str  # "" for the core group
    version: str
    plural: str  # "deployments"
    kind: str  # "Deployment"
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def name(self) -> str:
        """As kubectl names it in messages: ``nodes``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None) -> str:
        """The list path: all namespaces, or one (``namespace``) for a namespaced resource."""
        from urllib.parse import quote

        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{quote(namespace, safe='')}/{self.plural}"
        return f"{base}/{self.plural}"


NODES = Resource("", "v1", "nodes", "Node", False)


class KubeconfigError(ClusterError):
    """The kubeconfig (or in-cluster configuration) could not be used: nothing was asked of
    the API server yet (a missing file or context, an invalid kubeconfig, a failed credential
    plugin). Still exit 3; a command for which the kubeconfig was the user's explicit choice
    may call it an input error."""


class Options(NamedTuple):
    kubeconfig: str | None = None
    context: str | None = None
    selector: str | None = None
    request_timeout: str | None = None  # as kubectl takes it: "0", "30", "1m30s"
    # For hints, in the words of the command reading the cluster: what to do instead of reading
    # it ("give the nodes with --nodes-file FILE"; "": nothing) and its context flag.
    instead: str = ""
    context_flag: str = "--context"


class Listing(NamedTuple):
    nodes: list[NodeInfo]
    warnings: list[str]
    context: str  # the context used, or "in-cluster"


def parse_timeout(text: str | None) -> float | None:
    """``--request-timeout``: seconds, or a Go duration (``30s``, ``1m30s``); 0 means none."""
    from .. import durations

    return durations.parse(text)


# -- configuration ----------------------------------------------------------------------------


def _kubeconfig_paths(explicit: str | None) -> tuple[list[str], str]:
    """The kubeconfig files to merge, and how to name where they came from in messages. Files
    that do not exist are skipped in $KUBECONFIG, as kubectl skips them; anything else that is
    named is read (and refused there when it is not a regular file)."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.lexists(path):
            raise ClusterError(f"kubeconfig {explicit} (--kubeconfig) does not exist")
        return [path], explicit
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [p for p in env.split(os.pathsep) if p]
        return [os.path.expanduser(p) for p in listed if os.path.exists(os.path.expanduser(p))], (
            f"$KUBECONFIG ({env})"
        )
    default = os.path.expanduser(os.path.join("~", ".kube", "config"))
    return ([default] if os.path.exists(default) else []), "~/.kube/config"


def _read_yaml(path: str) -> Any:
    import yaml  # PyYAML: what the kubernetes client's own loader uses

    from .. import localfile

    try:
        data = localfile.read_regular(path, MAX_KUBECONFIG_BYTES, follow=True)
    except FileNotFoundError:
        raise ClusterError(f"kubeconfig {path} does not exist") from None
    except localfile.NotRegular as exc:
        raise ClusterError(f"kubeconfig {path}: {exc}; give a kubeconfig file") from None
    except OSError as exc:
        raise ClusterError(f"kubeconfig {path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClusterError(
            f"kubeconfig {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8, as kubectl needs"
        ) from None
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise ClusterError(f"kubeconfig {path}: nests too deeply to be a kubeconfig") from None
    except yaml.YAMLError as exc:
        # Only the position: YAML error snippets would quote the file (and its secrets).
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ClusterError(f"kubeconfig {path}: invalid YAML{where}: {problem}") from None


def _names(config: Any, section: str) -> list[str]:
    items = config.get(section) if isinstance(config, dict) else None
    if not isinstance(items, list):
        return []
    return [i["name"] for i in items if isinstance(i, dict) and isinstance(i.get("name"), str) and i["name"]]


def context_names(kubeconfig: str | None = None) -> list[str]:
    """The context names of the kubeconfig (``--kubeconfig``, else ``$KUBECONFIG`` merged, else
    ``~/.kube/config``), for hints; empty when there is none or it cannot be read."""
    try:
        paths, _ = _kubeconfig_paths(kubeconfig)
        return list(dict.fromkeys(n for p in paths for n in _names(_read_yaml(p), "contexts")))
    except ClusterError:
        return []


class _Connection(NamedTuple):
    client: Any  # kubernetes.client.ApiClient
    context: str
    server: str
    namespace: str = "default"  # the context's namespace, as kubectl picks it
    context_flag: str = "--context"  # the option that chooses the context, for hints


class _CapturedLog:
    """Collects what the kubernetes client logs while loading (it logs, rather than raises,
    credential plugin failures); nothing reaches stderr."""

    def __enter__(self) -> list[str]:
        import logging

        self.messages: list[str] = []
        messages = self.messages

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                messages.append(record.getMessage())

        self.handler = Handler(logging.ERROR)
        self.root = logging.getLogger()
        self.root.addHandler(self.handler)
        return messages

    def __exit__(self, *_: object) -> None:
        self.root.removeHandler(self.handler)


def _first_line(text: str) -> str:
    from ..safetext import clip

    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return clip(log.redact(line))


def _context_namespace(files: Sequence[tuple[str, Any]], context: str) -> str:
    """The namespace of ``context`` as kubectl picks it: from the first file that defines the
    context, else ``default``."""
    for _, data in files:
        for item in data.get("contexts") or ():
            if isinstance(item, dict) and item.get("name") == context:
                body = item.get("context")
                namespace = body.get("namespace") if isinstance(body, dict) else None
                return str(namespace) if namespace else "default"
    return "default"


def _configure_from_kubeconfig(
    paths: list[str],
    where: str,
    context: str | None,
    temp_dir: str,
    configuration: Any,
    flag: str,
    timeout: float | None = None,
) -> tuple[str, str]:
    from kubernetes.config import kube_config
    from kubernetes.config.config_exception import ConfigException

    files = [(p, _read_yaml(p)) for p in paths]
    for path, data in files:
        if data is not None and not isinstance(data, dict):
            raise ClusterError(f"kubeconfig {path}: not a kubeconfig (expected a mapping)")
    from . import kubeconfig

    for path, data in files:
        if data:
            kubeconfig.check_shape(path, data)
    files = [(p, d) for p, d in files if d]  # kubectl skips empty files
    contexts = [n for _, d in files for n in _names(d, "contexts")]
    listed = ", ".join(dict.fromkeys(contexts)) or "none"
    if context is None:
        # kubectl: the first file that sets current-context wins (the client's merger takes the last).
        context = next((str(d["current-context"]) for _, d in files if d.get("current-context")), None)
        if context is None:
            raise ClusterError(
                f"kubeconfig {where} sets no current-context; use {flag} NAME (contexts: {listed})"
            )
        if context not in contexts:
            raise ClusterError(
                f'kubeconfig {where}: current-context "{context}" is not one of its contexts ({listed}); '
                f"use {flag} NAME"
            )
    elif context not in contexts:
        raise ClusterError(f'context "{context}" not found in kubeconfig {where} (contexts: {listed})')
    # The context's files read and its credential plugin run here, bounded (kubeconfig.py).
    resolved = kubeconfig.resolve(files, context, where, timeout)
    try:
        loader = kube_config.KubeConfigLoader(
            config_dict=resolved, active_context=context, config_base_path=None, temp_file_path=temp_dir
        )
        with _CapturedLog() as logged:
            loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ClusterError(f'kubeconfig {where}, context "{context}": {_first_line(str(exc))}') from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ClusterError(
            f'kubeconfig {where}, context "{context}": malformed ({_first_line(str(exc))})'
        ) from None
    if logged:  # the client logs credential failures (exec plugins) and carries on without
        what = "the exec credential plugin failed: " if logged[0].startswith("exec") else ""
        raise ClusterError(
            f'getting credentials for context "{context}": {what}{_first_line(logged[0])}; '
            "check that the plugin is installed and you are logged in"
        )
    return context, _context_namespace(files, context)


def _configure_in_cluster(configuration: Any) -> None:
    from kubernetes.config import incluster_config
    from kubernetes.config.config_exception import ConfigException

    loader = incluster_config.InClusterConfigLoader(
        token_filename=os.path.join(SERVICE_ACCOUNT_DIR, "token"),
        cert_filename=os.path.join(SERVICE_ACCOUNT_DIR, "ca.crt"),
        try_refresh_token=False,
    )
    try:
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ClusterError(f"in-cluster configuration: {_first_line(str(exc))}") from None


def _in_cluster_namespace() -> str:
    """A pod's namespace as client-go picks it: ``$POD_NAMESPACE``, else the service account's."""
    namespace = os.environ.get("POD_NAMESPACE", "")
    if namespace:
        return namespace
    try:
        with open(os.path.join(SERVICE_ACCOUNT_DIR, "namespace"), encoding="utf-8") as handle:
            return handle.read(256).strip() or "default"
    except (OSError, UnicodeDecodeError):
        return "default"


def _in_cluster() -> bool:
    return bool(
        os.environ.get("KUBERNETES_SERVICE_HOST")
        and os.environ.get("KUBERNETES_SERVICE_PORT")
        and os.path.isfile(os.path.join(SERVICE_ACCOUNT_DIR, "token"))
    )


def _connect(options: Options, temp_dir: str) -> _Connection:
    from kubernetes import client

    paths, where = _kubeconfig_paths(options.kubeconfig)
    configuration = type.__call__(client.Configuration)  # not a copy of the process-wide default
    if paths:
        context, namespace = _configure_from_kubeconfig(
            paths,
            where,
            options.context,
            temp_dir,
            configuration,
            options.context_flag,
            parse_timeout(options.request_timeout),
        )
    elif _in_cluster() and not options.context:
        _configure_in_cluster(configuration)
        context, namespace = "in-cluster", _in_cluster_namespace()
    elif options.context:
        raise ClusterError(
            f'context "{options.context}" not found: no kubeconfig ({where} names no existing file)'
        )
    else:
        raise ClusterError(
            f"no kubeconfig: {where} names no existing file and this is not a pod in a cluster; "
            "point --kubeconfig or $KUBECONFIG at one (or log in to the cluster)"
            + (f", or {options.instead}" if options.instead else "")
        )
    import urllib3

    configuration.retries = urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
    if not configuration.verify_ssl:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    api = client.ApiClient(configuration=configuration)
    timeout = parse_timeout(options.request_timeout)
    if timeout:  # --request-timeout bounds each whole request (headers and body), not each read
        from .. import deadline

        deadline.install(api.rest_client.pool_manager, timeout)
    return _Connection(api, context, log.redact_url(configuration.host), namespace, options.context_flag)


# -- listing ----------------------------------------------------------------------------------


def _status_message(body: bytes) -> str:
    """A Status object's message (a string; anything else says nothing), first line, clipped."""
    from ..jsonload import JsonError, loads

    try:
        data = loads(body)
    except JsonError:
        return ""
    if isinstance(data, dict) and data.get("kind") == "Status" and isinstance(data.get("message"), str):
        return _first_line(data["message"])
    return ""


def _no_access_hint(resource: Resource) -> str:
    if resource == NODES:
        return NO_ACCESS_HINT
    return (
        f"ask a cluster administrator for permission to list {resource.name} (verb list on "
        f'{resource.plural} in API group "{resource.group}")'
    )


def _http_error(
    conn: _Connection,
    code: int,
    reason: str,
    body: bytes,
    selector: str | None,
    instead: str = "",
    resource: Resource = NODES,
) -> Exception:
    message = _status_message(body)
    said = f": {message}" if message else ""
    where = f'API server {conn.server} (context "{conn.context}")'
    if code == 401:
        return ClusterError(
            f"{where} rejected the credentials (401 Unauthorized); log in again or refresh the "
            "kubeconfig's token or credential plugin"
        )
    if code == 403:
        hint = _no_access_hint(resource) + (f", or {instead}" if instead else "")
        return Forbidden(f"{where} refused to list {resource.name} (403 Forbidden{said}); {hint}")
    if code == 400 and selector:
        return InputError(f"-l/--selector {selector!r}: the API server rejected it{said}")
    return Refused(f"{where} answered listing {resource.name} with {code} {reason}{said}")


def _transport_error(
    conn: _Connection, exc: Exception, timeout: float | None, context_flag: str = "--context"
) -> ClusterError:
    """An API server that could not be reached, with what to check, as kubectl's "did you
    specify the right host or port?": the server URL of the context's cluster, and the context."""
    import urllib3

    where = f'API server {conn.server} (context "{conn.context}")'
    check = f"check the server URL in the kubeconfig and the context ({context_flag})"
    reason = getattr(exc, "reason", None) or exc
    refused = isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionError)
    if not refused and isinstance(reason, urllib3.exceptions.TimeoutError | TimeoutError):
        limit = f"within {timeout:g}s (--request-timeout)" if timeout else "in time"
        return ClusterError(
            f"{where} did not answer {limit}; {check} and the network, or raise --request-timeout"
        )
    if isinstance(reason, urllib3.exceptions.ResponseError) and "redirect" in str(reason):
        return ClusterError(
            f"{where} answered with a redirect, which is not followed (the credentials are for that "
            "server only); check the server URL in the kubeconfig"
        )
    text = re.sub(r" \(_ssl\.c:[0-9]+\)", "", _first_line(str(reason)))
    if isinstance(reason, urllib3.exceptions.SSLError) or "SSL" in text or "certificate" in text.lower():
        return ClusterError(f"TLS with {where} failed: {text}; check certificate-authority in the kubeconfig")
    text = re.sub(r"\[Errno -?[0-9]+\] ", "", re.sub(r"^\S*Connection\([^)]*\): ", "", text))
    return ClusterError(f"cannot reach {where}: {text}; {check}, and that the cluster is up")


class _Answer(NamedTuple):
    status: int
    reason: str
    body: bytes


def _get(conn: _Connection, path: str, query: Sequence[tuple[str, Any]], timeout: float | None) -> _Answer:
    """One GET through the client's own connection pool (its TLS settings, client certificates
    and proxy) with its credentials (refreshed by exec plugins when they expire); the answer is
    read raw: no model objects, and no dependence on the shape of the generated API classes,
    which changed between client releases."""
    from urllib.parse import urlencode

    import urllib3

    from .. import __version__, deadline

    configuration = conn.client.configuration
    pool = conn.client.rest_client.pool_manager
    limits = (
        urllib3.Timeout(total=timeout) if timeout else urllib3.Timeout(connect=CONNECT_TIMEOUT, read=None)
    )
    url = f"{configuration.host}{path}" + (f"?{urlencode(list(query))}" if query else "")
    headers = {"Accept": "application/json", "User-Agent": f"kubectl-arch/{__version__}"}
    credentials = configuration.get_api_key_with_prefix("BearerToken")
    if credentials:
        headers["Authorization"] = credentials
    started = time.perf_counter()
    before = deadline.mark()
    try:
        response = pool.request("GET", url, headers=headers, timeout=limits, preload_content=False)
        try:
            body = _read_bounded(conn, response, path)
        finally:
            response.release_conn()
        if deadline.expired_since(before):  # cut by --request-timeout where it still parsed
            raise TimeoutError()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        log.request("GET", url, "error", time.perf_counter() - started)
        cause: Exception = TimeoutError() if deadline.expired_since(before) else exc
        raise _transport_error(conn, cause, timeout, conn.context_flag) from None
    log.request("GET", url, response.status, time.perf_counter() - started)
    return _Answer(response.status, response.reason or "", body)


def _read_bounded(conn: _Connection, response: Any, path: str) -> bytes:
    """The body of ``response``, at most MAX_ANSWER_BYTES (ClusterError past it)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            response.close()
            raise ClusterError(
                f"API server {conn.server} answered GET {path} with more than "
                f"{MAX_ANSWER_BYTES // 2**20} MiB (no list page of {PAGE_SIZE} objects is that large): "
                "the server is faulty"
            )
        chunks.append(chunk)


def list_budget(timeout: float, received: int) -> float:
    """Seconds a whole list may take with --request-timeout ``timeout`` once ``received`` items
    have come: ``timeout`` per page those items fill, and :data:`LIST_SLACK_PAGES` more."""
    return timeout * (-(-received // PAGE_SIZE) + LIST_SLACK_PAGES)


def _identity(item: Any) -> str | None:
    """What tells list items apart: ``metadata.uid``, else ``metadata.name``."""
    metadata = item.get("metadata") if isinstance(item, dict) else None
    if not isinstance(metadata, dict):
        return None
    for key in ("uid", "name"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return f"{key}:{value}"
    return None


# How much of a list page's start is searched for its continue token (the list metadata comes
# before the items in what API servers send: kind, apiVersion, metadata, items).
HEAD_BYTES = 64 * 1024


def _continue_token(body: bytes) -> str | None:
    """The continue token of a list page, read from the members that come before its
    ``items`` (the API server writes ``kind``, ``apiVersion``, ``metadata``, then ``items``),
    without decoding the items; None when the start of the page does not say (the page is
    then decoded before the next is asked for). A guess: the caller checks it against the
    decoded page."""
    import json

    head = body[:HEAD_BYTES].decode("utf-8", "replace")
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:  # past JSON whitespace
        while head[i : i + 1] in (" ", "\t", "\r", "\n"):
            i += 1
        return i

    try:
        i = skip(0)
        if head[i : i + 1] != "{":
            return None
        i += 1
        while True:
            key, i = decoder.raw_decode(head, skip(i))
            i = skip(i)
            if not isinstance(key, str) or key == "items" or head[i : i + 1] != ":":
                return None
            value, i = decoder.raw_decode(head, skip(i + 1))
            if key == "metadata":
                token = value.get("continue") if isinstance(value, dict) else None
                return token if isinstance(token, str) and token else None
            i = skip(i)
            if head[i : i + 1] != ",":
                return None
            i += 1
    except (ValueError, RecursionError):
        return None


class _Ahead:
    """One GET running in a thread of its own: the next page of a list, fetched while the
    current one is decoded and reduced. A daemon thread: a page nobody waits for any more
    (the list failed, or was interrupted) never keeps the process from exiting."""

    def __init__(self, fetch: Callable[[], _Answer]) -> None:
        import threading

        self._done = threading.Event()
        self._answer: _Answer | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(fetch,), name="list-page", daemon=True).start()

    def _run(self, fetch: Callable[[], _Answer]) -> None:
        try:
            self._answer = fetch()
        except BaseException as exc:  # handed to the reader, raised in its thread
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> _Answer:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._answer is not None
        return self._answer


def _list_query(selector: str | None, token: str | None = None) -> list[tuple[str, Any]]:
    query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
    if selector:
        query.append(("labelSelector", selector))
    if token:
        query.append(("continue", token))
    return query


def _pages(
    conn: _Connection,
    resource: Resource,
    timeout: float | None,
    selector: str | None = None,
    namespace: str | None = None,
    instead: str = "",
    first: _Ahead | None = None,
    notes: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each page of a list (``limit``/``continue``), as decoded JSON (:mod:`..jsonload`: deep
    nesting and huge numbers are errors, never a crash).

    The list ends with an error when the server repeats a continue token, sends one that is
    not a string, sends more than MAX_PAGES pages, or (with --request-timeout) takes longer
    than :func:`list_budget` allows for the items received. Items sent again on a later page
    (the same uid, or name) are dropped, with a note in ``notes``.

    One page ahead: the next page is fetched (in a thread, with the same size limit and
    deadline) while the caller reduces the current one, and, when the start of the page names
    its continue token (:func:`_continue_token`), while the current one is decoded too; at
    most two pages are held at once. ``first``: the first page, asked for already
    (:meth:`Session.prefetch`)."""
    from ..jsonload import JsonError, loads

    seen: set[str] = set()
    pages = 0
    began = time.monotonic()
    received = 0
    known: set[str] = set()
    repeated = 0
    where = f"API server {conn.server}"
    counted = f"{resource.kind.lower()}(s)" if resource.kind else resource.plural

    def fetch(token: str | None) -> _Answer:
        return _get(conn, resource.path(namespace), _list_query(selector, token), timeout)

    def may_follow(token: str | None) -> bool:
        return isinstance(token, str) and bool(token) and token not in seen and pages + 1 < MAX_PAGES

    token: str | None = None
    answer = first.result() if first is not None else fetch(None)
    while True:
        body = answer.body
        if answer.status == 410 and token:
            raise _Expired()
        if not 200 <= answer.status <= 299:
            raise _http_error(conn, answer.status, answer.reason, body, selector, instead, resource)
        guess = _continue_token(body)
        ahead = _Ahead(lambda guess=guess: fetch(guess)) if may_follow(guess) else None
        try:
            page = loads(body)
        except JsonError as exc:
            raise ClusterError(
                f"{where} answered listing {resource.name} with JSON it cannot read: {exc}"
            ) from None
        if not isinstance(page, dict) or not isinstance(page.get("items", []), list):
            raise ClusterError(f"{where} answered listing {resource.name} without a {resource.kind}List")
        del body, answer
        items = page.get("items") or []
        received += len(items)
        kept = []
        for item in items:
            identity = _identity(item)
            if identity is not None and identity in known:
                repeated += 1
                continue
            if identity is not None:
                known.add(identity)
            kept.append(item)
        page["items"] = kept
        metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
        token = metadata.get("continue") or None
        if token != guess:  # the start of the page did not say, or said otherwise: not that one
            ahead = _Ahead(lambda token=token: fetch(token)) if may_follow(token) else None
        yield page
        del page
        pages += 1
        if not token:
            if repeated and notes is not None:
                notes.append(
                    f"{where} listed {repeated} {counted} more than once (the same uid or name on "
                    "another page); each was counted once"
                )
            return
        read = f"after {pages} page(s) holding {received} {counted}"
        if not isinstance(token, str):
            raise ClusterError(
                f"{where} sent a continue token that is not a string ({type(token).__name__}), {read}; "
                "the server is faulty"
            )
        if token in seen:
            raise ClusterError(
                f"{where} sent a continue token it had sent before, {read}: the list would never end; "
                "the server is faulty"
            )
        if pages >= MAX_PAGES:
            raise ClusterError(
                f"{where} was still sending continue tokens {read}: the list would never end; the server is "
                "faulty"
            )
        elapsed = time.monotonic() - began
        if timeout and elapsed > list_budget(timeout, received):
            raise ClusterError(
                f"{where} was still sending continue tokens {read} and {elapsed:.0f}s: longer than "
                f"--request-timeout allows a list of that many {resource.plural} ({timeout:g}s a page of "
                f"{PAGE_SIZE}, {LIST_SLACK_PAGES} pages spare); the server is faulty or too slow, or raise "
                "--request-timeout"
            )
        seen.add(token)
        assert ahead is not None
        answer = ahead.result()


def _named(item: Any) -> bool:
    """An object with a non-empty string ``metadata.name``, as every listed object has."""
    if not isinstance(item, dict):
        return False
    metadata = item.get("metadata")
    return isinstance(metadata, dict) and isinstance(metadata.get("name"), str) and bool(metadata["name"])


class _Expired(Exception):
    """A continue token expired (410): the list changed while it was being read."""


def _read_all(
    conn: _Connection, options: Options, timeout: float | None, first: _Ahead | None = None
) -> Listing:
    nodes: list[NodeInfo] = []
    warnings: list[str] = []
    for page in _pages(
        conn, NODES, timeout, options.selector, instead=options.instead, first=first, notes=warnings
    ):
        for item in page.get("items") or ():
            try:
                nodes.append(from_object(item, warnings))
            except NodeError as exc:
                warnings.append(f"skipped an item of the node list: {exc}")
    return Listing(nodes, warnings, conn.context)


def _twice(conn: _Connection, what: str, read: Callable[[], T]) -> T:
    """``read()``; once more from the start when the list changed between pages and the
    server expired the continue token (410), as client-go's pager does."""
    try:
        return read()
    except _Expired:
        try:
            return read()
        except _Expired:
            raise ClusterError(
                f"API server {conn.server}: the {what} list kept changing while it was read; try again"
            ) from None


class Session:
    """One connection to the API server for several reads; a context manager::

        with Session(options) as cluster:
            listing = cluster.nodes()
            resources = cluster.discover([("Deployment", frozenset({"apps"}))])
            found = cluster.list(resources[("apps", "Deployment")], reduce)

    Credential files the kubeconfig's data needs are written to a private directory, removed
    on exit."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.timeout = parse_timeout(options.request_timeout)
        self._temp_dir = ""
        self._conn: _Connection | None = None
        self._ahead: dict[tuple[Resource, str | None, str | None], _Ahead] = {}

    def __enter__(self) -> Session:
        import tempfile

        self._temp_dir = tempfile.mkdtemp(prefix="kubectl-arch-")  # 0700: credential files
        try:
            self._conn = _connect(self.options, self._temp_dir)
        except KubeconfigError:
            self.__exit__()
            raise
        except ClusterError as exc:  # nothing was asked of the API server yet
            self.__exit__()
            raise KubeconfigError(str(exc)) from None
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        import shutil

        if self._conn is not None:
            self._conn.client.close()
            self._conn = None
        _forget_temp_files(self._temp_dir)
        shutil.rmtree(self._temp_dir, ignore_errors=True)

    @property
    def conn(self) -> _Connection:
        assert self._conn is not None, "use Session as a context manager"
        return self._conn

    @property
    def context(self) -> str:
        return self.conn.context

    @property
    def namespace(self) -> str:
        """The context's namespace (``default`` when it names none), as kubectl picks it."""
        return self.conn.namespace

    def nodes(self) -> Listing:
        """The cluster's nodes (those matching ``options.selector``), read page by page."""
        first = [self._ahead.pop((NODES, None, self.options.selector), None)]  # asked for already

        def read() -> Listing:  # a second read (410) asks for its first page again
            return _read_all(self.conn, self.options, self.timeout, first.pop() if first else None)

        return _twice(self.conn, "node", read)

    def list(
        self,
        resource: Resource,
        reduce: Callable[[dict[str, Any]], T | None],
        namespace: str | None = None,
        selector: str | None = None,
        on_page: Callable[[int], None] | None = None,
        notes: list[str] | None = None,
    ) -> list[T]:
        """Every object of ``resource`` (in ``namespace``, or all namespaces; matching
        ``selector``, evaluated by the server), each reduced by ``reduce`` as its page is read
        (None: left out), so that no page is held once the next is decoded (the next is fetched
        while one is reduced: see :func:`_pages`). ``on_page`` gets the
        number of items of each page (progress). A list that changed between pages is read
        again from the start, once. An item that is not an object with a ``metadata.name``
        (no API server sends one) is left out, with a line in ``notes`` naming the list and
        the items' indexes. Errors: :class:`Refused` (an error status: 403, 404, 500...),
        :class:`ClusterError`, InputError for a selector the server rejects."""

        first = self._ahead.pop((resource, namespace, selector), None)

        def read() -> list[T]:
            nonlocal first
            found: list[T] = []
            pages = _pages(self.conn, resource, self.timeout, selector, namespace, first=first)
            first = None  # read again from the start (410): asked for again
            index = 0
            broken: list[str] = []
            for page in pages:
                items = page.get("items") or ()
                for item in items:
                    if _named(item):
                        reduced = reduce(item)
                        if reduced is not None:
                            found.append(reduced)
                    else:
                        broken.append(str(index))
                    index += 1
                if on_page is not None:
                    on_page(len(items))
                del page, items  # not held while the next page is decoded
            if broken and notes is not None:
                shown = ", ".join(broken[:10]) + (f" and {len(broken) - 10} more" if len(broken) > 10 else "")
                notes.append(
                    f"API server {self.conn.server} listed {len(broken)} item(s) of {resource.name} that "
                    f"are not objects with a metadata.name (item {shown}); they were left out"
                )
            return found

        return _twice(self.conn, resource.kind.lower(), read)

    def prefetch(self, resource: Resource, namespace: str | None = None, selector: str | None = None) -> None:
        """Ask for the first page of a list that :meth:`list` will read next (with the same
        arguments), while another list is read: the lists of several resources overlap by
        one page. Its answer, or its error, is met by :meth:`list`."""
        key = (resource, namespace, selector)
        if key in self._ahead:
            return
        conn, timeout, query = self.conn, self.timeout, _list_query(selector)
        self._ahead[key] = _Ahead(lambda: _get(conn, resource.path(namespace), query, timeout))

    def _discovery(self, path: str) -> Any:
        """A discovery document (None when the server does not serve it: 404)."""
        from ..jsonload import JsonError, loads

        answer = _get(self.conn, path, (), self.timeout)
        if answer.status == 404:
            return None
        if not 200 <= answer.status <= 299:
            message = _status_message(answer.body)
            where = f'API server {self.conn.server} (context "{self.conn.context}")'
            if answer.status == 401:
                raise _http_error(self.conn, 401, answer.reason, answer.body, None)
            said = f": {message}" if message else ""
            raise ClusterError(
                f"{where} answered discovery {path} with {answer.status} {answer.reason}{said}"
            )
        try:
            return loads(answer.body)
        except JsonError as exc:
            raise ClusterError(
                f"API server {self.conn.server} answered discovery {path} with JSON it cannot read: {exc}"
            ) from None

    def discover(
        self, kinds: Iterable[tuple[str, frozenset[str] | None]], warnings: list[str] | None = None
    ) -> dict[tuple[str, str], Resource]:
        """The resources serving these kinds, as API discovery finds them: (kind, its groups;
        None: any group) in, (group, kind) -> :class:`Resource` out, for the resources that can
        be listed, in each group's preferred version. A kind the server does not serve is
        simply absent. A group whose document cannot be read (an aggregated API whose backend
        is down answers 503) is left out with a line in ``warnings``, as kubectl goes on with
        "couldn't get resource list"; the core group and ``/apis`` are needed (ClusterError)."""
        wanted = list(kinds)
        groups: set[str] = set()
        any_group = False
        for _, allowed in wanted:
            if allowed is None:
                any_group = True
            else:
                groups.update(allowed)
        versions: list[tuple[str, str]] = []  # (group, version) to read
        if "" in groups or any_group:
            versions.append(("", "v1"))
        if (groups - {""}) or any_group:
            listing = self._discovery("/apis")
            served = listing.get("groups") if isinstance(listing, dict) else None
            for group in served if isinstance(served, list) else ():
                if not isinstance(group, dict) or not isinstance(group.get("name"), str):
                    continue
                name = group["name"]
                preferred = group.get("preferredVersion")
                version = preferred.get("version") if isinstance(preferred, dict) else None
                if not isinstance(version, str) or not version:
                    continue
                if any_group or name in groups:
                    versions.append((name, version))
        found: dict[tuple[str, str], Resource] = {}
        names = {kind for kind, _ in wanted}
        for group, version in versions:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                document = self._discovery(path)
            except ClusterError as exc:
                if not group or warnings is None or "(401 Unauthorized)" in str(exc):
                    raise
                warnings.append(f"{exc}; kinds of {group}/{version} are not audited")
                continue
            resources = document.get("resources") if isinstance(document, dict) else None
            for entry in resources if isinstance(resources, list) else ():
                if not isinstance(entry, dict):
                    continue
                kind, plural, verbs = entry.get("kind"), entry.get("name"), entry.get("verbs")
                if not isinstance(kind, str) or kind not in names or not isinstance(plural, str):
                    continue
                if "/" in plural or not isinstance(verbs, list) or "list" not in verbs:
                    continue  # subresources (deployments/scale), and what cannot be listed
                if not any(k == kind and (g is None or group in g) for k, g in wanted):
                    continue
                found.setdefault(
                    (group, kind), Resource(group, version, plural, kind, entry.get("namespaced") is True)
                )
        return found


def read_nodes(options: Options) -> Listing:
    """The cluster's nodes (those matching ``options.selector``), read page by page."""
    with Session(options) as session:
        return session.nodes()


def _forget_temp_files(temp_dir: str) -> None:
    """The client remembers the credential files it wrote (to reuse them); they are gone now."""
    import sys

    kube_config = sys.modules.get("kubernetes.config.kube_config")
    cache = getattr(kube_config, "_temp_files", None)
    if isinstance(cache, dict):
        for key in [k for k, v in cache.items() if str(v).startswith(temp_dir)]:
            del cache[key]


def ready_platforms(nodes: Sequence[NodeInfo]) -> frozenset[tuple[str, str]]:
    """The (os, architecture) of the Ready nodes whose platform is known."""
    return frozenset(n.platform for n in nodes if n.ready and n.os and n.architecture)
