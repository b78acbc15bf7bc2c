"""A small HTTP server that answers registry paths with scripted faults, for what a real
registry cannot be made to do: rate limits, server errors, stalls, dripping answers, wrong
content, redirects, answers that depend on the credentials sent; as a proxy, answers to
CONNECT and to absolute URLs.

Each path has a queue of answers (optionally one per Authorization header value); the last one
repeats. Every request is recorded with its headers, so tests can check what was (and was not)
sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from registry_util import KeyPair, free_port


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds to wait, then close without answering (a stalled connection)
    drip: float = 0.0  # seconds between the bytes of the answer (status line, headers, body)
    head_first: bool = False  # with drip: the status line and headers at once, only the body drips
    reason: str | None = None  # the reason phrase (None: the standard one)
    version: str = "HTTP/1.1"  # the status line's protocol version


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    time: float


class FaultyRegistry:
    def __init__(self, tls: KeyPair | None = None) -> None:
        """``tls``: serve HTTPS with this key and certificate (a plain-HTTP request is then
        answered by closing the connection, as Python's and many TLS servers do)."""
        self.port = free_port()
        self.script: dict[tuple[str | None, str, str | None], list[Answer]] = {}
        self.seen: list[Seen] = []
        # Answers for requests no script matches (the last one repeats); 404 when empty.
        self.otherwise: list[Answer] = []
        # Asked first, with each request (its path with the query): an answer, or None for the script's.
        self.respond: Callable[[Seen], Answer | None] | None = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _answer(self) -> None:
                with owner.lock:
                    seen = Seen(self.command, self.path, dict(self.headers.items()), time.monotonic())
                    owner.seen.append(seen)
                    path = self.path.split("?")[0]
                    sent = self.headers.get("Authorization")
                    queue = next(
                        (
                            owner.script[key]
                            for key in (
                                (self.command, path, sent),
                                (None, path, sent),
                                (self.command, path, None),
                                (None, path, None),
                            )
                            if key in owner.script
                        ),
                        owner.otherwise
                        or [Answer(404, b'{"errors":[{"code":"NOT_FOUND","message":"no script"}]}')],
                    )
                    answer = queue.pop(0) if len(queue) > 1 else queue[0]
                    if owner.respond is not None:
                        answer = owner.respond(seen) or answer
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if answer.stall:
                    owner.stopping.wait(answer.stall)
                    self.close_connection = True
                    return
                reason = (
                    answer.reason
                    if answer.reason is not None
                    else self.responses.get(answer.status, ("",))[0]
                )
                head = f"{answer.version} {answer.status} {reason}\r\n"
                for name, value in {**answer.headers, "Content-Length": str(len(answer.body))}.items():
                    head += f"{name}: {value}\r\n"
                raw = (head + "\r\n").encode("latin-1")
                if self.command != "HEAD":
                    raw += answer.body
                if not answer.drip:
                    self.wfile.write(raw)
                    return
                start = len(head) + 2 if answer.head_first else 0
                try:
                    if start:
                        self.wfile.write(raw[:start])
                        self.wfile.flush()
                    for i in range(start, len(raw)):
                        if owner.stopping.wait(answer.drip):
                            break
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            import ssl
            import tempfile

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory() as keys:
                Path(keys, "cert.pem").write_bytes(tls.cert_pem)
                Path(keys, "key.pem").write_bytes(tls.key_pem)
                context.load_cert_chain(str(Path(keys, "cert.pem")), str(Path(keys, "key.pem")))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def on(
        self, path: str, *answers: Answer, authorization: str | None = None, method: str | None = None
    ) -> None:
        """Answer requests for ``path`` (the query left out; for a proxy, ``host:port`` of a
        CONNECT or the absolute URL of a plain request) with ``answers`` in turn; with
        ``authorization``, only requests carrying exactly that Authorization header; with
        ``method``, only requests of that method."""
        with self.lock:
            self.script[(method, path, authorization)] = list(answers)

    def kubeconfig(self, path: Path, context: str = "faulty") -> Path:
        """Write a kubeconfig at ``path`` whose context ``context`` is this server (plain
        HTTP, a bearer token), for the API server side of the hostile tests."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": f"http://{self.host}"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config))
        return path

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.split("?")[0] == path]

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def faulty(tls: KeyPair | None = None) -> Iterator[FaultyRegistry]:
    server = FaultyRegistry(tls)
    try:
        yield server
    finally:
        server.stop()
