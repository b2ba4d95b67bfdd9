"""What the playground hands back to the student: code and files to take away. Text and bytes only, no numerics.

    export.kernel_literal(kernel)                  # the conv lab's kernel as a NumPy array literal
    export.map_png(feature_map)                    # a feature map as a greyscale PNG (stdlib zlib, no Pillow)
    export.core_script(model, config, accuracy)    # the studio's model rebuilt with the core API, weights loaded
    export.keras_code(model, config)               # the same model in Keras, as the lecture's TensorFlow part
    export.studio_bundle(model, weights, config, accuracy)   # zip: weights .npz + both scripts

The model is written one layer per line from studio_arch.format_model (the editor's own text), so the script
builds exactly what the studio trained.
"""
import io
import struct
import zipfile
import zlib

import numpy as np

from . import studio_arch

WEIGHTS_NAME = "studio_weights.npz"
SCRIPT_NAME = "studio_model.py"
KERAS_NAME = "studio_model_keras.py"
# The studio's loss and optimizer names -> Keras (logits: the last Dense has no softmax, as in the studio).
KERAS_LOSSES = {"categorical_crossentropy": "keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
                "mse": "keras.losses.MeanSquaredError()",
                "focal": "keras.losses.CategoricalFocalCrossentropy({alpha}gamma={gamma}, from_logits=True)"}
KERAS_OPTIMIZERS = {"sgd": "SGD(learning_rate={learning_rate})",
                    "momentum": "SGD(learning_rate={learning_rate}, momentum={momentum})",
                    "nesterov": "SGD(learning_rate={learning_rate}, momentum={momentum}, nesterov=True)",
                    "adagrad": "Adagrad(learning_rate={learning_rate})",
                    "rmsprop": "RMSprop(learning_rate={learning_rate}, rho={rho})",
                    "adam": "Adam(learning_rate={learning_rate}, beta_1={beta_1}, beta_2={beta_2})"}


# ---------------------------------------------------------------- the conv lab

def number(v):
    """A float32 value as its shortest text (what NumPy prints), always with a decimal point or exponent."""
    text = str(np.float32(v))
    return text if any(c in text for c in ".einf") else text + ".0"


def kernel_literal(kernel, name="kernel"):
    """A 2-D kernel (h, w) as Python that rebuilds it: `name = np.array([[...], ...], dtype=np.float32)`."""
    k = np.asarray(kernel, np.float32)
    cells = [[number(v) for v in row] for row in k]
    width = max(len(c) for row in cells for c in row)
    body = ",\n".join("    [" + ", ".join(c.rjust(width) for c in row) + "]" for row in cells)
    return f"{name} = np.array([\n{body},\n], dtype=np.float32)   # {k.shape[0]}x{k.shape[1]}"


def png_gray(image):
    """(H, W) uint8 -> PNG bytes, 8-bit greyscale (written with zlib: no Pillow needed, in the browser either)."""
    a = np.ascontiguousarray(image, np.uint8)
    if a.ndim != 2 or not a.size:
        raise ValueError(f"png_gray: expects a non-empty (H, W) uint8 image, got shape {a.shape}")
    h, w = a.shape
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))    # filter type 0 on every row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def map_png(array):
    """A feature map (H, W) as the plot shows it, black at its minimum and white at its maximum, as PNG bytes."""
    a = np.asarray(array, np.float64)
    lo, hi = float(a.min()), float(a.max())
    scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return png_gray(np.round(scaled).astype(np.uint8))


# ---------------------------------------------------------------- the studio

def layer_lines(model):
    """The model's layers as the editor writes them (Keras-style calls), one per line."""
    return studio_arch.format_model(model).splitlines()


def core_script(model, config, accuracy=None, n_test=None):
    """A runnable script: the model rebuilt with core's layers, WEIGHTS_NAME loaded into it, the studio's test
    images evaluated (the same MNIST subset, prepared the same way), accuracy printed and compared."""
    layers = "\n".join(f"        L.{line}," for line in layer_lines(model))
    expected = "None" if accuracy is None else repr(float(accuracy))
    return f'''"""The model trained in the CNN Playground's LeNet studio, rebuilt with the playground's core API.

Run it from the root of the CNN Playground repository (it imports core/ and reads the MNIST subset that
`python -m core.datasets fetch` saves), with the weights file next to this script or named on the command line:

    python {SCRIPT_NAME} [{WEIGHTS_NAME}]

It builds the model layer by layer, loads the studio's weights into it, and evaluates them on the studio's
{n_test or "the"} test images: the accuracy printed is the one the studio showed{"" if accuracy is None else
f" ({float(accuracy):.2%})"}.
"""
import os
import sys

sys.path.insert(0, os.getcwd())             # the repository root: core/ lives there
from core import datasets, layers as L, metrics, models  # noqa: E402

STUDIO_ACCURACY = {expected}          # the studio's test accuracy for these weights


def build():
    """The studio's architecture, one layer per line, on MNIST digits padded to 32x32x1."""
    return models.Sequential([
        L.Input({studio_arch.INPUT_SHAPE}, name="input"),
{layers}
    ], name="studio")


def main(weights=os.path.join(os.path.dirname(os.path.abspath(__file__)), "{WEIGHTS_NAME}")):
    model = build()
    model.summary()
    _, params = models.load(weights)          # the file also holds its architecture; this script builds its own
    model.check_params(params)                # and checks the weights fit it, layer by layer
    (_, _), (x_test, y_test) = datasets.load_subset("mnist")
    x = datasets.pad_to_32(x_test)            # uint8 28x28 -> float32 32x32x1 in [0, 1], as in the studio
    logits = model.predict(params, x)
    accuracy = metrics.accuracy(y_test, logits.argmax(axis=1))
    print(f"test accuracy {{accuracy:.4f}} on {{len(y_test)}} images")
    if STUDIO_ACCURACY is not None:
        print(f"the studio showed {{STUDIO_ACCURACY:.4f}}")
    return accuracy


if __name__ == "__main__":
    main(*sys.argv[1:2])
'''


def keras_code(model, config):
    """The same model and training settings in Keras (TensorFlow), to read beside the core script: the lecture's
    TensorFlow section writes CNNs this way. It loads the studio's weights layer by layer."""
    layers = "\n".join(f"    layers.{line}," for line in layer_lines(model))
    alpha = "" if config["alpha"] is None else f"alpha={config['alpha']}, "
    loss = KERAS_LOSSES[config["loss"]].format(alpha=alpha, gamma=config["gamma"])
    optimizer = KERAS_OPTIMIZERS[config["optimizer"]].format(**config)
    one_hot = config["loss"] != "categorical_crossentropy"
    labels = "keras.utils.to_categorical(y_train, 10)" if one_hot else "y_train"
    names = [layer.name for layer in model.layers if layer.weights]
    return f'''"""The studio's model in Keras (TensorFlow 2): the same layers, loss and optimizer.

pip install tensorflow, then run it beside the studio's weights file.
"""
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape={studio_arch.INPUT_SHAPE}),
{layers}
])
model.compile(optimizer=keras.optimizers.{optimizer},
              loss={loss},
              metrics=["accuracy"])
model.summary()

# Train as the studio does (x_train: MNIST padded to 32x32x1, pixels in [0, 1]):
# model.fit(x_train, {labels}, batch_size={config["batch_size"]}, epochs={config["epochs"]})

# Or load the studio's weights: the kernels are laid out as Keras lays them out (h, w, in, out) and (in, out).
weights = np.load("{WEIGHTS_NAME}")
for name in {names!r}:
    layer = model.get_layer(name)
    layer.set_weights([weights[f"{{name}}/{{w}}"] for w in ("kernel", "bias") if f"{{name}}/{{w}}" in weights])
'''


def studio_bundle(model, weights, config, accuracy=None, n_test=None):
    """A zip for the studio's export: WEIGHTS_NAME (the .npz bytes), SCRIPT_NAME and KERAS_NAME."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(WEIGHTS_NAME, weights)
        z.writestr(SCRIPT_NAME, core_script(model, config, accuracy, n_test))
        z.writestr(KERAS_NAME, keras_code(model, config))
    return buf.getvalue()
