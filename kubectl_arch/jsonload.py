"""JSON from anywhere (servers, credential helpers, lock files, config files) read without
ever raising anything but :class:`JsonError`.

Python's decoder raises ``RecursionError`` on deeply nested input and a ``ValueError`` on
integers of more than 4,300 digits; both, and every syntax or encoding error, become one
:class:`JsonError` whose message a caller puts after the name of the source.
"""

from __future__ import annotations

from typing import Any


class JsonError(ValueError):
    """The text is not JSON this program can read; the message says why, in one line."""


def loads(data: bytes | str) -> Any:
    """Decode ``data`` (UTF-8/16/32 bytes or text).

    Raises :class:`JsonError`: "not valid JSON (Expecting value: line 1 column 1 (char 0))",
    "JSON nests too deeply", "a number is too long" or "not UTF-8 text".
    """
    import json

    try:
        return json.loads(data)
    except RecursionError:
        raise JsonError("JSON nests too deeply") from None
    except UnicodeDecodeError:
        raise JsonError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JsonError(f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # int() limits: "Exceeds the limit (4300 digits) ..."
        if "digits" in str(exc):
            raise JsonError("a number in it is too long") from None
        raise JsonError(
            f"not valid JSON ({str(exc).splitlines()[0] if str(exc) else 'unreadable'})"
        ) from None
    except MemoryError:
        raise JsonError("too large to read") from None
