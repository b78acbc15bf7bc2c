"""Errors that end a command, each with the exit code of its class.

Exit codes: 0 ok; 1 a problem the user must fix in their manifests or images (conflict,
unsupported platform, check failed); 2 usage or input error (bad flag, unreadable file,
invalid YAML); 3 remote failure (registry or API server unreachable, auth denied).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_INPUT = 2
EXIT_REMOTE = 3


class Error(Exception):
    """A failure reported as one line on stderr, ``error: <message>``."""

    exit_code = EXIT_INPUT


class InputError(Error):
    exit_code = EXIT_INPUT


class ConflictError(Error):
    exit_code = EXIT_PROBLEM


class RemoteError(Error):
    exit_code = EXIT_REMOTE
