"""Kubernetes resource quantities (``3920m``, ``16283140Ki``, ``1.5Gi``, ``2e3``): parse, add, format.

Pure and exact (``fractions.Fraction``), with the semantics of apimachinery's
``resource.Quantity``:

* a number (``[+-]``, digits, an optional ``.``) and a suffix: binary SI (``Ki`` .. ``Ei``),
  decimal SI (``n``, ``u``, ``m``, none, ``k``, ``M``, ``G``, ``T``, ``P``, ``E``) or a decimal
  exponent (``e3``, ``E-2``); the suffix decides the quantity's format;
* amounts more precise than ``1n`` are rounded away from zero to the next nano unit;
* a sum keeps the format of its first non-zero term;
* the canonical form (``Quantity.String()``) writes decimal formats as an integer mantissa
  and a power of 1000 (``1500m``, ``12k``), binary ones as an integer mantissa and a power of
  1024 (``1536Mi``); a binary amount that is not an integer, or lies strictly between -1024
  and 1024, is written in decimal SI.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import NamedTuple

BINARY_SI = "BinarySI"
DECIMAL_SI = "DecimalSI"
DECIMAL_EXPONENT = "DecimalExponent"

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = ["", *_BINARY]
_SYNTAX = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exponent>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]?))"
)
NANO = Fraction(1, 10**9)
# Exponents of a decimal exponent are bounded like apimachinery's (int32), but far tighter
# bounds keep a typo such as "1e999999999" from allocating a gigantic integer.
_MAX_EXPONENT = 1000
# Real quantities are a few characters long; a number of thousands of digits is a fault (and
# Python refuses to convert more than 4,300 digits to an integer).
_MAX_LENGTH = 100


class QuantityError(ValueError):
    """Not a Kubernetes quantity."""


class Quantity(NamedTuple):
    value: Fraction
    format: str = DECIMAL_SI

    def __str__(self) -> str:
        return canonical(self)


def _round_nano(value: Fraction) -> Fraction:
    scaled = value / NANO
    if scaled.denominator == 1:
        return value
    whole = math.ceil(scaled) if scaled > 0 else math.floor(scaled)  # away from zero
    return whole * NANO


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Quantity:
    """A quantity as written in a Node's ``allocatable`` or a container's ``resources``.

    Answers are remembered: the nodes of a pool share their allocatable amounts.
    """
    if isinstance(text, str) and len(text) > _MAX_LENGTH:
        raise QuantityError(f"invalid quantity {text[:20]!r}... ({len(text)} characters): too long")
    match = _SYNTAX.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise QuantityError(
            f"invalid quantity {text!r}: expected a number and an optional suffix, e.g. 3920m"
        )
    number = Fraction(match["number"])
    if match["binary"]:
        return Quantity(_round_nano(number * 1024 ** _BINARY[match["binary"]]), BINARY_SI)
    if match["exponent"]:
        exponent = int(match["exponent"][1:])
        if abs(exponent) > _MAX_EXPONENT:
            raise QuantityError(f"invalid quantity {text!r}: exponent out of range")
        return Quantity(_round_nano(number * Fraction(10) ** exponent), DECIMAL_EXPONENT)
    return Quantity(_round_nano(number * Fraction(10) ** _DECIMAL[match["decimal"] or ""]), DECIMAL_SI)


def add(a: Quantity, b: Quantity) -> Quantity:
    """``a + b`` in ``a``'s format (``b``'s when ``a`` is zero), as ``Quantity.Add`` does."""
    return Quantity(a.value + b.value, a.format if a.value else b.format)


def total(quantities: Iterable[Quantity], format: str = DECIMAL_SI) -> Quantity:
    """The sum of ``quantities`` (zero, in ``format``, when there are none)."""
    result = Quantity(Fraction(0), format)
    for q in quantities:
        result = add(result, q)
    return result


def canonical(q: Quantity) -> str:
    """The canonical string of a quantity, as ``Quantity.String()`` writes it."""
    value = _round_nano(q.value)
    if not value:
        return "0"
    fmt = q.format
    if fmt == BINARY_SI and (-1024 < value < 1024 or value.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        mantissa, exponent = int(value), 0
        while exponent < 6 and mantissa % 1024 == 0:
            mantissa //= 1024
            exponent += 1
        return f"{mantissa}{_BINARY_SUFFIX[exponent]}"
    mantissa, exponent = int(value / NANO), -9
    while exponent < 18 and mantissa % 1000 == 0:
        mantissa //= 1000
        exponent += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"


def _one_decimal(value: Fraction) -> str:
    tenths = math.floor(value * 10 + Fraction(1, 2))  # half up
    whole, part = divmod(tenths, 10)
    return f"{whole}.{part}" if part else str(whole)


def human_cpu(q: Quantity) -> str:
    """Cores with at most one decimal, for tables: ``47.8``, ``16``, ``0.3``."""
    return _one_decimal(q.value)


def human_bytes(q: Quantity) -> str:
    """Bytes in the largest binary unit that keeps the number at least 1: ``187.5Gi``."""
    value = q.value
    exponent = 0
    while exponent < 6 and abs(value) >= 1024 ** (exponent + 1):
        exponent += 1
    return _one_decimal(value / 1024**exponent) + _BINARY_SUFFIX[exponent]
