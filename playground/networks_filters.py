"""Networks tab, section 2: designed filters against learned ones (사람이 설계한 필터 vs 학습한 필터).

Before CNNs people designed their filters (Gaussian, Sobel, Laplacian...); a CNN learns the filters that suit its
data ("최적의 필터를 학습"). From one seed, LeNet-5 trains three times: C1 set to designed kernels and frozen
(trainable=False), C1 started from the same kernels and trained, and C1 learned from random weights. After each
epoch: the test accuracy of each, and every C1 filter beside the designed kernel nearest to it, with the distance.
The kernels, the freezing, the distances and the accuracies are core's (core/filters.py, core/compare.py).
"""
import html
import types

import numpy as np
import panel as pn

from core import compare, filters, models
from . import networks_run, networks_views
from .studio import set_tiles, tile_plot
from .visual import mosaic

CSS = "nets-filters"
TITLE, INTRO = "nets_filters_title", "nets_filters_intro"
SETTINGS = {"starts": ("choices", filters.STARTS, filters.STARTS), "train_size": ("int", 2000, 100, 10000),
            "epochs": ("int", 3, 1, 20), "learning_rate": ("float", 2e-3, 1e-5, 10.0)}
LABELS = {"starts": "nets_filters_starts", "train_size": "train_size", "epochs": "epochs",
          "learning_rate": "learning_rate"}
# the page's name for each start: the designed kernels as the convolution lab names them, and a random one
OPTIONS = dict({name: f"f_{name}" for name in filters.DESIGNED}, random="f_random")
RUNS = ("frozen", "designed", "learned")       # C1: designed and frozen, designed then trained, learned from random
TEST_SIZE = 500
BATCH_SIZE = 32
SEED = 0
TILE_PX = 56


# ---------------------------------------------------------------- the experiment

def starting_points(settings):
    """(model, params) per run, all from one seed: only C1 and whether it trains differ."""
    lenet = models.lenet5()
    random_start = lenet.init(SEED)
    designed = compare.designed_c1(random_start, settings["starts"], seed=SEED)
    return {"frozen": (compare.frozen(lenet, ["C1"]), designed), "designed": (lenet, designed),
            "learned": (lenet, random_start)}


def experiment(data, settings, results):
    """Train the three runs in turn; after each epoch record the test accuracy and C1 against the designed kernels.

    results: {"runs": {run: {"run", "accuracy": [per epoch], "c1": [compare.c1_against_designed per epoch, the
    start first], "kernels": [C1 kernel per epoch, the start first]}}, "stage"}."""
    x, y = data.train(settings["train_size"])
    xt, yt = data.test(TEST_SIZE)
    results["runs"] = {}
    for name, (model, params) in starting_points(settings).items():
        run = networks_run.new_run(model, params, x, y, learning_rate=settings["learning_rate"],
                                   batch_size=BATCH_SIZE, seed=SEED)
        entry = results["runs"][name] = {"run": run, "accuracy": [], "kernels": [params["C1"]["kernel"]],
                                         "c1": [compare.c1_against_designed(params["C1"]["kernel"])]}
        for e in range(settings["epochs"]):
            results["stage"] = ("nets_stage_train", {"model": name, "epoch": e + 1, "epochs": settings["epochs"]})
            yield from networks_run.epoch(run)
            kernel = run["params"]["C1"]["kernel"]
            entry["accuracy"].append(model.evaluate(run["params"], xt, yt)[1])
            entry["kernels"].append(kernel)
            entry["c1"].append(compare.c1_against_designed(kernel))
            yield
    results["stage"] = ("nets_stage_done", {})


# ---------------------------------------------------------------- views

def nearest_html(entry, t):
    """Per filter: its nearest designed kernel (sign and name) and the distance at the start and after each epoch."""
    epochs = len(entry["c1"])
    head = f"<th>{t('nets_col_filter')}</th><th>{t('nets_col_nearest')}</th>" + "".join(
        f"<th>{t('nets_col_epoch', e=e)}</th>" for e in range(epochs))
    rows = []
    for i in range(len(entry["c1"][0])):
        last = entry["c1"][-1][i]
        nearest = ("−" if last["sign"] < 0 else "") + t(OPTIONS[last["name"]])
        cells = "".join(f"<td>{entry['c1'][e][i]['distance']:.2f}</td>" for e in range(epochs))
        rows.append(f"<tr><td>{i + 1}</td><td>{html.escape(nearest)}</td>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def results_view(section, t, data):
    """Accuracy per epoch of the three runs; C1's filters of each run (first row: where they started) beside the
    designed kernels nearest to the learned ones; the distance table per run."""
    names = [t(f"model_{r}") for r in RUNS]
    acc_fig, acc_src = networks_views.lines_figure(t("nets_filters_acc_title"), t("epochs"), t("curve_acc"),
                                                   f"{CSS}-accuracy", RUNS, names, y_range=(0, 1))
    tiles_fig, tiles_src = tile_plot(np.full((17, 35), np.nan), t("nets_filters_tiles"), f"{CSS}-tiles",
                                     width=6 * TILE_PX)
    table = pn.pane.HTML("", css_classes=[f"{CSS}-table"], stylesheets=[networks_views.TABLE_CSS])
    which = pn.widgets.RadioButtonGroup(options={names[1]: "designed", names[2]: "learned"}, value="learned",
                                        css_classes=[f"{CSS}-which"])

    def refresh():
        runs = section.experiment.results.get("runs", {})
        curves = {r: runs[r]["accuracy"] if r in runs else [] for r in RUNS}
        networks_views.show_lines(acc_fig, acc_src, {r: {"x": list(range(1, len(acc) + 1)), "y": acc}
                                                     for r, acc in curves.items()}, fixed_y=True)
        entry = runs.get(which.value)
        if entry is None:
            table.object = f"<i>{t('nets_filters_empty')}</i>"
            return
        start, now = entry["kernels"][0][:, :, 0, :], entry["kernels"][-1][:, :, 0, :]
        nearest = np.stack([n["kernel"] for n in entry["c1"][-1]])
        rows = np.concatenate([np.moveaxis(start, -1, 0), np.moveaxis(now, -1, 0), nearest])
        set_tiles(tiles_fig, tiles_src, mosaic(rows, cols=start.shape[-1]), 6 * TILE_PX)
        table.object = nearest_html(entry, t)

    which.param.watch(lambda event: refresh(), "value")
    panel = pn.Column(pn.Row(pn.pane.Bokeh(acc_fig),
                             pn.Column(which, pn.pane.HTML(f"<small>{t('nets_filters_rows')}</small>"),
                                       pn.pane.Bokeh(tiles_fig))), table)
    return types.SimpleNamespace(panel=panel, refresh=refresh, table=table, widgets={"which": which},
                                 sources={**{f"acc_{r}": s for r, s in acc_src.items()}, "tiles": tiles_src})
