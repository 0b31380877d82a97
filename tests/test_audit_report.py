"""The audit report (`famlink audit DIR report`): every value escaped, nothing loaded from
anywhere, the views' own Content-Security-Policy and stylesheet, sorting that runs in a real
browser under that policy, and a CSV with one row per flag."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import KEY, invoke, mode, small_output

# the views' browser tests lend their Chromium fixture and page helpers
from test_visualise_browser import _finish, _open, browser  # noqa: F401

from famlink.visualise.page import asset, content_security_policy

HOSTILE_NAME = "<script>alert(3)</script> Bloggs"
HOSTILE_SUMMARY = '</details><img src=x onerror=alert(4)>'


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return small_output(tmp_path / "out")


URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "data", "poster"}
SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer",
    "h1", "h2", "p", "strong", "span", "br", "table", "thead", "tbody", "tr", "th", "td",
    "button", "code", "details", "summary", "ol", "li", "pre", "script",
}


class _Page(HTMLParser):
    """The start tags of a page, and the text of its inline <style> and <script> elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.inline: dict[str, list[str]] = {"style": [], "script": []}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in self.inline:
            self._open = tag
            self.inline[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.inline[self._open][-1] += data

    def meta(self, http_equiv: str) -> list[str | None]:
        return [
            dict(attrs).get("content")
            for tag, attrs in self.tags
            if tag == "meta" and dict(attrs).get("http-equiv") == http_equiv
        ]


def _report(out_dir: Path, path: Path, *args: str) -> str:
    result = invoke("audit", out_dir, "report", "--format", "html", "--out", path, *args)
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def test_html_report_escapes_data_and_is_self_contained(out_dir: Path, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    result = invoke("audit", out_dir, "decide", KEY, "--status", "confirmed",
                    "--reason", hostile, "--by", '"><img src=x onerror=alert(2)>')
    assert result.exit_code == 0, result.output
    path = tmp_path / "audit.html"
    html = _report(out_dir, path)
    assert mode(path) == 0o600
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    page = _Page(html)
    assert not [(t, a) for t, attrs in page.tags for a, _ in attrs if a in URL_ATTRIBUTES]
    assert {t for t, _ in page.tags} <= SAFE_TAGS
    assert "http://" not in html and "https://" not in html and "url(" not in html
    (csp,) = page.meta("Content-Security-Policy")
    assert '<meta charset="utf-8">' in html and csp and "default-src 'none'" in csp
    # every flag is there with its evidence; the decided one with reason and who
    assert "father_not_recorded:Pkid" in html and "Call-out" in html
    assert html.count("<script>") == 1  # only the report's own sorting script

    csv_path = tmp_path / "audit.csv"
    result = invoke("audit", out_dir, "report", "--format", "csv", "--out", csv_path)
    assert result.exit_code == 0 and mode(csv_path) == 0o600
    rows = {r["flag_key"]: r for r in csv.DictReader(io.StringIO(csv_path.read_text("utf-8")))}
    assert rows[KEY]["reason"] == hostile and rows[KEY]["status"] == "confirmed"
    assert "police record PL1" in rows["adult_risk_history:Pkid:Pman"]["evidence"]


def test_html_report_has_the_views_csp_and_escapes_hostile_names(tmp_path: Path) -> None:
    out = small_output(tmp_path / "out", man=HOSTILE_NAME, summary=HOSTILE_SUMMARY)
    invoke("audit", out, "decide", KEY, "--status", "needs_info", "--reason", "ask", "--by", "x")
    html = _report(out, tmp_path / "audit.html")
    page = _Page(html)
    (style,) = page.inline["style"]
    (script,) = page.inline["script"]
    # one policy for every page famlink writes: the views' own, covering exactly this page's
    # inline style and script (a browser runs nothing else); the views' stylesheet first
    assert page.meta("Content-Security-Policy") == [content_security_policy([script], [style])]
    assert style.startswith(asset("view.css"))
    assert "<script>alert(3)" not in html and "&lt;script&gt;alert(3)&lt;/script&gt; Bloggs" in html
    assert "<img" not in html and "</details><img" not in html
    assert "&lt;/details&gt;&lt;img src=x onerror=alert(4)&gt;" in html
    assert {t for t, _ in page.tags} <= SAFE_TAGS


def test_report_command_works_from_any_folder(out_dir: Path, tmp_path: Path) -> None:
    """As installed: run from another folder, with nothing but the installed package to
    import (the templates are found through `famlink.visualise`)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = tmp_path / "audit.html"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", "from famlink.cli import main; main()",
         "audit", str(out_dir), "report", "--out", str(path)],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Flag audit" in path.read_text(encoding="utf-8")


@pytest.mark.browser
def test_report_sorts_in_a_browser_under_its_csp(
    browser: Any, out_dir: Path, tmp_path: Path  # noqa: F811 (the fixture imported above)
) -> None:
    path = tmp_path / "audit.html"
    _report(out_dir, path)
    page, report = _open(browser, path)
    flags = page.locator("table.sortable").first
    heading = flags.locator("th").first

    def keys() -> list[str]:
        return flags.locator("tbody tr td:first-child").all_text_contents()

    shown = keys()
    heading.locator("button").click()
    assert keys() == sorted(shown) and heading.get_attribute("aria-sort") == "ascending"
    heading.locator("button").click()
    assert keys() == sorted(shown, reverse=True)
    assert heading.get_attribute("aria-sort") == "descending"
    assert not _finish(page, report).problems()  # a script the CSP refused is a console error
