"""Networks tab (신경망 구조): the lecture's other networks, each trained and measured on the spot.

Storyboard, one section each (a module networks_<section>.py: its settings, its experiment over core, its views):
1. `networks_mlp`: a multilayer perceptron against LeNet-5 on the same digits; both tested on digits moved 1-4
   pixels; the 196,608-input arithmetic beside it.
2. `networks_filters`: LeNet-5's C1 from designed kernels, frozen or trained, against C1 learned from random
   weights; each learned filter beside its nearest designed kernel.
3. `networks_ae`: an autoencoder (input = output): originals against reconstructions, the code, decoding a moved code.
4. `networks_seg`: segmentation, a class per pixel: input, true and predicted masks, IoU per class.

Every section has Start / Pause / Resume / Stop. Its experiment is a generator of core calls
(playground/networks_run.py) advanced a slice of time per tick of one periodic callback, as the studio trains,
so Pause answers at once in the Pyodide worker. What the page does (act, tick) follows the views; the layout is at
the bottom. `room(session, lang)` is what app.py builds; the experiments live in the session, so a language switch
takes a run in progress over.
"""
import asyncio
import functools
import types

import numpy as np
import panel as pn

from core import datasets
from . import (i18n, networks_ae, networks_filters, networks_mlp, networks_run, networks_seg, networks_views, training,
               urlstate)
from .studio import DATA_RETRY_MS, TICK_MS, TICK_S, YIELD_S, stop_ticking

SECTIONS = (("mlp", networks_mlp), ("filters", networks_filters), ("ae", networks_ae), ("seg", networks_seg))


# ---------------------------------------------------------------- the data every section draws from

def digits(raw):
    """The MNIST subset (training.load_data()'s dict) as the sections take it: train(n) and test(n) give n
    class-balanced digits padded to (n, 32, 32, 1) float32 and int labels (n,), the same ones for the same n."""
    cache = {}

    def subset(split, n):
        if (split, n) not in cache:
            x, y = datasets.class_balanced_subset(raw[f"x_{split}"], raw[f"y_{split}"], min(n, len(raw[f"y_{split}"])),
                                                  seed=0)
            cache[split, n] = datasets.pad_to_32(x), np.asarray(y, np.int64)
        return cache[split, n]

    return types.SimpleNamespace(raw=raw, train=functools.partial(subset, "train"),
                                 test=functools.partial(subset, "test"))


def new_state():
    """What outlives a rebuilt page: each section's settings and experiment."""
    return {key: types.SimpleNamespace(settings=networks_run.defaults(module.SETTINGS),
                                       experiment=networks_run.Experiment()) for key, module in SECTIONS}


# ---------------------------------------------------------------- a section: its settings, its run, its results

def section_view(page, key, module, t):
    """The section's title and idea, its settings, run buttons and status, and its results."""
    state = page.state[key]
    sec = types.SimpleNamespace(css=module.CSS, SETTINGS=module.SETTINGS, settings=state.settings,
                                experiment=state.experiment, alert=None)
    settings = networks_views.settings_view(sec, t, module.LABELS, getattr(module, "OPTIONS", None))
    run = networks_views.run_view(sec, t, functools.partial(act, page, key))
    results = module.results_view(sec, t, page.data)
    intro = pn.pane.HTML(f"<h3>{t(module.TITLE)}</h3><p>{t(module.INTRO)}</p>")
    controls = pn.Column(*settings.flat, run.panel, width=420, css_classes=[f"{module.CSS}-controls"])
    panel = pn.Column(intro, pn.Row(controls, results.panel), css_classes=[module.CSS])

    def refresh():
        run.refresh()
        results.refresh()
        busy = state.experiment.status in ("running", "paused")
        for widget in settings.flat:            # locked while a run is in progress
            widget.disabled = busy

    return types.SimpleNamespace(panel=panel, refresh=refresh, section=sec, settings=settings, run=run,
                                 results=results)


# ---------------------------------------------------------------- what the page does

def act(page, key, name):
    """A run button of section `key`: start (a fresh experiment with the settings shown), pause, resume, stop."""
    view, module = page.views[key], dict(SECTIONS)[key]
    exp, sec = view.section.experiment, view.section
    sec.alert = None
    try:
        if name == "start":
            settings = dict(sec.settings)
            exp.start(lambda results: module.experiment(page.data, settings, results))
        else:
            exp.act(name)
    except ValueError as e:
        sec.alert = ("error", "err_config", {"why": str(e)})
    if any(v.section.experiment.status == "running" for v in page.views.values()):
        start_ticking(page)
    view.refresh()


def tick(page):
    """One tick: each running experiment gets its share of TICK_S, then its section is redrawn."""
    running = [v for v in page.views.values() if v.section.experiment.status == "running"]
    for view in running:
        try:
            view.section.experiment.advance(TICK_S / len(running))
        except Exception as e:    # a bug must not leave a silent "Training" behind: stop and say what happened
            view.section.experiment.act("stop")            # (a generator that raised cannot go on)
            view.section.alert = ("error", "nets_err_internal", {"why": f"{type(e).__name__}: {e}"})
        view.refresh()
    if not any(v.section.experiment.status == "running" for v in page.views.values()):
        stop_ticking(page)


def start_ticking(page):
    async def tick_and_yield():
        tick(page)
        await asyncio.sleep(YIELD_S)          # the worker reads the page's clicks in this turn (see the studio)

    if page.autorun and page.callback is None:
        page.callback = pn.state.add_periodic_callback(tick_and_yield, period=TICK_MS)


# ---------------------------------------------------------------- settings in the URL

def url_state(page):
    """{section: {setting: value}} for the settings that differ from the defaults ({} when none do)."""
    state = {key: networks_run.changed(module.SETTINGS, page.state[key].settings) for key, module in SECTIONS}
    return {key: values for key, values in state.items() if values}


def restore(page, state):
    """Apply what is valid of `state` (url_state's shape; anything may come from a URL), defaults for the rest.
    Returns (i18n key, values) notices for what was refused (playground/urlstate.py). Never raises. A running
    experiment keeps the settings it started with; the widgets show the restored ones."""
    if not isinstance(state, dict):
        return [("url_bad_settings", {"why": "expected a JSON object"})]
    notices = [("url_unknown_key", {"name": urlstate.shown(key)}) for key in state if key not in dict(SECTIONS)]
    for key, module in SECTIONS:
        values, refused = networks_run.restore(module.SETTINGS, state.get(key, {}), prefix=f"{key}.")
        page.state[key].settings.update(values)
        notices += refused
        if page.views:
            page.views[key].settings.sync()
    return notices


# ---------------------------------------------------------------- the page

def create_page(lang="en", state=None, raw=None, autorun=True):
    """The Networks tab. state: new_state()'s (kept by the session across rebuilds); raw: the MNIST subset dict
    (training.load_data() by default; in the static site it arrives after the page is ready, so the page says it
    is loading and retries every DATA_RETRY_MS). autorun=False: no periodic callbacks (tests call page.tick())."""
    t = functools.partial(i18n.text, lang)
    page = types.SimpleNamespace(lang=lang, t=t, state=state or new_state(), autorun=autorun, callback=None,
                                 waiting=None, views={}, data=None,
                                 layout=pn.Column(css_classes=["networks"], sizing_mode="stretch_width"))
    alert = pn.pane.Alert(t("loading_data"), alert_type="info")

    def retry():
        """Try to read the data once; build the sections when it is there. True once built."""
        if page.data is None:
            try:
                page.data = digits(training.load_data() if raw is None else raw)
            except (FileNotFoundError, ValueError) as e:
                missing = isinstance(e, FileNotFoundError)
                alert.object = t("loading_data") if missing else t("nets_no_data", why=str(e))
                alert.alert_type = "info" if missing else "danger"
                page.layout.objects = [alert]
                if not missing:
                    stop_waiting(page)
                return False
        stop_waiting(page)
        build(page, t)
        return True

    page.retry = retry
    page.url_state, page.restore = functools.partial(url_state, page), functools.partial(restore, page)
    page.tick = functools.partial(tick, page)
    page.close = functools.partial(close, page)
    if not retry() and autorun and alert.alert_type == "info":
        page.waiting = pn.state.add_periodic_callback(retry, period=DATA_RETRY_MS)
    return page


def stop_waiting(page):
    if page.waiting is not None:
        page.waiting.stop()
        page.waiting = None


def close(page):
    stop_waiting(page)
    stop_ticking(page)


def room(session, lang):
    """The tab as a room of the page (see app.py): the sections' settings and experiments stay in the session."""
    if getattr(session, "networks", None) is None:
        session.networks = new_state()
    page = create_page(lang, state=session.networks)
    page.leave = page.close          # the experiments go on in the rebuilt page (the session holds them)
    return page


def build(page, t):
    """Fill page.layout with the sections, and page with the handles tests use."""
    page.views = {key: section_view(page, key, module, t) for key, module in SECTIONS}
    page.act = functools.partial(act, page)
    for view in page.views.values():
        view.refresh()
    if any(v.section.experiment.status == "running" for v in page.views.values()):
        start_ticking(page)             # a rebuilt page (language switch) takes the runs over
    page.layout.objects = [pn.pane.HTML(f"<p>{t('nets_intro')}</p>")] + [v.panel for v in page.views.values()]
