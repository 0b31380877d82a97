"""Write views to disk: the only place the visualise stage touches files.

Folders are created ``0o700`` and files ``0o600`` (owner only), always as UTF-8.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from linkage.errors import OutputError
from visualise.data import family_view_data, index_data
from visualise.family_view import render_family_view
from visualise.index_view import child_view_filename, family_view_filename, render_index

INDEX_NAME = "index.html"


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents with mode 0o700 (existing folders are left)."""
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    if not here.is_dir():
        raise OutputError(f"{here} is not a folder", hint="choose another --out")
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, readable and writable by the owner only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(text.encode("utf-8"))
    finally:
        if fd != -1:
            os.close(fd)
    return path


def write_views(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    child: str | None = None,
    family: str | None = None,
    flagged: bool = False,
    redact: bool = False,
) -> list[Path]:
    """Render and write views into ``out_dir``; return the files written.

    Give one of ``child`` (one child's family view), ``family`` (one family's view) or
    ``flagged`` (``index.html`` plus one view per flagged child); with none, ``flagged``.
    """
    if sum([child is not None, family is not None, flagged]) > 1:
        raise OutputError("choose one of --child, --family and --flagged")
    out_dir = Path(out_dir)
    if child is not None:
        html = render_family_view(family_view_data(con, child), redact=redact)
        make_private_dir(out_dir)
        return [write_private(out_dir / child_view_filename(child), html)]
    if family is not None:
        html = render_family_view(family_view_data(con, family_id=family), redact=redact)
        make_private_dir(out_dir)
        return [write_private(out_dir / family_view_filename(family), html)]
    index = index_data(con)
    pages = {
        row.child_person_id: render_family_view(
            family_view_data(con, row.child_person_id), redact=redact
        )
        for row in index.rows
    }
    index_html = render_index(index, redact=redact)
    make_private_dir(out_dir)
    written = [write_private(out_dir / INDEX_NAME, index_html)]
    for child_id, html in pages.items():
        written.append(write_private(out_dir / child_view_filename(child_id), html))
    return written
