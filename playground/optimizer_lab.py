"""Optimizer lab (옵티마이저): SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam race on 2-D loss surfaces, then
train LeNet-5 from identical weights while their internal state is drawn over C1's filters.

Storyboard:
1. `settings_view`: a surface (a narrow curved valley, a saddle, a noisy bowl), the number of steps, and each
   optimizer's hyperparameters (learning rate, momentum, ρ, β₁, β₂), starting from rates that suit the surface.
2. `surface_view`: the surface drawn as filled contours, every optimizer's path from one start point (click the
   plot to move it), step by step (the slider, Step) or animated (Play). A path that diverges stops, with why.
3. `lenet_view`: the six optimizers train the same LeNet-5 from the same weights on the same batches; their loss
   curves on one plot, and the chosen optimizer's state over C1's six 5x5 filters, live: momentum's velocity,
   AdaGrad's and RMSprop's accumulators, Adam's first and second moments, and the step each weight took.

Every point on the surfaces is core.surfaces.race moving the very core.optimizers objects that train LeNet-5; the
LeNet-5 runs are one playground.race.Race. Nothing here computes numerics of its own.
"""
import contextlib
import functools
import math
import time
import types

import numpy as np
import panel as pn
from bokeh import events
from bokeh.models import ColumnDataSource, EqHistColorMapper, Range1d
from bokeh.palettes import Greys9
from bokeh.plotting import figure

from core import backprop, datasets, models, optimizers, surfaces
from . import heatmaps, i18n, race, studio, training, urlstate, views

SURFACES = ("rosenbrock", "saddle", "noisy_bowl")             # core.surfaces' names, in the order offered
RACERS = {"SGD": "sgd", "Momentum": "momentum", "Nesterov": "nesterov", "Adagrad": "adagrad",
          "RMSprop": "rmsprop", "Adam": "adam"}              # surfaces' labels -> core.optimizers names
COLOURS = {"SGD": "#7f7f7f", "Momentum": "#1f77b4", "Nesterov": "#17becf", "Adagrad": "#ff7f0e",
           "RMSprop": "#2ca02c", "Adam": "#d62728"}
EXTRA = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999}     # Keras' defaults
GRID = 120                      # contour grid per side
MAX_STEPS = 2000
PLAY_FRAMES = 60                # an animation shows the whole race in about this many ticks
# What of each optimizer's state lives over the weights (core.optimizers' state keys), in the order drawn.
STATE_KEYS = {"sgd": (), "momentum": ("velocity",), "nesterov": ("velocity",), "adagrad": ("accumulator",),
              "rmsprop": ("average",), "adam": ("m", "v")}
SIGNED = {"velocity": True, "accumulator": False, "average": False, "m": True, "v": False}
LENET_BATCH = 32
LIMITS = {"learning_rate": (1e-12, 1e6), "momentum": (0, 0.9999), "rho": (0, 0.9999), "beta_1": (0, 0.9999),
          "beta_2": (0, 0.9999)}                                 # what a link may set (core checks the rest)
SEED = 0


def racer_defaults(surface):
    """Each racer's settings on `surface`: its learning rate there (core.surfaces) and Keras' other defaults."""
    rates = surfaces.SURFACES[surface]["learning_rates"]
    return {label: {"learning_rate": rates[label],
                    **{k: EXTRA[k] for k in training.OPTIMIZER_SETTINGS[name]}} for label, name in RACERS.items()}


def initial_state():
    surface = SURFACES[0]
    return {"surface": surface, "steps": 200, "start": None, "racers": racer_defaults(surface), "shown": 200,
            "result": None, "errors": {}, "playing": False,
            "lenet": {"images": 1500, "train_size": 2000, "race": None, "view": "adam", "message": None}}


# ---------------------------------------------------------------- pure functions (through core)

def build_optimizers(racers):
    """({label: core optimizer}, {label: why it could not be built}) from the racers' settings (core checks
    them: a NaN or empty field, a rate <= 0, a momentum >= 1 are refused by name)."""
    built, errors = {}, {}
    for label, settings in racers.items():
        try:
            built[label] = optimizers.get(RACERS[label], **settings)
        except (ValueError, TypeError) as e:
            errors[label] = str(e)
    return built, errors


def compute(state):
    """The race for the state's surface, start, steps and racers: core.surfaces.race's result and the refusals."""
    built, errors = build_optimizers(state["racers"])
    result = surfaces.race(state["surface"], built, start=state["start"], steps=state["steps"])
    return result, errors


def make_lenet_race(data, settings):
    """The six optimizers (the studio's learning rates) on one LeNet-5 from one seed, over the same digits."""
    x, y = datasets.class_balanced_subset(data["x_train"], data["y_train"], settings["train_size"], seed=SEED)
    x = datasets.pad_to_32(x)
    model = models.lenet5()
    params = model.init(seed=SEED)
    lanes = {name: race.lane(model, params, training.make_optimizer(
        {"optimizer": name, "learning_rate": training.DEFAULT_LR[name], **EXTRA}), x, y, seed=SEED)
        for name in training.OPTIMIZERS}
    return race.Race(lanes, settings["images"], LENET_BATCH)


def state_pictures(ln, layer="C1"):
    """[(state key, (5, 35) mosaic of C1's six filters)] for a lane's optimizer state, then ("step", the step
    each C1 weight took in the last update: core.backprop.update_taken)."""
    pictures = [(key, heatmaps.tiles(ln["opt_state"][key][layer]["kernel"]))
                for key in STATE_KEYS[_name(ln)]]
    step = backprop.update_taken(ln["before"][layer], ln["params"][layer])["kernel"]
    return pictures + [("step", heatmaps.tiles(step))]


def _name(ln):
    opt = ln["optimizer"]
    kind = type(opt).__name__.lower()
    if kind == "sgd" and opt.momentum:
        return "nesterov" if opt.nesterov else "momentum"
    return kind


# ---------------------------------------------------------------- views

def settings_view(state, t, changed):
    """Surface, steps, and a row of hyperparameter fields per racer (changed() on every edit)."""
    w = {"surface": pn.widgets.Select(label=t("opt_surface"), value=state["surface"], width=200,
                                      options={t("surface_" + k): k for k in SURFACES},
                                      css_classes=["opt-surface"]),
         "steps": pn.widgets.IntInput(label=t("opt_steps"), value=state["steps"], start=1, end=MAX_STEPS, width=100,
                                      css_classes=["opt-steps"])}
    fields = {}
    rows = []
    for label, settings in state["racers"].items():
        row = [pn.pane.HTML(f"<b style='color:{COLOURS[label]}'>{label}</b>", width=90)]
        for key, value in settings.items():
            widget = pn.widgets.FloatInput(value=value, width=90, format="0.[000000]",
                                           label=t("learning_rate") if key == "learning_rate" else t(key),
                                           css_classes=[f"opt-{label.lower()}-{key.replace('_', '-')}"])
            fields[(label, key)] = widget
            row.append(widget)
        rows.append(pn.Row(*row))

    def racers():
        return {label: {key: fields[(label, key)].value for key in settings}
                for label, settings in state["racers"].items()}

    def sync():
        """Show the state's settings (a new surface brings its own learning rates)."""
        w["surface"].value, w["steps"].value = state["surface"], state["steps"]
        for (label, key), widget in fields.items():
            widget.value = state["racers"][label][key]

    for widget in [*w.values(), *fields.values()]:
        widget.param.watch(lambda e: changed(), "value")
    panel = pn.Column(pn.Row(w["surface"], w["steps"]), pn.pane.HTML(f"<small>{t('opt_fields_help')}</small>"),
                      *rows, css_classes=["opt-settings"])
    return types.SimpleNamespace(panel=panel, widgets=w, fields=fields, racers=racers, sync=sync)


def surface_view(state, t, set_start, show_step, play):
    """The contour plot with every path, the step slider, Step and Play, and one line per stopped path."""
    fig = figure(width=520, height=440, tools="tap,pan,wheel_zoom,reset", name="opt-surface-plot",
                 css_classes=["opt-surface-plot"], x_range=Range1d(0, 1), y_range=Range1d(0, 1))
    mapper = EqHistColorMapper(palette=tuple(reversed(Greys9))[1:], nan_color="white")
    grid_src = ColumnDataSource({"image": [np.zeros((2, 2))], "x": [0], "y": [0], "dw": [1], "dh": [1]},
                                name="opt-surface-source")
    fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=grid_src, color_mapper=mapper)
    minima = ColumnDataSource({"x": [], "y": []}, name="opt-minima")
    fig.scatter("x", "y", source=minima, marker="star", size=14, color="gold", line_color="black")
    paths = {}
    for label in RACERS:
        src = ColumnDataSource({"x": [], "y": []}, name=f"opt-path-{label.lower()}")
        fig.line("x", "y", source=src, color=COLOURS[label], line_width=2, legend_label=label)
        paths[label] = src
    heads = ColumnDataSource({"x": [], "y": [], "color": []}, name="opt-heads")
    fig.scatter("x", "y", source=heads, color="color", size=9, line_color="black")
    start = ColumnDataSource({"x": [], "y": []}, name="opt-start")
    fig.scatter("x", "y", source=start, marker="circle_cross", size=12, fill_color="white", line_color="black")
    fig.legend.location = "top_left"
    fig.legend.click_policy = "hide"
    w = {"shown": pn.widgets.IntSlider(label=t("opt_shown"), start=0, end=max(1, state["steps"]),
                                       value=state["shown"], width=320, css_classes=["opt-shown"]),
         "step": pn.widgets.Button(label=t("opt_next"), width=80, css_classes=["opt-step"]),
         "play": pn.widgets.Toggle(label=t("opt_play"), value=False, width=80, css_classes=["opt-play"])}
    stops = pn.pane.HTML("", css_classes=["opt-stops"], width=520)
    w["shown"].param.watch(lambda e: show_step(e.new), "value")
    w["step"].on_click(lambda _: show_step(state["shown"] + 1))
    w["play"].param.watch(lambda e: play(e.new), "value")
    fig.on_event(events.Tap, lambda e: set_start(e.x, e.y))

    def draw_surface():
        g = surfaces.grid(state["surface"], n=GRID)
        xmin, xmax, ymin, ymax = g["extent"]
        grid_src.data = {"image": [g["z"]], "x": [xmin], "y": [ymin], "dw": [xmax - xmin], "dh": [ymax - ymin]}
        fig.x_range.update(start=xmin, end=xmax)
        fig.y_range.update(start=ymin, end=ymax)
        mins = surfaces.SURFACES[state["surface"]]["minima"]
        minima.data = {"x": [m[0] for m in mins], "y": [m[1] for m in mins]}
        fig.title.text = t("surface_" + state["surface"])

    def draw_paths():
        """Every path up to the shown step (a path that stopped earlier ends where it stopped)."""
        k = state["shown"]
        hx, hy, hc = [], [], []
        for label, src in paths.items():
            run = state["result"].get(label)
            if run is None:
                src.data = {"x": [], "y": []}
                continue
            p = run["path"][:k + 1]
            src.data = {"x": p[:, 0], "y": p[:, 1]}
            hx.append(float(p[-1, 0]))
            hy.append(float(p[-1, 1]))
            hc.append(COLOURS[label])
        heads.data = {"x": hx, "y": hy, "color": hc}
        first = next(iter(state["result"].values()), None)
        s = first["path"][0] if first is not None else surfaces.SURFACES[state["surface"]]["start"]
        start.data = {"x": [float(s[0])], "y": [float(s[1])]}
        w["shown"].end = max(1, state["steps"])
        if w["shown"].value != k:
            w["shown"].value = k
        lines = [f"<li style='color:{COLOURS[l]}'>{l}: {m}</li>" for l, m in state["errors"].items()]
        lines += [f"<li style='color:{COLOURS[l]}'>{l}: {r['stopped']}</li>" for l, r in state["result"].items()
                  if r["stopped"]]
        lines += [f"<li>{l}: {t('opt_final', loss=r['loss'][min(k, len(r['loss']) - 1)])}</li>"
                  for l, r in state["result"].items()]
        stops.object = f"<ul>{''.join(lines)}</ul>"

    panel = pn.Column(pn.pane.Bokeh(fig), pn.Row(w["shown"], w["step"], w["play"]), stops)
    return types.SimpleNamespace(panel=panel, draw_surface=draw_surface, draw_paths=draw_paths, widgets=w,
                                 figure=fig, stops=stops,
                                 sources={"paths": paths, "heads": heads, "start": start, "surface": grid_src})


def lenet_view(state, t, act, pick):
    """The LeNet-5 race: images and digits, run buttons, every optimizer's loss curve, the state heatmaps."""
    ls = state["lenet"]
    w = {"images": pn.widgets.IntInput(label=t("loss_images"), value=ls["images"], start=LENET_BATCH, step=500,
                                       width=140, css_classes=["opt-lenet-images"]),
         "train_size": pn.widgets.IntInput(label=t("train_size"), value=ls["train_size"], start=100, step=500,
                                           width=140, css_classes=["opt-lenet-train-size"]),
         "view": pn.widgets.Select(label=t("opt_state_of"), value=ls["view"], width=200,
                                   options={t("opt_" + k): k for k in training.OPTIMIZERS},
                                   css_classes=["opt-state-of"])}
    controls = race.controls_view(t, "opt-lenet", act)
    src = ColumnDataSource({"images": [], **{k: [] for k in training.OPTIMIZERS}}, name="opt-lenet-loss-source")
    fig = figure(title=t("opt_lenet_curves"), width=520, height=300, x_axis_label=t("x_images"),
                 y_axis_label=t("curve_loss"), tools="pan,wheel_zoom,reset,hover", name="opt-lenet-loss",
                 css_classes=["opt-lenet-loss"], x_range=Range1d(0, 1), y_range=Range1d(0, 1))   # see fit_ranges
    for name, label in zip(training.OPTIMIZERS, RACERS):
        fig.line("images", name, source=src, color=COLOURS[label], line_width=2, legend_label=t("opt_" + name))
    fig.legend.location = "top_right"
    fig.legend.visible = False
    slots = [heatmaps.heatmap("", f"opt-state-{i}", shape=(5, 35), signed=True) for i in range(3)]
    slot_panes = [pn.pane.Bokeh(h.figure) for h in slots]
    note = pn.pane.HTML("", css_classes=["opt-lenet-note"])
    for key in ("images", "train_size"):
        w[key].param.watch(lambda e, key=key: ls.update({key: e.new}), "value")
    w["view"].param.watch(lambda e: pick(e.new), "value")

    def refresh_curves():
        rc = ls["race"]
        controls.refresh(rc)
        for key in ("images", "train_size"):
            w[key].disabled = rc is not None and rc.status in ("running", "paused")
        if rc is None:
            src.data = {"images": [], **{k: [] for k in training.OPTIMIZERS}}
            views.fit_ranges(fig, [], [])
            return
        longest = max(rc.lanes.values(), key=lambda ln: len(ln["curve"]["images"]))["curve"]["images"]
        src.data = {"images": list(longest), **{k: _padded(ln["curve"]["loss"], len(longest))
                                               for k, ln in rc.lanes.items()}}
        views.fit_ranges(fig, longest, [y for k in rc.lanes for y in src.data[k]])
        stopped = [f"{t('opt_' + k)}: {ln['message']}" for k, ln in rc.lanes.items() if ln["message"]]
        note.object = "<br>".join(stopped)

    def refresh_state():
        rc = ls["race"]
        ln = rc.lanes[ls["view"]] if rc is not None else None
        pictures = state_pictures(ln) if ln is not None and ln["images"] else []
        for i, (h, pane) in enumerate(zip(slots, slot_panes)):
            pane.visible = h.figure.visible = i < len(pictures)
            if i < len(pictures):
                key, picture = pictures[i]
                h.signed = SIGNED.get(key, True)
                heatmaps.show(h, picture, t("opt_" + key))

    panel = pn.Column(pn.pane.HTML(f"<b>{t('opt_lenet_title')}</b><br><small>{t('opt_lenet_help')}</small>"),
                      pn.Row(w["images"], w["train_size"]), controls.panel, note,
                      pn.Row(pn.pane.Bokeh(fig), pn.Column(w["view"], *slot_panes)))
    return types.SimpleNamespace(panel=panel, refresh_curves=refresh_curves, refresh_state=refresh_state,
                                 widgets={**w, **controls.widgets}, source=src, slots=slots, status=controls.status)


def _padded(values, n):
    return list(values) + [math.nan] * (n - len(values))


# ---------------------------------------------------------------- what the page does

def recompute(lab):
    """The race for the current settings (a bad field stops only its own path); show it all, to the last step."""
    state = lab.state
    state["result"], state["errors"] = compute(state)
    state["shown"] = state["steps"]
    lab.views.surface.draw_paths()


def changed(lab):
    """A field was edited: the settings go to the state, the race is run again. A new surface brings its rates."""
    if lab.syncing:
        return
    v, state = lab.views.settings, lab.state
    surface, steps = v.widgets["surface"].value, v.widgets["steps"].value
    if surface != state["surface"]:
        state.update(surface=surface, racers=racer_defaults(surface), start=None)
        with syncing(lab):
            v.sync()
        lab.views.surface.draw_surface()
    else:
        state["racers"] = v.racers()
    if isinstance(steps, int) and 1 <= steps <= MAX_STEPS:
        state["steps"] = steps
    else:
        with syncing(lab):
            v.widgets["steps"].value = state["steps"]
    recompute(lab)


@contextlib.contextmanager
def syncing(lab):
    """While the lab sets its own widgets, their watchers do nothing."""
    lab.syncing = True
    try:
        yield
    finally:
        lab.syncing = False


def set_start(lab, x, y):
    """A click on the plot: the race starts there (inside the plot only)."""
    if x is None or y is None:
        return
    xmin, xmax, ymin, ymax = surfaces.SURFACES[lab.state["surface"]]["extent"]
    if xmin <= x <= xmax and ymin <= y <= ymax:
        lab.state["start"] = [float(x), float(y)]
        recompute(lab)


def show_step(lab, k):
    """Show every path up to step k (clipped to the race)."""
    lab.state["shown"] = max(0, min(int(k), lab.state["steps"]))
    lab.views.surface.draw_paths()


def play(lab, on):
    """Play: from the start (or on from where it is) to the last step, a few steps per tick."""
    state = lab.state
    state["playing"] = on
    if on:
        if state["shown"] >= state["steps"]:
            show_step(lab, 0)
        race.start_ticking(lab, functools.partial(tick, lab))
    elif not running(lab):
        studio.stop_ticking(lab)


def running(lab):
    rc = lab.state["lenet"]["race"]
    return rc is not None and rc.status == "running"


def tick(lab):
    """One tick: the animation moves on; the LeNet-5 race trains a few batches (heatmaps every REFRESH_S)."""
    state = lab.state
    if state["playing"]:
        show_step(lab, state["shown"] + math.ceil(state["steps"] / PLAY_FRAMES))
        if state["shown"] >= state["steps"]:
            lab.views.surface.widgets["play"].value = False      # its watcher ends the animation
    rc = state["lenet"]["race"]
    if rc is not None and rc.status == "running":
        rc.step(rc.batches_per_tick())
        lab.views.lenet.refresh_curves()
        if rc.status != "running" or lab.clock() - lab.last_state > studio.REFRESH_S:
            refresh_state(lab)
    if not state["playing"] and not running(lab):
        studio.stop_ticking(lab)


def refresh_state(lab):
    lab.views.lenet.refresh_state()
    lab.last_state = lab.clock()


def act(lab, method):
    """The LeNet-5 race's buttons: Start (a new race), Pause, Resume, Stop."""
    ls = lab.state["lenet"]
    lab.message.object, lab.message.visible = "", False
    try:
        ls["race"] = race.act(ls["race"], method, lambda: make_lenet_race(lab.data(), ls))
    except (ValueError, FileNotFoundError) as e:
        lab.message.object, lab.message.visible = str(e), True
    if running(lab):
        race.start_ticking(lab, functools.partial(tick, lab))
    lab.views.lenet.refresh_curves()
    refresh_state(lab)


def pick(lab, name):
    lab.state["lenet"]["view"] = name
    refresh_state(lab)


# ---------------------------------------------------------------- the lab

def build(state, lang="en", data=None, autorun=True):
    """The lab over `state` (kept across rebuilds). data: the MNIST subset (training.load_data() when None, read
    when the LeNet-5 race starts). autorun=False: no periodic callbacks (tests call lab.tick())."""
    t = functools.partial(i18n.text, lang)
    lab = types.SimpleNamespace(state=state, lang=lang, autorun=autorun, callback=None, syncing=False,
                                clock=time.perf_counter, last_state=0.0)
    lab.data = (lambda: data) if data is not None else training.load_data
    on = lambda action: functools.partial(action, lab)        # noqa: E731  (an action of this lab)
    lab.message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["opt-message"])
    v = lab.views = types.SimpleNamespace()
    v.settings = settings_view(state, t, on(changed))
    v.surface = surface_view(state, t, on(set_start), on(show_step), on(play))
    v.lenet = lenet_view(state, t, on(act), on(pick))
    v.surface.draw_surface()
    if state["result"] is None:
        state["result"], state["errors"] = compute(state)
    v.surface.draw_paths()
    v.lenet.refresh_curves()
    refresh_state(lab)
    if running(lab):                        # a rebuilt lab (a language switch) takes the LeNet-5 race over
        race.start_ticking(lab, on(tick))

    lab.layout = pn.Column(pn.pane.HTML(f"<p>{t('opt_intro')}</p>"),
                           pn.Row(v.settings.panel, v.surface.panel), lab.message, v.lenet.panel,
                           css_classes=["opt-lab"])
    lab.widgets = {**v.settings.widgets, **v.surface.widgets, **v.lenet.widgets}
    lab.fields, lab.sources = v.settings.fields, v.surface.sources
    lab.tick, lab.act, lab.set_start, lab.show_step = on(tick), on(act), on(set_start), on(show_step)
    lab.leave = on(leave)
    lab.url_state, lab.restore = on(url_state), on(restore)
    return lab


def leave(lab):
    lab.state["playing"] = False
    studio.stop_ticking(lab)


def url_state(lab):
    """The surface, steps, start point and every racer's settings as small JSON-able data."""
    s = lab.state
    return {"surface": s["surface"], "steps": s["steps"], "start": s["start"],
            "racers": {label: dict(settings) for label, settings in s["racers"].items()}}


def restore(lab, given):
    """Apply a URL's settings (playground.urlstate's checks; never raises): the surface first (it brings its own
    rates and start), then the steps, a start point inside the surface, and each racer's fields. Returns the
    (i18n key, values) notices for what was refused."""
    state = lab.state
    checks = {"surface": lambda n, v: urlstate.choice(n, v, SURFACES),
              "steps": lambda n, v: urlstate.number(n, v, 1, MAX_STEPS, integer=True),
              "start": start_check(state, given), "racers": lambda n, v: v}
    values, notices = urlstate.restore_fields(given, checks, url_state(lab))
    if values["surface"] != state["surface"]:
        state.update(racers=racer_defaults(values["surface"]), start=None)
    state.update(surface=values["surface"], steps=values["steps"], start=values["start"])
    racers = given.get("racers", {}) if isinstance(given, dict) else {}
    if not isinstance(racers, dict):
        notices.append(("url_bad_settings", {"why": "racers: expected a JSON object"}))
        racers = {}
    for label, settings in racers.items():
        if label not in state["racers"]:
            notices.append(("url_unknown_key", {"name": urlstate.shown(f"racers.{label}")}))
            continue
        fields = {k: (lambda n, v, lo=LIMITS[k][0], hi=LIMITS[k][1]: urlstate.number(n, v, lo, hi))
                  for k in state["racers"][label]}
        state["racers"][label], more = urlstate.restore_fields(settings, fields, state["racers"][label])
        notices += more
    with syncing(lab):
        lab.views.settings.sync()
    lab.views.surface.draw_surface()
    recompute(lab)
    return notices


def start_check(state, given):
    """The start point's check: None (the surface's own) or [x, y] inside the extent of the surface the link asks
    for (or the current one)."""
    surface = given.get("surface") if isinstance(given, dict) and given.get("surface") in SURFACES else None
    xmin, xmax, ymin, ymax = surfaces.SURFACES[surface or state["surface"]]["extent"]

    def check(name, value):
        if value is None:
            return None
        if not isinstance(value, list) or len(value) != 2:
            raise urlstate.Refused(name, value, "[x, y]")
        return [urlstate.number(name, value[0], xmin, xmax), urlstate.number(name, value[1], ymin, ymax)]
    return check


def room(session, lang):
    """The lab as a room of the page (see app.py): its state lives in the session."""
    return build(vars(session).setdefault("optimizer_state", initial_state()), lang)
