"""The page around every view: the project's own Jinja templates (``autoescape=True``), the
vis-network library inlined from the installed pyvis package, JSON for ``<script>`` with
``<``, ``>`` and ``&`` escaped, and a Content-Security-Policy with hashes of the page's own
script and style, so a view makes no request and runs nothing it was not written with.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from famlink import __version__

VIS_NETWORK = ("lib", "vis-9.1.2", "vis-network.min.js")

REDACTION_NOTICE = (
    "Redacted view for sharing beyond the core team: names are initials, dates of birth are "
    "age bands (and any date equal to a date of birth is withheld), addresses are withheld, "
    "chronology summaries and event descriptions (agency free text, which may name anyone) are "
    "dropped, and known names, dates of birth and addresses are removed from the rest."
)


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("famlink.visualise", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def asset(name: str) -> str:
    return (resources.files("famlink.visualise") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def vis_network_js() -> str:
    """vis-network as bundled inside the installed pyvis package (never fetched)."""
    path = resources.files("pyvis").joinpath(*VIS_NETWORK)
    text = path.read_text(encoding="utf-8")
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:  # would end the inline <script> early
        raise RuntimeError(f"{path} cannot be inlined safely")
    return text


def script_json(value: Any) -> Markup:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped.

    >>> str(script_json({"name": "</script><b>&"}))
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return Markup(text)


def _sha256(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def content_security_policy(scripts: list[str], styles: list[str]) -> str:
    """A CSP allowing only the page's own inline scripts and styles (by hash): nothing else loads."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_sha256(s) for s in scripts),
            "style-src " + " ".join(_sha256(s) for s in styles),
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def render_page(
    template: str, *, scripts: list[str], styles: Sequence[str] = (), **context: Any
) -> str:
    """Render one of the templates with the views' CSS (``view.css``, then the named
    `styles` assets) and a CSP admitting only that style and the given inline `scripts`."""
    css = "\n".join(asset(name) for name in ("view.css", *styles))
    return (
        _env()
        .get_template(template)
        .render(
            csp=content_security_policy(scripts, [css]),
            css=Markup(css),
            version=__version__,
            redaction_notice=REDACTION_NOTICE,
            **context,
        )
    )


def probability(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
