"""What every agency's extract does: its files, its record ids per true person, what it tells
the ground truth, and its ``[[sources]]`` entry in the job file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from famlink.linkage.sample.cleaning import clean_address, clean_postcode
from famlink.linkage.sample.context import Ctx
from famlink.linkage.sample.files import CsvOut, ParquetOut
from famlink.linkage.sample.recording import Written
from famlink.linkage.sample.world import Address, Cluster, Person


def sex_code(p: Person, codes: tuple[str, str]) -> str:
    return codes[0] if p.sex == "male" else codes[1]


class Source:
    name = ""
    agency = ""
    primary = False

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.seq = 0
        self.files: dict[str, CsvOut | ParquetOut] = {}
        # per cluster: true person id -> this source's main record id for them
        self.rid: dict[str, str] = {}

    def path(self, name: str) -> Path:
        return self.ctx.out / self.name / name

    def emit(self, cluster: Cluster) -> None:
        raise NotImplementedError

    def job(self) -> str:
        raise NotImplementedError

    def owes_rows(self) -> bool:
        """True (once) when this source's round of unusable rows is due."""
        return self.ctx.owe(f"{self.name}:rows")

    def counts(self) -> dict[str, int]:
        return {kind: f.rows for kind, f in self.files.items()}

    def close(self) -> None:
        for f in self.files.values():
            f.close()

    def people_row(self, kind_file: CsvOut | ParquetOut, rid: str, p: Person, row: list[Any],
                   w: Written) -> int:
        messy = self.ctx.messy
        if messy is not None:
            row = [*row, *messy.extra_values(self.name, p, w.preferred, w.former_surname)]
        line = kind_file.write(row)
        self.ctx.record(self.name, rid, p, line, primary=self.primary)
        if messy is not None:
            messy.flush(self.name, rid, p)
        for field_, reason, raw in w.nulled:
            self.ctx.error(self.name, "people", kind_file.path, line, "nulled", reason, field_,
                           f"{field_} {raw!r}")
        return line

    def people_header(self, columns: list[str]) -> list[str]:
        """The people file's columns: the messy profile adds a few (KnownAs, NINumber …)."""
        if self.ctx.messy is None:
            return columns
        from famlink.linkage.sample.messy import extra_columns

        return [*columns, *extra_columns(self.name)]

    def address_of(self, p: Person) -> Address:
        """The address this (single-address) source holds: the current one, or in the messy
        profile sometimes one the person has left."""
        a = current_address(p)
        return a if self.ctx.messy is None else self.ctx.messy.address(self.name, p, a)

    def addr(self, p: Person, uprn: str, postcode: str, address: str,
             d_from: date | None = None, d_to: date | None = None) -> None:
        self.ctx.ev.addrs.append((self.name, p.pid, uprn.lstrip("0") or None,
                                  clean_postcode(postcode), clean_address(address),
                                  d_from, d_to))


def current_address(p: Person) -> Address:
    return p.current().address


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _toml_value(k)


def source_toml(src: Source, files: dict[str, tuple[str, str, dict[str, Any],
                                                      dict[str, dict[str, str]]]],
                 delimiter: str = ",") -> str:
    lines = ["[[sources]]", f"name = {_toml_value(src.name)}",
             f"agency = {_toml_value(src.agency)}", f"primary = {_toml_value(src.primary)}"]
    identifiers: dict[str, str] = {}
    if src.ctx.messy is not None:  # the messy profile's extra people columns
        from famlink.linkage.sample.messy import job_columns

        fname, fmt, columns, codes = files["people"]
        extra, identifiers = job_columns(src.name)
        files = {**files, "people": (fname, fmt, {**columns, **extra}, codes)}
    for kind, (fname, fmt, columns, codes) in files.items():
        lines += ["", f"  [sources.{kind}]", f"  path = {_toml_value(f'{src.name}/{fname}')}"]
        if fname.endswith(".csv") and delimiter != ",":
            lines.append(f"  delimiter = {_toml_value(delimiter)}")
        lines.append(f"  date_format = {_toml_value(fmt)}")
        lines.append(f"    [sources.{kind}.columns]")
        lines += [f"    {k} = {_toml_value(v)}" for k, v in columns.items()]
        if kind == "people" and identifiers:
            lines.append("    [sources.people.identifiers]")
            lines += [f"    {k} = {_toml_value(v)}" for k, v in identifiers.items()]
        for fld, mapping in codes.items():
            lines.append(f"    [sources.{kind}.codes.{fld}]")
            lines += [f"    {_toml_key(c)} = {_toml_value(v)}" for c, v in mapping.items()]
    return "\n".join(lines) + "\n"
