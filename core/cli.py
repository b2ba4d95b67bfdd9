"""What the two training command lines share: `python -m core.train` (NumPy) and `python -m core.jax.train` (JAX).

    p.add_argument("--epochs", type=cli.positive_int)         # argparse types whose errors name the value
    path = cli.weights_path("run/")                           # run/weights.npz: the one path written and printed
    folded = cli.fold_standardization(model, params, mean, std)   # the file then takes plain [0, 1] pixels

Both train on standardized pixels, (x - mean) / std, a better-conditioned problem, and save weights that take the
plain [0, 1] pixels the playground feeds: the standardization is folded into the first layer, which is linear.
Standard library and NumPy only, like the rest of core.
"""
import argparse
import math
import os
from pathlib import Path

from . import files

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
