"""What the two training command lines share: `python -m core.train` (NumPy) and `python -m core.jax.train` (JAX).

    p.add_argument("--epochs", type=cli.positive_int)         # argparse types whose errors name the value
    path = cli.weights_path("run/")                           # run/weights.npz: the one path written and printed
    model = cli.build_model("segmenter")                      # lenet5 | autoencoder | segmenter
    x, y = cli.examples("segmenter", digits, labels)          # plain [0, 1] inputs and the model's targets
    folded = cli.fold_standardization(model, params, mean, std)   # the file then takes plain [0, 1] pixels
    print(cli.describe(model.evaluate(params, x, y, return_dict=True)))   # "loss 0.12, pixel accuracy 97.1%, ..."

The models both train, on the same examples, so their weights files are interchangeable (and open in the
playground): LeNet-5 (digits -> 10 classes), the autoencoder (digits -> the same digits; reconstruction MSE) and
the segmenter (digits -> a class per pixel, core/segmentation.py; pixel accuracy and mean IoU).

Both train on standardized pixels, (x - mean) / std, a better-conditioned problem, when the first layer can take
the standardization back: then it is folded into that layer (linear) and the file takes the plain [0, 1] pixels
the playground feeds. A first layer that pads ('same') cannot, so those models train on [0, 1] pixels.
Standard library and NumPy only, like the rest of core.
"""
import argparse
import math
import os
from pathlib import Path

import numpy as np

from . import datasets, files, models, segmentation

WEIGHTS = "weights.npz"      # the file name written into a folder given as --out


# ---------------------------------------------------------------- argparse types

def positive_int(text):
    """A whole number >= 1 (argparse type): --epochs, --batch-size, --limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _finite(text, ok, rule):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number {rule}, got {text}")
    return value


def positive_float(text):
    """A finite number > 0 (argparse type): --lr."""
    return _finite(text, lambda v: v > 0, "> 0")


def nonnegative_float(text):
    """A finite number >= 0 (argparse type): --weight-decay, --momentum."""
    return _finite(text, lambda v: v >= 0, ">= 0")


# ---------------------------------------------------------------- the models both command lines train

MODELS = ("lenet5", "autoencoder", "segmenter")
DEFAULT_LOSS = {"lenet5": "categorical_crossentropy", "autoencoder": "mse", "segmenter": "categorical_crossentropy"}
# What the final line reports, and how (the names are those of Model.evaluate(return_dict=True)).
METRIC_NAMES = {"loss": "loss", "accuracy": "accuracy", "pixel_accuracy": "pixel accuracy", "mean_iou": "mean IoU"}


def build_model(name):
    """A fresh core model by its CLI name: lenet5 (32x32 input, as the lecture's), autoencoder and segmenter
    (28x28 digits, core/models.py)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return {"lenet5": models.lenet5, "autoencoder": models.autoencoder, "segmenter": models.segmenter}[name]()


def examples(name, images, labels):
    """Digits (N, 28, 28) uint8, or floats in [0, 1] with or without a channel axis, and their labels (N,) ->
    (x, y) for model `name`: x plain [0, 1] float32 pixels of the model's input shape (LeNet-5's padded with 2
    zeros each side to 32x32, as LeCun did), y its targets: the labels (int64) for lenet5, the images themselves
    for the autoencoder, per-pixel masks (int64, segmentation.masks: background 0, digit d is d + 1) for the
    segmenter."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    x = images.astype(np.float32) / np.float32(255) if images.dtype == np.uint8 else images.astype(np.float32)
    if name == "lenet5":
        return np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None], labels.astype(np.int64)
    if name == "autoencoder":
        return x[..., None], x[..., None]
    if name == "segmenter":
        return x[..., None], segmentation.masks(x, labels).astype(np.int64)
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def describe(result, prefix=""):
    """{"loss": ..., "accuracy"/"pixel_accuracy"/"mean_iou": ...} (Model.evaluate(return_dict=True), fit's
    logs) -> 'loss 0.1234, accuracy 97.10%', each name after `prefix` ('test ')."""
    parts = []
    for key, value in result.items():
        if key in METRIC_NAMES:
            text = f"{value:.4f}" if key in ("loss", "mean_iou") else f"{value:.2%}"
            parts.append(f"{prefix}{METRIC_NAMES[key]} {text}")
    return ", ".join(parts)


def headline(name, loss, result):
    """The last line both command lines print: what model `name` is judged by on the test set (result as
    Model.evaluate(return_dict=True) gives it): accuracy, reconstruction MSE, or pixel accuracy and mean IoU."""
    if "accuracy" in result:
        return f"final test accuracy: {result['accuracy']:.2%}"
    if "pixel_accuracy" in result:
        return f"final test pixel accuracy: {result['pixel_accuracy']:.2%}, mean IoU: {result['mean_iou']:.4f}"
    what = "reconstruction MSE" if name == "autoencoder" and loss == "mse" else f"{loss} loss"
    return f"final test {what}: {result['loss']:.4f}"


# ---------------------------------------------------------------- the weights file

def weights_path(out):
    """The file `--out out` writes: out itself, exactly as given (no suffix added, so models.load(out) reads it),
    or out/weights.npz for a folder (an existing one, or a name ending in '/')."""
    text = str(out)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return Path(text) / WEIGHTS
    return Path(text)


def last_good_path(path):
    """Where a diverged run leaves its last good params: beside the weights file, never over it.
    run/w.npz -> run/w.last_good.npz; run/noext -> run/noext.last_good."""
    path = Path(path)
    return path.with_name(f"{path.stem}.last_good{path.suffix}")


def check_out(path, flag="--out"):
    """ValueError naming the flag and the path unless a file can be written there now (before any training)."""
    return files.check_writable(path, what=flag)


# ---------------------------------------------------------------- input standardization

def can_fold(model):
    """True if the first layer is linear in its input with no zero padding of its own and has a bias (a 'valid'
    Conv2D, or a Dense): then input standardization folds into it exactly."""
    first = model.layers[0]
    return (first.kind in ("Conv2D", "Dense") and getattr(first, "padding", "valid") == "valid"
            and getattr(first, "use_bias", True))


def fold_standardization(model, params, mean, std):
    """Params that give on x the outputs `params` give on (x - mean) / std (scalar mean and std).

    The first layer after the input must be linear in its input with no zero padding of its own, with a bias (a
    'valid' Conv2D, or a Dense): then W . ((x - mean) / std) + b = (W / std) . x + (b - mean / std * sum(W)).
    """
    first = model.layers[0]
    if not can_fold(model):
        raise ValueError(f"cannot fold input standardization into {first.kind} '{first.name}': "
                         f"it must be a Conv2D with padding='valid' or a Dense, with a bias")
    kernel, bias = params[first.name]["kernel"], params[first.name]["bias"]
    summed = kernel.reshape(-1, kernel.shape[-1]).sum(axis=0)     # sum over everything but the output units
    folded = {"kernel": (kernel / std).astype(kernel.dtype), "bias": (bias - mean / std * summed).astype(bias.dtype)}
    return {**params, first.name: folded}
