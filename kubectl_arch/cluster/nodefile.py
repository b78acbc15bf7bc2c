"""Node objects from a file (``check --nodes-file``): what ``kubectl get nodes -o json`` or
``-o yaml`` wrote, a single Node, or a stream of either.

JSON, the common case and the large one (a 100,000-node cluster dumps about a gigabyte), is
read as a stream: the file in chunks, each item of a ``List``/``NodeList`` decoded on its own
and reduced to a :class:`~.nodeinfo.NodeInfo` before the next, so memory stays small and
time is the decoder's. YAML is read whole (as manifests are) and converted document by
document. Every fault is one :class:`~..errors.InputError` naming the file: not found, a
directory, not UTF-8, not JSON or YAML, nested too deeply, a number too long, larger than
:data:`MAX_BYTES`, or not Node objects.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterator
from typing import IO, Any

from ..errors import InputError
from .nodeinfo import NodeError, NodeInfo, from_object

CHUNK = 4 * 1024 * 1024
MAX_BYTES = 8 * 1024 * 1024 * 1024  # a dump of some 500,000 real nodes
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Stream:
    """Text of a binary file, decoded as UTF-8 chunk by chunk, with a read position."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self.handle = handle
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.text = ""
        self.pos = 0
        self.eof = False
        self.read_bytes = 0
        self.dropped = 0  # characters read and let go before text[0]

    def more(self, at_least: int = CHUNK) -> bool:
        """Read at least ``at_least`` more bytes (or to the end); False at the end."""
        if self.eof:
            return False
        try:
            chunk = self.handle.read(max(at_least, CHUNK))
        except OSError as exc:
            raise InputError(f"{self.name}: cannot read: {exc.strerror or exc}") from None
        first = not self.read_bytes
        if first and b"\x00" in chunk[:8192]:
            raise InputError(f"{self.name}: not a text file (binary data)")
        self.read_bytes += len(chunk)
        if self.read_bytes > MAX_BYTES:
            raise InputError(f"{self.name}: larger than {MAX_BYTES // 2**30} GiB; not a node list")
        try:
            decoded = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise InputError(f"{self.name}: not UTF-8 text (kubectl writes UTF-8)") from None
        if first and decoded.startswith("\ufeff"):
            decoded = decoded[1:]
        if self.pos:
            self.dropped += self.pos
            self.text = self.text[self.pos :]
            self.pos = 0
        self.text += decoded
        if not chunk:
            self.eof = True
        return bool(chunk)

    def skip_space(self) -> str:
        """Skip whitespace; the next character, "" at the end."""
        while True:
            match = _WHITESPACE.match(self.text, self.pos)
            assert match is not None
            self.pos = match.end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def error(self, why: str) -> InputError:
        return InputError(f"{self.name}: not valid JSON ({why} at character {self.dropped + self.pos})")

    def value(self) -> Any:
        """The JSON value at the read position (which is not whitespace)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # Most likely the value goes on in the part of the file not read yet.
                if self.more(len(self.text)):
                    continue
                self.pos = exc.pos
                raise self.error(exc.msg) from None
            except RecursionError:
                raise InputError(f"{self.name}: JSON nests too deeply") from None
            except ValueError:  # int() limits: "Exceeds the limit (4300 digits) ..."
                raise InputError(f"{self.name}: a number in it is too long") from None
            if end == len(self.text) and self.more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def expect(self, chars: str) -> str:
        char = self.skip_space()
        if not char:
            raise self.error("unexpected end of the file")
        if char not in chars:
            raise self.error(f"expected {' or '.join(repr(c) for c in chars)}")
        self.pos += 1
        return char


def _array(stream: _Stream) -> Iterator[Any]:
    """The items of the JSON array whose ``[`` was just read, one at a time."""
    if stream.skip_space() == "]":
        stream.pos += 1
        return
    while True:
        stream.skip_space()
        yield stream.value()
        if stream.expect(",]") == "]":
            return


def _json_documents(stream: _Stream, nodes: list[NodeInfo], warnings: list[str]) -> None:
    count = 0
    while stream.skip_space():
        count += 1
        opening = stream.expect("{[")
        if opening == "[":
            for item in _array(stream):
                _add(stream.name, item, nodes, warnings)
            continue
        fields: dict[str, Any] = {}
        listed = False
        if stream.skip_space() == "}":
            stream.pos += 1
        else:
            while True:
                stream.skip_space()
                key = stream.value()
                if not isinstance(key, str):
                    raise stream.error("expected a key")
                stream.expect(":")
                if key == "items" and stream.skip_space() == "[":
                    stream.pos += 1
                    listed = True
                    for item in _array(stream):
                        _add(stream.name, item, nodes, warnings)
                else:
                    stream.skip_space()
                    fields[key] = stream.value()
                if stream.expect(",}") == "}":
                    break
        if not listed:
            if fields.get("kind") != "Node":
                raise InputError(
                    f"{stream.name}: JSON document {count} is not a list of Nodes (kubectl get nodes -o json)"
                )
            _add(stream.name, fields, nodes, warnings)


def _add(name: str, item: Any, nodes: list[NodeInfo], warnings: list[str]) -> None:
    if isinstance(item, dict) and item.get("kind") not in (None, "Node"):
        kind = str(item.get("kind"))[:40]
        raise InputError(f"{name}: holds a {kind}, not only Nodes (kubectl get nodes -o json)")
    try:
        nodes.append(from_object(item, warnings))
    except NodeError as exc:
        raise InputError(f"{name}: {exc}") from None


def _without_gc(function: Any, *args: Any) -> Any:
    """``function(*args)`` with the cyclic garbage collector paused: a YAML dump of thousands
    of nodes builds millions of small acyclic objects, and collections of the growing heap
    would take most of the time (four times the parse for 1,000 nodes)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return function(*args)
    finally:
        if enabled:
            gc.enable()


def _yaml_documents(text: str, name: str, nodes: list[NodeInfo], warnings: list[str]) -> None:
    from ..config import typed_data
    from ..manifest import yamlnodes as yn
    from ..manifest import yamltext

    for span in yamltext.split_documents(text):
        if not yamltext.has_content(text, span):
            continue
        try:
            data = _without_gc(typed_data, text, span.start, span.end)
        except yn.YamlSyntaxError as exc:
            where = f"line {exc.line}, column {exc.column}"
            raise InputError(f"{name}: invalid YAML at {where}: {exc.problem}") from None
        except (yn.YamlShapeError, ValueError) as exc:
            raise InputError(f"{name}: {exc}") from None
        except RecursionError:
            raise InputError(f"{name}: YAML nests too deeply") from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            for item in data["items"]:
                _add(name, item, nodes, warnings)
        elif isinstance(data, dict) and data.get("kind") == "Node":
            _add(name, data, nodes, warnings)
        else:
            raise InputError(f"{name}: expected Node objects (kubectl get nodes -o json)")


_GIVE = "give what kubectl get nodes -o json writes (kubectl get nodes -o json > FILE)"
_EMPTY = f"is empty: no nodes to check against; {_GIVE}"


def _open(path: str, name: str) -> IO[bytes]:
    """``path`` opened for reading (:func:`localfile.open_input`: a FIFO nothing writes to is
    an InputError after :data:`localfile.FIFO_WAIT` seconds, never a hang)."""
    from .. import localfile

    try:
        return localfile.open_input(path)
    except localfile.Silent as exc:
        raise InputError(
            f"{name}: {exc}; write the nodes to it (kubectl get nodes -o json > FIFO) or give a file"
        ) from None


def read(path: str) -> tuple[list[NodeInfo], list[str]]:
    """The nodes of a file (``-`` for stdin) and the warnings reading them gave.

    InputError when it is empty or lists no nodes (nothing to check against), or is a FIFO
    nothing writes to (:data:`localfile.FIFO_WAIT`)."""
    from ..manifest import files

    name = "<stdin>" if path == "-" else path
    nodes: list[NodeInfo] = []
    warnings: list[str] = []
    try:
        handle: IO[bytes] = sys.stdin.buffer if path == "-" else _open(path, name)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file or directory") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory; give the file kubectl get nodes -o json wrote") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        stream = _Stream(handle, name)
        while not stream.text.strip() and stream.more():
            pass  # the read position stays at 0: YAML keeps its leading whitespace
        if not stream.text.strip():
            raise InputError(f"{name}: {_EMPTY}")
        if stream.text.lstrip()[:1] in ("{", "["):
            _json_documents(stream, nodes, warnings)
        else:
            # YAML: read whole, within the limit manifests have.
            while stream.more():
                if stream.read_bytes > files.MAX_BYTES:
                    raise InputError(
                        f"{name}: file too large ({stream.read_bytes}+ bytes) for YAML; use -o json"
                    )
            _yaml_documents(stream.text, name, nodes, warnings)
        if not nodes:
            raise InputError(f"{name}: lists no nodes; {_GIVE}")
        return nodes, warnings
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
