"""The views in a real browser: headless Chromium (the system package) driven by Playwright.

Every request that is not ``file:``, ``data:`` or ``blob:`` is blocked and counted; console
errors, page errors, dialogs and DOM side effects of the injection payloads all count as
problems. A negative control (stock pyvis output with a hostile tooltip) must be caught, which
proves these tests can fail.

Needs: ``apt-get install chromium`` and ``pip install playwright`` (never ``playwright
install``). Chromium is looked for at ``$FAMLINK_CHROMIUM`` or ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from visualise_fixtures import (  # tests/ is on sys.path (pytest rootdir-relative import)
    DOBS,
    NAMES,
    XSS_IMG,
    build_fixture_db,
    build_large_family_db,
    family_id,
    person_id,
)

from famlink.visualise import write_views

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FAMLINK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:")
TIB = person_id("tib")
HOSTILE = person_id("hos")

# Counts what an injected payload could have done to the page.
SIDE_EFFECTS_JS = """() => ({
  pwned: document.body.getAttribute('data-pwned'),
  injected: document.querySelectorAll('img, iframe, object, embed, svg [onload], [onerror], [onload], [onmouseover]').length,
})"""


@dataclass
class Report:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    side_effects: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = [f"console error: {m}" for m in self.console_errors]
        found += [f"page error: {m}" for m in self.page_errors]
        found += [f"dialog: {m}" for m in self.dialogs]
        found += [f"request to the network: {u}" for u in self.blocked]
        if self.side_effects.get("pwned"):
            found.append("an injected handler changed the DOM")
        if self.side_effects.get("injected"):
            found.append(f"{self.side_effects['injected']} injected element(s) in the DOM")
        return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:  # fail, not skip: CI must never pass without having run these
        from playwright import sync_api
    except ImportError:
        pytest.fail("browser tests need `pip install playwright` (never `playwright install`)")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `apt-get install chromium` or set FAMLINK_CHROMIUM"
        )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("famlink-browser")
    build_fixture_db(folder / "famlink.duckdb")
    con = duckdb.connect(str(folder / "famlink.duckdb"), read_only=True)
    try:
        plain = write_views(con, folder / "views", flagged=True)
        redacted = write_views(con, folder / "redacted", flagged=True, redact=True)
        family_c = write_views(con, folder / "views", family=family_id("C"))
    finally:
        con.close()
    return {
        "index": plain[0],
        "child": folder / "views" / f"child-{TIB}.html",
        "redacted": folder / "redacted" / f"child-{TIB}.html",
        "redacted_index": redacted[0],
        "family_c": family_c[0],
    }


def _open(browser: Any, path: Path, report: Report | None = None) -> tuple[Any, Report]:
    report = report or Report()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on(
        "console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: report.page_errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        report.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def route(r: Any) -> None:
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            report.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, report


def _finish(page: Any, report: Report) -> Report:
    page.wait_for_timeout(300)  # let any late handler (image onerror, timers) run
    report.side_effects = page.evaluate(SIDE_EFFECTS_JS)
    page.close()
    return report


def _wait_drawn(page: Any) -> None:
    page.wait_for_selector("body[data-drawn='true']", timeout=10_000)


def _node_point(
    page: Any, node_id: Any, network: str = "famlinkView.network", container: str = "network"
) -> tuple[float, float]:
    """Where a node is on the screen (to hover or click it with the real mouse)."""
    return tuple(
        page.evaluate(  # type: ignore[return-value]
            f"""(id) => {{
          const net = {network};
          const p = net.canvasToDOM(net.getPositions([id])[id]);
          const box = document.getElementById('{container}').getBoundingClientRect();
          return [box.left + p.x, box.top + p.y];
        }}""",
            node_id,
        )
    )


def test_family_view_draws_offline_with_no_errors(browser: Any, views: dict[str, Path]) -> None:
    page, report = _open(browser, views["child"])
    _wait_drawn(page)
    counts = page.evaluate(
        "[famlinkView.nodes.length, famlinkView.edges.length,"
        " famlinkView.network.body.nodeIndices.length, famlinkView.network.body.edgeIndices.length]"
    )
    assert counts == [6, 8, 6, 8]
    assert page.evaluate("document.querySelectorAll('.flag').length") == 3
    assert "Chronology of Tiberius Kowalczyk (5 entries)" in page.inner_text("body")
    assert not _finish(page, report).problems()


def test_hostile_names_stay_text_in_tooltips_and_panels(
    browser: Any, views: dict[str, Path]
) -> None:
    page, report = _open(browser, views["child"])
    _wait_drawn(page)
    x, y = _node_point(page, HOSTILE)
    page.mouse.move(x, y)
    tooltip = page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
    assert XSS_IMG in tooltip.text_content()
    # plain text only: innerText turns line breaks into <br>, nothing else may appear
    assert page.evaluate("document.querySelectorAll('div.vis-tooltip *:not(br)').length") == 0
    page.mouse.click(x, y)
    panel = page.locator("#panel")
    assert XSS_IMG in panel.inner_text()
    assert "Records by agency" in panel.inner_text()
    # every edge's evidence panel, through the same handler a click uses
    shown = []
    for edge_id in page.evaluate("famlinkView.edges.getIds()"):
        page.evaluate(
            "(id) => famlinkView.network.body.emitter.emit('click', {nodes: [], edges: [id]})",
            edge_id,
        )
        shown.append(panel.inner_text())
        assert "Evidence" in shown[-1]
    assert any("<svg/onload=alert(9)>" in text for text in shown)
    assert not _finish(page, report).problems()


def test_redacted_view_shows_no_name_or_date_of_birth(browser: Any, views: dict[str, Path]) -> None:
    for key in ("redacted", "redacted_index"):
        page, report = _open(browser, views[key])
        texts = [page.inner_text("body")]
        if key == "redacted":
            _wait_drawn(page)
            texts.append(
                page.evaluate("JSON.stringify([famlinkView.nodes.get(), famlinkView.edges.get()])")
            )
            x, y = _node_point(page, TIB)
            page.mouse.click(x, y)
            texts.append(page.inner_text("#panel"))
        text = json.loads(json.dumps(texts))  # one string per source, unescaped by the browser
        joined = "\n".join(text)
        for part in NAMES:
            assert not re.search(r"(?<!\w)" + re.escape(part) + r"(?!\w)", joined, re.IGNORECASE), (
                key,
                part,
            )
        for dob in DOBS:
            assert dob not in joined, (key, dob)
        assert not _finish(page, report).problems()


def test_index_filters_sorts_and_links(browser: Any, views: dict[str, Path]) -> None:
    page, report = _open(browser, views["index"])
    visible = (
        "Array.from(document.querySelectorAll('#children tbody tr')).filter(r => !r.hidden).length"
    )
    assert page.evaluate(visible) == 2
    page.select_option("#filter-flag", "neglect_without_gcp2")
    assert page.evaluate(visible) == 1
    assert page.inner_text("#shown-count") == "1"
    page.select_option("#filter-flag", "")
    page.select_option("#filter-agency", "Health visiting")
    assert page.evaluate(visible) == 1
    page.select_option("#filter-agency", "")
    first = "document.querySelector('#children tbody tr td').innerText"
    page.click("#children th:nth-child(1) button")
    ascending = page.evaluate(first)
    page.click("#children th:nth-child(1) button")
    assert page.evaluate(first) != ascending
    hrefs = page.evaluate(
        "Array.from(document.querySelectorAll('#children a')).map(a => a.getAttribute('href'))"
    )
    assert sorted(hrefs) == sorted(f"child-{person_id(k)}.html" for k in ("tib", "zep"))
    assert not _finish(page, report).problems()
    page, report = _open(browser, views["index"])
    page.click(f"a[href='child-{TIB}.html']")
    _wait_drawn(page)
    assert page.evaluate("famlinkView.nodes.length") == 6
    assert not _finish(page, report).problems()


def test_family_view_without_flags(browser: Any, views: dict[str, Path]) -> None:
    page, report = _open(browser, views["family_c"])
    _wait_drawn(page)
    assert page.evaluate("[famlinkView.nodes.length, famlinkView.edges.length]") == [2, 1]
    assert "No flags for this family." in page.inner_text("body")
    assert not _finish(page, report).problems()


def test_forty_people_open_in_under_two_seconds(browser: Any, tmp_path: Path) -> None:
    db, child = build_large_family_db(tmp_path / "famlink.duckdb", size=40)
    con = duckdb.connect(str(db), read_only=True)
    try:
        [path] = write_views(con, tmp_path / "views", child=child)
    finally:
        con.close()
    start = time.perf_counter()
    page, report = _open(browser, path)
    _wait_drawn(page)
    elapsed = time.perf_counter() - start
    assert page.evaluate("famlinkView.network.body.nodeIndices.length") == 40
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert not _finish(page, report).problems()


def test_negative_control_stock_pyvis_is_caught(browser: Any, tmp_path: Path) -> None:
    """Stock pyvis output with a hostile title: the detector must fire (CDN requests and the
    payload executing through the template's innerHTML switch for titles containing 'href')."""
    from pyvis.network import Network

    net = Network(cdn_resources="in_line")
    net.add_node(
        1,
        label="a",
        title="see href <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
    )
    net.add_node(2, label="b", title="<img src=x onerror=alert(1)>")
    net.add_edge(1, 2)
    path = tmp_path / "stock.html"
    path.write_text(net.generate_html(), encoding="utf-8")
    page, report = _open(browser, path)
    page.wait_for_function("typeof network !== 'undefined' && network.getPositions([1])[1]")
    page.wait_for_timeout(1_500)  # stock pyvis runs physics first
    x, y = _node_point(page, 1, network="network", container="mynetwork")
    page.mouse.move(x, y)  # the stock template sets the tooltip with innerHTML on hover
    page.wait_for_timeout(800)
    problems = _finish(page, report).problems()
    assert report.blocked, problems  # Bootstrap from a CDN
    assert report.dialogs or report.side_effects.get("pwned"), problems  # the payload ran


def test_csp_blocks_markup_that_slipped_through(
    browser: Any, views: dict[str, Path], tmp_path: Path
) -> None:
    """Defence in depth: were escaping ever broken, the page's Content-Security-Policy would
    still refuse inline scripts, handlers and remote loads it does not hold a hash for."""
    page_text = views["child"].read_text(encoding="utf-8")
    injected = (
        "<script>document.body.setAttribute('data-pwned', '1')</script>"
        "<img src=\"https://example.invalid/x.png\" onerror=\"document.body.setAttribute('data-pwned', '1')\">"
    )
    path = tmp_path / "tampered.html"
    path.write_text(page_text.replace("</main>", injected + "</main>"), encoding="utf-8")
    page, report = _open(browser, path)
    _wait_drawn(page)  # the page's own scripts still run
    _finish(page, report)
    assert report.side_effects["pwned"] is None
    assert not report.blocked  # the CSP stopped the request before the network was asked
    assert any("Content Security Policy" in m for m in report.console_errors), report.console_errors
