"""Korean renders with the site's own web font in chromium on a machine without any CJK font: the page is loaded
in Korean by a chromium whose fontconfig sees only this machine's fonts that have no Hangul (so the test means the
same on a machine that has one), and Hangul drawn in the families the page and BokehJS use must be real glyphs,
not the one box every missing character gets. Also: the font files are small, licensed, and from this origin.

Skipped only when /usr/bin/chromium or fc-list is missing and $CI is unset (build.py setup installs both).
"""
import os
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from site_helpers import (CHROMIUM, CHROMIUM_ARGS, READY, ensure_built, import_sitebuild, in_ci, serve,
                          skip_without_chromium)

FONT_LIMIT_KB = 120      # each woff2: the UI's few hundred Hangul syllables, not the 11,172 of the whole font

# Distinct characters must draw distinct pixels: every missing glyph is drawn as the same box (.notdef).
JS_GLYPHS_DIFFER = """async ([font, a, b]) => {
    await document.fonts.load(font, a + b);
    const draw = (ch) => {
        const c = document.createElement("canvas"); c.width = 64; c.height = 64;
        const g = c.getContext("2d"); g.font = font; g.fillText(ch, 4, 48);
        return Array.from(g.getImageData(0, 0, 64, 64).data).join();
    };
    return {differ: draw(a) !== draw(b), inked: draw(a) !== draw(" ")};
}"""
# The language switch's Korean label, and the fonts its computed style resolves for it.
JS_SWITCH = """async () => {
    const find = (root) => {
        for (const el of root.querySelectorAll("*")) {
            if (el.tagName === "BUTTON" && el.textContent.trim() === "한국어") return el;
            if (el.shadowRoot) { const hit = find(el.shadowRoot); if (hit) return hit; }
        }
        return null;
    };
    const button = find(document);
    const s = getComputedStyle(button);
    const font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    await document.fonts.load(font, "한국어");
    return {font, ready: document.fonts.check(font, "한국어"),
            faces: [...document.fonts].filter((f) => f.status === "loaded" && f.unicodeRange.includes("AC00"))
                .map((f) => f.family)};
}"""


def fonts_without_hangul(folder):
    """A fontconfig setup that sees only this machine's fonts without Hangul (links to them in `folder`)."""
    listed = subprocess.run(["fc-list", "--format", "%{file}\\n"], capture_output=True, text=True, check=True)
    hangul = subprocess.run(["fc-list", ":lang=ko", "--format", "%{file}\\n"], capture_output=True, text=True,
                            check=True)
    fonts = folder / "fonts"
    fonts.mkdir()
    for n, path in enumerate(sorted(set(listed.stdout.split()) - set(hangul.stdout.split()))):
        (fonts / f"{n}-{os.path.basename(path)}").symlink_to(path)
    conf = folder / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{fonts}</dir>'
                    f'<cachedir>{folder / "cache"}</cachedir><include ignore_missing="yes">/etc/fonts/conf.d</include>'
                    "</fontconfig>")
    return conf


@pytest.fixture(scope="module")
def korean_page(tmp_path_factory):
    skip_without_chromium()
    if not shutil.which("fc-list") and not in_ci():
        pytest.skip("fc-list is not installed (apt-get install fontconfig); CI always runs the browser tests")
    from playwright.sync_api import sync_playwright   # pinned in requirements-dev.txt
    folder = tmp_path_factory.mktemp("font")
    dist = folder / "dist"
    shutil.copytree(ensure_built(), dist)
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_without_hangul(folder))}
    with serve(dist) as url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(folder / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env,
            viewport={"width": 1400, "height": 1000}, locale="ko-KR")
        log = {"requests": [], "errors": []}
        context.on("request", lambda r: log["requests"].append(r.url))
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=120_000)
        yield page, log, url, dist
        context.close()


def test_hangul_draws_real_glyphs_with_the_web_font_where_no_system_font_has_them(korean_page):
    page, log, url, _ = korean_page
    # the machine as chromium sees it here: no font has Hangul, so two syllables draw the same box
    assert not page.evaluate(JS_GLYPHS_DIFFER, ['16px "DejaVu Sans", sans-serif', "한", "국"])["differ"]
    # the page's own text (the first view) and BokehJS (canvas and widgets draw in "helvetica"), plain and bold
    for font in ("16px Helvetica, Arial, sans-serif", "bold 13px helvetica", "italic 12px helvetica"):
        glyphs = page.evaluate(JS_GLYPHS_DIFFER, [font, "한", "국"])
        assert glyphs == {"differ": True, "inked": True}, font
    origin = urlsplit(url).netloc
    fonts = [u for u in log["requests"] if u.endswith(".woff2")]
    assert fonts and all(urlsplit(u).netloc == origin and "/fonts/ko-" in u for u in fonts), fonts
    assert log["errors"] == []


def test_the_language_switch_reads_korean_in_the_web_font(korean_page):
    page, log, _, _ = korean_page
    switch = page.evaluate(JS_SWITCH)
    assert switch["ready"], switch
    assert "Helvetica" in switch["faces"], switch


def test_font_files_are_small_and_licensed(korean_page):
    _, _, _, dist = korean_page
    sizes = {p.name: p.stat().st_size for p in (dist / "fonts").glob("*.woff2")}
    assert set(sizes) == {"ko-400.woff2", "ko-700.woff2"}
    assert all(size < FONT_LIMIT_KB * 1024 for size in sizes.values()), sizes
    assert "SIL Open Font License" in (dist / "fonts" / "LICENSE-fonts.txt").read_text()
    css = (dist / "style.css").read_text()
    assert css.count('url("fonts/ko-400.woff2")') == 2 and "unicode-range: U+1100-11FF" in css
    assert "font-src 'self'" in import_sitebuild().server.CSP
