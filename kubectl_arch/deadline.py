"""Whole-request deadlines for urllib3 connection pools, shared by both HTTP stacks: the
registry client (``requests``) and the API server client (the ``kubernetes`` package's pool).

urllib3's timeouts bound each socket operation, not a request: a server that sends one byte
every half second never trips a read timeout, in its headers or in its body. Here every
connection checked out of a pool carries a deadline from the moment it is taken until it goes
back to the pool (its answer read); a single watchdog thread shuts the connection's socket
down when the deadline passes, so whatever waits on it (TLS handshake, status line, headers,
body) returns at once. The deadline follows the socket, not the connection object: an answer
that ends the connection (``Connection: close``, HTTP/1.0) makes ``http.client`` close the
connection as soon as the headers are read and hand the socket to the response, and the
deadline stays on that socket until the response is released. The request then fails as a
timeout: urllib3's :class:`ReadTimeoutError` from ``urlopen`` (which ``requests`` turns into
``ReadTimeout``), also when the cut left something that parses (headers cut at a line's end,
a body of unknown length cut short), and :func:`expired_since` tells a reader of a streamed
body, who must ask after reading it, that its socket was shut down for this reason.
Connecting is bounded by the connect timeout the caller passes (at most the deadline).

Use: :func:`install` on a ``PoolManager`` (or ``ProxyManager``) before its first request, with
the default limit of its requests; :func:`limit` shortens the limit of the requests a thread
makes inside it. Nothing here imports urllib3 until :func:`install` is called.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

_POLL = 0.05  # seconds between looks for the socket of a connection still being made
_POLLS = 600  # looks before giving up (a connection closed before its deadline has none)


class _Fired:
    """How many deadlines of one thread's requests have passed (written by the watchdog)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class _State(threading.local):
    def __init__(self) -> None:
        self.limit: float | None = None  # set by limit(): the thread's requests end by this time
        self.fired = _Fired()


_local = _State()


class _Watch:
    """The deadline of one connection checkout."""

    __slots__ = ("cancelled", "conn", "expires", "passed", "sock", "state")

    def __init__(self, conn: Any, expires: float, state: _Fired) -> None:
        self.conn = conn
        self.expires = expires
        self.state = state
        self.cancelled = False
        self.passed = 0  # looks at the connection since the deadline passed
        self.sock: socket.socket | None = None  # the socket, once the connection let go of it


class _Watchdog:
    """One daemon thread that shuts sockets down when their deadline passes."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.expires, next(self._counter), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="request-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def cancel(self, watch: _Watch) -> None:
        with self._cond:
            watch.cancelled = True

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                _, _, watch = heapq.heappop(self._heap)
                if watch.cancelled:
                    continue
                sock = watch.sock
                if sock is not None and sock.fileno() == -1:
                    watch.cancelled = True  # closed for good: nothing is waiting on it
                    continue
                if not watch.passed:
                    watch.state.count += 1
                watch.passed += 1
                sock = sock or _socket_of(watch.conn)
                if sock is None:
                    # Still connecting (bounded by its connect timeout): look again shortly.
                    if watch.passed < _POLLS:
                        watch.expires = time.monotonic() + _POLL
                        heapq.heappush(self._heap, (watch.expires, next(self._counter), watch))
                    continue
                watch.cancelled = True
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


_watchdog = _Watchdog()


def _socket_of(conn: Any) -> socket.socket | None:
    sock = getattr(conn, "sock", None)
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)  # urllib3's SSLTransport (TLS inside a proxy tunnel)
    return sock


def mark() -> int:
    """A mark of this thread's expired deadlines, for :func:`expired_since`."""
    return _local.fired.count


def expired_since(mark_: int) -> bool:
    """Whether a deadline of one of this thread's requests has passed since ``mark_``."""
    return _local.fired.count != mark_


@contextlib.contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """The requests this thread makes inside the block end within ``seconds`` of their start
    (None: the pool's own limit), and none after the block's own deadline."""
    previous = _local.limit
    if seconds is not None:
        end = time.monotonic() + seconds
        _local.limit = end if previous is None else min(previous, end)
    try:
        yield
    finally:
        _local.limit = previous


def remaining(default: float) -> float:
    """Seconds left before this thread's :func:`limit` ends (``default`` when there is none),
    never less than a millisecond (for connect timeouts)."""
    if _local.limit is None:
        return default
    return max(0.001, min(default, _local.limit - time.monotonic()))


def _arm(conn: Any, seconds: float | None) -> None:
    _disarm(conn)
    expires = None if seconds is None else time.monotonic() + seconds
    if _local.limit is not None:
        expires = _local.limit if expires is None else min(expires, _local.limit)
    if expires is None:
        return
    watch = _Watch(conn, expires, _local.fired)
    conn._request_deadline = watch
    _watchdog.arm(watch)


def _disarm(conn: Any) -> None:
    watch = getattr(conn, "_request_deadline", None)
    if watch is not None:
        conn._request_deadline = None
        _watchdog.cancel(watch)


_classes: dict[tuple[type, float | None], type] = {}
_classes_lock = threading.Lock()


def _bounded(pool_class: type, seconds: float | None) -> type:
    """``pool_class`` whose connections carry a deadline of ``seconds`` per checkout."""
    key = (pool_class, seconds)
    with _classes_lock:
        found = _classes.get(key)
        if found is not None:
            return found
        from urllib3.exceptions import ReadTimeoutError

        class Connection(pool_class.ConnectionCls):  # type: ignore[misc, name-defined]
            def close(self) -> None:
                # http.client closes a connection whose answer ends it (Connection: close)
                # before the body is read, handing the socket to the response: the deadline
                # stays on that socket until the response goes back to the pool.
                watch = getattr(self, "_request_deadline", None)
                if watch is not None and watch.sock is None:
                    watch.sock = _socket_of(self)
                super().close()

        class Bounded(pool_class):  # type: ignore[misc, valid-type]
            ConnectionCls = Connection
            request_deadline = seconds

            def _get_conn(self, timeout: float | None = None) -> Any:
                conn = super()._get_conn(timeout)
                _arm(conn, self.request_deadline)
                return conn

            def _put_conn(self, conn: Any) -> None:
                if conn is not None:
                    _disarm(conn)
                super()._put_conn(conn)

            def urlopen(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                before = mark()
                try:
                    response = super().urlopen(method, url, *args, **kwargs)
                except ReadTimeoutError:
                    raise
                except Exception:
                    if not expired_since(before):
                        raise
                    raise ReadTimeoutError(self, url, "no complete answer in time") from None
                if expired_since(before):
                    # Cut where what was read still parses (headers at a line's end, a
                    # preloaded body of unknown length): not an answer.
                    response.close()
                    response.release_conn()
                    raise ReadTimeoutError(self, url, "no complete answer in time")
                return response

        Bounded.__name__ = Bounded.__qualname__ = f"Bounded{pool_class.__name__}"
        _classes[key] = Bounded
        return Bounded


def install(manager: Any, seconds: float | None) -> Any:
    """Give every request of urllib3 pool manager ``manager`` a whole-request limit of
    ``seconds`` (None: only what :func:`limit` sets); returns ``manager``. Call it before the
    manager's first request (pools made earlier keep their class)."""
    if getattr(manager, "_request_deadline_installed", False):
        return manager
    manager.pool_classes_by_scheme = {
        scheme: _bounded(cls, seconds) for scheme, cls in manager.pool_classes_by_scheme.items()
    }
    manager._request_deadline_installed = True
    return manager
