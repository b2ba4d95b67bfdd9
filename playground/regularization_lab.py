"""Regularization lab (규제): overfitting made visible, and what dropout and weight decay do about it.

Storyboard:
1. `settings_view`: a few hundred training digits, the epochs, dropout's rate and where it goes in LeNet-5, the
   weight decay (Keras 3's decoupled `weight_decay=` on the optimizer, AdamW) and the L2 factor (Keras'
   `kernel_regularizer=regularizers.L2(l2)` on every Conv2D and Dense: l2 * sum(w^2) added to the loss).
2. The run buttons: the same LeNet-5 from the same seed trained four times on the same batches: as it is, with
   dropout, with weight decay, with L2.
3. `curves_view`: accuracy on the training digits and on test digits after every few epochs, the runs overlaid:
   without regularization the two curves part (the network memorises its few digits).
   `gap_view`: the gap between training and test accuracy, measured for each run.

The runs are one playground.race.Race; the architectures are the studio's text (studio_arch) with a Dropout line
added; the accuracies are core's Model.evaluate (dropout off). Nothing here computes numerics of its own.
"""
import functools
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from core import datasets, models, optimizers
from . import i18n, race, studio, studio_arch, training, urlstate, views

RUNS = ("plain", "dropout", "decay", "l2")
COLOURS = {"plain": "#7f7f7f", "dropout": "#1f77b4", "decay": "#d62728", "l2": "#2ca02c"}
# Where dropout may go: after this layer of LeNet-5 (the studio's lines), with its label's i18n key.
PLACES = {"S4": "reg_after_s4", "flatten": "reg_after_flatten", "F6": "reg_after_f6"}
LEARNING_RATE = 2e-3                 # Adam (AdamW with weight decay), as the studio trains
BATCH_SIZE = 32
TEST_SIZE = 500                      # class-balanced test digits measured during training
EVALS_PER_RUN = 10                   # points on each accuracy curve (at most one per epoch)
SEED = 0
# 300 digits x 30 epochs x 4 runs = 36,000 images: well under a minute in the browser, and the curves part.
CHECKS = {"train_size": lambda n, v: urlstate.number(n, v, 50, 5000, integer=True),
          "epochs": lambda n, v: urlstate.number(n, v, 1, 200, integer=True),
          "rate": lambda n, v: urlstate.number(n, v, 0, 0.9),
          "place": lambda n, v: urlstate.choice(n, v, tuple(PLACES)),
          "weight_decay": lambda n, v: urlstate.number(n, v, 0, 100),
          "l2": lambda n, v: urlstate.number(n, v, 0, 1)}


def initial_state():
    return {"settings": {"train_size": 300, "epochs": 30, "rate": 0.5, "place": "F6", "weight_decay": 0.5,
                         "l2": 1e-3},
            "race": None, "message": None}


# ---------------------------------------------------------------- pure functions (through core)

def dropout_model(rate, place):
    """LeNet-5 with Dropout(rate) after layer `place`, built from the studio's text (its weights named as
    LeNet-5's, so one init serves every run)."""
    lines = studio_arch.lenet5_text().splitlines()
    at = next(i for i, line in enumerate(lines) if f'name="{place}"' in line) + 1
    return studio_arch.parse("\n".join(lines[:at] + [f'Dropout({rate}, name="dropout")'] + lines[at:]))


def l2_model(l2):
    """LeNet-5 with kernel_regularizer=regularizers.L2(l2) on every Conv2D and Dense: its architecture as plain
    data (get_config), each kernel's regularizer set, built again (core.models.from_config)."""
    config = models.lenet5().get_config()
    for spec in config["layers"]:
        if "kernel_regularizer" in spec["config"]:
            spec["config"]["kernel_regularizer"] = {"l2": l2}
    return models.from_config(config)


def make_race(data, settings):
    """The four runs over the same train_size digits from one seed: plain LeNet-5 with Adam, with dropout, with
    AdamW's decoupled weight decay, with L2 kernel regularizers; each measured on its training digits and
    TEST_SIZE test digits."""
    s = settings
    x, y = datasets.class_balanced_subset(data["x_train"], data["y_train"], s["train_size"], seed=SEED)
    xt, yt = datasets.class_balanced_subset(data["x_test"], data["y_test"], TEST_SIZE, seed=SEED)
    x, xt = datasets.pad_to_32(x), datasets.pad_to_32(xt)
    evals = {"train": (x, y), "test": (xt, yt)}
    plain = models.lenet5()
    params = plain.init(seed=SEED)
    lanes = {"plain": race.lane(plain, params, optimizers.Adam(LEARNING_RATE), x, y, seed=SEED, evals=evals),
             "dropout": race.lane(dropout_model(s["rate"], s["place"]), params, optimizers.Adam(LEARNING_RATE),
                                  x, y, seed=SEED, evals=evals),
             "decay": race.lane(plain, params, optimizers.Adam(LEARNING_RATE, weight_decay=s["weight_decay"]),
                                x, y, seed=SEED, evals=evals),
             "l2": race.lane(l2_model(s["l2"]), params, optimizers.Adam(LEARNING_RATE), x, y, seed=SEED,
                             evals=evals)}
    images = s["train_size"] * s["epochs"]
    return race.Race(lanes, images, BATCH_SIZE, eval_every=max(s["train_size"], images // EVALS_PER_RUN))


def gaps(rc):
    """{run: (training accuracy, test accuracy)} at each run's last measurement (None before the first)."""
    out = {}
    for key, ln in rc.lanes.items():
        train, test = ln["scores"]["train"]["accuracy"], ln["scores"]["test"]["accuracy"]
        out[key] = (train[-1], test[-1]) if train and test else None
    return out


# ---------------------------------------------------------------- views

def settings_view(state, t, configure):
    """Training digits, epochs, dropout rate and place, weight decay, L2 factor (configure(**setting) on each
    edit)."""
    s = state["settings"]
    w = {"train_size": pn.widgets.IntInput(label=t("train_size"), value=s["train_size"], start=50, end=5000,
                                           step=100, width=130, css_classes=["reg-train-size"]),
         "epochs": pn.widgets.IntInput(label=t("epochs"), value=s["epochs"], start=1, end=200, width=100,
                                       css_classes=["reg-epochs"]),
         "rate": pn.widgets.FloatSlider(label=t("reg_rate"), value=s["rate"], start=0.05, end=0.9, step=0.05,
                                        width=200, css_classes=["reg-rate"]),
         "place": pn.widgets.Select(label=t("reg_place"), value=s["place"], width=220,
                                    options={t(key): place for place, key in PLACES.items()},
                                    css_classes=["reg-place"]),
         "weight_decay": pn.widgets.FloatInput(label=t("reg_weight_decay"), value=s["weight_decay"], step=0.1,
                                               start=0, width=150, css_classes=["reg-weight-decay"]),
         "l2": pn.widgets.FloatInput(label=t("reg_l2_factor"), value=s["l2"], step=1e-3, start=0, width=150,
                                     format="0.[00000]", css_classes=["reg-l2"])}
    for key, widget in w.items():
        widget.param.watch(lambda e, key=key: configure(**{key: e.new}), "value")

    def sync():
        for key, widget in w.items():
            if widget.value != state["settings"][key]:
                widget.value = state["settings"][key]

    panel = pn.Column(pn.Row(w["train_size"], w["epochs"]), pn.Row(w["rate"], w["place"]),
                      pn.Row(w["weight_decay"], w["l2"]))
    return types.SimpleNamespace(panel=panel, widgets=w, sync=sync)


def curves_view(state, t):
    """Training accuracy (solid) and test accuracy (dashed) of the runs against images seen."""
    fig = figure(title=t("reg_curves_title"), width=560, height=320, x_axis_label=t("x_images"),
                 y_axis_label=t("curve_acc"), x_range=Range1d(0, 1), y_range=Range1d(0, 1.02),   # see fit_ranges
                 tools="pan,wheel_zoom,reset,hover", name="reg-curves", css_classes=["reg-curves"])
    sources = {}
    for run in RUNS:
        for split, dash in (("train", "solid"), ("test", "dashed")):
            src = ColumnDataSource({"x": [], "y": []}, name=f"reg-{run}-{split}")
            fig.line("x", "y", source=src, color=COLOURS[run], line_dash=dash, line_width=2,
                     legend_label=f"{t('reg_' + run)} ({t('legend_' + ('val' if split == 'test' else 'train'))})")
            sources[(run, split)] = src
    fig.legend.location = "bottom_right"
    fig.legend.label_text_font_size = "8pt"
    fig.legend.visible = False

    def refresh():
        rc = state["race"]
        for (run, split), src in sources.items():
            s = rc.lanes[run]["scores"][split] if rc is not None else {"images": [], "accuracy": []}
            src.data = {"x": list(s["images"]), "y": list(s["accuracy"])}
        views.fit_ranges(fig, [x for src in sources.values() for x in src.data["x"]])     # y: 0..1.02 always

    return types.SimpleNamespace(panel=pn.pane.Bokeh(fig), refresh=refresh, figure=fig, sources=sources)


def gap_view(state, t):
    """A row per run: training accuracy, test accuracy and the gap between them (or why the run stopped)."""
    table = pn.pane.HTML("", css_classes=["reg-gaps"], stylesheets=[studio.CONFUSION_CSS])

    def refresh():
        rc = state["race"]
        if rc is None:
            table.object = f"<i>{t('reg_gaps_empty')}</i>"
            return
        head = "".join(f"<th>{t(k)}</th>" for k in ("reg_run", "reg_train_acc", "reg_test_acc", "reg_gap"))
        rows = []
        for run, got in gaps(rc).items():
            ln = rc.lanes[run]
            name = f"<th style='color:{COLOURS[run]}'>{t('reg_' + run)}</th>"
            if ln["message"] or got is None:
                rows.append(f"<tr>{name}<td colspan=3>{ln['message'] or t('reg_gaps_empty')}</td></tr>")
                continue
            train, test = got
            rows.append(f"<tr>{name}<td>{train:.1%}</td><td>{test:.1%}</td><td><b>{train - test:+.1%}</b></td></tr>")
        table.object = f"<table class='confusion'><tr>{head}</tr>{''.join(rows)}</table>"

    return types.SimpleNamespace(panel=table, refresh=refresh, table=table)


# ---------------------------------------------------------------- what the page does

def configure(lab, **settings):
    """New settings: they apply to the next Start (a run in progress keeps its own). Bad ones are put back."""
    s = lab.state["settings"]
    for key, value in settings.items():
        try:
            s[key] = CHECKS[key](key, value)
        except urlstate.Refused as e:
            key, values = e.notice
            lab.message.object, lab.message.visible = i18n.text(lab.lang, key, **values), True
            lab.views.settings.sync()
            return


def act(lab, method):
    """Start (new runs from the settings), Pause, Resume, Stop; the ticks follow the status."""
    state = lab.state
    lab.message.object, lab.message.visible = "", False
    try:
        state["race"] = race.act(state["race"], method, lambda: make_race(lab.data(), state["settings"]))
    except (ValueError, FileNotFoundError) as e:
        lab.message.object, lab.message.visible = str(e), True
    follow(lab)


def follow(lab):
    rc = lab.state["race"]
    if rc is not None and rc.status == "running":
        race.start_ticking(lab, functools.partial(tick, lab))
    else:
        studio.stop_ticking(lab)
    show(lab)


def tick(lab):
    rc = lab.state["race"]
    if rc.status == "running":
        rc.step(rc.batches_per_tick())
    if rc.status != "running":
        studio.stop_ticking(lab)
    show(lab)


def show(lab):
    lab.controls.refresh(lab.state["race"])
    busy = lab.state["race"] is not None and lab.state["race"].status in ("running", "paused")
    for widget in lab.views.settings.widgets.values():
        widget.disabled = busy
    lab.views.curves.refresh()
    lab.views.gaps.refresh()


# ---------------------------------------------------------------- the lab

def build(state, lang="en", data=None, autorun=True):
    """The lab over `state` (kept across rebuilds). data: the MNIST subset (training.load_data() when None, read
    at Start). autorun=False: no periodic callbacks (tests call lab.tick())."""
    t = functools.partial(i18n.text, lang)
    lab = types.SimpleNamespace(state=state, lang=lang, autorun=autorun, callback=None)
    lab.data = (lambda: data) if data is not None else training.load_data
    lab.message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["reg-message"])
    v = lab.views = types.SimpleNamespace(settings=settings_view(state, t, functools.partial(configure, lab)),
                                          curves=curves_view(state, t), gaps=gap_view(state, t))
    lab.controls = race.controls_view(t, "reg", functools.partial(act, lab))
    follow(lab)                             # a rebuilt lab (a language switch) takes a run in progress over

    lab.layout = pn.Column(pn.pane.HTML(f"<p>{t('reg_intro')}</p>"),
                           pn.Row(pn.Column(v.settings.panel, lab.controls.panel, lab.message, width=460),
                                  pn.Column(v.curves.panel, v.gaps.panel)), css_classes=["reg-lab"])
    lab.widgets = {**v.settings.widgets, **lab.controls.widgets}
    lab.sources = v.curves.sources
    lab.act, lab.tick = functools.partial(act, lab), functools.partial(tick, lab)
    lab.leave = functools.partial(studio.stop_ticking, lab)
    lab.url_state = lambda: dict(state["settings"])
    lab.restore = functools.partial(restore, lab)
    return lab


def restore(lab, given):
    """Apply a URL's settings (playground.urlstate's checks; never raises); returns the refusals' notices."""
    settings, notices = urlstate.restore_fields(given, CHECKS, lab.state["settings"])
    lab.state["settings"].update(settings)
    lab.views.settings.sync()
    return notices


def room(session, lang):
    """The lab as a room of the page (see app.py): its state lives in the session."""
    return build(vars(session).setdefault("regularization_state", initial_state()), lang)
