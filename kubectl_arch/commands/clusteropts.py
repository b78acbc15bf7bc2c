"""The flags of every command that reads the cluster, named as kubectl names them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def cluster_options(function: F) -> F:
    """``--kubeconfig``, ``--context``, ``-l/--selector`` and ``--request-timeout``."""
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
            help="Only nodes matching this label selector, e.g. -l kubernetes.io/os=linux,pool!=gpu.",
        ),
        click.option(
            "--request-timeout",
            metavar="DURATION",
            help="Give up on a request after this long, e.g. 30s or 2m (default 0: no limit).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function
