import sys
from pathlib import Path

# Test helpers (yamldiff, scheduler, ...) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Fixtures of the tests that read a cluster (certificates, recorded nodes, API servers) and of
# those that use a registry (a populated registry started once per session).
pytest_plugins = ["cluster_util", "registry_fixtures"]
