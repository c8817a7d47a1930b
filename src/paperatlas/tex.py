"""TeX in titles, abstracts and names: text markup to Unicode, math left for the pages to render.

arXiv metadata is written in TeX (``Kekul\\'e``, ``Fran\\c{c}ois``, ````quoted''``, ``$\\ln\\ln T$``).  The merge
stage calls :func:`tex_to_unicode` on the fields it folds into a paper, so every page, feed, mail and search index
reads ``Kekulé`` while the source record in ``paper_records`` keeps the text exactly as the source wrote it.

Math is a different matter: ``$\\ln\\ln T$`` has no faithful plain-text spelling, so it is kept verbatim in the
stored text (delimiters included) and :func:`math_segments` splits it out for the web layer, which renders it as
MathML.  Nothing inside math is touched by the text conversion (``$\\hat{x}$`` is not an accent on a letter).

Only what TeX itself would print is converted: accents (symbol accents take the next letter, letter accents such as
``\\c`` need braces or a space), the letter commands (``\\ss``, ``\\o``, ``\\l`` ...), font switches around text,
quotes and dashes.  An unknown command is left as written: guessing would hide it, and a reader can still read it.
"""

from __future__ import annotations

import re
import unicodedata

# Symbol accents (\'e, \"{o}) and letter accents (\c{c}, \v s, \H{o}) as combining marks.
_ACCENTS = {
    "`": "\u0300", "'": "\u0301", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307", '"': "\u0308",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323",
    "b": "\u0331",
}
_DOTLESS = {"i": "ı", "j": "ȷ"}
# {\'e}, \'{e}, \'e, \'{\i}; \c{c}, \c c; and \cc (written so in real arXiv names: "Fran\ccois"), where TeX
# would read a control word but every source that wrote it meant the cedilla.
_ACCENT = re.compile(
    r"\{?\\(?:([\"'`^~=.])\s*(?:\{\s*(\\?[a-zA-Z])\s*\}|(\\?[a-zA-Z]))"
    r"|([uvHkrbd])(?:\s*\{\s*(\\?[a-zA-Z])\s*\}|\s+(\\?[a-zA-Z]))"
    r"|(c)(?:\s*\{\s*([a-zA-Z])\s*\}|\s+([a-zA-Z])|([cCsStT])))\}?"
)
_LETTERS = {"ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "o": "ø", "O": "Ø",
            "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ", "ng": "ŋ",
            "NG": "Ŋ", "ldots": "…", "dots": "…", "textendash": "–", "textemdash": "—", "S": "§", "P": "¶",
            "copyright": "©", "pounds": "£", "LaTeX": "LaTeX", "TeX": "TeX", "textquoteright": "’",
            "textquoteleft": "‘", "guillemotleft": "«", "guillemotright": "»", "textasciitilde": "~"}
_LETTER = re.compile(r"\{?\\(" + "|".join(sorted(_LETTERS, key=len, reverse=True)) + r")(?![a-zA-Z])(?:\{\}|\s)?\}?")
_FONT_COMMAND = re.compile(
    r"\\(?:textit|textbf|textsc|textrm|textsf|texttt|textsl|emph|textup|mbox|text)\s*\{([^{}]*)\}")
_FONT_SWITCH = re.compile(r"\{\\(?:em|it|bf|sc|rm|sf|tt|sl|itshape|bfseries|scshape)\s+([^{}]*)\}")
_ESCAPES = re.compile(r"\\([&%_#{}])")
_CLOSING_BACKTICKS = re.compile(r"(?<=[^\s`])``(?=[\s.,;:!?)]|$)")
_BRACES = re.compile(r"\{([^{}\\$]*)\}")
# $$...$$, $...$, \(...\), \[...\]; an escaped \$ is a dollar sign, never a delimiter.
_MATH = re.compile(r"(?<!\\)(\$\$.+?(?<!\\)\$\$|\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)


def _accent(match: re.Match) -> str:
    groups = match.groups()
    mark = groups[0] or groups[3] or groups[6]
    base = next(g for g in groups[1:3] + groups[4:6] + groups[7:] if g)
    base = _DOTLESS.get(base[1:], base[1:]) if base.startswith("\\") else base
    return unicodedata.normalize("NFC", base + _ACCENTS[mark])


def _text(text: str) -> str:
    """Convert one stretch of text mode (no math in it)."""
    if "\\" in text:
        text = _ACCENT.sub(_accent, text)
        text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
        for _ in range(3):  # nested \emph{\textbf{x}}: innermost first
            text = _FONT_COMMAND.sub(r"\1", _FONT_SWITCH.sub(r"\1", text))
        text = _ESCAPES.sub(lambda m: m.group(1) if m.group(1) not in "{}" else m.group(0), text)
    if "{" in text:
        text = _BRACES.sub(r"\1", _BRACES.sub(r"\1", text))  # {BERT} case protection, {é} left by an accent
    if "`" in text or "''" in text:
        text = _CLOSING_BACKTICKS.sub("”", text)  # ``a problem`` (closed with backticks, as sources do)
        text = text.replace("``", "“").replace("''", "”").replace("`", "‘")
    if "--" in text:
        text = re.sub(r"(?<![-!<])---(?!-)", "—", text)
        text = re.sub(r"(?<=\w) ?--(?!-) ?(?=\w)", lambda m: "–" if m.group(0) == "--" else " – ", text)
    return text


def split_math(text: str) -> list[tuple[bool, str]]:
    """``[(is_math, piece), ...]`` in order; math pieces keep their delimiters."""
    pieces: list[tuple[bool, str]] = []
    last = 0
    for match in _MATH.finditer(text):
        if match.start() > last:
            pieces.append((False, text[last : match.start()]))
        pieces.append((True, match.group(0)))
        last = match.end()
    if last < len(text):
        pieces.append((False, text[last:]))
    return pieces


def tex_to_unicode(text: str | None) -> str | None:
    """Text-mode TeX to Unicode; math kept verbatim.  Plain text (no ``\\``, braces, quotes or dashes) is returned
    as is, so that sources which never write TeX (DBLP, OpenAlex) pass through untouched."""
    if not text or not any(c in text for c in "\\{`'-"):
        return text
    return "".join(piece if is_math else _text(piece) for is_math, piece in split_math(text))


def math_body(piece: str) -> tuple[str, bool]:
    """The TeX inside a math piece's delimiters, and whether it is display math."""
    if piece.startswith("$$"):
        return piece[2:-2], True
    if piece.startswith("\\["):
        return piece[2:-2], True
    if piece.startswith("\\("):
        return piece[2:-2], False
    return piece[1:-1], False


__all__ = ["math_body", "split_math", "tex_to_unicode"]
