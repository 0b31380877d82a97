"""Pieces every famlink command shares: output formats, opening an output folder, errors.

The CLI never computes: commands call the library and print what it returns. Data goes to
stdout, progress and logs to stderr. User errors become ``click.ClickException`` (exit 1,
no traceback).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
import duckdb

from famlink.linkage.errors import FamlinkError
from famlink.linkage.output import csv_safe, database_path

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "csv", "json")


def format_option(default: str = "table") -> Callable[[F], F]:
    """The shared ``--format`` option for every command that prints rows."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        show_default=True,
        help="Output format for the rows printed to stdout.",
    )


def user_errors(func: F) -> F:
    """Turn FamlinkError (and DuckDB's 'no such file') into a short message, exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FamlinkError as err:
            raise click.ClickException(str(err)) from err

    return wrapper  # type: ignore[return-value]


def open_output(out_dir: str | Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open DIR/famlink.duckdb."""
    return duckdb.connect(str(database_path(out_dir)), read_only=read_only)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def render_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, *, max_width: int = 60
) -> str:
    """Render rows as an aligned text table, CSV or JSON (a list of objects)."""
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in rows],
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [csv_safe("; ".join(map(str, v)) if isinstance(v, list) else _plain(v)) for v in row]
            )
        return buf.getvalue().rstrip("\n")
    cells = [
        [_cell(v, max_width) for v in row] for row in rows
    ]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([line, rule, *body])


def _cell(value: Any, max_width: int) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        text = ", ".join(str(_plain(v)) for v in value)
    else:
        text = str(_plain(value))
    text = text.replace("\n", " ")
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def echo_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """Print rows to stdout in the chosen format."""
    click.echo(render_rows(columns, rows, fmt))


def progress(message: str) -> None:
    """A progress line on stderr (never mixed with data on stdout)."""
    click.echo(message, err=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
