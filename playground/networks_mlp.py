"""Networks tab, section 1: the multilayer perceptron against LeNet-5 (다층 퍼셉트론 vs 컨볼루션 신경망).

Both train on the same digits; then the test digits are moved 1-4 pixels and each model is tested again. The MLP
saw a flattened image, so a digit one pixel to the right is a different input to it; LeNet-5's filters slide over
the image and its pooling forgives small moves. Beside it, the lecture's arithmetic: a 256x256x3 photo is 196,608
inputs for a dense layer. All numbers come from core (core/compare.py, core/models.py); this module shows them.
"""
import html
import types

import numpy as np
import panel as pn

from core import compare, models
from . import networks_run, networks_views
from .studio import set_tiles, tile_plot
from .visual import mosaic

CSS = "nets-mlp"
TITLE, INTRO = "nets_mlp_title", "nets_mlp_intro"
SETTINGS = {"train_size": ("int", 2000, 100, 10000), "epochs": ("int", 3, 1, 20),
            "learning_rate": ("float", 2e-3, 1e-5, 10.0)}
LABELS = {"train_size": "train_size", "epochs": "epochs", "learning_rate": "learning_rate"}
MODELS = ("mlp", "cnn")
SHIFTS = (0, 1, 2, 3, 4)
TEST_SIZE = 500           # test digits, class-balanced, tried at every shift (x5 shifts x4 directions per model)
BATCH_SIZE = 32
SEED = 0


# ---------------------------------------------------------------- the experiment (core calls, a piece per yield)

def build(name):
    return compare.mlp() if name == "mlp" else models.lenet5()


def experiment(data, settings, results):
    """Train the MLP, then LeNet-5, on the same train_size digits; then test both on digits moved 0-4 pixels.

    results: {"models": {name: {"weights", "run", "shifted": [accuracy per SHIFTS]}}, "stage": (key, values)}."""
    x, y = data.train(settings["train_size"])
    xt, yt = data.test(TEST_SIZE)
    results["models"] = {}
    for name in MODELS:
        model = build(name)
        run = networks_run.new_run(model, model.init(SEED), x, y, learning_rate=settings["learning_rate"],
                                   batch_size=BATCH_SIZE, seed=SEED)
        entry = results["models"][name] = {"weights": model.count_params(), "run": run, "shifted": []}
        for e in range(settings["epochs"]):
            results["stage"] = ("nets_stage_train", {"model": name, "epoch": e + 1, "epochs": settings["epochs"]})
            yield from networks_run.epoch(run)
        for k in SHIFTS:
            results["stage"] = ("nets_stage_shift", {"model": name, "k": k})
            yield
            entry["shifted"].append(compare.accuracy_shifted(model, run["params"], xt, yt, k))
    results["stage"] = ("nets_stage_done", {})


# ---------------------------------------------------------------- views

def arithmetic_view(t):
    """The lecture's 196,608 inputs: a dense layer on a 256x256x3 photo against a 3x3 Conv2D (core.compare)."""
    a = compare.input_arithmetic()
    return pn.pane.HTML(t("nets_mlp_arith", inputs=a["inputs"], dense=a["dense_params"], conv=a["conv_params"],
                          ratio=a["ratio"]), css_classes=[f"{CSS}-arithmetic"], width=420)


def shifted_view(data, t):
    """One test digit moved 0-4 pixels to the right, as the models are tested (core.compare.shift)."""
    digit = data.test(TEST_SIZE)[0][:1]
    tiles = np.concatenate([compare.shift(digit, 0, k)[..., 0] for k in SHIFTS])
    fig, source = tile_plot(np.zeros((32, 32)), t("nets_mlp_shifted"), f"{CSS}-shifted", width=300)
    set_tiles(fig, source, mosaic(tiles, cols=len(SHIFTS), scale_each=False), 300)
    return pn.pane.Bokeh(fig)


def results_view(section, t, data):
    """The table (weights, accuracy at each shift) and accuracy against shift, both models; their training loss."""
    table = pn.pane.HTML("", css_classes=[f"{CSS}-table"], stylesheets=[networks_views.TABLE_CSS])
    names = [t(f"model_{m}") for m in MODELS]
    shift_fig, shift_src = networks_views.lines_figure(t("nets_mlp_shift_title"), t("nets_mlp_shift_x"),
                                                       t("curve_acc"), f"{CSS}-shift", MODELS, names, y_range=(0, 1))
    loss_fig, loss_src = networks_views.lines_figure(t("curve_loss"), t("x_images"), t("curve_loss"),
                                                     f"{CSS}-loss", MODELS, names)

    def refresh():
        done = section.experiment.results.get("models", {})
        head = "".join(f"<th>{t(k)}</th>" for k in ("nets_col_model", "nets_col_weights")) + "".join(
            f"<th>{t('nets_col_shift', k=k)}</th>" for k in SHIFTS)
        rows, shifts, losses = [], {}, {}
        for m in MODELS:
            entry = done.get(m)
            shifted = entry["shifted"] if entry else []
            cells = "".join(f"<td>{a:.1%}</td>" for a in shifted) + "<td>–</td>" * (len(SHIFTS) - len(shifted))
            weights = f"{entry['weights']:,}" if entry else f"{build(m).count_params():,}"
            rows.append(f"<tr><td>{html.escape(t(f'model_{m}'))}</td><td>{weights}</td>{cells}</tr>")
            shifts[m] = {"x": list(SHIFTS[:len(shifted)]), "y": shifted}
            curve = entry["run"]["curve"] if entry else {"images": [], "loss": []}
            losses[m] = {"x": curve["images"], "y": curve["loss"]}
        networks_views.show_lines(shift_fig, shift_src, shifts, fixed_y=True)
        networks_views.show_lines(loss_fig, loss_src, losses)
        table.object = f"<table><tr>{head}</tr>{''.join(rows)}</table>"

    arithmetic = arithmetic_view(t)
    panel = pn.Column(pn.Row(arithmetic, shifted_view(data, t)), table,
                      pn.Row(pn.pane.Bokeh(shift_fig), pn.pane.Bokeh(loss_fig)))
    return types.SimpleNamespace(panel=panel, refresh=refresh, table=table, arithmetic=arithmetic,
                                 sources={**{f"shift_{m}": s for m, s in shift_src.items()},
                                          **{f"loss_{m}": s for m, s in loss_src.items()}})

