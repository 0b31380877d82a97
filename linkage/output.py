"""The output folder: where each stage finds the database the stages meet at, and the one
rule every file written from it keeps (CSV cells a spreadsheet must not run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from famlink.linkage.errors import FamlinkError

DATABASE_NAME = "famlink.duckdb"


def database_path(out_dir: str | Path) -> Path:
    """Path of the output database inside an output folder; a clear error if absent."""
    path = Path(out_dir) / DATABASE_NAME
    if not path.exists():
        raise FamlinkError(
            f"no famlink output database at {path}",
            hint="run `famlink link JOB.toml --out DIR` first (or `famlink demo`)",
        )
    return path


def csv_safe(value: Any) -> Any:
    """Stop a spreadsheet from running text that starts like a formula (``=HYPERLINK(…)``).

    Extract text (names, summaries) reaches CSV files that people open in Excel; such a
    cell gets a leading apostrophe, which spreadsheets show as plain text.

    >>> csv_safe("=HYPERLINK(1)"), csv_safe("Smith"), csv_safe(3)
    ("'=HYPERLINK(1)", 'Smith', 3)
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
