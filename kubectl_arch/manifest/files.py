"""Manifest input and output: files, directories and stdin in; stdout, diffs and atomic
in-place rewrites out. Text is kept exactly as read: its encoding (UTF-8, or UTF-16 and
UTF-32 with a byte order mark, as Windows editors and PowerShell write them), byte order mark
and line endings.

Every input is bounded (:data:`MAX_BYTES`, a pipe or a device as much as a file), and every
failure is an :class:`~kubectl_arch.errors.Error` of one line naming the file. Writes go
through :func:`write_files`: each replacement is prepared in full (a temporary file beside the
target, with the target's mode, owner, group and extended attributes) and every target checked
before the first one is renamed into place; a signal (SIGTERM, SIGINT, SIGHUP) or an error
leaves no temporary file behind and no target changed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import Error, InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_BYTES = 256 * 1024 * 1024
BOM = "\ufeff"
_CHUNK = 1 << 20

# Byte order marks, longest first (the UTF-32 LE mark starts like UTF-16 LE's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_MARKS = {encoding: mark for mark, encoding in _BOMS}


class WriteError(Error):
    """The system refused a write (permission, read-only file system, no space, file size
    limit): exit 3, like the other failures outside the user's input."""

    exit_code = 3


class Source(NamedTuple):
    """One input: ``name`` as the user gave it, ``path`` None for stdin; ``walked`` when it
    was found by walking a directory (where Kustomize patches may live)."""

    name: str
    path: str | None
    text: str
    bom: bool = False
    encoding: str = "utf-8"
    walked: bool = False
    # (device, inode, size, mtime_ns) of the file as read: a rewrite refuses a file changed since.
    identity: tuple[int, int, int, int] | None = None

    def encode(self, text: str) -> bytes:
        return b"".join(self.encode_pieces((text,)))

    def encode_pieces(self, pieces: Iterable[str]) -> Iterator[bytes]:
        """``pieces`` of text in this source's encoding, its byte order mark first."""
        if self.bom:
            yield _MARKS[self.encoding]
        for piece in pieces:
            yield piece.encode(self.encoding, "surrogatepass")


def decode(data: bytes, name: str) -> tuple[str, bool]:
    """The text of ``data`` and whether it had a byte order mark (see :func:`decode_as`)."""
    text, bom, _ = decode_as(data, name)
    return text, bom


def decode_as(data: bytes, name: str) -> tuple[str, bool, str]:
    """(text, byte order mark?, encoding) of a manifest: UTF-8 with or without a byte order
    mark, UTF-16 or UTF-32 with one. Raises InputError for binary data and other encodings."""
    encoding, bom = "utf-8", b""
    for mark, candidate in _BOMS:
        if data.startswith(mark):
            encoding, bom = candidate, mark
            break
    body = data[len(bom) :]
    if encoding == "utf-8" and b"\x00" in body[:8192]:
        raise InputError(f"{name}: not a text file (binary data)")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == "utf-8":
            raise InputError(
                f"{name}: not UTF-8 text (byte {exc.start + len(bom)}); YAML manifests must be UTF-8, "
                "or UTF-16 or UTF-32 with a byte order mark"
            ) from None
        raise InputError(f"{name}: not {encoding.upper()[:6]} text (byte {exc.start + len(bom)})") from None
    if "\x00" in text[:8192]:
        raise InputError(f"{name}: not a text file (binary data)")
    return text, bool(bom), encoding


def read_bounded(handle: Any, name: str, size_hint: int = 0) -> bytes:
    """All of a binary stream, refusing more than MAX_BYTES (pipes and devices too)."""
    if size_hint > MAX_BYTES:
        raise InputError(f"{name}: input too large ({size_hint} bytes; at most {MAX_BYTES})")
    buffer = bytearray()
    while True:
        chunk = handle.read(min(_CHUNK, MAX_BYTES + 1 - len(buffer)) or 1)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > MAX_BYTES:
            raise InputError(f"{name}: input too large (more than {MAX_BYTES} bytes)")


def _read_file(path: str, name: str, walked: bool = False) -> Source:
    from .. import localfile

    try:
        with localfile.open_input(path) as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise InputError(f"{name}: is a directory")
            data = read_bounded(handle, name, info.st_size if stat.S_ISREG(info.st_mode) else 0)
            after = os.fstat(handle.fileno())  # as read to the end (a file still growing differs)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file or directory") from None
    except localfile.Silent as exc:
        raise InputError(f"{name}: {exc}; write to it, or give a file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except MemoryError:
        raise InputError(f"{name}: input too large to read") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    text, bom, encoding = decode_as(data, name)
    identity = identity_of(after) if stat.S_ISREG(after.st_mode) else None
    return Source(name, path, text, bom, encoding, walked, identity)


def identity_of(info: os.stat_result) -> tuple[int, int, int, int]:
    """What tells a file's version apart: (device, inode, size, mtime_ns), as ``kubectl edit``
    and editors compare before they overwrite."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _walk(directory: str, recursive: bool, seen: set[tuple[int, int]]) -> list[str]:
    """Manifest files under ``directory`` (sorted by name, as kubectl reads them); a directory
    reached twice (a symlink loop) is read once; only regular files are read."""
    try:
        info = os.stat(directory)
        if (info.st_dev, info.st_ino) in seen:
            return []
        seen.add((info.st_dev, info.st_ino))
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except PermissionError:
        raise InputError(f"{directory}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{directory}: cannot read the directory: {exc.strerror or exc}") from None
    found: list[str] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:  # a dangling or looping symlink: nothing to read there
            continue
        if is_dir:
            if recursive:
                found.extend(_walk(entry.path, recursive, seen))
        elif is_file and os.path.splitext(entry.name)[1].lower() in MANIFEST_SUFFIXES:
            found.append(entry.path)
    return found


def read_stdin() -> Source:
    try:
        data = read_bounded(sys.stdin.buffer, "<stdin>")
    except OSError as exc:
        raise InputError(f"<stdin>: cannot read: {exc.strerror or exc}") from None
    text, bom, encoding = decode_as(data, "<stdin>")
    return Source("<stdin>", None, text, bom, encoding)


def read_sources(
    filenames: Iterable[str], recursive: bool = False, errors: list[InputError] | None = None
) -> list[Source]:
    """Read ``-f`` arguments like kubectl: files, directories (``-R`` to recurse), ``-`` stdin.

    The first argument that cannot be read raises :class:`InputError`; given ``errors``, each
    one is appended there instead and the others are read (the gates report every file)."""
    sources: list[Source] = []
    for name in filenames:
        if errors is None:
            sources.extend(_read_argument(name, recursive))
            continue
        try:
            sources.extend(_read_argument(name, recursive))
        except InputError as exc:
            errors.append(exc)
    return sources


def _read_argument(name: str, recursive: bool) -> list[Source]:
    if name == "-":
        return [read_stdin()]
    try:
        is_dir = os.path.isdir(name)
    except (OSError, ValueError):
        is_dir = False
    if is_dir:
        files = _walk(name, recursive, set())
        if not files:
            raise InputError(f"{name}: no manifest files (*.yaml, *.yml, *.json) found")
        return [_read_file(f, f, walked=True) for f in files]
    return [_read_file(name, name)]


def join(texts: Iterable[str]) -> str:
    """Concatenate streams into one, with a ``---`` between files."""
    return "".join(join_pieces((t, (t,)) for t in texts))


def join_pieces(streams: Iterable[tuple[str, Iterable[str]]]) -> Iterator[str]:
    """Several streams as one, with a ``---`` between files: each stream is its source text
    (which says whether it starts with a marker or is empty) and the pieces to write."""
    import re

    last: str | None = None
    for text, pieces in streams:
        if last is not None:
            if not last.endswith("\n"):
                yield "\n"
            if not text.startswith(("---\n", "---\r\n", "--- ")) and re.search(r"\S", text):
                yield "---\n"
        last = last or ""
        for piece in pieces:
            if piece:
                last = piece
                yield piece


def unified_diff(name: str, before: str, after: str) -> str:
    """A unified diff of a file's text; its name in the header with control characters escaped."""
    import difflib

    from ..safetext import printable

    name = printable(name)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# -- writing ----------------------------------------------------------------------------------

_REFUSED_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _why(exc: OSError) -> str:
    words = {
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left on device",
        errno.EFBIG: "file too large (the file size limit)",
        errno.EDQUOT: "disk quota exceeded",
    }
    return words.get(exc.errno or 0, exc.strerror or str(exc))


def writable_target(path: str, what: str = "") -> str:
    """The file that writing ``path`` replaces (symlinks followed), once it is known to be a
    regular file or not there yet. Raises InputError for anything else."""
    label = f"{what} {path}".strip()
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(f"{label}: cannot write: {_why(exc)}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = next((k for test, k in _REFUSED_KINDS if test(info.st_mode)), "not a regular file")
        raise InputError(f"{label}: is {kind}, not a regular file; refusing to replace it")
    directory = os.path.dirname(target) or "."
    if not os.path.isdir(directory):
        raise InputError(f"{label}: no such directory {directory}")
    return target


class _Prepared(NamedTuple):
    path: str  # as given, for messages
    target: str
    temp: str


class _Interrupted(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP raise (as SIGINT does), so that cleanup code runs; restored after."""
    import signal

    def handler(signum: int, _frame: Any) -> None:
        raise _Interrupted(signum)

    saved: list[tuple[int, Any]] = []
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        for signum in (signal.SIGTERM, signal.SIGHUP):
            saved.append((signum, signal.signal(signum, handler)))
    try:
        yield
    finally:
        for signum, previous in saved:
            signal.signal(signum, previous)


def _copy_metadata(source: os.stat_result | None, target: str, temp: str, fd: int) -> None:
    """Give ``temp`` the mode, owner, group and extended attributes (ACLs included) of
    ``target``; a new file gets 0644 (less the umask's write bits for others, as a new file)."""
    if source is None:
        os.fchmod(fd, 0o644)
        return
    if (source.st_uid, source.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, source.st_uid, source.st_gid)
        except PermissionError:  # not root: only the group may be kept, when we belong to it
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, source.st_gid)
    os.fchmod(fd, stat.S_IMODE(source.st_mode))
    if not hasattr(os, "listxattr"):  # pragma: no cover - not Linux
        return
    try:
        names = os.listxattr(target)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(temp, name, os.getxattr(target, name))
        except OSError as exc:
            if name.startswith(("security.", "trusted.")) and exc.errno in (errno.EPERM, errno.EACCES):
                continue  # kept by the system where it may be (an SELinux label is set anew)
            raise OSError(exc.errno, f"cannot keep extended attribute {name}: {_why(exc)}") from None


def _prepare(path: str, chunks: Iterable[bytes], what: str, temps: list[str]) -> _Prepared:
    import signal
    import tempfile

    label = f"{what} {path}".strip()
    target = writable_target(path, what)
    directory = os.path.dirname(target) or "."
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    try:
        # No signal between creating the file and remembering it.
        blocked = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
            temps.append(temp)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            _copy_metadata(info, target, temp, handle.fileno())
            os.fsync(handle.fileno())
    except OSError as exc:
        raise WriteError(f"{label}: cannot write: {_why(exc)}") from None
    if info is not None and not os.access(target, os.W_OK) and os.geteuid() != 0:
        raise WriteError(f"{label}: cannot write: permission denied")
    return _Prepared(path, target, temp)


_FS_IOC_GETFLAGS = 0x80086601  # Linux: the inode flags chattr sets
_FLAGS = ((0x10, "immutable (chattr +i)"), (0x20, "append-only (chattr +a)"))


def _inode_flag(path: str, directory: bool = False) -> str | None:
    """Why the inode flags of ``path`` forbid replacing it, or None (unknown counts as none)."""
    try:
        import fcntl
        import struct

        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (os.O_DIRECTORY if directory else 0))
        try:
            (flags,) = struct.unpack("i", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, b"\0" * 4))
        finally:
            os.close(fd)
    except (OSError, ImportError):
        return None
    return next((words for bit, words in _FLAGS if flags & bit), None)


def _rename_refused(target: str) -> str | None:
    """Why renaming a new file over ``target`` would be refused, as far as can be told first:
    the directory's permissions, a sticky directory (the file and the directory belong to
    others), inode flags (immutable, append-only) on the file or the directory."""
    directory = os.path.dirname(target) or "."
    try:
        dinfo = os.stat(directory)
        tinfo: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        tinfo = None
    except OSError as exc:
        return _why(exc)
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"permission denied (directory {directory})"
    euid = os.geteuid()
    if (
        tinfo is not None
        and dinfo.st_mode & stat.S_ISVTX
        and euid != 0
        and euid not in (tinfo.st_uid, dinfo.st_uid)
    ):
        return f"the directory {directory} is sticky (like /tmp) and the file belongs to another user"
    flag = _inode_flag(directory, directory=True)
    if flag is not None:
        return f"the directory {directory} is {flag}"
    if tinfo is not None:
        flag = _inode_flag(target)
        if flag is not None:
            return f"the file is {flag}"
    return None


def _changed(item: _Prepared, expected: tuple[int, int, int, int] | None) -> bool:
    if expected is None:
        return False
    try:
        return identity_of(os.stat(item.target)) != expected
    except OSError:
        return True


def _changed_error(label: str, verb: str) -> WriteError:
    return WriteError(
        f"{label}: the file changed while {verb} ran (modified or replaced since it was read), "
        "so nothing was written; run it again"
    )


def write_files(
    files: Sequence[tuple[str, Iterable[bytes]]],
    what: str = "",
    expected: Mapping[str, tuple[int, int, int, int] | None] | None = None,
    verb: str = "kubectl-arch",
) -> None:
    """Replace each ``(path, chunks)`` at once, or none of them.

    Every replacement is written in full to a temporary file beside its target (mode, owner,
    group and extended attributes kept; a symlink is followed, so it stays a link), and
    every target checked before the first rename: that it is a regular file, that the rename
    would be allowed (directory permissions, sticky directories, immutable and append-only
    flags), and, for the paths in ``expected`` (path -> :func:`identity_of` as read), that
    it has not changed since it was read. The renames then run with SIGTERM, SIGINT and
    SIGHUP held back, each original kept (a hard link beside it) until all succeeded: a
    rename refused anyway puts back those done. Raises InputError (a target that is not a
    regular file) or WriteError (the system refused; a file changed: exit 3); then no target
    has changed and no temporary file is left. A signal leaves no temporary file either.
    """
    import signal

    expected = expected or {}
    temps: list[str] = []
    renamed: set[str] = set()
    interrupted = 0
    try:
        with _signals_raise():
            prepared = []
            for path, chunks in files:
                label = f"{what} {path}".strip()
                target = writable_target(path, what)
                if _changed(_Prepared(path, target, ""), expected.get(path)):
                    raise _changed_error(label, verb)
                prepared.append(_prepare(path, chunks, what, temps))
            for item in prepared:
                why = _rename_refused(item.target)
                if why is not None:
                    raise WriteError(f"{f'{what} {item.path}'.strip()}: cannot write: {why}")
            blocked = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
            try:
                _commit(prepared, what, expected, verb, renamed)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    except _Interrupted as exc:
        interrupted = exc.signum
    finally:
        for temp in temps:
            if temp not in renamed:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
    if interrupted:  # die of the signal, as the caller expects, now that nothing is left over
        signal.signal(interrupted, signal.SIG_DFL)
        os.kill(os.getpid(), interrupted)


def _commit(
    prepared: Sequence[_Prepared],
    what: str,
    expected: Mapping[str, tuple[int, int, int, int] | None],
    verb: str,
    renamed: set[str],
) -> None:
    """Rename every prepared file over its target, keeping each original until all are done;
    on any failure put the originals back and raise WriteError."""
    import secrets

    done: list[tuple[_Prepared, str | None, bool]] = []  # (item, original kept as, moved aside)
    try:
        for item in prepared:
            if _changed(item, expected.get(item.path)):
                raise _changed_error(f"{what} {item.path}".strip(), verb)
        for item in prepared:
            label = f"{what} {item.path}".strip()
            kept, moved = None, False
            if os.path.lexists(item.target):
                directory, base = os.path.split(item.target)
                kept = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.orig")
                try:
                    os.link(item.target, kept)
                except OSError:
                    try:  # no hard links here (or not allowed): move the original aside
                        os.rename(item.target, kept)
                        moved = True
                    except OSError as exc:
                        raise WriteError(f"{label}: cannot write: {_why(exc)}") from None
            try:
                os.replace(item.temp, item.target)
            except OSError as exc:
                if moved and kept is not None:
                    os.rename(kept, item.target)
                elif kept is not None:
                    os.unlink(kept)
                raise WriteError(f"{label}: cannot write: {_why(exc)}") from None
            renamed.add(item.temp)
            done.append((item, kept, moved))
    except BaseException:
        for item, kept, _moved in reversed(done):  # put the originals back
            with contextlib.suppress(OSError):
                if kept is not None:
                    os.replace(kept, item.target)
                else:
                    os.unlink(item.target)
        raise
    for _item, kept, _moved in done:
        if kept is not None:
            with contextlib.suppress(OSError):
                os.unlink(kept)


def write_atomic(path: str, data: bytes, what: str = "") -> None:
    """Replace ``path`` with ``data`` (see :func:`write_files`)."""
    write_files([(path, (data,))], what)
