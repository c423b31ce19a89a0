"""TeX math in Markdown turned into MathML, so that a page shows it without MathJax.

Browsers render MathML themselves (MathML Core: Chromium 109+, Firefox,
Safari), so pages built this way load no script to show formulas.
``latex2mathml`` does the conversion; two fixes follow it, because MathML
Core ignores ``mathvariant`` on ``<mi>``: letters in script (``\\mathcal``)
and double-struck (``\\mathbb``) type become the Unicode characters of those
alphabets (N -> 𝒩, E -> 𝔼), which every math font has.
"""
from __future__ import annotations

import re
import unicodedata

# Code spans and fenced blocks keep their dollar signs; math is looked for between them.
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_VARIANT = re.compile(r'<mi mathvariant="(script|double-struck)">([A-Za-z])</mi>')
_ALPHABET = {"script": "SCRIPT", "double-struck": "DOUBLE-STRUCK"}


def _letter(variant: str, letter: str) -> str:
    case = "CAPITAL" if letter.isupper() else "SMALL"
    name = f"{_ALPHABET[variant]} {case} {letter.upper()}"
    for candidate in (f"MATHEMATICAL {name}", name):  # a few letters predate the math block: ℬ, ℰ, ℝ, ...
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return letter


def to_mathml(tex: str, block: bool = False) -> str:
    """One formula as a ``<math>`` element (``display="block"`` for ``$$...$$``)."""
    from latex2mathml.converter import convert

    mathml = convert(tex.strip(), display="block" if block else "inline")
    return _VARIANT.sub(lambda m: f"<mi>{_letter(m.group(1), m.group(2))}</mi>", mathml)


def markdown_math_to_mathml(markdown: str) -> str:
    """``markdown`` with every ``$...$`` and ``$$...$$`` outside code replaced by MathML."""
    parts = _CODE.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are outside code
        parts[i] = _MATH.sub(lambda m: to_mathml(m.group(1) or m.group(2), block=m.group(1) is not None),
                             parts[i])
    return "".join(parts)
