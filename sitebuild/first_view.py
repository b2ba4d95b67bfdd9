"""The first view written into dist/index.html: the title, the language switch, the tab strip and the story as
plain HTML in every language, so the page reads within a second of navigation, long before Python has started
(static/style.css shows the language <html lang> names; app.js swaps in the live page once it has rendered).

    page_texts(python)     -> {lang: {"title", "subtitle", "tabs", "switch", "story", "story_css"}}, from the app's
                              own strings (playground.i18n, app.ROOMS, story.static_html) in a child Python
    write(index, texts)    index.html's two markers replaced by the first view
"""
import html
import json
import re

from . import paths

HEADER_MARK = "<!-- first view: header -->"
STORY_MARK = "<!-- first view: story -->"
# Runs in .venv's Python (the app imports Panel): prints the texts as JSON. The story may not be there yet, or
# not build: the first view then has no story, and the build says why.
SCRIPT = """
import json, sys
from playground import app, i18n
try:
    from playground import story
    story_html, story_css = story.static_html, getattr(story, "STORY_CSS", "")
except Exception as e:
    story_html, story_css = None, ""
    print(f"first view: no story ({e!r})", file=sys.stderr)
texts = {}
for lang in i18n.STRINGS:
    try:
        body = story_html(lang) if story_html else ""
    except Exception as e:
        body = ""
        print(f"first view: no {lang} story ({e!r})", file=sys.stderr)
    texts[lang] = {"title": i18n.text(lang, "title"), "subtitle": i18n.text(lang, "subtitle"),
                   "tabs": [i18n.text(lang, f"tab_{key}") for key, _ in app.ROOMS],
                   "switch": [[code, label] for code, label in i18n.LANGUAGES.items()],
                   "story": body, "story_css": story_css}
print(json.dumps(texts))
"""


def page_texts(python):
    """The first view's texts in every language, read by `python` (which has Panel) from the app itself."""
    done = paths.run(python, "-c", SCRIPT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def header_html(lang, t):
    """Title, subtitle, the language switch (this language active) and the tab strip (the first tab active)."""
    e = html.escape

    def span(text, active):
        return f'<span class="active">{e(text)}</span>' if active else f"<span>{e(text)}</span>"
    switch = "".join(span(label, code == lang) for code, label in t["switch"])
    tabs = "".join(span(name, i == 0) for i, name in enumerate(t["tabs"]))
    return (f'<div class="fv-lang" lang="{lang}"><header class="first-view-header"><div>'
            f'<h1 elementtiming="first-view-title">{e(t["title"])}</h1><p>{e(t["subtitle"])}</p></div>'
            f'<div class="first-view-switch" aria-hidden="true">{switch}</div></header>'
            f'<nav class="first-view-tabs" aria-hidden="true">{tabs}</nav></div>')


def story_html(lang, t):
    """The story's HTML; its first paragraph carries elementtiming="first-view" (benchmarks/site_load.py times
    when the browser painted it). Inline <svg> needs no xmlns in HTML: dropped, so the page names no other origin,
    not even as a namespace."""
    story = re.sub(r"<p(?=[\s>])", '<p elementtiming="first-view"', t["story"], count=1)
    story = re.sub(r'(<svg\b[^>]*?)\s+xmlns="[^"]*"', r"\1", story)
    return f'<div class="fv-lang first-view-story" lang="{lang}">{story}</div>'


def scoped_css(css, scope):
    """The story room's stylesheet (written for its shadow root: ':host', flat rules) scoped under `scope`."""
    rules = []
    for rule in css.split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        scoped = [scope if s.strip() == ":host" else f"{scope} {s.strip()}" for s in selectors.split(",")]
        rules.append(f"{', '.join(scoped)} {{{body}}}")
    return "\n".join(rules)


def write(index, texts):
    """index.html (a path) with the header and story markers replaced by the first view in every language."""
    page = index.read_text()
    if HEADER_MARK not in page or STORY_MARK not in page:
        raise ValueError(f"{index}: the markers {HEADER_MARK!r} and {STORY_MARK!r} are missing")
    css = next((t["story_css"] for t in texts.values() if t.get("story_css")), "")
    header = "".join(header_html(lang, t) for lang, t in texts.items())
    story = "".join(story_html(lang, t) for lang, t in texts.items())
    if css:
        story = f"<style>\n{scoped_css(css, '.first-view-story')}\n</style>\n{story}"
    index.write_text(page.replace(HEADER_MARK, header).replace(STORY_MARK, story))
