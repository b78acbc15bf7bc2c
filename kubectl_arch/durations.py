"""``--request-timeout`` values: seconds (``30``) or a Go duration (``30s``, ``1m30s``, ``500ms``),
as kubectl takes them. ``0`` means no limit; more than :data:`MAX_SECONDS` (a day) is refused,
as a request that long is a typo, and sockets cannot wait that long anyway."""

from __future__ import annotations

import re

from .errors import InputError

_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
MAX_SECONDS = 24 * 3600.0
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class DurationError(ValueError):
    """Why a value is not a usable duration; the message names the value."""


def seconds(text: str | None) -> float | None:
    """Seconds, or None for no limit (an empty value or 0); :class:`DurationError` otherwise."""
    if text is None or text.strip() in ("", "0"):
        return None
    value = text.strip()
    if re.fullmatch(r"[0-9]*\.?[0-9]+", value):
        total = float(value)
    else:
        parts = _PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise DurationError(f"{text!r} is not a duration: use seconds or one such as 30s, 2m or 1m30s")
        total = sum(float(n) * _UNITS[u] for n, u in parts)
    if total > MAX_SECONDS:
        raise DurationError(f"{value!r} is too long: at most 24h")
    return total or None


def parse(text: str | None, what: str = "--request-timeout") -> float | None:
    """:func:`seconds`, its refusal an InputError naming ``what`` (the flag or setting)."""
    try:
        return seconds(text)
    except DurationError as exc:
        raise InputError(f"{what}: {exc}") from None
