"""Write views to disk: the only place the visualise stage touches files.

Folders are created ``0o700`` and files ``0o600`` (owner only), always as UTF-8.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb

from famlink.linkage.errors import OutputError
from famlink.visualise.family_data import family_view_data
from famlink.visualise.family_view import render_family_view
from famlink.visualise.index_data import index_data
from famlink.visualise.index_view import child_view_filename, family_view_filename, render_index

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
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render and write views into ``out_dir``; return the files written.

    Give one of ``child`` (one child's family view), ``family`` (one family's view) or
    ``flagged`` (``index.html`` plus one view per flagged child); with none, ``flagged``.
    ``progress`` is told how far the flagged views have got (every batch of families).
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
    index_html = render_index(index, redact=redact)
    make_private_dir(out_dir)
    # Each view is written as soon as it is rendered (a 1M-record run flags tens of
    # thousands of children: held together they would need tens of gigabytes), and the
    # index last, so a run that fails part-way leaves no index of views it did not write.
    (out_dir / INDEX_NAME).unlink(missing_ok=True)
    by_family: dict[str, list[str]] = {}
    for row in index.rows:
        by_family.setdefault(row.family_id or row.child_person_id, []).append(row.child_person_id)
    families = list(by_family)
    batches = [
        [c for f in families[start : start + FAMILIES_PER_BATCH] for c in by_family[f]]
        for start in range(0, len(families), FAMILIES_PER_BATCH)
    ]
    views: list[Path] = []
    for written in _write_batches(con, out_dir, batches, redact=redact):
        views.extend(written)
        if progress is not None:
            progress(f"views: {len(views):,} of {len(index.rows):,} flagged children written")
    _remove_stale_child_views(out_dir, keep={p.name for p in views})
    return [write_private(out_dir / INDEX_NAME, index_html), *views]


def _write_batches(
    con: duckdb.DuckDBPyConnection, out_dir: Path, batches: list[list[str]], *, redact: bool
) -> Iterator[list[Path]]:
    """Each batch's views, in order. Rendering is Python, one core per process: with a
    database file open read-only and more than one batch, the batches are shared among
    worker processes (one per core), each with its own read-only connection."""
    database = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    workers = min(os.cpu_count() or 1, len(batches))
    if workers < 2 or database is None or not database[0] or not database[1]:
        for children in batches:
            yield _write_batch(con, out_dir, children, redact=redact)
        return
    # spawn, not fork: a forked child would share the parent's open DuckDB connection
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(_write_batch_in_worker, database[0], out_dir, b, redact) for b in batches]
        for job in jobs:  # in batch order: the same list of files whatever the timing
            yield job.result()


def _write_batch_in_worker(database: str, out_dir: Path, children: list[str], redact: bool) -> list[Path]:
    con = duckdb.connect(database, read_only=True)
    try:
        return _write_batch(con, out_dir, children, redact=redact)
    finally:
        con.close()


def _write_batch(
    con: duckdb.DuckDBPyConnection, out_dir: Path, children: list[str], *, redact: bool
) -> list[Path]:
    with family_batch(con, children):
        return [
            write_private(
                out_dir / child_view_filename(child_id),
                render_family_view(family_view_data(con, child_id), redact=redact),
            )
            for child_id in children
        ]


#: flagged families whose rows are read together (see `family_batch`)
FAMILIES_PER_BATCH = 500

# The tables a view reads, and which of their rows a batch of families needs:
# `m_view_people` holds the batch's families' members, the adults their flags name and their
# households' members (a superset of what each view asks for; the per-view queries then
# filter). In this order: a later query reads an earlier one's batch table (`flags`,
# `person_records`).
_BATCH_ROWS = {
    "families": "SELECT * FROM {db}.families WHERE person_id IN (SELECT person_id FROM m_view_people)",
    "persons": "SELECT * FROM {db}.persons WHERE person_id IN (SELECT person_id FROM m_view_people)",
    "flags": "SELECT * FROM {db}.flags WHERE child_person_id IN (SELECT person_id FROM m_view_people)",
    "flag_evidence": "SELECT * FROM {db}.flag_evidence WHERE flag_key IN (SELECT flag_key FROM flags)",
    "person_records": "SELECT * FROM {db}.person_records WHERE person_id IN (SELECT person_id FROM m_view_people)",
    "source_records": "SELECT * FROM {db}.source_records WHERE (source, record_id) IN (SELECT (source, record_id) FROM person_records)",
    "relationships_resolved": "SELECT * FROM {db}.relationships_resolved WHERE person_id IN (SELECT person_id FROM m_view_people)",
    "relationship_evidence": "SELECT * FROM {db}.relationship_evidence WHERE person_id IN (SELECT person_id FROM m_view_people)",
    "chronology": "SELECT * FROM {db}.chronology WHERE child_person_id IN (SELECT person_id FROM m_view_people)",
    "households": "SELECT * FROM {db}.households WHERE household_id IN (SELECT household_id FROM m_view_households)",
}


@contextmanager
def family_batch(con: duckdb.DuckDBPyConnection, children: list[str]) -> Iterator[None]:
    """While open, the tables a view reads hold only the rows of these children's families
    (temporary tables of the same names, which DuckDB reads before the database's own).

    One scan of each table per batch instead of one per view: on 1M records, reading
    each view's rows from the whole tables took half a second a view, tens of thousands
    of views. The views written are the same (a test compares them).
    """
    db = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    qualified = '"' + db.replace('"', '""') + '".main'
    con.execute(
        "CREATE OR REPLACE TEMP TABLE m_view_children AS SELECT unnest(?::VARCHAR[]) AS person_id",
        [children],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE m_view_people AS
        WITH fam AS (
            SELECT f.person_id FROM {qualified}.families f
            WHERE f.family_id IN (SELECT family_id FROM {qualified}.families
                                  WHERE person_id IN (SELECT person_id FROM m_view_children))
            UNION SELECT person_id FROM m_view_children
        ),
        around AS (
            SELECT person_id FROM fam
            UNION SELECT adult_person_id FROM {qualified}.flags
            WHERE child_person_id IN (SELECT person_id FROM fam) AND adult_person_id IS NOT NULL
        )
        SELECT person_id FROM around;
        CREATE OR REPLACE TEMP TABLE m_view_households AS
        SELECT DISTINCT household_id FROM {qualified}.households
        WHERE person_id IN (SELECT person_id FROM m_view_people);
        INSERT INTO m_view_people
        SELECT DISTINCT person_id FROM {qualified}.households
        WHERE household_id IN (SELECT household_id FROM m_view_households)
        EXCEPT SELECT person_id FROM m_view_people;
        """  # noqa: S608 - the database's own name, quoted
    )
    try:
        for table, sql in _BATCH_ROWS.items():
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS ' + sql.format(db=qualified))
        yield
    finally:
        for table in (*_BATCH_ROWS, "m_view_children", "m_view_people", "m_view_households"):
            con.execute(f'DROP TABLE IF EXISTS temp."{table}"')


def _remove_stale_child_views(out_dir: Path, *, keep: set[str]) -> None:
    """Remove views an earlier run wrote for children no longer flagged: opened from disk,
    they would show a reviewer flags and people that this run no longer has."""
    for path in out_dir.glob("child-*.html"):  # the names child_view_filename gives
        if path.name not in keep and path.is_file():
            path.unlink()
