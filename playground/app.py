"""The CNN Playground page: a language switch, a "copy link" button and one tab per room (Story, Convolution, ...).

    panel serve playground/app.py          # or, in the static site, the worker calls create_app()

`create_app(lang=None)` returns the whole page as a Panel layout. Without `lang` the language comes from the URL,
$CNN_PLAYGROUND_LANG (the browser bootstrap may set it), the Accept-Language header under `panel serve`,
or navigator.language under Pyodide; English otherwise.

A room is a module in ROOMS with `room(session, lang) -> namespace` whose `.layout` is the tab's content; it may
also have `.reopen()` (called when its tab is opened again) and `.leave()` (called before a rebuild). The open
room is built at once, the others the first time their tab opens, so the first view stays light. `session` is a
plain namespace that outlives the rooms: a room keeps there what must survive a language switch (the labs'
settings, a trained model), so the page can be rebuilt around it.

Settings in the URL (the protocol of docs/api.md): a room may also have `url_state() -> dict` and
`restore(state) -> notices`. The page keeps `location.hash` = playground.urlstate.encode(open tab, language,
the open room's url_state()): it writes it once the settings have held still for URL_SYNC_MS to 2*URL_SYNC_MS
(Panel's Location pushes it to the browser's history), and applies a hash it did not write (a link, the back
button, a URL opened fresh) with `apply_url`. Where the hash comes from at start: in the static site the page
starts the worker as `worker.js#<its own hash>` (static/app.js), so Python reads the worker's `location.hash`
before the page is built (its language, and the first room's settings), and app.js sends the hash on once the page
is ready (a lab's settings: the labs' lazy packages arrive after ready); under `panel serve` the fragment never
reaches the server and arrives right after the page is built, through pn.state.location.
"""
import html
import importlib
import importlib.util
import os
import sys
import types

import panel as pn
from panel.io.callbacks import PeriodicCallback

if __package__ in (None, ""):          # `panel serve playground/app.py` runs this file as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from playground import i18n, urlstate
else:
    from . import i18n, urlstate

LANG_ENV = "CNN_PLAYGROUND_LANG"
URL_SYNC_MS = 300       # the hash is written once the settings held still this long (one to two periods)
# (key, module name in playground/) in tab order, one line per room; the tab's title is i18n "tab_<key>".
# A new room is one line here and its title in i18n.py (room_module imports it).
ROOMS = (
    ("story", "story"),              # the lecture's arc, first: each section links into the labs below
    ("conv", "conv_lab"),
    ("pool", "pool_lab"),
    ("studio", "studio"),
    ("backprop", "backprop_lab"),        # issue 9, the learning half: the backward-pass explorer
    ("losses", "loss_lab"),               # MSE, cross-entropy, focal; trained against each other
    ("optimizers", "optimizer_lab"),      # racing on 2-D surfaces and on LeNet-5, their state drawn
    ("regularization", "regularization_lab"),   # overfitting, dropout and weight decay
    ("networks", "networks"),        # the lecture's other networks: MLP vs CNN, filters, autoencoder, segmentation
)
TABS = tuple(key for key, _ in ROOMS)


def room_module(key):
    """The module of room `key` (imported here, so a room is one line in ROOMS, not also an import)."""
    name = dict(ROOMS)[key]
    return name if not isinstance(name, str) else importlib.import_module(f"playground.{name}")


for _key in TABS:          # every room imported with the page, as before (the site's bytecode step sees them all)
    room_module(_key)


def detect_language():
    """'ko' or 'en': the env var, then the request's Accept-Language, then the browser's navigator.language."""
    if os.environ.get(LANG_ENV):
        return i18n.pick_language(os.environ[LANG_ENV])
    try:
        header = {k.lower(): v for k, v in (pn.state.headers or {}).items()}.get("accept-language")
    except Exception:                  # no server session (tests, plain Python): nothing to read
        header = None
    if header:
        return i18n.pick_language(header)
    if sys.platform == "emscripten":   # Pyodide: the worker's navigator knows the browser's language
        try:
            import js
            return i18n.pick_language(str(js.navigator.language))
        except Exception:
            pass
    return i18n.DEFAULT


def initial_hash():
    """The URL's fragment when the page starts, where Python can see it: in the static site the page starts the
    worker as worker.js#<the page's hash> (static/app.js), so it is the worker's own location.hash. Elsewhere
    (`panel serve`, tests, the site build's bytecode step in Node): "" (the hash arrives through the Location)."""
    if sys.platform != "emscripten":
        return ""
    try:
        import js
        return str(js.location.hash or "")
    except Exception:                  # Node (the build's bytecode step) has no location
        return ""


def in_a_page():
    """Whether a browser shows this page (a timer started elsewhere, e.g. in the site build's Node, keeps it alive)."""
    if sys.platform != "emscripten":
        return True
    try:
        import js
        return bool(getattr(js, "location", None))
    except Exception:
        return False


LAB_PACKAGES = ("markdown",)   # what the labs' panes import when first drawn (Panel's Alert is Markdown)


def lab_packages_loaded():
    """Whether a lab can be drawn now: always outside Pyodide; in the static site once the worker has loaded the
    packages it leaves until after ready (sitebuild/lock.py's AFTER_START)."""
    return sys.platform != "emscripten" or all(importlib.util.find_spec(name) for name in LAB_PACKAGES)


def server_session():
    """Whether this page is served by `panel serve` (a Bokeh server session, not Pyodide, not plain Python)."""
    try:
        doc = pn.state.curdoc
        return bool(doc is not None and doc.session_context and doc.session_context.server_context
                    and not pn.state._is_pyodide)
    except Exception:
        return False


def session_location():
    """Panel's Location of this page's document (None outside a session: tests, plain Python)."""
    try:
        return pn.state.location if pn.state.curdoc is not None else None
    except Exception:
        return None


COPY_JS = """
setTimeout(() => {   // after the click's own round trip has written the current settings into the URL
  const url = window.location.href;
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => window.prompt("", url));
  else window.prompt("", url);
}, 500);
"""


def header_view(lang, set_language, copy_link):
    """The page title, "copy link" (copy_link() on click) and the 한국어 / English switch (set_language(code)).

    The copy itself happens in the browser: static/app.js copies the URL once the click's round trip to Python is
    done (a CustomJS would need eval, which the site's CSP forbids); under `panel serve`, the button's CustomJS."""
    switch = pn.widgets.RadioButtonGroup(label=i18n.text(lang, "lang"), value=lang, css_classes=["lang-switch"],
                                         options={label: code for code, label in i18n.LANGUAGES.items()})
    pn.bind(set_language, switch, watch=True)
    copy = pn.widgets.Button(label=i18n.text(lang, "url_copy"), css_classes=["url-copy"], width=110)
    copy.on_click(lambda _: copy_link())
    if sys.platform != "emscripten":
        copy.js_on_click(code=COPY_JS)
    title = pn.pane.HTML(f"<h1>{i18n.text(lang, 'title')}</h1><p>{i18n.text(lang, 'subtitle')}</p>",
                         css_classes=["page-title"])
    return pn.Row(title, pn.layout.HSpacer(), copy, switch), switch, copy


def notice_text(lang, notice):
    """One notice as safe HTML: an (i18n key, values) pair, an i18n key, or a room's own words (escaped: a
    notice may echo what a URL held)."""
    if isinstance(notice, (tuple, list)) and len(notice) == 2 and notice[0] in i18n.STRINGS[i18n.DEFAULT]:
        try:
            return html.escape(i18n.text(lang, notice[0], **dict(notice[1] or {})))
        except (KeyError, IndexError, TypeError, ValueError):
            return html.escape(str(notice))
    if isinstance(notice, str) and notice in i18n.STRINGS[i18n.DEFAULT]:
        return html.escape(i18n.text(lang, notice))
    return html.escape(str(notice))


def notice_view(page):
    """What a URL could not set, said in the page's language, with a close button (hidden when all was used)."""
    box = pn.pane.HTML("", css_classes=["url-notice"], sizing_mode="stretch_width")
    close = pn.widgets.Button(label="✕ " + i18n.text(page.lang, "url_notice_close"), css_classes=["url-notice-close"],
                              width=90)
    row = pn.Row(box, close, visible=False, sizing_mode="stretch_width")

    def refresh():
        items = "".join(f"<li>{notice_text(page.lang, n)}</li>" for n in page.notices[:20])
        box.object = f"<b>{html.escape(i18n.text(page.lang, 'url_notice_head'))}</b><ul>{items}</ul>"
        row.visible = bool(page.notices)

    def dismiss(_):
        page.notices = []
        refresh()

    close.on_click(dismiss)
    refresh()
    return types.SimpleNamespace(panel=row, refresh=refresh, box=box, close=close)


def build_page(lang=None, url=None, location=None):
    """The page and handles for tests: layout, lang_switch, tabs, session, rooms {key: room or None} and each room
    as an attribute (page.story, page.conv, ...: None until its tab first opens), set_language(lang), and the URL:
    current_url(), apply_url(hash), sync_url(), copy_link(), notices [(i18n key, values)], url_written.

    url: the hash to start from (default: initial_hash()); location: a panel Location to keep in step with
    (default: the session's, pn.state.location; None in plain Python, where nothing is written)."""
    parsed = urlstate.parse(initial_hash() if url is None else url, TABS, tuple(i18n.LANGUAGES))
    if url is None and parsed.tab not in (None, TABS[0]) and not lab_packages_loaded():
        # The static site loads what only the labs use (Panel's Markdown parsers, for their Alerts) once the page
        # answers: a lab built now would fail to draw. So the page starts on the first room in the URL's language,
        # and static/app.js sends the hash on at ready, which the worker holds until those packages are in.
        parsed = types.SimpleNamespace(tab=None, lang=parsed.lang, state={}, notices=[])
    page = types.SimpleNamespace(lang=parsed.lang or lang or detect_language(), tabs=None, lang_switch=None,
                                 active=TABS.index(parsed.tab) if parsed.tab else 0, rooms={}, notices=[],
                                 session=types.SimpleNamespace(tabs=TABS), url_written=None, url_pending=None,
                                 location=location if location is not None else session_location())
    page.layout = pn.Column(sizing_mode="stretch_width", css_classes=["cnn-playground"])

    def open_room(index):
        key = TABS[index]
        room = page.rooms.get(key)
        if room is None:
            room = room_module(key).room(page.session, page.lang)
            page.rooms[key] = room
            setattr(page, key, room)
            page.tabs[index] = (i18n.text(page.lang, f"tab_{key}"), room.layout)
        elif getattr(room, "reopen", None) is not None:
            room.reopen()              # another room may have changed what this one shows (e.g. the conv lab's map)
        return room

    def on_tab(index):
        page.active = index
        open_room(index)

    def render():
        for room in page.rooms.values():       # the old rooms hand their state to the session and stop
            if getattr(room, "leave", None) is not None:
                room.leave()
        page.rooms = {}
        for key in TABS:
            setattr(page, key, None)
        header, page.lang_switch, page.copy_button = header_view(page.lang, set_language, page.copy_link)
        page.notice = notice_view(page)
        page.tabs = pn.Tabs(*((i18n.text(page.lang, f"tab_{key}"), pn.Column()) for key in TABS),
                            css_classes=["lab-tabs"])
        open_room(page.active)                 # only the open room: the others are built when first opened
        page.tabs.active = page.active
        pn.bind(on_tab, page.tabs.param.active, watch=True)
        page.layout.objects = [header, page.notice.panel, page.tabs]

    def set_language(lang):
        if lang != page.lang and lang in i18n.STRINGS:
            page.lang = lang
            render()

    def restore(state):
        """The open room takes `state` (its defaults for the rest); its notices join the page's."""
        room = open_room(page.active)
        if getattr(room, "restore", None) is None:
            return []
        try:
            return list(room.restore(state) or [])
        except Exception as e:             # a room's bug must not break the page the link opens
            return [("url_bad_settings", {"why": urlstate.shown(f"{type(e).__name__}: {e}", 80)})]

    def current_url():
        """The hash for what the page shows now: the open tab, the language, the open room's url_state()."""
        key = TABS[page.active]
        room = page.rooms.get(key)
        state = None
        if room is not None and getattr(room, "url_state", None) is not None:
            try:
                state = room.url_state()
                urlstate.encode(key, page.lang, state)      # JSON-able? (else the tab alone)
            except Exception:
                state = None
        return urlstate.encode(key, page.lang, state)

    def apply_url(text):
        """Show what hash `text` asks for: its language, its tab, and the settings that tab's room takes (a named
        tab always gets restore(), so a link's missing settings are the room's defaults). Never raises; what
        could not be used is listed in page.notices. The address bar is left as it is (no history entry)."""
        parsed = urlstate.parse(text, TABS, tuple(i18n.LANGUAGES))
        notices = list(parsed.notices)
        if parsed.lang and parsed.lang != page.lang:
            page.lang = parsed.lang
            render()
        if parsed.tab:
            index = TABS.index(parsed.tab)
            if index != page.active:
                page.tabs.active = index           # opens the room (on_tab)
            notices += restore(parsed.state)
        page.notices = notices
        page.notice.refresh()
        page.url_written, page.url_pending = current_url(), None
        return notices

    def write(hash_):
        page.url_written, page.url_pending = hash_, None
        if page.location is not None and page.location.hash != hash_:
            page.location.hash = hash_             # Panel's Location: history.pushState in the browser

    def sync_url():
        """Called every URL_SYNC_MS: write the hash once the settings held still for a whole period."""
        now = current_url()
        if now == page.url_written:
            page.url_pending = None
        elif now == page.url_pending:
            write(now)
        else:
            page.url_pending = now

    def copy_link():
        """The copy button's Python half: the URL must hold the current settings before the browser copies it."""
        write(current_url())

    def on_location(event):
        if event.new == page.url_written:          # the echo of our own write
            return
        if page.waiting_for_load:                  # `panel serve`: the URL's hash arrives while the page loads
            page.url_on_load = event.new
        else:                                      # a link, the back button, a typed URL
            apply_url(event.new)

    def loaded():
        page.waiting_for_load = False
        if page.url_on_load is not None:
            apply_url(page.url_on_load)

    page.set_language, page.current_url, page.apply_url = set_language, current_url, apply_url
    page.sync_url, page.copy_link = sync_url, copy_link
    render()
    page.notices = list(parsed.notices) + (restore(parsed.state) if parsed.tab else [])
    page.notice.refresh()
    page.url_written = current_url()
    if page.location is not None:
        page.location.param.watch(on_location, "hash")
        # Under `panel serve` the hash comes in before the browser has finished loading, and what a callback changes
        # then is not drawn (the tabs stay on the first room): it is applied on load instead.
        page.waiting_for_load, page.url_on_load = server_session(), None
        if page.waiting_for_load:
            pn.state.onload(loaded)
        if in_a_page():
            page.url_timer = PeriodicCallback(callback=sync_url, period=URL_SYNC_MS, background=True)
            page.url_timer.start()
    return page


def create_app(lang=None):
    """The whole page as a Panel layout (what `panel serve` and the static site show)."""
    return build_page(lang).layout


if __name__.startswith("bokeh"):
    create_app().servable(title="CNN Playground")
