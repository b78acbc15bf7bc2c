"""Text from elsewhere (registries, API servers, files, builders) made safe to print.

A registry's error message, a platform string or a node label is data: printed raw, an
escape sequence in it could retitle or rewrite the user's terminal, and a newline could forge
a table row or a second ``error:`` line. :func:`printable` escapes every control character
(C0, DEL, C1), the Unicode line and paragraph separators and the bidirectional formatting
characters ("Trojan Source"), the way Go's ``%q`` spells them (``\\n``, ``\\x1b``,
``\\u202e``), and lone surrogates (which JSON can carry but no terminal encoding can write);
everything else is kept as it is.
"""

from __future__ import annotations

import re

# Patterns are strings, compiled on first use (re's own cache): a run that prints no remote
# text does not pay for compiling them.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_UNSAFE_ASCII = "[\x00-\x1f\x7f]"  # what of it an ASCII text can hold
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control and bidi characters escaped (see the module docstring)."""
    unsafe = _UNSAFE_ASCII if text.isascii() else _UNSAFE  # the first compiles ten times faster
    return re.sub(unsafe, _escape, text) if re.search(unsafe, text) else text


def quoted(text: str) -> str:
    """``text`` as a JSON string literal (also a YAML double-quoted scalar) that keeps other
    non-ASCII characters as they are but spells what :func:`printable` escapes as ``\\uXXXX``:
    the same string to any reader, and safe to print."""
    import json

    literal = json.dumps(text, ensure_ascii=False)
    return re.sub(_UNQUOTABLE, _u_escape, literal) if re.search(_UNQUOTABLE, literal) else literal


# What :func:`printable` escapes, and what a YAML stream cannot carry raw (YAML 1.2 5.1: a
# byte order mark inside a document, the noncharacters U+FFFE and U+FFFF).
_UNQUOTABLE = _UNSAFE[:-1] + "\ufeff\ufffe\uffff]"


def _u_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


# The longest remote text (a server's message, a helper's complaint) an error line quotes.
REMOTE_TEXT_LIMIT = 300


def clip(text: str, limit: int = REMOTE_TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ``...`` saying it was cut."""
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
