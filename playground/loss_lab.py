"""Loss lab (손실 함수): MSE, cross-entropy and focal loss side by side, then trained against each other.

Storyboard:
1. `curves_view`: each loss and its gradient with respect to the true class's logit, against the probability the
   network gives the true class (core.losses.curve), focal's γ and α on sliders. Where the network is badly wrong
   (p near 0) MSE on the softmax saturates, its gradient near 0, while cross-entropy's stays near -1.
2. `race_view`: the same LeNet-5 from the same seed trained with each loss on balanced MNIST and on imbalanced
   MNIST (the studio's "keep 10% of digits 5-9"), for the same number of images each; start / pause / stop.
3. `recall_view`: each run's per-class recall on the test digits, side by side, so what focal loss does for the
   rare digits is measured, not claimed.

The six runs are one playground.race.Race, a few batches per tick (the page stays responsive); the recall is
core.metrics' over core's predictions. `room(session, lang)` builds the tab; its state lives in the session.
"""
import functools
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from core import datasets, losses, metrics, models, optimizers
from . import i18n, race, studio, training, urlstate

LOSSES = training.LOSSES                       # categorical_crossentropy, mse, focal: the studio's choice
DATASETS = ("balanced", "imbalanced")
COLOURS = {"categorical_crossentropy": "#1f77b4", "mse": "#d62728", "focal": "#2ca02c"}
P_TRUE = np.linspace(0.01, 0.99, 99)           # the probabilities the curves are drawn at
LEARNING_RATE = 2e-3                           # Adam, as the studio trains
TEST_SIZE = 1000                               # class-balanced test digits for the recall (100 per digit)
BATCH_SIZE = 32
SEED = 0
# Six runs of 6,000 images (36,000 in all) take about 40 s in the browser at the studio's ~1,000 images/s.
CHECKS = {"gamma": lambda n, v: urlstate.number(n, v, 0, 5), "alpha": lambda n, v: urlstate.number(n, v, 0.05, 1),
          "images": lambda n, v: urlstate.number(n, v, BATCH_SIZE, 60_000, integer=True),
          "train_size": lambda n, v: urlstate.number(n, v, 100, 10_000, integer=True)}   # what a link may set


RECALL_CSS = "th.rare { color: #b00; }"      # the rare digits' column heads


def initial_state():
    return {"settings": {"gamma": 2.0, "alpha": 0.25, "images": 6000, "train_size": 3000},
            "race": None, "test_set": None, "recall": {}, "message": None}


def lane_key(loss, dataset):
    return f"{loss}_{dataset}"


# ---------------------------------------------------------------- pure functions (through core)

def focal_kwargs(settings):
    return {"gamma": settings["gamma"], "alpha": settings["alpha"]}


def curves(settings):
    """{loss: core.losses.curve(...)} at P_TRUE: loss and d loss / d true logit for MSE, cross-entropy and focal."""
    return {name: losses.curve(name, P_TRUE, **(focal_kwargs(settings) if name == "focal" else {}))
            for name in LOSSES}


def make_race(data, settings):
    """Six lanes, one LeNet-5 from one seed: each loss on a class-balanced subset of train_size digits, and on the
    same subset with 90% of the digits 5-9 dropped (core.datasets.imbalanced_subset)."""
    x, y = datasets.class_balanced_subset(data["x_train"], data["y_train"], settings["train_size"], seed=SEED)
    xi, yi = datasets.imbalanced_subset(x, y, training.MINORITY, training.KEEP, seed=SEED)
    sets = {"balanced": (datasets.pad_to_32(x), y), "imbalanced": (datasets.pad_to_32(xi), yi)}
    model = models.lenet5()
    params = model.init(seed=SEED)
    lanes = {lane_key(loss, ds): race.lane(model, params, optimizers.Adam(LEARNING_RATE), *sets[ds], loss=loss,
                                           seed=SEED, **(focal_kwargs(settings) if loss == "focal" else {}))
             for loss in LOSSES for ds in DATASETS}
    return race.Race(lanes, settings["images"], BATCH_SIZE)


def lane_recall(ln, x_test, y_test):
    """{"recall": (10,) per-class recall, "accuracy"} of a lane's params on the test digits (core.metrics)."""
    pred = ln["model"].predict(ln["params"], x_test).argmax(axis=1)
    cm = metrics.confusion_matrix(y_test, pred, 10)
    return {"recall": np.nan_to_num(metrics.per_class_recall(cm)), "accuracy": metrics.accuracy(y_test, pred)}


# ---------------------------------------------------------------- text

def saturation_note(c, t):
    """The lecture's point, with core's numbers at the worst probability drawn."""
    return t("loss_saturation", p=P_TRUE[0], mse=c["mse"]["dlogit_true"][0],
             ce=c["categorical_crossentropy"]["dlogit_true"][0])


def recall_html(state, t):
    """One row per run (loss x data set): per-digit recall (rare digits marked), accuracy; progress while training."""
    rc = state["race"]
    head = ("<tr><th></th><th></th>" + "".join(
        f"<th{' class=rare' if d in training.MINORITY else ''}>{d}</th>" for d in range(10))
        + f"<th>{t('loss_rare_mean')}</th><th>{t('curve_acc')}</th></tr>")
    rows = []
    for loss in LOSSES:
        for ds in DATASETS:
            key = lane_key(loss, ds)
            got = state["recall"].get(key)
            label = f"<th>{t('loss_' + loss)}</th><td>{t('loss_' + ds)}</td>"
            if got is None:
                ln = rc.lanes[key] if rc else None
                note = (ln["message"] if ln and ln["message"] else
                        t("loss_images_seen", images=ln["images"]) if ln else "")
                rows.append(f"<tr>{label}<td colspan=12>{note}</td></tr>")
                continue
            cells = "".join(f"<td style='background: rgba(40,160,60,{r:.2f})'>{r:.0%}</td>" for r in got["recall"])
            rare = got["recall"][list(training.MINORITY)].mean()
            rows.append(f"<tr>{label}{cells}<td><b>{rare:.1%}</b></td><td>{got['accuracy']:.1%}</td></tr>")
    return f"<table class='confusion loss-recall-table'>{head}{''.join(rows)}</table>"


# ---------------------------------------------------------------- views

def curves_view(state, t, changed):
    """γ and α sliders; the loss and its gradient against p_true, one line per loss; the saturation note."""
    s = state["settings"]
    w = {"gamma": pn.widgets.FloatSlider(label=t("gamma"), start=0, end=5, step=0.5, value=s["gamma"],
                                         css_classes=["loss-gamma"], width=220),
         "alpha": pn.widgets.FloatSlider(label=t("loss_alpha"), start=0.05, end=1, step=0.05, value=s["alpha"],
                                         css_classes=["loss-alpha"], width=220)}
    src = ColumnDataSource({"p": P_TRUE}, name="loss-curves-source")
    figs = {}
    for kind, css, title, y_label in (("loss", "loss-curve-plot", t("loss_curve_title"), t("curve_loss")),
                                      ("dlogit_true", "loss-grad-plot", t("loss_grad_title"), t("loss_grad_axis"))):
        fig = figure(title=title, width=420, height=300, x_axis_label=t("loss_p_axis"), y_axis_label=y_label,
                     x_range=Range1d(0, 1), tools="pan,wheel_zoom,reset,hover", name=css, css_classes=[css])
        fig.hover.tooltips = [("p", "@p{0.00}"), (t("value"), "$y{0.0000}")]
        for name in LOSSES:
            fig.line("p", f"{name}_{kind}", source=src, color=COLOURS[name], line_width=2,
                     legend_label=t("loss_" + name))
        fig.legend.location = "top_right" if kind == "loss" else "bottom_right"
        figs[kind] = fig
    note = pn.pane.HTML("", css_classes=["loss-note"], width=840)

    def refresh():
        c = curves(state["settings"])
        src.data = {"p": P_TRUE, **{f"{n}_{k}": c[n][k] for n in LOSSES for k in ("loss", "dlogit_true")}}
        note.object = saturation_note(c, t)

    for key, widget in w.items():
        widget.param.watch(lambda e, key=key: changed(**{key: e.new}), "value")
    panel = pn.Column(pn.Row(w["gamma"], w["alpha"]), pn.Row(pn.pane.Bokeh(figs["loss"]),
                                                             pn.pane.Bokeh(figs["dlogit_true"])), note)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, source=src, figures=figs)


def race_view(state, t, act, configure):
    """Images per run and training digits, the run buttons, progress and status."""
    s = state["settings"]
    w = {"images": pn.widgets.IntInput(label=t("loss_images"), value=s["images"], step=1000, start=BATCH_SIZE,
                                       width=150, css_classes=["loss-images"]),
         "train_size": pn.widgets.IntInput(label=t("train_size"), value=s["train_size"], step=500, start=100,
                                           width=150, css_classes=["loss-train-size"])}
    controls = race.controls_view(t, "loss", act)
    for key, widget in w.items():
        widget.param.watch(lambda e, key=key: configure(**{key: e.new}), "value")

    def refresh():
        controls.refresh(state["race"])
        for widget in w.values():
            widget.disabled = state["race"] is not None and state["race"].status in ("running", "paused")

    panel = pn.Column(pn.pane.HTML(f"<b>{t('loss_race_title')}</b><br><small>{t('loss_race_help')}</small>"),
                      pn.Row(w["images"], w["train_size"]), controls.panel)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets={**w, **controls.widgets},
                                 status=controls.status)


def recall_view(state, t):
    """The per-class recall table, and the same numbers as one line per run over the ten digits."""
    table = pn.pane.HTML("", css_classes=["loss-recall"], stylesheets=[studio.CONFUSION_CSS + RECALL_CSS])
    digits = [str(d) for d in range(10)]
    src = ColumnDataSource({"digit": digits, **{lane_key(l, d): [np.nan] * 10 for l in LOSSES for d in DATASETS}},
                           name="loss-recall-source")
    fig = figure(title=t("loss_recall_title"), x_range=digits, y_range=Range1d(0, 1.05), width=520, height=280,
                 tools="hover", name="loss-recall-plot", css_classes=["loss-recall-plot"])
    fig.hover.tooltips = [(t("recall"), "$y{0%}")]
    for loss in LOSSES:
        for ds in DATASETS:
            fig.line("digit", lane_key(loss, ds), source=src, color=COLOURS[loss], line_width=2,
                     line_dash="solid" if ds == "imbalanced" else "dashed",
                     legend_label=f"{t('loss_' + loss)}, {t('loss_' + ds)}")
    fig.legend.location = "bottom_left"
    fig.legend.label_text_font_size = "8pt"

    def refresh():
        table.object = recall_html(state, t)
        src.data = {"digit": digits, **{k: state["recall"][k]["recall"].tolist() if k in state["recall"] else
                                        [np.nan] * 10 for k in (lane_key(l, d) for l in LOSSES for d in DATASETS)}}

    return types.SimpleNamespace(panel=pn.Row(table, pn.pane.Bokeh(fig)), refresh=refresh, table=table, source=src,
                                 figure=fig)


# ---------------------------------------------------------------- what the page does

def configure(lab, **settings):
    """New curve or race settings; a race in progress keeps its own (they apply to the next Start)."""
    lab.state["settings"].update(settings)
    lab.views.curves.refresh()


def act(lab, method):
    """Start (a new race from the current settings), pause, resume or stop; the ticks follow the status."""
    state = lab.state
    state["message"] = None
    try:
        state["race"] = race.act(state["race"], method, functools.partial(new_race, lab))
    except (ValueError, FileNotFoundError) as e:
        state["message"] = str(e)
    follow(lab)


def new_race(lab):
    """The six runs from the settings, and the test digits their recall is measured on."""
    data = lab.data()
    rc = make_race(data, lab.state["settings"])
    xt, yt = datasets.class_balanced_subset(data["x_test"], data["y_test"], TEST_SIZE, seed=SEED)
    lab.state.update(recall={}, test_set=(datasets.pad_to_32(xt), yt))
    return rc


def unscored(state):
    """The runs of a finished race whose recall is still to be measured."""
    rc = state["race"]
    if rc is None or rc.status not in ("done", "stopped"):
        return []
    return [k for k, ln in rc.lanes.items() if k not in state["recall"] and ln["images"]]


def follow(lab):
    """Tick while the race runs or its recall is being measured; show everything."""
    rc = lab.state["race"]
    if rc is not None and (rc.status == "running" or unscored(lab.state)):
        race.start_ticking(lab, functools.partial(tick, lab))
    else:
        studio.stop_ticking(lab)
    show(lab)


def tick(lab):
    """A few batches; when the race is over, one run's recall per tick (each is a pass over the test digits)."""
    state = lab.state
    rc = state["race"]
    if rc.status == "running":
        rc.step(rc.batches_per_tick())
    todo = unscored(state)
    if todo:
        state["recall"][todo[0]] = lane_recall(rc.lanes[todo[0]], *state["test_set"])
    if rc.status != "running" and len(todo) <= 1:
        studio.stop_ticking(lab)
    show(lab)


def show(lab):
    v = lab.views
    v.race.refresh()
    v.recall.refresh()
    lab.message.object = lab.state["message"] or ""
    lab.message.visible = bool(lab.state["message"])


# ---------------------------------------------------------------- the lab

def build(state, lang="en", data=None, autorun=True):
    """The lab over `state` (kept across rebuilds). data: the MNIST subset (training.load_data() when None, read
    on the first Start). autorun=False: no periodic callbacks (tests call lab.tick())."""
    t = functools.partial(i18n.text, lang)
    lab = types.SimpleNamespace(state=state, lang=lang, autorun=autorun, callback=None)
    lab.data = (lambda: data) if data is not None else training.load_data
    lab.message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["loss-message"])
    v = lab.views = types.SimpleNamespace()
    v.curves = curves_view(state, t, functools.partial(configure, lab))
    v.race = race_view(state, t, functools.partial(act, lab), functools.partial(configure, lab))
    v.recall = recall_view(state, t)
    v.curves.refresh()
    follow(lab)                            # a rebuilt lab (a language switch) takes a race in progress over

    lab.layout = pn.Column(pn.pane.HTML(f"<p>{t('loss_intro')}</p>"), v.curves.panel, v.race.panel, lab.message,
                           v.recall.panel, css_classes=["loss-lab"])
    lab.widgets = {**v.curves.widgets, **v.race.widgets}
    lab.sources = {"curves": v.curves.source, "recall": v.recall.source}
    lab.act, lab.tick = functools.partial(act, lab), functools.partial(tick, lab)
    lab.leave = functools.partial(studio.stop_ticking, lab)
    lab.url_state = lambda: dict(state["settings"])
    lab.restore = functools.partial(restore, lab)
    return lab


def restore(lab, given):
    """Apply settings from a URL (playground.urlstate's checks); returns the (i18n key, values) notices for what
    was refused. Never raises."""
    settings, notices = urlstate.restore_fields(given, CHECKS, lab.state["settings"])
    for key, value in settings.items():
        if key in lab.widgets and lab.widgets[key].value != value:
            lab.widgets[key].value = value            # its watcher configures the lab
    lab.state["settings"].update(settings)
    lab.views.curves.refresh()
    return notices


def room(session, lang):
    """The lab as a room of the page (see app.py)."""
    return build(vars(session).setdefault("loss_state", initial_state()), lang)
