"""Math in titles and abstracts as MathML, offline: browsers render MathML natively, so no script or font loads.

Stored text keeps TeX math verbatim (``$\\ln\\ln T$``, see :mod:`paperatlas.tex`); :func:`tex_html` escapes the text
around it and converts each math piece with latex2mathml.  latex2mathml is not a sanitizer (``\\text{<img ...>}``
comes out as raw markup, ``\\href`` as an attribute), and every title is untrusted, so its output is parsed as XML
and rebuilt from an allow-list of MathML elements and presentation attributes; output that does not parse is shown
as the TeX it came from, escaped.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

import latex2mathml.exceptions
from latex2mathml.converter import convert
from lxml import etree
from markupsafe import Markup, escape

from ..tex import math_body, split_math

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "ms", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
    "mfenced", "merror", "mmultiscripts", "mprescripts", "none", "semantics", "annotation",
})
ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent", "accentunder",
    "columnalign", "rowalign", "columnlines", "rowlines", "linethickness", "minsize", "maxsize", "movablelimits",
    "symmetric", "form", "width", "height", "depth", "columnspacing", "rowspacing", "displaystyle", "scriptlevel",
    "notation", "open", "close", "separators", "largeop", "bevelled",
})


# latex2mathml's own errors (each a bare Exception subclass): math it cannot parse
CONVERT_ERRORS = tuple(c for _, c in inspect.getmembers(latex2mathml.exceptions, inspect.isclass)
                       if issubclass(c, Exception))


class UnsafeMath(ValueError):
    """latex2mathml produced something that is not MathML from the allow-list."""


def _clean(element: etree._Element) -> None:
    tag = etree.QName(element).localname if isinstance(element.tag, str) else None
    if tag not in ELEMENTS:
        raise UnsafeMath(f"element {element.tag!r}")
    for name in list(element.attrib):
        if name not in ATTRIBUTES:
            del element.attrib[name]
    for child in element:
        _clean(child)


@lru_cache(maxsize=8192)
def math_html(piece: str) -> str:
    """One math piece (delimiters included) as sanitized MathML; the escaped TeX when it cannot be converted."""
    body, display = math_body(piece)
    try:
        mathml = convert(body, display="block" if display else "inline")
        root = etree.fromstring(mathml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        _clean(root)
    except (*CONVERT_ERRORS, etree.XMLSyntaxError, UnsafeMath) as exc:
        # The TeX as written is the honest rendering of math the converter cannot handle
        return f'<code class="tex" title="{escape(type(exc).__name__)}">{escape(piece)}</code>'
    root.set("alttext", body)  # screen readers and copy-paste get the TeX
    return etree.tostring(root, encoding="unicode")


def tex_html(text: str | None) -> Markup:
    """Escaped text with its TeX math as MathML (a Jinja filter: ``{{ p.title | tex }}``)."""
    if not text:
        return Markup("")
    if "$" not in text and "\\" not in text:
        return escape(text)
    out = []
    for is_math, piece in split_math(text):
        out.append(math_html(piece) if is_math else str(escape(piece.replace("\\$", "$"))))
    return Markup("".join(out))


__all__ = ["tex_html"]
