"""Networks tab, section 4: segmentation (영상 분할), a class for every pixel.

The masks come from MNIST without a download (core/segmentation.py): background, or the digit's class where its ink
is. One digit per 28x28 image, or two digits pasted into a 56x56 canvas. The network is core's encoder-decoder
(models.segmenter) trained with cross-entropy per pixel; shown: inputs, true and predicted masks, IoU per class and
its mean over the digit classes (core.compare.digit_iou) as it trains.
"""
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Category10
from bokeh.plotting import figure

from core import compare, models, segmentation
from . import networks_run, networks_views
from .studio import set_tiles, tile_plot
from .visual import mosaic

CSS = "nets-seg"
TITLE, INTRO = "nets_seg_title", "nets_seg_intro"
SETTINGS = {"variant": ("choice", "single", ("single", "pairs")), "train_size": ("int", 10000, 100, 10000),
            "epochs": ("int", 5, 1, 50), "learning_rate": ("float", 1e-2, 1e-5, 10.0)}
LABELS = {"variant": "nets_seg_variant", "train_size": "train_size", "epochs": "epochs",
          "learning_rate": "learning_rate"}
OPTIONS = {"single": "nets_seg_single", "pairs": "nets_seg_pairs"}
TEST_SIZE = 300
SHOWN = 4                 # test images shown with their masks
EVERY = 2000              # images between two IoU measurements
BATCH_SIZE = 32
SEED = 0
CLASS_NAMES = ["bg"] + [str(d) for d in range(10)]
PALETTE = ["#000000"] + list(Category10[10])        # the background black, a colour per digit


def masked_data(data, variant, split, n):
    """(x (n, H, W, 1) float32, masks (n, H, W) int64) for a variant: one digit per 28x28 image, or two per 56x56
    canvas (pasted from the split's digits, deterministic)."""
    x, y = data.raw[f"x_{split}"], data.raw[f"y_{split}"]
    if variant == "single":
        x, masks = segmentation.single(x[:n], y[:n])
    else:
        x, masks = segmentation.pairs(x, y, n, seed=SEED if split == "train" else SEED + 1)
    return x, masks.astype(np.int64)


# ---------------------------------------------------------------- the experiment

def experiment(data, settings, results):
    """Train models.segmenter on train_size masked images (cross-entropy per pixel); every EVERY images and at the
    end: IoU per class on TEST_SIZE test images and the predicted masks of SHOWN of them.

    results: {"run", "iou": {"images", "seconds", "mean"}, "per_class": (11,), "xt", "mt", "predicted", "stage"}."""
    x, masks = masked_data(data, settings["variant"], "train", settings["train_size"])
    xt, mt = masked_data(data, settings["variant"], "test", TEST_SIZE)
    model = models.segmenter(input_shape=x.shape[1:])
    run = networks_run.new_run(model, model.init(SEED), x, masks, learning_rate=settings["learning_rate"],
                               batch_size=BATCH_SIZE, seed=SEED)
    results.update(run=run, iou={"images": [], "seconds": [], "mean": []}, xt=xt[:SHOWN], mt=mt[:SHOWN])

    def measure():
        logits = model.predict(run["params"], xt)
        found = compare.digit_iou(mt, logits)
        curve = results["iou"]
        curve["images"].append(run["seen"])
        curve["seconds"].append(run["seconds"])
        curve["mean"].append(found["mean_digits"])
        results["per_class"] = found["per_class"]
        results["predicted"] = logits[:SHOWN].argmax(axis=-1)

    yield from networks_run.epochs_measured(run, "seg", settings["epochs"], EVERY, measure, results)


# ---------------------------------------------------------------- views

def masks_plot(t, width):
    """Class ids drawn in PALETTE (NaN gaps light grey): an image figure and its source."""
    fig = figure(title=t("nets_seg_masks"), x_range=Range1d(0, 1), y_range=Range1d(1, 0), frame_width=width,
                 frame_height=width, tools="", toolbar_location=None, name=f"{CSS}-masks", css_classes=[f"{CSS}-masks"])
    fig.axis.visible = False
    source = ColumnDataSource({"image": [np.zeros((1, 1))], "dw": [1], "dh": [1]}, name=f"{CSS}-masks-source")
    mapper = LinearColorMapper(palette=PALETTE, low=-0.5, high=len(PALETTE) - 0.5, nan_color="#e0e0e0")
    fig.image(image="image", x=0, y=0, dw="dw", dh="dh", source=source, color_mapper=mapper)
    return fig, source


def results_view(section, t, data):
    """Inputs; true masks (top) and predicted masks (bottom) in one colour per class; IoU per class; the mean IoU
    over the digit classes against images seen."""
    width = 4 * 60
    inputs_fig, inputs_src = tile_plot(np.full((28, SHOWN * 29 - 1), np.nan), t("nets_seg_inputs"), f"{CSS}-inputs",
                                       width=width)
    masks_fig, masks_src = masks_plot(t, width)
    set_tiles(masks_fig, masks_src, np.full((57, SHOWN * 29 - 1), np.nan), width)
    iou_src = ColumnDataSource({"cls": CLASS_NAMES, "iou": [0.0] * len(CLASS_NAMES),
                                "colour": PALETTE}, name=f"{CSS}-iou-source")
    iou_fig = figure(title=t("nets_seg_iou_title"), x_range=CLASS_NAMES, y_range=Range1d(0, 1), width=360,
                     height=230, tools="", toolbar_location=None, name=f"{CSS}-iou", css_classes=[f"{CSS}-iou"])
    iou_fig.vbar(x="cls", top="iou", width=0.8, color="colour", source=iou_src)
    curve_fig, curve_src = networks_views.lines_figure(t("nets_seg_mean_title"), t("x_images"), t("nets_seg_mean"),
                                                       f"{CSS}-mean", ("mean",), (t("nets_seg_mean"),),
                                                       y_range=(0, 1))
    shown = {"id": None}

    def refresh():
        res = section.experiment.results
        curve = res.get("iou", {"images": [], "seconds": [], "mean": []})
        networks_views.show_lines(curve_fig, curve_src, {"mean": {"x": curve["images"], "y": curve["mean"],
                                                                  "seconds": curve["seconds"]}}, fixed_y=True)
        if res.get("predicted") is None or shown["id"] == id(res["predicted"]):
            return
        shown["id"] = id(res["predicted"])
        set_tiles(inputs_fig, inputs_src, mosaic(res["xt"][..., 0], cols=SHOWN, scale_each=False), width)
        both = mosaic(np.concatenate([res["mt"], res["predicted"]]).astype(np.float32), cols=SHOWN,
                      scale_each=False)
        set_tiles(masks_fig, masks_src, both, width)
        iou_src.data = dict(iou_src.data, iou=[float(v) for v in np.nan_to_num(res["per_class"])])

    curve_src["mean"].data = {"x": [], "y": [], "seconds": []}
    panel = pn.Row(pn.Column(pn.pane.Bokeh(inputs_fig), pn.pane.Bokeh(masks_fig)),
                   pn.Column(pn.pane.Bokeh(curve_fig), pn.pane.Bokeh(iou_fig)))
    return types.SimpleNamespace(panel=panel, refresh=refresh,
                                 sources={"inputs": inputs_src, "masks": masks_src, "iou": iou_src,
                                          "mean": curve_src["mean"]})
