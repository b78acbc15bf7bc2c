"""A small HTTP server that answers registry paths with scripted faults, for what a real
registry cannot be made to do: rate limits, server errors, stalls, wrong content, redirects.

Each path has a queue of answers; the last one repeats. Every request is recorded with its
headers, so tests can check what was (and was not) sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from registry_util import free_port


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0  # seconds to wait before answering (a stalled connection)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    time: float


class FaultyRegistry:
    def __init__(self) -> None:
        self.port = free_port()
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _answer(self) -> None:
                with owner.lock:
                    owner.seen.append(
                        Seen(self.command, self.path, dict(self.headers.items()), time.monotonic())
                    )
                    queue = owner.script.get(self.path.split("?")[0]) or [
                        Answer(404, b'{"errors":[{"code":"NOT_FOUND","message":"no script"}]}')
                    ]
                    answer = queue.pop(0) if len(queue) > 1 else queue[0]
                if answer.stall:
                    time.sleep(answer.stall)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_HEAD = do_POST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def on(self, path: str, *answers: Answer) -> None:
        with self.lock:
            self.script[path] = list(answers)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.split("?")[0] == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def faulty() -> Iterator[FaultyRegistry]:
    server = FaultyRegistry()
    try:
        yield server
    finally:
        server.stop()
