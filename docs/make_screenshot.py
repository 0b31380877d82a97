"""Make docs/images/family-view.png: a family view of the test fixture (payloads swapped for
plain names) in headless Chromium, with one person's records open in the side panel.

    python docs/make_screenshot.py            # needs `apt-get install chromium`, `pip install playwright`
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import duckdb
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from visualise_fixtures import build_fixture_db, person_id  # noqa: E402

from famlink.visualise import write_views  # noqa: E402

CHROMIUM = os.environ.get("FAMLINK_CHROMIUM", "/usr/bin/chromium")
OUT = REPO / "docs" / "images" / "family-view.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = build_fixture_db(Path(tmp) / "famlink.duckdb", hostile=False)
        con = duckdb.connect(str(db), read_only=True)
        try:
            [view] = write_views(con, Path(tmp) / "views", child=person_id("tib"))
        finally:
            con.close()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
            )
            page.goto(view.as_uri())
            page.wait_for_selector("body[data-drawn='true']")
            x, y = page.evaluate(
                """(id) => {
                  const net = famlinkView.network;
                  const p = net.canvasToDOM(net.getPositions([id])[id]);
                  const box = document.getElementById('network').getBoundingClientRect();
                  return [box.left + p.x, box.top + p.y];
                }""",
                person_id("dra"),
            )
            page.mouse.click(x, y)
            box = page.locator("#network").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + 10, box["y"] + box["height"] - 10)  # hide the tooltip
            page.wait_for_timeout(400)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 1400, "height": 900})
            browser.close()
    print(OUT)


if __name__ == "__main__":
    main()
