"""Which tags of a repository are newer versions of the one in use: a pure comparison of tag
shapes, for ``audit --target``'s "supported with update" suggestions.

A tag has a version shape when it is an optional ``v``, a dotted number and a suffix that
does not start with a digit or a dot: ``1.25.3``, ``v2.1``, ``1.25.3-alpine``,
``20240601``. Another tag is of the same shape when the prefix, the count of numbers and
the suffix are the same (``1.26.0-alpine`` for ``1.25.3-alpine``; not ``1.26-alpine``,
``1.26.0``, ``v1.26.0-alpine`` nor ``1.26.0-rc1``), and newer when its numbers are greater,
compared as numbers (``1.10`` > ``1.9``). ``latest``, ``stable``, ``main``, ``sha-1a2b3c``
and other tags without a version shape have no newer tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

MAX_TAG_LENGTH = 128  # the OCI distribution spec's limit on tags
_VERSION = re.compile(r"(v?)([0-9]{1,18}(?:\.[0-9]{1,18})*)((?![0-9.]).*)", re.S)


class Shape(NamedTuple):
    prefix: str  # "v" or ""
    numbers: tuple[int, ...]
    suffix: str  # "-alpine", ""

    def like(self, other: Shape) -> bool:
        """The same shape: prefix, count of numbers and suffix."""
        return (self.prefix, len(self.numbers), self.suffix) == (
            other.prefix,
            len(other.numbers),
            other.suffix,
        )


def shape(tag: str) -> Shape | None:
    """A tag's version shape, or None when it has none (``latest``)."""
    if len(tag) > MAX_TAG_LENGTH:
        return None
    found = _VERSION.fullmatch(tag)
    if found is None:
        return None
    return Shape(found[1], tuple(int(n) for n in found[2].split(".")), found[3])


def newer(current: str, tags: Iterable[str]) -> list[str]:
    """The tags of ``current``'s shape whose numbers are greater, lowest first (tags whose
    numbers are equal, ``1.02`` and ``1.2``, in text order); empty when ``current`` has no
    version shape."""
    base = shape(current)
    if base is None:
        return []
    found = []
    for tag in dict.fromkeys(tags):
        other = shape(tag)
        if other is not None and other.like(base) and other.numbers > base.numbers:
            found.append((other.numbers, tag))
    return [tag for _, tag in sorted(found)]
