"""The commands of ``kubectl arch``, one module each, loaded only when invoked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def complete_with(kind: str) -> Callable[[Any, Any, str], list[Any]]:
    """A click ``shell_complete`` callback for option values of ``kind`` ("platform",
    "manifest", "file"); the completion code loads only when a shell asks for candidates."""

    def callback(_ctx: Any, _param: Any, incomplete: str) -> list[Any]:
        from ..completion import VALUES

        return VALUES[kind](incomplete)

    return callback
