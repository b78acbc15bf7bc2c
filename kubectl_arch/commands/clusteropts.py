"""The flags of every command that reads the cluster, named as kubectl names them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import check_duration, value_check

F = TypeVar("F", bound=Callable[..., Any])


TIMEOUT_HELP = "Give up on a request after this long, e.g. 30s or 2m (default 0: no limit)."
SELECTOR_HELP = "Only nodes matching this label selector, e.g. -l kubernetes.io/os=linux,pool!=gpu."


def cluster_options(
    function: F | None = None, *, timeout_help: str = TIMEOUT_HELP, selector_help: str = SELECTOR_HELP
) -> Any:
    """``--kubeconfig``, ``--context``, ``-l/--selector`` and ``--request-timeout``; as a bare
    decorator, or called with the help text of a ``--request-timeout`` that also covers other
    requests (``pin``'s registry look-ups)."""
    options = [
        click.option(
            "--kubeconfig",
            metavar="FILE",
            help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
        ),
        click.option("--context", metavar="NAME", help="The kubeconfig context to use."),
        click.option(
            "-l",
            "--selector",
            metavar="SELECTOR",
            help=selector_help,
        ),
        click.option(
            "--request-timeout", metavar="DURATION", help=timeout_help, callback=value_check(check_duration)
        ),
    ]

    def decorate(target: F) -> F:
        for option in reversed(options):
            target = option(target)
        return target

    return decorate(function) if function is not None else decorate
