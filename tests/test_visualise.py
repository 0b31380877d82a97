"""The visualise stage without a browser: data, escaping, offline-ness, redaction, encoding,
determinism, file permissions and the `famlink view` command."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import stat
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from visualise_fixtures import (  # tests/ is on sys.path (pytest rootdir-relative import)
    DOBS,
    NAMES,
    XSS_DOM,
    XSS_IMG,
    XSS_LINK,
    XSS_SCRIPT,
    build_fixture_db,
    family_id,
    person_id,
)

import famlink.visualise.data
import famlink.visualise.page
import famlink.visualise.redact
from famlink.cli import main
from famlink.linkage.errors import FamlinkError, OutputError
from famlink.visualise import (
    family_view_data,
    index_data,
    render_family_view,
    render_index,
    write_views,
)
from famlink.visualise.graph import edge_groups, layout
from famlink.visualise.page import vis_network_js
from famlink.visualise.redact import Scrubber, age_band, initials

REPO = Path(__file__).resolve().parents[1]
TIB = person_id("tib")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("famlink-out")
    build_fixture_db(folder / "famlink.duckdb")
    return folder


@pytest.fixture()
def con(out_dir: Path):
    connection = duckdb.connect(str(out_dir / "famlink.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def pages(out_dir: Path) -> dict[str, str]:
    connection = duckdb.connect(str(out_dir / "famlink.duckdb"), read_only=True)
    try:
        data = family_view_data(connection, TIB)
        index = index_data(connection)
        return {
            "child": render_family_view(data),
            "child_redacted": render_family_view(data, redact=True),
            "family_b": render_family_view(family_view_data(connection, family_id=family_id("B"))),
            "index": render_index(index),
            "index_redacted": render_index(index, redact=True),
        }
    finally:
        connection.close()


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._buf = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._buf)))
            self._in_script = None


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def _payload(page: str, element_id: str = "famlink-data") -> object:
    scripts = [text for attrs, text in _parse(page).scripts if attrs.get("id") == element_id]
    assert len(scripts) == 1
    return json.loads(scripts[0])


def _without_library(page: str) -> str:
    return page.replace(vis_network_js(), "")


# --------------------------------------------------------------------------------------
# data and graph


def test_family_view_data_reads_the_family(con) -> None:
    data = family_view_data(con, TIB)
    roles = {p.person_id: p.role for p in data.persons}
    assert roles == {
        TIB: "focus_child",
        person_id("chl"): "adult",
        person_id("mar"): "child",
        person_id("wil"): "adult",
        person_id("dra"): "adult",
        person_id("hos"): "adult",
    }
    named = {p.person_id for p in data.persons if p.named_in_flag}
    assert named == {person_id("dra"), person_id("hos")}
    assert data.family_id == family_id("A")
    assert [f.flag_type for f in data.flags] == [
        "non_mobile_injury",
        "unrecorded_male_carer",
        "unrecorded_male_carer",
    ]
    assert all(len(f.evidence) == 3 for f in data.flags)
    assert [c for c, _ in data.chronologies] == [TIB]
    assert [e.entry_no for e in data.chronologies[0][1]] == [1, 2, 3, 4, 5]
    chl = data.person(person_id("chl"))
    assert chl is not None and [r.record_id for r in chl.records] == ["C101", "H201", "U300"]
    assert data.reference_date is not None and data.reference_date.isoformat() == "2026-09-30"


def test_recorded_and_reciprocal_rows_fold_into_one_edge(con) -> None:
    edges = edge_groups(family_view_data(con, TIB))
    assert len(edges) == 8
    mother = [e for e in edges if e.to_id == TIB and e.category == "parent"]
    assert len(mother) == 1
    assert mother[0].from_id == person_id("chl") and mother[0].directed
    assert mother[0].terms == ("mother",)
    assert mother[0].sources == ("csc", "health")
    assert [r.relationship for r in mother[0].folded] == ["co_resident", "co_resident"]
    assert mother[0].shared_address and not mother[0].also_derived
    inferred = [e for e in edges if e.basis == "inferred"]
    assert {e.category for e in inferred} == {"household"} and len(inferred) == 2
    assert not any(e.agencies for e in inferred)
    step = [e for e in edges if e.category == "carer"]  # step_parent and its step_child reverse
    assert len(step) == 1 and step[0].from_id == person_id("dra")
    assert step[0].terms == ("step_parent",) and step[0].to_id == person_id("mar")


def test_layout_puts_parents_above_children_and_is_stable(con) -> None:
    data = family_view_data(con, TIB)
    coords = layout(data, edge_groups(data))
    y = {pid: xy[1] for pid, xy in coords.items()}
    assert y[person_id("wil")] < y[person_id("chl")] < y[TIB]
    assert y[TIB] == y[person_id("mar")]
    assert len(set(coords.values())) == len(coords)  # nobody on top of anybody
    assert layout(data, edge_groups(data)) == coords


def test_unknown_child_or_family_is_a_user_error(con) -> None:
    with pytest.raises(FamlinkError, match="no person 'P000000000000'"):
        family_view_data(con, "P000000000000")
    with pytest.raises(FamlinkError, match="no family"):
        family_view_data(con, family_id="F0")


def test_missing_models_tables_are_reported(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "famlink.duckdb"))
    connection.execute("CREATE TABLE persons (person_id VARCHAR)")
    with pytest.raises(OutputError, match="no table .*flags"):
        index_data(connection)


# --------------------------------------------------------------------------------------
# escaping and offline


@pytest.mark.parametrize("name", ["child", "child_redacted", "family_b", "index", "index_redacted"])
def test_no_markup_from_the_data(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    parsed = _parse(page)
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert tag not in {"img", "iframe", "object", "embed", "a"} or (
            tag == "a" and set(attrs) == {"href"}
        ), (tag, attrs)
    for payload in (
        XSS_IMG,
        XSS_SCRIPT,
        XSS_LINK,
        XSS_DOM,
        "<svg/onload",
        "<svg onload",
        "<b onmouseover",
    ):
        assert payload not in page
    # one JSON data block, the library and the page's own code: nothing else runs
    kinds = [attrs.get("type") for attrs, _ in parsed.scripts]
    assert kinds.count("application/json") == 1
    assert len(kinds) == (3 if name.startswith(("child", "family")) else 2)


def test_hostile_text_arrives_as_text(pages: dict[str, str]) -> None:
    page = pages["child"]
    assert html.escape(XSS_IMG, quote=False) in page or html.escape(XSS_IMG) in page
    data = _payload(page)
    text = json.dumps(data, ensure_ascii=False)
    assert XSS_IMG in text and XSS_SCRIPT in text  # faithfully kept, as data
    labels = [n["label"] for n in data["nodes"]]  # type: ignore[index]
    assert any(label.startswith("<img src=x") for label in labels)
    raw = [text for attrs, text in _parse(page).scripts if attrs.get("id") == "famlink-data"][0]
    assert "<" not in raw and ">" not in raw and "&" not in raw


@pytest.mark.parametrize("name", ["child", "child_redacted", "family_b", "index", "index_redacted"])
def test_self_contained_with_a_strict_csp(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    parsed = _parse(page)
    for tag, attrs in parsed.tags:
        for attr in ("src", "href", "srcset", "action", "data", "poster", "xlink:href"):
            value = attrs.get(attr)
            if value is None:
                continue
            assert tag == "a" and re.fullmatch(r"(child|family)-[A-Za-z0-9_-]+\.html", value), (
                tag,
                attrs,
            )
        assert tag != "link" and tag != "base"
    csp = [
        a["content"]
        for t, a in parsed.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(csp) == 1 and csp[0] is not None
    assert "default-src 'none'" in csp[0] and "unsafe" not in csp[0]
    executable = [text for attrs, text in parsed.scripts if attrs.get("type") != "application/json"]
    for text in executable:
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in csp[0]
    assert "@import" not in page and "url(http" not in page


def test_vis_network_comes_from_the_installed_pyvis() -> None:
    js = vis_network_js()
    assert "vis-network" in js[:200] and len(js) > 400_000


# --------------------------------------------------------------------------------------
# redaction


def _visible(page: str) -> str:
    """All text a redacted page carries: HTML text unescaped and the JSON data decoded."""
    text = html.unescape(_without_library(page))
    try:
        text += json.dumps(_payload(page), ensure_ascii=False)
    except AssertionError:
        text += json.dumps(_payload(page, "famlink-index"), ensure_ascii=False)
    return text


@pytest.mark.parametrize("name", ["child_redacted", "index_redacted"])
def test_redacted_pages_hold_no_name_or_date_of_birth(pages: dict[str, str], name: str) -> None:
    text = _visible(pages[name])
    for part in NAMES:
        assert not re.search(r"(?<!\w)" + re.escape(part) + r"(?!\w)", text, re.IGNORECASE), part
    for dob in DOBS:
        assert dob not in text, dob
    assert "Quarry Lane" not in text and "100012345678" not in text
    assert "laptop-7" not in text and "data.officer" not in text


def test_redacted_view_keeps_the_facts(pages: dict[str, str]) -> None:
    text = _visible(pages["child_redacted"])
    assert "T.K." in text and "C.O." in text and "under 1" in text
    assert famlink.visualise.redact.WITHHELD_SUMMARY in text
    assert "unrecorded male carer" in text and "domestic abuse" in text
    assert "X400" in text and "U300" in text  # still traceable to the agency record


def test_unredacted_view_shows_the_names(pages: dict[str, str]) -> None:
    text = _visible(pages["child"])
    assert "Chloé O'Brien-Kowalczyk" in text and "1998-02-03" in text and "02/03/1998" in text


def test_scrubber_and_helpers() -> None:
    scrub = Scrubber(["Draven Quennell", "Chloé O'Brien-Kowalczyk"], ["09/07/1995"])
    assert (
        scrub("Draven Quennell (born 09/07/1995) and chloé o'brien")
        == "D. Q. (born [date of birth]) and C. O."
    )
    assert scrub("Dravenly") == "Dravenly"
    places = Scrubber([], [], ["17 Quarry Lane", "100012345678"])
    assert places("At 17 quarry lane (UPRN 100012345678), AB1 2CD.") == (
        "At [address] (UPRN [address]), [address]."
    )
    assert initials("  ", None) == "?"
    assert age_band(16) == "16–17" and age_band(70) == "65+"


# --------------------------------------------------------------------------------------
# files: determinism, encoding, permissions


def test_same_input_same_bytes(con, tmp_path: Path) -> None:
    first = write_views(con, tmp_path / "a", flagged=True)
    second = write_views(con, tmp_path / "b", flagged=True)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def _run_view(
    out_dir: Path, target: Path, env_extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8"))}
    env.update(env_extra)
    code = (
        "import locale, sys; print(locale.getpreferredencoding(False), file=sys.stderr);"
        "from famlink.cli import main; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "view", str(out_dir), "--out", str(target)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )


def test_utf8_under_a_non_utf8_locale_and_any_hash_seed(out_dir: Path, tmp_path: Path) -> None:
    runs = []
    for seed in ("1", "2"):
        target = tmp_path / f"seed{seed}"
        result = _run_view(
            out_dir,
            target,
            {
                "LC_ALL": "C",
                "PYTHONUTF8": "0",
                "PYTHONIOENCODING": "cp1252",
                "PYTHONHASHSEED": seed,
            },
        )
        assert result.returncode == 0, result.stderr
        assert "utf" not in result.stderr.splitlines()[0].lower()  # the locale really is not UTF-8
        runs.append({p.name: p.read_bytes() for p in sorted(target.iterdir())})
    assert runs[0] == runs[1]
    page = runs[0][f"child-{TIB}.html"].decode("utf-8")
    assert "Chloé" in page and '<meta charset="utf-8">' in page


def test_files_and_folders_are_owner_only(con, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "new" / "nested"
        written = write_views(con, target, child=TIB)
    finally:
        os.umask(old)
    assert [p.name for p in written] == [f"child-{TIB}.html"]
    for folder in (tmp_path / "new", target):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    written[0].chmod(0o644)  # an existing, too-open file is tightened when rewritten
    write_views(con, target, child=TIB)
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600


def test_write_views_flagged_writes_index_and_one_view_per_flagged_child(
    con, tmp_path: Path
) -> None:
    written = write_views(con, tmp_path / "views", flagged=True)
    names = [p.name for p in written]
    assert names[0] == "index.html"
    assert sorted(names[1:]) == sorted(f"child-{person_id(k)}.html" for k in ("tib", "zep"))
    index = written[0].read_text(encoding="utf-8")
    for name in names[1:]:
        assert f'href="{name}"' in index
    family = write_views(con, tmp_path / "views", family=family_id("C"))
    assert [p.name for p in family] == [f"family-{family_id('C')}.html"]
    with pytest.raises(OutputError):
        write_views(con, tmp_path / "views", child=TIB, flagged=True)


def test_rewriting_flagged_views_removes_views_of_children_no_longer_flagged(
    con, tmp_path: Path
) -> None:
    folder = tmp_path / "views"
    stale = folder / "child-P0000000000aa.html"  # from an earlier run: that child's flags are gone
    folder.mkdir()
    stale.write_text("old flags", encoding="utf-8")
    kept = folder / "notes.html"  # not a view famlink names: left alone
    kept.write_text("mine", encoding="utf-8")
    written = write_views(con, folder, flagged=True)
    assert not stale.exists()
    assert kept.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in written), "notes.html"])


# --------------------------------------------------------------------------------------
# CLI


def test_cli_view_writes_and_prints_paths(out_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["view", str(out_dir), "--out", str(tmp_path / "v")])
    assert result.exit_code == 0, result.output
    printed = [line for line in result.stdout.splitlines() if line]
    assert printed[0].endswith("index.html") and len(printed) == 3
    assert all(Path(p).exists() for p in printed)


def test_cli_default_out_and_redact(out_dir: Path) -> None:
    result = CliRunner().invoke(main, ["view", str(out_dir), "--child", TIB, "--redact"])
    assert result.exit_code == 0, result.output
    assert (out_dir / "views-redacted" / f"child-{TIB}.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--child", "P000000000000"], "no person"),
        (["--family", "F0"], "no family"),
        (["--child", TIB, "--flagged"], "choose one of"),
    ],
)
def test_cli_user_errors(out_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["view", str(out_dir), "--out", str(tmp_path), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # click's handled exit, not a crash


def test_cli_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["view", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no famlink output database" in result.output and "hint" in result.output


def test_cli_help_has_an_example_and_defaults() -> None:
    result = CliRunner().invoke(main, ["view", "--help"])
    assert result.exit_code == 0
    assert "famlink view out/ --flagged" in result.output
    assert result.output.count("Default") >= 2


def test_a_derived_link_an_agency_also_recorded_is_one_line() -> None:
    from famlink.visualise.data import FamilyViewData, RelationshipData

    def row(a: str, b: str, basis: str, source: str | None) -> RelationshipData:
        return RelationshipData(a, b, "sibling", basis, source, source, None, (), None, None, 1.0)

    data = FamilyViewData(
        focus_child_id=None,
        family_id=None,
        reference_date=None,
        persons=(),
        relationships=(
            row("Pa", "Pb", "recorded", "csc"),
            row("Pb", "Pa", "reciprocal", "csc"),
            row("Pa", "Pb", "derived", None),
            row("Pb", "Pa", "derived", None),
        ),
        flags=(),
        chronologies=(),
        households=(),
    )
    [edge] = edge_groups(data)
    assert edge.basis == "recorded" and edge.also_derived and not edge.shared_address
    assert len(edge.rows) == 2 and len(edge.folded) == 2
