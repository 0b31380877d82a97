"""famlink: find the adults and histories around a child across agencies' records.

The application — the click CLI (:mod:`famlink.cli`), the pipeline that runs the stages in
order (:mod:`famlink.pipeline`) and the demo (:mod:`famlink.cli.demo`) — sits on three stages
that meet only at documented tables in the output DuckDB database (docs/tables.md):

- :mod:`famlink.linkage` reads and standardises agencies' extracts and links records into
  persons with Splink;
- :mod:`famlink.models` builds family graphs, evidence-backed flags and chronologies;
- :mod:`famlink.visualise` renders offline HTML views.

Imports go application → visualise → models → linkage, never upward (the import-linter
contracts in pyproject.toml). This module imports nothing, so any stage may read
``__version__`` from it.
"""

__version__ = "0.1.0"
