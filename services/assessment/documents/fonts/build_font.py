"""Build ``NotoSansCJKsc-Regular-subset.ttf``, the one font of the printed documents, from Debian's Noto Sans CJK.

Run by hand when the character set or the source font changes (never at run time; the built font
is committed beside this script with its licence, OFL.txt)::

    apt-get install -y fonts-noto-cjk unicode-data      # the source font and Unihan (kTGH)
    .venv/bin/pip install fonttools==4.68.0             # for this conversion only
    .venv/bin/python services/assessment/documents/fonts/build_font.py

Why a conversion: reportlab embeds and subsets TrueType (``glyf``) outlines only, and Noto Sans CJK
ships CFF (PostScript) outlines. This script

1. opens *Noto Sans CJK SC Regular* (face 2 of ``NotoSansCJK-Regular.ttc``, fonts-noto-cjk
   1:20220127, Noto Sans CJK 2.004);
2. subsets it (fontTools.subset) to the characters the platform prints (``charset()`` below):
   every character of GBK (21,791: GB 2312's 6,763 Han characters and its symbols, and the 20,902
   CJK Unified Ideographs U+4E00–9FA5, simplified and traditional, so a traditional or rare
   character in an enterprise's or a person's name prints), the 8,105 characters of the
   通用规范汉字表 (2013, Unihan ``kTGH``; 196 of them lie beyond U+FFFF, such as 𬌗 and 𫖯, used in
   names and places), ASCII and Latin-1, Latin Extended-A and the pinyin vowels, general
   punctuation, letterlike symbols (℃ №), number forms (Ⅰ…Ⅻ), arrows, mathematical operators,
   enclosed alphanumerics (①…⑳), box drawing, geometric shapes, CJK symbols and punctuation
   (including 〓, the mark printed for a character the font lacks), enclosed CJK (㈠), CJK
   compatibility (㎡ ㎎), CJK compatibility forms and the half-width and full-width forms — each
   only where Noto has a glyph (GBK's ≒ it has not). Left out: CJK Extension A (U+3400–4DBF,
   6,582 characters, +2.2 MB) and the other supplementary-plane Han characters. Layout tables
   (GSUB, GPOS, …) and vertical metrics are dropped: reportlab sets one glyph per character;
3. converts the cubic CFF outlines to quadratic TrueType outlines (fontTools cu2qu, at most 1 unit
   of 1000 away, the method of fontTools' Snippets/otf2ttf.py), without hinting.

The same inputs give the same bytes (the font's timestamps are kept as the source has them).
Characters outside the set are not lost silently: the renderer prints 〓 for each and names it in a
note at the end of the document (services/assessment/adapters/documents.py).
"""

from __future__ import annotations

import argparse
import bz2
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

HERE = Path(__file__).resolve().parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FACE = "NotoSansCJKsc-Regular"
UNIHAN = Path("/usr/share/unicode/Unihan_OtherMappings.txt.bz2")
OUTPUT = HERE / "NotoSansCJKsc-Regular-subset.ttf"
MAX_ERR = 1.0  # font units (of 1000 per em) the quadratic outline may stray from the cubic one

RANGES = (  # (first, last) code points of the non-Han blocks kept where Noto has the glyph
    (0x0020, 0x007E), (0x00A0, 0x017F), (0x01CD, 0x01DC), (0x0391, 0x03C9), (0x0401, 0x0451),
    (0x2010, 0x2060), (0x2070, 0x209F), (0x20AC, 0x20AC), (0x2100, 0x218F), (0x2190, 0x21FF),
    (0x2200, 0x22FF), (0x2300, 0x23FF), (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF),
    (0x2600, 0x26FF), (0x2700, 0x27BF), (0x3000, 0x303F), (0x3200, 0x32FF), (0x3300, 0x33FF),
    (0xFE30, 0xFE4F), (0xFF01, 0xFFEF), (0xFFFD, 0xFFFD),
)


def tgh() -> set[int]:
    """The 8,105 characters of the 通用规范汉字表 (Unihan field kTGH)."""
    found = set()
    with bz2.open(UNIHAN, "rt", encoding="utf-8") as lines:
        for line in lines:
            if "\tkTGH\t" in line:
                found.add(int(line.split("\t", 1)[0][2:], 16))
    if len(found) != 8105:
        sys.exit(f"{UNIHAN}: {len(found)} kTGH characters, expected 8105")
    return found


def gbk() -> set[int]:
    """Every character of GBK (21,791; GB 2312 is a part of it)."""
    found = set()
    for first in range(0x81, 0xFF):
        for second in range(0x40, 0xFF):
            try:
                found.add(ord(bytes((first, second)).decode("gbk")))
            except UnicodeDecodeError:
                pass
    return found


def charset() -> set[int]:
    wanted = tgh() | gbk()
    for first, last in RANGES:
        wanted.update(range(first, last + 1))
    return wanted


def to_truetype(font: TTFont) -> None:
    """CFF → glyf in place (fontTools Snippets/otf2ttf.py)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    quadratic = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        quadratic[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = quadratic
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    font["post"].formatType = 3.0  # no glyph names (reportlab writes its subsets with post format 3 too)
    font.sfntVersion = "\x00\x01\x00\x00"


def build(source: Path = SOURCE, output: Path = OUTPUT) -> Path:
    font = TTFont(str(source), fontNumber=_face_number(source), recalcTimestamp=False, lazy=False)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG", "meta"]
    options.name_IDs = ["*"]  # keep the copyright, licence and trademark records
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(charset()))
    subsetter.subset(font)
    to_truetype(font)
    font.save(str(output), reorderTables=True)
    return output


def _face_number(source: Path) -> int:
    from fontTools.ttLib import TTCollection

    for number, face in enumerate(TTCollection(str(source), lazy=True).fonts):
        if face["name"].getDebugName(6) == FACE:
            return number
    sys.exit(f"{source}: no face {FACE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    path = build(args.source, args.output)
    font = TTFont(str(path), lazy=True)
    print(f"{path}: {path.stat().st_size:,} bytes, {len(font.getGlyphOrder()):,} glyphs, "
          f"{len(font.getBestCmap()):,} characters")


if __name__ == "__main__":
    main()
