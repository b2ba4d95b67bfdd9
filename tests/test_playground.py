"""The Panel labs, driven through their widgets and callbacks directly (no server, no browser).

What the page shows must be exactly what core computes; bad input must show a message and keep the last good state.
"""
import io
import os
import subprocess
import sys
import types

import numpy as np
import panel as pn
import pytest

from core import arithmetic, conv, filters, pooling
from playground import app, conv_lab, i18n, pool_lab, views

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def photo(h=40, w=48, seed=0):
    """A small uint8 grey photo stand-in: smooth ramps plus noise, so every filter gives a non-trivial map."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:h, 0:w]
    return np.clip(3 * r + 2 * c + rng.integers(0, 40, (h, w)), 0, 255).astype(np.uint8)


@pytest.fixture
def lab():
    state = conv_lab.initial_state(images={"small": photo(), "tiny": photo(6, 7, seed=1)})
    return conv_lab.build(state, "en")


def png_bytes(array, fmt="PNG"):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


def shown(source):
    return source.data["image"][0]


# ---------------------------------------------------------------- convolution lab

def test_input_is_the_grey_photo_in_0_255(lab):
    np.testing.assert_allclose(shown(lab.sources["input"]), photo().astype(np.float32), atol=1e-4)


@pytest.mark.parametrize("name", ["box", "sharpen", "emboss", "laplacian", "sobel_x", "sobel_y"])
def test_changing_the_filter_shows_exactly_core_conv2d(lab, name):
    lab.widgets["filter"].value = name
    image = lab.state["image"]
    kernel = filters.box(5) if name == "box" else filters.get(name)   # box takes the size field (5)
    expected = conv.conv2d(image, kernel, bias=np.zeros(1, np.float32), padding="same")
    np.testing.assert_array_equal(shown(lab.sources["output"]), expected)
    assert lab.state["settings"]["filter"] == name
    assert lab.message.visible is False


def test_gaussian_size_sigma_stride_padding_and_bias_all_reach_core(lab):
    w = lab.widgets
    w["size"].value, w["sigma"].value = 3, 2.0
    w["stride"].value, w["padding"].value, w["bias"].value = 2, "valid", 10.0
    expected = conv.conv2d(lab.state["image"], filters.gaussian(3, 2.0), bias=np.array([10.0], np.float32),
                           stride=2, padding="valid")
    out = shown(lab.sources["output"])
    np.testing.assert_array_equal(out, expected)
    assert out.shape == (19, 23)                                   # floor((40 - 3) / 2) + 1, floor((48 - 3) / 2) + 1
    fig = lab.figures["output"]
    assert (fig.x_range.end, fig.y_range.start) == (23, 19)         # the plot follows the new shape


def test_size_and_sigma_are_enabled_only_for_the_filters_that_have_them(lab):
    # Disabled, never hidden: a widget shown or hidden makes BokehJS lay out the whole page (a slow redraw).
    w = lab.widgets
    for name, size_on, sigma_on in (("gaussian", True, True), ("box", True, False), ("sobel_x", False, False)):
        w["filter"].value = name
        assert (w["size"].disabled, w["sigma"].disabled) == (not size_on, not sigma_on), name
        assert w["size"].visible and w["sigma"].visible


def test_sobel_magnitude_and_canny_come_from_core_filters(lab):
    lab.widgets["filter"].value = "sobel"
    np.testing.assert_array_equal(shown(lab.sources["output"]), filters.sobel_magnitude(lab.state["image"]))
    assert lab.widgets["stride"].disabled                           # not one convolution: no stride
    lab.widgets["filter"].value = "canny"
    np.testing.assert_array_equal(shown(lab.sources["output"]),
                                  filters.canny(lab.state["image"] / 255).astype(np.float32))


def test_tapping_an_output_pixel_shows_its_receptive_field_and_dot_product(lab):
    lab.widgets["filter"].value = "sobel_x"
    lab.widgets["stride"].value = 2
    lab.widgets["bias"].value = 1.5
    lab.on_tap(types.SimpleNamespace(x=5.7, y=3.2))                # bokeh Tap: x is the column, y the row
    assert lab.state["tap"] == (3, 5)
    # stride 2, 'same' padding of a 3x3 on 40x48: pad top/left 0 (Keras puts the odd pixel after)
    assert lab.sources["receptive_field"].data == {"left": [10], "right": [13], "top": [6], "bottom": [9]}
    assert lab.sources["selected"].data == {"left": [5], "right": [6], "top": [3], "bottom": [4]}
    image = lab.state["image"]
    patch = image[6:9, 10:13]
    out = shown(lab.sources["output"])[3, 5]
    assert out == pytest.approx(float((patch * filters.sobel_x()).sum()) + 1.5, rel=1e-5)
    html = lab.detail.object
    for value, k in zip(patch.ravel(), filters.sobel_x().ravel()):  # every product is written out
        assert f"{views.fmt(value)}×{views.fmt(k)}" in html
    assert f"= {views.fmt(out)}" in html


def test_tap_in_the_corner_shows_zero_padding(lab):
    lab.widgets["filter"].value = "laplacian"
    lab.select_pixel(0, 0)
    assert lab.sources["receptive_field"].data == {"left": [-1], "right": [2], "top": [-1], "bottom": [2]}
    assert "zero padding" in lab.detail.object
    assert lab.detail.object.count("class=pad") == 5


def test_sobel_magnitude_tap_shows_both_gradients(lab):
    lab.widgets["filter"].value = "sobel"
    lab.select_pixel(4, 7)
    info = conv_lab.inspect(lab.state["image"], lab.state["result"], lab.state["settings"], 4, 7)
    gx, gy = filters.gradients(lab.state["image"])
    assert info["gx"]["output"] == pytest.approx(gx[4, 7], abs=1e-3)
    assert info["gy"]["output"] == pytest.approx(gy[4, 7], abs=1e-3)
    assert info["output"] == pytest.approx(np.hypot(gx[4, 7], gy[4, 7]), rel=1e-5)
    assert "gx" in lab.detail.object and "gy" in lab.detail.object


def test_a_tap_outside_a_shrunk_output_is_dropped(lab):
    lab.select_pixel(30, 40)
    lab.widgets["stride"].value = 4                                 # output 10x12: (30, 40) no longer exists
    assert lab.state["tap"] is None
    assert lab.sources["receptive_field"].data["left"] == []


def test_tapped_pixel_maps_plot_coordinates_and_drops_misses():
    from playground.views import tapped_pixel
    tap = lambda x, y: types.SimpleNamespace(x=x, y=y)              # noqa: E731
    assert tapped_pixel(tap(5.7, 3.2), (10, 12)) == (3, 5)
    assert tapped_pixel(tap(11.99, 9.0), (10, 12)) == (9, 11)
    assert tapped_pixel(tap(12.0, 3.0), (10, 12)) is None             # right of the last column
    assert tapped_pixel(tap(-0.1, 3.0), (10, 12)) is None             # left of the first
    assert tapped_pixel(tap(None, 3.0), (10, 12)) is None             # a tap bokeh could not place


def test_custom_kernel_cells_and_copy_of_a_preset(lab):
    lab.widgets["filter"].value = "sobel_y"
    lab.widgets["copy"].clicks += 1                                 # "edit a copy of this kernel"
    assert lab.widgets["filter"].value == "custom"
    cells = lab.cells.objects
    assert [c.value for c in cells] == filters.sobel_y().ravel().tolist()
    cells[4].value = 3.0                                            # the centre cell
    k = filters.sobel_y().copy()
    k[1, 1] = 3.0
    expected = conv.conv2d(lab.state["image"], k, bias=np.zeros(1, np.float32), padding="same")
    np.testing.assert_array_equal(shown(lab.sources["output"]), expected)
    lab.widgets["custom_size"].value = 5                            # a fresh 5x5 kernel: the identity
    assert len(lab.cells.objects) == 25
    np.testing.assert_array_equal(shown(lab.sources["output"]), lab.state["image"])


def test_several_filters_give_several_feature_maps_and_the_layer_arithmetic(lab):
    lab.widgets["filter"].value = "sobel_x"
    lab.widgets["extra"].value = ["sobel_y", "laplacian"]
    maps = [shown(src) for src in lab.sources["maps"][:2]]
    np.testing.assert_array_equal(maps[0], conv.conv2d(lab.state["image"], filters.sobel_y(),
                                                       bias=np.zeros(1, np.float32), padding="same"))
    np.testing.assert_array_equal(maps[1], conv.conv2d(lab.state["image"], filters.laplacian(),
                                                       bias=np.zeros(1, np.float32), padding="same"))
    n = lab.state["result"]["numbers"]
    assert n["params"] == arithmetic.conv_params((3, 3), 1, 3) == 30   # k'(k*h*h+1) = 3(1*3*3+1)
    assert n["mults"] == arithmetic.conv_mults((40, 48), (3, 3), 1, 3)
    assert n["fc_inputs"] == 40 * 48 and n["fc_params"] == arithmetic.dense_params(40 * 48, 40 * 48 * 3)
    assert "Output shape: 40×48×3" in lab.numbers.object
    assert "196,608" in lab.numbers.object                          # the lecture's 256x256x3 example
    row = lab.layout.select(lambda o: "conv-feature-maps" in getattr(o, "css_classes", []))[0]
    assert [pane.visible for pane in row] == [True, True]
    lab.widgets["extra"].value = ["sobel_y"]
    assert [pane.visible for pane in row] == [True, False]
    assert lab.state["result"]["numbers"]["params"] == 20


def test_layer_numbers_reproduce_the_lectures_first_layer():
    """256x256 input, 3x3 filters, stride 2, zero padding -> 128x128 maps (the lecture, with one grey channel)."""
    kernels = {f"k{n}": np.zeros((3, 3), np.float32) for n in range(4)}
    n = conv_lab.layer_numbers((256, 256), kernels, {"stride": 2, "padding": "same"})
    assert n["groups"] == [(3, 3, 4, 128, 128)]
    assert n["mults"] == 128 * 128 * 10 * 4
    assert n["lecture_inputs"] == 196608


def test_kernel_larger_than_the_input_shows_an_error_and_keeps_the_last_result(lab):
    lab.widgets["image"].value = "tiny"                             # 6x7
    lab.widgets["padding"].value = "valid"                          # Gaussian 5x5 -> a 2x3 map
    before = shown(lab.sources["output"]).copy()
    lab.widgets["size"].value = 9                                   # Gaussian 9x9 on 6x7, no padding
    assert lab.message.visible and lab.message.alert_type == "danger"
    assert "9x9 is larger than the input 6x7" in lab.message.object
    np.testing.assert_array_equal(shown(lab.sources["output"]), before)
    assert lab.state["settings"]["size"] == 5                       # the last good settings stay
    lab.widgets["size"].value = 3                                   # fixing it clears the message
    assert not lab.message.visible and shown(lab.sources["output"]).shape == (4, 5)


@pytest.mark.parametrize("size", [4, 0, 999, -3])
def test_bad_kernel_size_shows_an_error(lab, size):
    lab.widgets["size"].value = size
    assert lab.message.visible
    assert f"Size h must be an odd whole number from 1 to {conv_lab.MAX_KERNEL}, got {size}" in lab.message.object
    assert lab.state["settings"]["size"] == 5


def test_copying_a_kernel_that_does_not_fit_the_grid_is_refused():
    state = conv_lab.initial_state(images={"small": photo()})
    lab = conv_lab.build(state, "ko")
    lab.widgets["size"].value = 7
    lab.widgets["copy"].clicks += 1
    assert lab.widgets["filter"].value == "gaussian"
    assert lab.message.object == i18n.text("ko", "err_settings", why=i18n.text("ko", "why_custom_shape", shape="7x7"))


def test_an_emptied_number_field_is_a_message_not_a_crash(lab):
    lab.widgets["sigma"].value = None
    assert lab.message.visible and "Sigma σ is empty; type a number" in lab.message.object
    assert lab.state["settings"]["sigma"] == 1.0


@pytest.mark.parametrize("data", [b"", b"not an image at all", png_bytes(photo())[:60]])
def test_corrupt_upload_shows_an_error_and_keeps_the_old_image(lab, data):
    before = lab.state["image"].copy()
    assert lab.load_upload("broken.png", data) is False
    assert lab.message.visible and lab.message.alert_type == "danger"
    assert "broken.png" in lab.message.object and "previous image is kept" in lab.message.object
    np.testing.assert_array_equal(lab.state["image"], before)
    np.testing.assert_array_equal(shown(lab.sources["input"]), before)


def test_decompression_bomb_is_refused_with_a_message(lab, monkeypatch):
    from PIL import Image
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)               # a 40x48 upload now counts as a bomb
    assert lab.load_upload("bomb.png", png_bytes(photo())) is False
    assert "far too many pixels" in lab.message.object


def test_upload_errors_are_in_the_pages_language():
    state = conv_lab.initial_state(images={"small": photo()})
    ko = conv_lab.build(state, "ko")
    assert ko.load_upload("a.gif", png_bytes(photo(), "GIF")) is False
    assert ko.message.object == i18n.text("ko", "err_upload", name="a.gif",
                                          why=i18n.text("ko", "why_format", format="GIF"))
    en = conv_lab.build(state, "en")                                # a language switch rebuilds the lab
    assert en.message.object == i18n.text("en", "err_upload", name="a.gif",
                                          why="it is GIF, not PNG or JPEG")


def test_upload_widget_value_goes_through_the_same_path(lab):
    lab.widgets["upload"].filename = "junk.jpg"
    lab.widgets["upload"].value = b"\xff\xd8\xff garbage"
    assert "junk.jpg" in lab.message.object
    lab.widgets["upload"].param.update(value=png_bytes(photo(20, 30)), filename="good.png")   # as panel serve
    assert lab.state["image_name"] == "good.png" and lab.state["image"].shape == (20, 30)


def test_upload_whose_name_arrives_after_its_bytes_is_relabelled(lab):
    """Under Pyodide the FileInput's value can arrive before its filename."""
    lab.widgets["upload"].value = png_bytes(photo(12, 14))
    lab.widgets["upload"].filename = "late.png"
    assert lab.state["image_name"] == "late.png" and lab.widgets["image"].value == "late.png"
    assert lab.state["image"].shape == (12, 14)


def test_good_upload_becomes_the_input_and_large_ones_are_shrunk(lab):
    big = np.dstack([photo(600, 520, seed=s) for s in range(3)])   # colour, longer side 600 -> factor 3
    assert lab.load_upload("big.jpg", png_bytes(big, "JPEG")) is True
    assert lab.state["image"].shape == (200, 173)
    assert "600×520" in lab.message.object and "200×173" in lab.message.object
    assert lab.widgets["image"].value == "big.jpg"
    assert shown(lab.sources["input"]).shape == (200, 173)
    small = photo(20, 30)
    assert lab.load_upload("small.png", png_bytes(small)) is True
    np.testing.assert_allclose(lab.state["image"], small.astype(np.float32), atol=1e-4)
    lab.widgets["image"].value = "big.jpg"                         # an earlier upload can be picked again
    assert lab.state["image"].shape == (200, 173)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "1", "I;16", "CMYK"])
def test_uploads_in_any_png_or_jpeg_mode_become_grey_0_255(mode):
    from PIL import Image
    rgb = np.dstack([photo(20, 30, seed=s) for s in range(3)])
    if mode == "I;16":
        img, fmt = Image.fromarray(photo(20, 30).astype(np.uint16) * 257), "PNG"   # 16-bit: x * 257 >> 8 == x
    else:
        img, fmt = Image.fromarray(rgb).convert(mode), "JPEG" if mode == "CMYK" else "PNG"
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    decoded, size, factor = conv_lab.decode_upload(buf.getvalue())
    assert size == (20, 30) and factor == 1
    gray, _ = conv_lab.prepare_image(decoded)
    assert gray.shape == (20, 30) and gray.dtype == np.float32
    assert 0 <= gray.min() and gray.max() <= 255 and gray.max() > 100
    if mode == "I;16":
        np.testing.assert_allclose(gray, photo(20, 30), atol=1e-3)


def test_prepare_image_shrinks_by_average_pooling():
    img = photo(520, 300)
    gray, factor = conv_lab.prepare_image(img)
    expected, _ = pooling.avg_pool_forward(img.astype(np.float32)[None, :, :, None], 3, 3)
    assert factor == 3
    np.testing.assert_allclose(gray, expected[0, :, :, 0], rtol=1e-5)


# ---------------------------------------------------------------- pooling lab

@pytest.fixture
def labs():
    conv_state = conv_lab.initial_state(images={"small": photo()})
    conv = conv_lab.build(conv_state, "en")
    pool = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    return conv, pool


def test_max_pooling_output_and_winners_match_core(labs):
    _, pool = labs
    x = pool.view["x"][None, :, :, None]
    out, _ = pooling.max_pool_forward(x, 2, 2)
    np.testing.assert_array_equal(shown(pool.sources["output"]), out[0, :, :, 0])
    rows, cols = pooling.max_pool_argmax(x, 2, 2)
    overlay = shown(pool.sources["winners"])
    lit = set(zip(*np.nonzero(overlay)))
    assert lit == set(zip(rows[0, :, :, 0].ravel(), cols[0, :, :, 0].ravel()))
    assert len(lit) == 20 * 24                                      # one winner per non-overlapping window


def test_tapping_a_pooled_pixel_shows_its_window_and_winner(labs):
    _, pool = labs
    pool.widgets["size"].value, pool.widgets["stride"].value = 3, 2
    pool.on_tap(types.SimpleNamespace(x=4.5, y=2.5))
    x = pool.view["x"]
    window = x[4:7, 8:11]
    r, c = np.unravel_index(window.argmax(), window.shape)
    assert pool.sources["window"].data == {"left": [8], "right": [11], "top": [4], "bottom": [7]}
    assert f"from input pixel (row {4 + r}, col {8 + c})" in pool.detail.object
    assert pool.sources["winner"].data == {"left": [8 + c], "right": [9 + c], "top": [4 + r], "bottom": [5 + r]}
    assert pool.detail.object.count("class=win") == 1
    assert f"max = {views.fmt(window.max())}" in pool.detail.object


def test_average_pooling_has_no_winners_and_shows_the_mean(labs):
    _, pool = labs
    pool.widgets["kind"].value = "avg"
    x = pool.view["x"]
    out, _ = pooling.avg_pool_forward(x[None, :, :, None], 2, 2)
    np.testing.assert_allclose(shown(pool.sources["output"]), out[0, :, :, 0])
    assert not shown(pool.sources["winners"]).any()
    pool.select_pixel(1, 1)
    assert f"mean of 4 values = {views.fmt(x[2:4, 2:4].mean())}" in pool.detail.object


def test_pooling_a_feature_map_from_the_conv_lab(labs):
    conv, pool = labs
    conv.widgets["filter"].value = "sobel_x"
    conv.widgets["stride"].value = 2
    pool.widgets["source"].value = "map"
    fmap = shown(conv.sources["output"])
    out, _ = pooling.max_pool_forward(fmap[None, :, :, None], 2, 2)
    np.testing.assert_array_equal(shown(pool.sources["input"]), fmap)
    np.testing.assert_array_equal(shown(pool.sources["output"]), out[0, :, :, 0])


def test_pooling_a_feature_map_shows_the_grown_receptive_field_on_the_photo(labs):
    conv, pool = labs
    conv.widgets["filter"].value = "sobel_x"                        # 3x3, stride 1, same padding
    pool.widgets["source"].value = "map"
    assert pool.figures["photo"].visible
    pool.select_pixel(3, 5)                                         # pool window rows 6..7, cols 10..11 of the map
    # each map pixel sees a 3x3 around itself: the 2x2 window sees rows 5..8, cols 9..12 of the photo
    assert pool.sources["photo_field"].data == {"left": [9], "right": [13], "top": [5], "bottom": [9]}
    assert "4×4 pixels, more than the 3×3" in pool.detail.object
    pool.widgets["source"].value = "input"
    assert not pool.figures["photo"].visible and pool.sources["photo_field"].data["left"] == []


def test_pool_larger_than_its_input_shows_an_error_and_keeps_the_view():
    conv_state = conv_lab.initial_state(images={"tiny": photo(6, 7)})
    pool = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    before = shown(pool.sources["output"]).copy()
    pool.widgets["size"].value = 8
    assert pool.message.visible and "pool 8x8 is larger than the input 6x7" in pool.message.object
    np.testing.assert_array_equal(shown(pool.sources["output"]), before)


# ---------------------------------------------------------------- the page and its languages

def tab(key):
    """A room's tab index (the story is first; the labs follow)."""
    return app.TABS.index(key)


def test_language_switch_changes_labels_and_keeps_the_state():
    page = app.build_page("en")
    page.tabs.active = tab("conv")
    assert page.conv.widgets["filter"].label == "Filter"
    page.conv.widgets["filter"].value = "sobel_y"
    image = page.conv.state["image"]
    page.lang_switch.value = "ko"
    assert page.lang == "ko"
    assert page.conv.widgets["filter"].label == "필터"
    assert page.conv.widgets["stride"].label == "보폭"
    assert page.tabs._names[tab("conv"):tab("studio") + 1] == ["컨볼루션", "풀링", "LeNet 학습"]   # (the rest: test_i18n)
    assert page.tabs._names == [i18n.text("ko", f"tab_{key}") for key in app.TABS]
    assert page.conv.widgets["filter"].value == "sobel_y"           # rebuilt around the same state
    assert page.conv.state["image"] is image
    assert "소벨 y" in page.conv.widgets["filter"].options


def test_pool_tab_is_built_when_opened_and_follows_the_conv_lab():
    page = app.build_page("ko")
    assert page.pool is None                                        # the first view stays light
    page.tabs.active = tab("pool")
    assert page.pool.widgets["kind"].options == {"최대 풀링": "max", "평균 풀링": "avg"}
    page.pool.widgets["source"].value = "map"
    page.tabs.active = tab("conv")
    page.conv.widgets["filter"].value = "laplacian"
    page.tabs.active = tab("pool")
    np.testing.assert_array_equal(shown(page.pool.sources["input"]), shown(page.conv.sources["output"]))


def test_studio_tab_is_built_when_opened_and_its_model_survives_a_language_switch():
    page = app.build_page("en")
    assert page.studio is None                                      # the first view stays light
    page.tabs.active = tab("studio")
    trainer = page.studio.trainer
    assert trainer is not None and page.tabs[tab("studio")] is page.studio.layout
    trainer.params = trainer.model.init(seed=7)                     # stands for a trained model
    kept = trainer.params
    page.lang_switch.value = "ko"
    assert page.tabs.active == tab("studio") and page.studio.lang == "ko"
    assert page.studio.trainer is trainer and trainer.params is kept
    assert page.tabs[tab("studio")] is page.studio.layout


def test_create_app_returns_the_page_with_its_widgets():
    layout = app.create_app("en")
    assert isinstance(layout, pn.layout.ListPanel)
    classes = {c for obj in layout.select(lambda o: hasattr(o, "css_classes")) for c in obj.css_classes}
    assert {"lang-switch", "url-copy", "story", "story-section", "story-mlp-units"} <= classes   # the story first


def test_detect_language_from_the_environment(monkeypatch):
    monkeypatch.setenv(app.LANG_ENV, "ko-KR")
    assert app.detect_language() == "ko"
    monkeypatch.setenv(app.LANG_ENV, "de-DE,en;q=0.5")
    assert app.detect_language() == "en"
    monkeypatch.delenv(app.LANG_ENV)
    assert app.detect_language() == "en"                            # no header outside a server session


def test_the_app_imports_nothing_the_browser_lacks():
    """Under Pyodide there is no scipy or scikit-image; Pillow is loaded only for an upload."""
    code = ("import sys; import playground.app; "
            "bad = [m for m in ('scipy', 'skimage', 'PIL', 'jax', 'torch') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_readme_names_every_css_hook_and_data_source_the_page_has():
    """playground/README.md's hooks table is what e2e tests and benchmarks rely on: it must match the page."""
    import re
    from bokeh.models import ColumnDataSource
    page = app.build_page("en")
    page.tabs.active = tab("conv")
    page.conv.widgets["extra"].value = ["sobel_y"]                  # the extra feature maps are made on demand
    page.tabs.active = tab("pool")
    page.tabs.active = tab("studio")
    learning = ("backprop", "losses", "optimizers", "regularization", "networks")   # issue 9's labs, issue 10's
    for key in learning:
        page.tabs.active = tab(key)
    classes, sources = set(), set()
    for layout in (page.layout, page.conv.layout, page.pool.layout, page.studio.layout,
                   *(page.rooms[key].layout for key in learning)):
        for model in layout.get_root().references():
            classes.update(getattr(model, "css_classes", None) or [])
            if isinstance(model, ColumnDataSource) and model.name:
                sources.add(model.name)
    classes -= {"alert", "alert-danger", "alert-info", "markdown", "solid", "card-header-row", "card-title"}  # Panel's
    readme = open(os.path.join(ROOT, "playground", "README.md"), encoding="utf-8").read()
    hooks = readme[readme.index("## Stable hooks"):readme.index("## Tests")]
    table = {name for row in hooks.splitlines() if row.startswith("| `")
             for name in re.findall(r"`([a-z0-9-]+)`", row.split("|")[1])}
    named = hooks[hooks.index("Named data sources:"):]
    named = set(re.findall(r"`([a-z0-9-]+)`", named[:named.index("\n\n")]))
    assert sorted(table - classes) == [] and sorted(classes - table) == []
    assert sorted(named - sources) == [] and sorted(sources - named) == []


# ---------------------------------------------------------------- settings in the URL (url_state / restore)

def test_conv_lab_url_state_round_trips_through_a_fresh_lab():
    images = {"small": photo(), "other": photo(30, 50, seed=4)}
    lab = conv_lab.build(conv_lab.initial_state(images=images), "en")
    lab.widgets["image"].value = "other"
    lab.widgets["filter"].value = "custom"
    lab.widgets["custom_size"].value = 5
    lab.cells.objects[3].value = 0.1                                # a float32 cell travels as its shortest text
    lab.cells.objects[7].value = -2.5
    w = lab.widgets
    w["stride"].value, w["padding"].value, w["bias"].value = 2, "valid", 3.25
    w["size"].value, w["sigma"].value, w["extra"].value = 7, 1.5, ["sobel_x", "laplacian"]
    state = lab.url_state()
    assert state["photo"] == "other" and state["kernel"][0][3] == 0.1 and len(state["kernel"]) == 5
    import json
    state = json.loads(json.dumps(state))                           # what the hash carries
    fresh = conv_lab.build(conv_lab.initial_state(images=images), "ko")
    assert fresh.restore(state) == []
    assert fresh.url_state() == state
    # and it shows it: the widgets, the grid and the map are those of the restored settings
    assert fresh.widgets["filter"].value == "custom" and fresh.widgets["stride"].value == 2
    assert [c.value for c in fresh.cells.objects] == [c.value for c in lab.cells.objects]
    np.testing.assert_array_equal(shown(fresh.sources["output"]), shown(lab.sources["output"]))
    assert len([s for s in fresh.sources["maps"] if s.data["image"][0] is not None]) >= 2


def test_an_uploaded_photo_stays_out_of_the_url():
    lab = conv_lab.build(conv_lab.initial_state(images={"small": photo()}), "en")
    assert lab.url_state()["photo"] == "small"
    assert lab.load_upload("mine.png", png_bytes(photo(20, 30)))
    assert "photo" not in lab.url_state()
    assert lab.load_upload("small", png_bytes(photo(20, 30)))       # an upload named like a demo photo
    assert lab.state["image_name"] == "small ↑" and "photo" not in lab.url_state()


def test_pool_lab_url_state_round_trips_through_a_fresh_lab():
    conv_state = conv_lab.initial_state(images={"small": photo()})
    conv_lab.build(conv_state, "en")
    pool = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    pool.widgets["source"].value, pool.widgets["kind"].value = "map", "avg"
    pool.widgets["size"].value, pool.widgets["stride"].value = 3, 2
    pool.widgets_winners.value = True
    state = pool.url_state()
    assert state == {"source": "map", "kind": "avg", "size": 3, "stride": 2, "winners": True}
    fresh = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    assert fresh.restore(state) == [] and fresh.url_state() == state
    np.testing.assert_array_equal(shown(fresh.sources["output"]), shown(pool.sources["output"]))
    assert fresh.widgets["kind"].value == "avg" and fresh.widgets_winners.value is True


def test_max_pooling_winners_are_marked_only_when_asked():
    conv_state = conv_lab.initial_state(images={"small": photo()})
    pool = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    overlay = pool.views.plots.overlay
    assert overlay.visible is False and shown(pool.sources["winners"]).any()    # computed, not drawn
    pool.widgets_winners.value = True
    assert overlay.visible is True


def test_a_tiny_mark_gets_a_ring_a_large_one_does_not():
    lab = conv_lab.build(conv_lab.initial_state(images={"small": photo()}), "en")
    lab.widgets["filter"].value = "sobel_x"
    lab.select_pixel(5, 5)                                          # a 3x3 field on a 48-wide photo: 19 px
    ring = lab.views.plots.marks["receptive_field"].ring
    assert ring.data == {"x": [5.5], "y": [5.5]}                    # the centre of rows and cols 4..6
    lab.widgets["filter"].value = "box"
    lab.widgets["size"].value = 11                                  # 11 pixels = 69 screen pixels: no ring
    lab.select_pixel(5, 5)
    assert ring.data == {"x": [], "y": []}


def test_the_pooled_feature_map_is_titled_as_a_feature_map():
    conv_state = conv_lab.initial_state(images={"small": photo()})
    conv = conv_lab.build(conv_state, "en")
    pool = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    assert pool.figures["input"].title.text == "Input 40×48"
    conv.widgets["filter"].value = "sobel_x"
    pool.widgets["source"].value = "map"
    assert pool.figures["input"].title.text == "Feature map Sobel x: 40×48"


def test_a_large_jpeg_is_decoded_at_a_fraction_then_averaged():
    """The JPEG decoder's 1/2..1/8 scaling serves when it keeps ~the size whole averages would give."""
    assert conv_lab.jpeg_scale(12000) == 8 and conv_lab.jpeg_scale(6000) == 8
    assert conv_lab.jpeg_scale(600) == 1 and conv_lab.jpeg_scale(256) == 1 and conv_lab.jpeg_scale(2400) == 2
    big = np.dstack([photo(3000, 4096, seed=s) for s in range(3)])
    decoded, size, factor = conv_lab.decode_upload(png_bytes(big, "JPEG"))   # 1/8, then 2x2 averages
    assert size == (3000, 4096) and factor == 16 and decoded.shape == (187, 256, 3)


def test_curve_ranges_are_fixed_until_there_are_points_and_then_span_them():
    # An automatic range over no data makes BokehJS warn and draw no axes: curves keep 0..1 until points come.
    from bokeh.models import Range1d
    from bokeh.plotting import figure
    fig = figure(x_range=Range1d(0, 1), y_range=Range1d(0, 1))
    fig.line([], [], legend_label="train")
    views.fit_ranges(fig, [], [])
    assert (fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end) == (0, 1, 0, 1)
    assert not fig.legend[0].visible
    views.fit_ranges(fig, [32, 64, 96], [2.3, float("nan"), 0.4])
    assert (fig.x_range.start, fig.x_range.end) == (32, 96)
    assert fig.y_range.start == 0 and fig.y_range.end == pytest.approx(2.3 * 1.05)
    assert fig.legend[0].visible
    views.fit_ranges(fig, [5], None)                         # one point; y kept
    assert (fig.x_range.start, fig.x_range.end) == (5, 6) and fig.y_range.end == pytest.approx(2.3 * 1.05)


@pytest.mark.parametrize("title", ["∂L/∂dense kernel", "3×3 풀링 결과에 도착한 기울기", "ok"])
def test_a_title_longer_than_its_frame_gets_room_on_the_right(title):
    from playground import heatmaps
    h = heatmaps.heatmap(title, "t", shape=(16, 2))          # a 44-pixel frame
    fig = h.figure
    wide = sum(2 if ord(ch) >= 0x1100 else 1 for ch in title)
    assert fig.frame_width + fig.min_border_right >= 6 * wide     # 9pt: wider than 6 px a character
    heatmaps.show(h, np.zeros((16, 2)), title="x")
    assert fig.min_border_right == 4                          # a short title gives the room back
