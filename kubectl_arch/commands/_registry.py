"""Options and progress shared by the commands that look images up (inspect, pin)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import check_duration, value_check

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_FROM = 5  # images; fewer are looked up silently


def check_registry_host(value: str) -> None:
    from ..registry.reference import check_host

    check_host(value)


def registry_options(timeout: bool = True) -> Callable[[F], F]:
    """``--insecure-registry``, ``--registry-ca-file``, ``--refresh``, ``--tag-cache-ttl`` and,
    unless the command declares its own (``pin`` shares one with the cluster options),
    ``--request-timeout``."""
    options = [
        click.option(
            "--insecure-registry",
            "insecure_registries",
            multiple=True,
            metavar="HOST[:PORT]",
            callback=value_check(check_registry_host),
            help="Reach HOST without TLS certificate checks, or in plain HTTP (repeatable).",
        ),
        click.option(
            "--registry-ca-file",
            metavar="FILE",
            default="",
            help="PEM file of CA certificates to trust for registries.",
        ),
        click.option(
            "--refresh", is_flag=True, help="Ask registries again for every tag (ignore cached tag answers)."
        ),
        click.option(
            "--tag-cache-ttl",
            metavar="DURATION",
            default="",
            callback=value_check(check_duration),
            help="Trust a tag's cached answer this long without asking the registry, e.g. 5m (default 0: "
            "always ask; config file: tagCacheSeconds).",
        ),
    ]
    if timeout:
        options.insert(
            2,
            click.option(
                "--request-timeout",
                metavar="DURATION",
                default="",
                callback=value_check(check_duration),
                help="Give up on a registry request (connecting, headers and body) after this long, "
                "e.g. 30s or 1m (default 10s).",
            ),
        )

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_meter(total: int) -> Callable[[int, int], None] | None:
    """A progress line on stderr (``looking up images: 12/40``) when stderr is a terminal and
    there are enough images to be worth it; erased when done."""
    if total < PROGRESS_FROM or not _stderr_is_terminal():
        return None

    def show(done: int, of: int) -> None:
        line = f"looking up images: {done}/{of}"
        sys.stderr.write("\r" + line + ("\r" + " " * len(line) + "\r" if done >= of else ""))
        sys.stderr.flush()

    return show
