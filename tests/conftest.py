"""Shared pytest set-up: makes the collection importable and loads per-area fixtures.

Each area keeps its fixtures in tests/fixtures/<area>.py (a pytest plugin); they are
loaded here so that one area's fixtures never need editing by another.
"""
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
_COLLECTIONS = REPO / ".build" / "collections"
if _COLLECTIONS.is_dir() and str(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(_COLLECTIONS))
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

# fixtures.lab first: the other fixture modules import its helpers.
pytest_plugins = ["fixtures.lab"] + sorted(
    "fixtures." + p.stem for p in (REPO / "tests" / "fixtures").glob("*.py") if p.stem not in ("__init__", "lab")
)
