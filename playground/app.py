"""The CNN Playground page: a language switch and one tab per room (Convolution, Pooling, LeNet studio).

    panel serve playground/app.py          # or, in the static site, the worker calls create_app()

`create_app(lang=None)` returns the whole page as a Panel layout. Without `lang` the language comes from
$CNN_PLAYGROUND_LANG (the browser bootstrap may set it), the Accept-Language header under `panel serve`,
or navigator.language under Pyodide; English otherwise. The labs' state survives a language switch:
the page is rebuilt around the same state dicts.
"""
import os
import sys
import types

import panel as pn

if __package__ in (None, ""):          # `panel serve playground/app.py` runs this file as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from playground import conv_lab, i18n, pool_lab, studio
else:
    from . import conv_lab, i18n, pool_lab, studio

LANG_ENV = "CNN_PLAYGROUND_LANG"
TABS = ("conv", "pool", "studio")


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
    """The page and handles for tests: layout, lang_switch, tabs, conv, pool and studio (page namespaces; pool and
    studio are built the first time their tab opens), set_language(lang)."""
    page = types.SimpleNamespace(lang=lang or detect_language(), conv=None, pool=None, studio=None, tabs=None,
                                 lang_switch=None, active=0, trainer=None)
    conv_state = conv_lab.initial_state()
    pool_state = pool_lab.initial_state()
    page.layout = pn.Column(sizing_mode="stretch_width", css_classes=["cnn-playground"])

    def ensure_pool():
        if page.pool is None:
            page.pool = pool_lab.build(pool_state, conv_state, page.lang)
            page.tabs[1] = (i18n.text(page.lang, "tab_pool"), page.pool.layout)
        else:
            page.pool.refresh()        # the conv lab may have changed the image or the feature map

    def ensure_studio():
        if page.studio is None:
            # the trainer (model, weights, curves, a run in progress) outlives the page built around it
            page.studio = studio.create_page(page.lang, trainer=page.trainer)
            page.tabs[2] = (i18n.text(page.lang, "tab_studio"), page.studio.layout)

    def on_tab(index):
        page.active = index
        if TABS[index] == "pool":
            ensure_pool()
        elif TABS[index] == "studio":
            ensure_studio()

    def render():
        lang = page.lang
        page.conv = conv_lab.build(conv_state, lang)
        page.pool = None
        if page.studio is not None:            # keep its trainer; the old page stops its callbacks
            page.trainer = page.studio.trainer or page.trainer
            page.studio.close()
            page.studio = None
        header, page.lang_switch = header_view(lang, set_language)
        page.tabs = pn.Tabs((i18n.text(lang, "tab_conv"), page.conv.layout),
                            (i18n.text(lang, "tab_pool"), pn.Column()),
                            (i18n.text(lang, "tab_studio"), pn.Column()), css_classes=["lab-tabs"])
        pn.bind(on_tab, page.tabs.param.active, watch=True)
        page.layout.objects = [header, page.tabs]
        if page.active:
            page.tabs.active = page.active

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
