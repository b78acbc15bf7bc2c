"""Session fixtures: one registry with the test images, started once and stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_util import Populated, populate, start_registry


@pytest.fixture(scope="session")
def populated_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Populated]:
    registry = start_registry(Path(tmp_path_factory.mktemp("registry")))
    try:
        yield populate(registry)
    finally:
        registry.stop()
