"""The shared corpus of real-world manifests: ``../shared/corpus`` beside the checkout.

It is not part of the repository: CI has it beside its checkout, a fresh clone elsewhere does
not. The tests that read it skip, with this reason in pytest's summary, when it is absent; the
rest of the suite keeps its own fixtures under ``testdata/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PRESENT = CORPUS.is_dir()
ABSENT = (
    f"the shared corpus of real-world manifests ({CORPUS}) is absent: it lives beside the checkout "
    "(as in CI), not in the repository"
)


def manifests(*suffixes: str) -> list[Path]:
    """The corpus files with these suffixes (``.yaml``, ``.yml``), sorted; none when absent."""
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in suffixes and p.is_file()) if PRESENT else []


needs_corpus = pytest.mark.skipif(not PRESENT, reason=ABSENT)
