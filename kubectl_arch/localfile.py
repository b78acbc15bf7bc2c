"""Reading small local files that are not the user's input: credential files, kubeconfigs and
the files they name, configuration, cache entries. Pure standard library.

:func:`read_regular` reads a regular file whole and bounded, and refuses anything else before
reading a byte: a FIFO (which would block until a writer comes), a device (``/dev/zero`` never
ends), a directory, a socket. It never blocks: the file is opened non-blocking.

:func:`open_input` opens the user's input (manifests, lock files, node lists) for a bounded
read: a FIFO is opened without waiting for a writer, and one nothing writes to within
:data:`FIFO_WAIT` seconds is :class:`Silent`, never a hang.
"""

from __future__ import annotations

import os
import stat
from typing import IO

# How long a FIFO (a named pipe, or a shell's <(kubectl get nodes -o json)) may stay silent
# before its first byte: kubectl writes a list only once it has read it all, a kustomize build
# only once it has built everything. Linux does not tell a FIFO no writer ever opened from one
# whose writer is still at work, so only the wait is bounded.
FIFO_WAIT = 300.0


class Silent(OSError):
    """A FIFO nothing wrote to (nor closed) within :data:`FIFO_WAIT` seconds."""


def open_input(path: str) -> IO[bytes]:
    """``path`` opened for a binary read. A FIFO is opened without waiting for a writer and
    polled for its first byte (or its end) for :data:`FIFO_WAIT` seconds; then :class:`Silent`.
    Other OSErrors (FileNotFoundError, PermissionError...) as ``open`` raises them."""
    import select

    if not stat.S_ISFIFO(os.stat(path).st_mode):
        return open(path, "rb")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        if not poller.poll(FIFO_WAIT * 1000):
            raise Silent(f"a FIFO nothing wrote to within {FIFO_WAIT:g}s")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a directory, a link), or one too
    large; the message says which, e.g. ``not a regular file (a FIFO)``."""


def kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, for messages: ``a FIFO``, ``a directory``..."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(path: str, limit: int, owner: int | None = None, follow: bool = False) -> bytes:
    """The bytes of the regular file ``path``, never blocking on a FIFO; a symbolic link is
    followed only with ``follow`` (user files such as a Docker config, not cache entries).
    NotRegular when it is not a regular file, is larger than ``limit`` bytes, or (``owner``
    given) belongs to another user; other OSErrors (FileNotFoundError...) as raised."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise NotRegular("a symbolic link") from None
        raise exc from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"not a regular file ({kind(info.st_mode)})")
        if info.st_size > limit:
            raise NotRegular(f"larger than {limit} bytes")
        if owner is not None and info.st_uid != owner:
            raise NotRegular("owned by another user")
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise NotRegular(f"larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
