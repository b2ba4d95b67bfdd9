"""The CNN Playground page: a language switch and one tab per room (Convolution, Pooling, LeNet studio, ...).

    panel serve playground/app.py          # or, in the static site, the worker calls create_app()

`create_app(lang=None)` returns the whole page as a Panel layout. Without `lang` the language comes from
$CNN_PLAYGROUND_LANG (the browser bootstrap may set it), the Accept-Language header under `panel serve`,
or navigator.language under Pyodide; English otherwise.

A room is a module in ROOMS with `room(session, lang) -> namespace` whose `.layout` is the tab's content; it may
also have `.reopen()` (called when its tab is opened again) and `.leave()` (called before a rebuild). The first
room is built at once, the others the first time their tab opens, so the first view stays light. `session` is a
plain namespace that outlives the rooms: a room keeps there what must survive a language switch (the labs'
settings, a trained model), so the page can be rebuilt around it.
"""
import importlib
import os
import sys
import types

import panel as pn

if __package__ in (None, ""):          # `panel serve playground/app.py` runs this file as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from playground import i18n
else:
    from . import i18n

LANG_ENV = "CNN_PLAYGROUND_LANG"
# (key, module name in playground/) in tab order, one line per room; the tab's title is i18n "tab_<key>".
# A new room is one line here and its title in i18n.py (room_module imports it).
ROOMS = (
    ("conv", "conv_lab"),
    ("pool", "pool_lab"),
    ("studio", "studio"),
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


def header_view(lang, set_language):
    """The page title and the 한국어 / English switch (set_language(code) when it changes)."""
    switch = pn.widgets.RadioButtonGroup(label=i18n.text(lang, "lang"), value=lang, css_classes=["lang-switch"],
                                         options={label: code for code, label in i18n.LANGUAGES.items()})
    pn.bind(set_language, switch, watch=True)
    title = pn.pane.HTML(f"<h1>{i18n.text(lang, 'title')}</h1><p>{i18n.text(lang, 'subtitle')}</p>",
                         css_classes=["page-title"])
    return pn.Row(title, pn.layout.HSpacer(), switch), switch


def build_page(lang=None):
    """The page and handles for tests: layout, lang_switch, tabs, session, rooms {key: room or None} and each room
    as an attribute (page.conv, page.pool, page.studio, ...: None until its tab first opens), set_language(lang)."""
    page = types.SimpleNamespace(lang=lang or detect_language(), tabs=None, lang_switch=None, active=0,
                                 session=types.SimpleNamespace(), rooms={})
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

    def on_tab(index):
        page.active = index
        open_room(index)

    def render():
        for room in page.rooms.values():       # the old rooms hand their state to the session and stop
            if getattr(room, "leave", None) is not None:
                room.leave()
        page.rooms = {}
        for key, _ in ROOMS:
            setattr(page, key, None)
        header, page.lang_switch = header_view(page.lang, set_language)
        page.tabs = pn.Tabs(*((i18n.text(page.lang, f"tab_{key}"), pn.Column()) for key, _ in ROOMS),
                            css_classes=["lab-tabs"])
        open_room(0)
        if page.active:
            open_room(page.active)
            page.tabs.active = page.active
        pn.bind(on_tab, page.tabs.param.active, watch=True)
        page.layout.objects = [header, page.tabs]

    def set_language(lang):
        if lang != page.lang and lang in i18n.STRINGS:
            page.lang = lang
            render()

    page.set_language = set_language
    render()
    return page


def create_app(lang=None):
    """The whole page as a Panel layout (what `panel serve` and the static site show)."""
    return build_page(lang).layout


if __name__.startswith("bokeh"):
    create_app().servable(title="CNN Playground")
