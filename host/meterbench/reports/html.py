"""HTML rendering of a `Document`: one self-contained file (styles and plots inline).

The template is package data (``templates/document.html.j2``); autoescaping is on, so stored
text (messages, reasons) can never inject markup into a record. The CJK font is embedded as a
subset (like in the PDF), so Chinese labels show on any machine, with or without CJK fonts.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import TYPE_CHECKING

from meterbench.reports.document import Document
from meterbench.reports.fonts import SANS_FACE, chars_of, check_faces, subset_face
from meterbench.reports.printed import html_text

if TYPE_CHECKING:
    from jinja2 import Environment


def _b64(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(data).decode("ascii")


@cache
def environment() -> Environment:
    # Imported here: the process that cuts the font for the render workers needs no Jinja2.
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("meterbench.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["b64"] = _b64
    return env


FONT_FAMILY = "meterbench CJK"


def font_face_css(text: str) -> str:
    """An @font-face with the CJK font cut to ``text``: the file shows its Chinese labels on a
    machine without Chinese fonts, and stays a single self-contained file."""
    check_faces()
    data = subset_face(SANS_FACE, chars_of(text)).read_bytes()
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; '
        f'src: url(data:font/ttf;base64,{_b64(data)}) format("truetype"); }}'
    )


def render_html(doc: Document, font_css: str | None = None) -> str:
    """The page; ``font_css`` from `font_face_css` (made for ``doc`` when not given)."""
    if font_css is None:
        font_css = font_face_css(html_text(doc))
    template = environment().get_template("document.html.j2")
    return template.render(doc=doc, font_css=font_css)
