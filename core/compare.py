"""What the Networks tab compares, measured on the spot: an MLP against LeNet-5, designed against learned filters.

    mlp = compare.mlp()                                   # Flatten - Dense(60, relu) - Dense(10): LeNet-5's size
    compare.accuracy_shifted(model, params, x, y, 3)      # accuracy on test digits moved 3 pixels (4 directions)
    compare.input_arithmetic()                            # 256x256x3 = 196,608 inputs: a Dense layer vs a Conv2D
    model = compare.frozen(models.lenet5(), ["C1"])       # the same network with C1 frozen (trainable=False)
    params = compare.designed_c1(params, filters.STARTS)  # C1 started from designed kernels
    compare.c1_against_designed(params["C1"]["kernel"])   # each filter's nearest designed kernel and distance

The lecture's case against the MLP: flattening the image throws its 2-D structure away, so the MLP must learn a
digit again at every place it may stand, while a CNN shares one filter over all places (and pooling forgives small
moves). Shifting test digits by a few pixels shows it. NumPy only (runs under Pyodide).
"""
import numpy as np

from . import arithmetic, filters, metrics, models
from . import layers as L

# One unit per direction: right, left, down, up. A digit moved k pixels is tried in each and the accuracies averaged,
# so no direction the training digits happened to lean towards decides the result.
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))
MLP_HIDDEN = 60           # 1024*60 + 60 + 61*10 = 62,110 weights, about LeNet-5's 61,706


def mlp(hidden=MLP_HIDDEN, input_shape=(32, 32, 1), classes=10):
    """The lecture's multilayer perceptron: Flatten - Dense(hidden, relu) - Dense(classes) logits, named "mlp".

    The default hidden size gives about as many weights as LeNet-5 on the same 32x32 input."""
    return models.Sequential([L.Input(input_shape, name="input"), L.Flatten(name="flatten"),
                              L.Dense(hidden, activation="relu", name="hidden"), L.Dense(classes, name="OUTPUT")],
                             name="mlp")


def shift(images, dy, dx):
    """Images (N, H, W, ...) moved dy rows down and dx columns right (negative: up, left), zeros coming in.

    What falls off the edge is lost: the picture is moved, not wrapped around."""
    images = np.asarray(images)
    if images.ndim < 3:
        raise ValueError(f"compare.shift: expects images (N, H, W, ...), got shape {images.shape}")
    h, w = images.shape[1:3]
    dy, dx = int(dy), int(dx)
    out = np.zeros_like(images)
    if abs(dy) < h and abs(dx) < w:
        out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def accuracy_shifted(model, params, x, y, pixels, batch_size=256):
    """Accuracy on x (N, H, W, C) moved `pixels` in each of DIRECTIONS, averaged (pixels=0: the plain accuracy).

    y: int labels (N,). A classifier that learned shapes, not places, keeps its accuracy as pixels grows."""
    pixels = int(pixels)
    if pixels < 0:
        raise ValueError(f"compare.accuracy_shifted: pixels must be >= 0, got {pixels}")
    moves = [(0, 0)] if pixels == 0 else [(pixels * dy, pixels * dx) for dy, dx in DIRECTIONS]
    return float(np.mean([metrics.accuracy(y, model.predict(params, shift(x, dy, dx), batch_size))
                          for dy, dx in moves]))


def input_arithmetic(image_shape=(256, 256, 3), units=100, filters=64, kernel_size=3):
    """The lecture's 196,608-input arithmetic: {"inputs", "dense_params", "conv_params", "ratio"}.

    A Dense layer of `units` fed the flattened image needs a weight per input per unit; a Conv2D of `filters`
    kernel_size x kernel_size filters needs k'(k h h + 1), whatever the image's size (weight sharing)."""
    h, w, c = (arithmetic.check_positive_int(v, "image_shape", "compare.input_arithmetic") for v in image_shape)
    inputs = h * w * c
    dense = arithmetic.dense_params(inputs, units)
    conv = arithmetic.conv_params((kernel_size, kernel_size), c, filters)
    return {"inputs": inputs, "dense_params": dense, "conv_params": conv, "ratio": dense / conv}


def frozen(model, names):
    """A new model of the same architecture with the named Conv2D/Dense layers frozen (Keras' trainable=False):
    their weights take part in the forward pass but the optimizer never moves them. Params fit both models."""
    config = model.get_config()
    known = {spec["name"]: spec for spec in config["layers"]}
    for name in names:
        if name not in known or "trainable" not in known[name]["config"]:
            raise ValueError(f"compare.frozen: model '{model.name}' has no Conv2D or Dense layer named {name!r}")
        known[name]["config"]["trainable"] = False
    return models.from_config(config)


def designed_c1(params, starts, layer="C1", seed=0):
    """params with `layer`'s kernel (h, h, 1, F) replaced by the kernels named in `starts` (filters.STARTS names,
    F of them), its bias zeroed. Each kernel keeps the norm of the filter it replaces, so the next layer sees the
    signal strength its initialisation expects; "random" draws from seed (+ its position)."""
    kernel = np.asarray(params[layer]["kernel"])
    h, w, c, f = kernel.shape
    if h != w or c != 1 or len(starts) != f:
        raise ValueError(f"compare.designed_c1: {layer} has kernel {kernel.shape}; it needs square kernels on one "
                         f"channel and one start per filter ({len(starts)} given for {f})")
    new = np.stack([filters.start_kernel(name, h, seed + i) * np.linalg.norm(kernel[..., 0, i])
                    for i, name in enumerate(starts)], axis=-1)[:, :, None, :]
    out = dict(params)
    out[layer] = dict(params[layer], kernel=new.astype(kernel.dtype))
    if "bias" in params[layer]:
        out[layer]["bias"] = np.zeros_like(params[layer]["bias"])
    return out


def c1_against_designed(kernel):
    """For each filter of a (h, h, 1, F) kernel, its nearest designed kernel: [{"name", "sign", "distance",
    "kernel"}] (F), "kernel" that designed kernel (h, h) times sign, at unit norm, to show beside the filter.

    distance is filters.kernel_distance: 0 the same shape, about 1.4 unrelated."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"compare.c1_against_designed: expects a first-layer kernel (h, h, 1, F), got {kernel.shape}")
    found = []
    for i in range(kernel.shape[3]):
        name, sign, distance = filters.nearest_designed(kernel[:, :, 0, i])
        found.append({"name": name, "sign": sign, "distance": distance,
                      "kernel": sign * filters.start_kernel(name, kernel.shape[0])})
    return found


# ---------------------------------------------------------------- an autoencoder's code, segmentation's IoU

def code_space(model, params, x, code_layer="code"):
    """Where x (N, *input_shape) lands in an autoencoder's code: {"codes": (N, code size), "low", "high": a range
    for each unit (code size,), "pixels": numbers in an input, "size": numbers in a code, "ratio": pixels / size}.

    The range is the unit's smallest to largest value over x, widened by a quarter of that span each side (a moved
    point may leave where the digits are), at least 0.5 each side of a unit that never changes. The code is the
    output of the layer `code_layer` (models.autoencoder's "code")."""
    codes = models.encoder_of(model, code_layer).apply(params, x)
    codes = codes.reshape(len(codes), -1)
    low, high = codes.min(axis=0), codes.max(axis=0)
    pad = np.maximum(0.25 * (high - low), 0.5 * (high == low))
    pixels = int(np.prod(model.input_shape))
    return {"codes": codes, "low": low - pad, "high": high + pad, "pixels": pixels, "size": codes.shape[1],
            "ratio": pixels / codes.shape[1]}


def decode(model, params, code, moves=None, code_layer="code"):
    """The autoencoder's output (*output_shape) for one code (code size,) with some units moved: moves {unit: value}
    sets code[unit] = value first, so a point moved in code space can be seen decoded."""
    decoder = models.decoder_of(model, code_layer)
    code = np.array(code, dtype=np.float32).reshape(1, *decoder.input_shape)
    flat = code.reshape(-1)
    for unit, value in (moves or {}).items():
        if not 0 <= int(unit) < flat.size:
            raise ValueError(f"compare.decode: the code has units 0..{flat.size - 1}, got unit {unit}")
        flat[int(unit)] = value
    return decoder.apply(params, code)[0]


def digit_iou(masks, logits, classes=11):
    """IoU per class of per-pixel predictions (logits (N, H, W, classes) against masks (N, H, W)) and the mean over
    the digit classes 1.. (the background, class 0, left out: it is most of every image and easy):
    {"per_class": (classes,) with NaN for a class neither present nor predicted, "mean_digits": float}."""
    per_class, _ = metrics.iou(masks, logits, classes)
    digits = per_class[1:][~np.isnan(per_class[1:])]
    return {"per_class": per_class, "mean_digits": float(digits.mean()) if digits.size else float("nan")}
