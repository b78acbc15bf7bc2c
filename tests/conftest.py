import sys
from pathlib import Path

# Test helpers (yamldiff, scheduler, ...) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Fixtures of the tests that read a cluster (certificates, recorded nodes, API servers).
pytest_plugins = ["cluster_util"]
