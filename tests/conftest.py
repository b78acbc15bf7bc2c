import sys
from pathlib import Path

# Test helpers (yamldiff, scheduler, ...) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_fixtures import populated_registry  # noqa: F401
