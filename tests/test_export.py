"""Export (issue 13): what the labs hand back runs and reproduces what they showed.

The studio's zip holds its weights and a script that rebuilds the model with the core API; run with CPython from
the repository root, the script prints the studio's test accuracy on the same test images. The conv lab's kernel
literal rebuilds the kernel, and its PNG holds the feature map as the plot shows it.
"""
import io
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from core import datasets
from playground import conv_lab, export, studio, training

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCH = ('Conv2D(4, 5, strides=2, activation="relu", name="C1")\nMaxPooling2D(2, name="S2")\n'
        'Flatten()\nDropout(0.25)\nDense(10, name="OUTPUT")')


@pytest.fixture(scope="module")
def trained():
    """The studio over the shipped MNIST subset (the script reads the same file), a small model trained briefly."""
    page = studio.create_page("en", data=training.load_data(), autorun=False)
    w = page.widgets
    w["architecture"].value = ARCH
    w["apply"].clicks += 1
    w["train_size"].value, w["epochs"].value, w["dropout"].value = 1000, 2, 0.1
    w["start"].clicks += 1
    while page.trainer.status == "running":
        page.tick()
    assert page.trainer.status == "done"
    return page


def unpack(blob, folder):
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert sorted(z.namelist()) == sorted([export.WEIGHTS_NAME, export.SCRIPT_NAME, export.KERAS_NAME])
        z.extractall(folder)


def test_the_exported_script_reproduces_the_studios_test_accuracy(trained, tmp_path):
    blob = trained.widgets["export"].callback().getvalue()        # what the Export button downloads
    unpack(blob, tmp_path)
    studio_acc = trained.trainer.test_result["accuracy"]           # what the studio showed after its run
    assert 0.3 < studio_acc < 1                                   # trained: well above chance
    run = subprocess.run([sys.executable, str(tmp_path / export.SCRIPT_NAME)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    printed = re.search(r"test accuracy (\d\.\d+) on (\d+) images", run.stdout)
    assert printed, run.stdout
    n_test = len(datasets.load_subset("mnist")[1][1])
    assert int(printed.group(2)) == n_test == len(trained.trainer.y_test)
    assert float(printed.group(1)) == pytest.approx(studio_acc, abs=5e-5)
    assert f"STUDIO_ACCURACY = {studio_acc!r}" in (tmp_path / export.SCRIPT_NAME).read_text()


def test_the_script_builds_its_own_model_and_refuses_weights_that_do_not_fit(trained, tmp_path):
    unpack(trained.widgets["export"].callback().getvalue(), tmp_path)
    script = (tmp_path / export.SCRIPT_NAME).read_text()
    for line in ARCH.splitlines():                                  # every layer written out with core's names
        assert f"L.{line}" in script or f"L.{line[:-1]}" in script
    assert "L.Dropout(0.1, name=\"dropout_hp\")," in script         # the studio's dropout setting, as trained
    other = studio.create_page("en", data=training.load_data(), autorun=False)   # LeNet-5's weights
    (tmp_path / export.WEIGHTS_NAME).write_bytes(other.trainer.save_bytes())
    run = subprocess.run([sys.executable, str(tmp_path / export.SCRIPT_NAME)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode != 0 and "ValueError" in run.stderr


def test_the_keras_code_names_the_same_layers_loss_and_optimizer(trained):
    code = export.keras_code(trained.trainer.model, trained.trainer.config)
    compile(code, export.KERAS_NAME, "exec")                        # valid Python, even without TensorFlow here
    for line in ARCH.splitlines():
        assert f"layers.{line}" in code or f"layers.{line[:-1]}" in code
    assert "SparseCategoricalCrossentropy(from_logits=True)" in code and "keras.optimizers.Adam(" in code
    assert "for name in ['C1', 'OUTPUT']:" in code


@pytest.mark.parametrize("loss,optimizer,expected", [
    ("focal", "nesterov", ("CategoricalFocalCrossentropy(gamma=2.0, from_logits=True)",
                           "SGD(learning_rate=0.002, momentum=0.9, nesterov=True)", "to_categorical")),
    ("mse", "adagrad", ("MeanSquaredError()", "Adagrad(learning_rate=0.002)", "to_categorical")),
])
def test_keras_code_follows_the_loss_and_the_optimizer(trained, loss, optimizer, expected):
    config = dict(trained.trainer.config, loss=loss, optimizer=optimizer)
    code = export.keras_code(trained.trainer.model, config)
    compile(code, export.KERAS_NAME, "exec")
    for words in expected:
        assert words in code


def test_the_conv_labs_kernel_literal_rebuilds_the_kernel():
    lab = conv_lab.build(conv_lab.initial_state(), "en")
    lab.widgets["size"].value, lab.widgets["sigma"].value = 7, 1.3
    kernel = lab.state["result"]["kernels"]["gaussian"]
    text = lab.views.export.code.object
    assert "gaussian" not in text.lower() or "np.array" in text
    literal = export.kernel_literal(kernel)
    namespace = {"np": np}
    exec(literal, namespace)                                        # noqa: S102 (our own literal)
    np.testing.assert_array_equal(namespace["kernel"], kernel)
    assert namespace["kernel"].dtype == np.float32 and namespace["kernel"].shape == (7, 7)
    lab.widgets["filter"].value = "canny"                           # no single kernel: said so, no literal
    assert "np.array" not in lab.views.export.code.object and "not a single convolution" in lab.views.export.code.object


def test_the_feature_map_png_is_the_map_as_the_plot_shows_it():
    from PIL import Image
    lab = conv_lab.build(conv_lab.initial_state(), "en")
    lab.widgets["filter"].value = "sobel_x"
    png = lab.views.export.png
    assert png.filename == "feature_map_sobel_x.png"
    data = png.callback().getvalue()
    fmap = lab.sources["output"].data["image"][0]
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.mode == "L" and img.size == (fmap.shape[1], fmap.shape[0])
        pixels = np.asarray(img, np.float64)
    expected = (fmap - fmap.min()) / (fmap.max() - fmap.min()) * 255
    assert np.abs(pixels - expected).max() <= 0.5 + 1e-6
    assert pixels.min() == 0 and pixels.max() == 255


def test_png_gray_refuses_what_is_not_an_image():
    with pytest.raises(ValueError, match="png_gray: expects a non-empty"):
        export.png_gray(np.zeros((2, 3, 3), np.uint8))
    flat = export.map_png(np.full((4, 5), 7.0))                     # a constant map: black, not a division by 0
    from PIL import Image
    assert np.asarray(Image.open(io.BytesIO(flat))).max() == 0
