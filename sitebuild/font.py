"""The Korean web font: Nanum Gothic (npm @fontsource/nanum-gothic, pinned in pins.py), cut with fontTools to the
Hangul the UI shows, so Korean renders on machines without a CJK font (every string would be a row of boxes).

    hangul_used(root)   -> the Hangul characters in the sources of every UI string (playground/, static/)
    build(fonts_dir)    -> fonts_dir/ko-400.woff2, ko-700.woff2 and the licence; cached under their inputs

static/style.css declares both files for the Hangul ranges (HANGUL below) under its CSP's font-src 'self'.
"""
import hashlib
import io
import re
import tarfile

from . import fetch, paths

PIN = "@fontsource/nanum-gothic"
WEIGHTS = (400, 700)
MEMBER = "package/files/nanum-gothic-korean-{weight}-normal.woff2"
LICENSE = "package/LICENSE"
# The Unicode blocks the @font-face rules in static/style.css cover: Hangul Jamo, compatibility Jamo, syllables.
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# Where every string the UI shows is written: the i18n tables, the story, the page and its loading box.
SOURCES = ("playground", "static")
TEXT = (".py", ".md", ".html", ".js", ".json", ".txt")


def hangul_used(root=paths.ROOT):
    """Every Hangul character written in a text file under SOURCES, as a sorted string."""
    found = set()
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in TEXT and path.is_file() and "__pycache__" not in path.parts:
                found |= set(HANGUL.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return "".join(sorted(found))


def subset(woff2, text):
    """The font file `woff2` (bytes) cut to the characters of `text`, without hinting, as woff2 bytes."""
    from fontTools import subset as ft   # pinned in requirements-dev.txt, with brotli for woff2

    options = ft.Options(flavor="woff2", hinting=False, desubroutinize=True, name_IDs=["*"], name_languages=["*"],
                         notdef_outline=True)
    font = ft.load_font(io.BytesIO(woff2), options)
    cutter = ft.Subsetter(options)
    cutter.populate(text=text)
    cutter.subset(font)
    out = io.BytesIO()
    ft.save_font(font, out, options)
    return out.getvalue()


def build(fonts_dir, root=paths.ROOT):
    """fonts_dir/ko-<weight>.woff2 for WEIGHTS and LICENSE-fonts.txt; returns the woff2 paths."""
    text = hangul_used(root)
    tgz = fetch.fetch(PIN)
    key = hashlib.sha256(fetch.pin(PIN)["sha256"].encode() + text.encode()).hexdigest()[:16]
    cache = paths.CACHE / "font" / key
    names = [f"ko-{weight}.woff2" for weight in WEIGHTS]
    if not all((cache / name).exists() for name in names):
        paths.step(f"font: Nanum Gothic cut to the {len(text)} Hangul characters the UI uses (seconds) ...")
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as t:
            for weight, name in zip(WEIGHTS, names):
                data = t.extractfile(MEMBER.format(weight=weight)).read()
                (cache / name).write_bytes(subset(data, text))
            (cache / "LICENSE-fonts.txt").write_bytes(
                b"ko-400.woff2, ko-700.woff2: Nanum Gothic (npm @fontsource/nanum-gothic), cut to the characters "
                b"this site shows.\n\n" + t.extractfile(LICENSE).read())
    fonts_dir.mkdir(parents=True, exist_ok=True)
    for name in (*names, "LICENSE-fonts.txt"):
        (fonts_dir / name).write_bytes((cache / name).read_bytes())
    return [fonts_dir / name for name in names]
