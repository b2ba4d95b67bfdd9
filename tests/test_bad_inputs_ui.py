"""Bad input through the labs' own widgets and callbacks (issue 11's corpus, the playground's part): every case
gets a message that names the field or the file, and leaves the lab as it was (settings, result, photo, model).

Numbers a student can type (or a link can carry): kernel size 999, sigma 0 or 1e9, bias 1e308, kernel cells of
1e38, a fifth extra filter; pooling sizes out of range; the studio's fields and architecture text. Files: too
large, too many pixels, not an image, named after their bytes arrived. Links: hostile settings for each room.
"""
import io
import types

import numpy as np
import pytest

from playground import conv_lab, i18n, pool_lab, studio, studio_arch
from test_studio import data, late_data  # noqa: F401  (the studio's fixtures: a small MNIST subset, arriving late)

LABEL = {key: i18n.text("en", key) for key in ("size", "sigma", "stride", "bias", "padding", "pool_size",
                                               "pool_stride", "pool_kind", "pool_source")}


def photo(h=40, w=48, seed=0):
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:h, 0:w]
    return np.clip(3 * r + 2 * c + rng.integers(0, 40, (h, w)), 0, 255).astype(np.uint8)


def encoded(array, fmt="PNG"):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def lab():
    return conv_lab.build(conv_lab.initial_state(images={"small": photo(), "tiny": photo(6, 7, seed=1)}), "en")


def snapshot(lab):
    """What must not change when input is refused: the settings, the feature map, the photo and its name."""
    s = lab.state
    return {"settings": {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s["settings"].items()},
            "map": lab.sources["output"].data["image"][0].copy(), "image": s["image"].copy(),
            "name": s["image_name"], "menu": lab.widgets["image"].value}


def assert_unchanged(lab, before):
    after = snapshot(lab)
    assert after["settings"].keys() == before["settings"].keys()
    for key, value in before["settings"].items():
        np.testing.assert_array_equal(after["settings"][key], value, err_msg=key)
    np.testing.assert_array_equal(after["map"], before["map"])
    np.testing.assert_array_equal(after["image"], before["image"])
    assert after["name"] == before["name"] and after["menu"] == before["name"]


# ---------------------------------------------------------------- the conv lab's number fields

@pytest.mark.parametrize("field,value,shown", [
    ("size", 999, "999"), ("size", 33, "33"), ("size", 4, "4"), ("size", 0, "0"), ("size", -3, "-3"),
    ("size", None, None),
    ("sigma", 0.0, "0.0"), ("sigma", -1.0, "-1.0"), ("sigma", 1e9, "1000000000.0"), ("sigma", 0.05, "0.05"),
    ("sigma", float("nan"), "nan"), ("sigma", float("inf"), "inf"), ("sigma", None, None),
    ("bias", 1e308, "1e+308"), ("bias", -1e5, "-100000.0"), ("bias", float("nan"), "nan"),
    ("bias", float("-inf"), "-inf"), ("bias", None, None),
])
def test_a_number_out_of_bounds_is_named_and_nothing_changes(lab, field, value, shown):
    before = snapshot(lab)
    lab.widgets[field].value = value
    text = lab.message.object
    assert lab.message.visible and lab.message.alert_type == "danger"
    assert LABEL[field] in text, text
    assert (f"got {shown}" in text) if shown else "is empty" in text, text
    assert_unchanged(lab, before)


@pytest.mark.parametrize("cell", [1e38, -1e38, float("inf"), float("nan"), 1001.0, -5000.0])
def test_a_kernel_cell_out_of_bounds_is_refused(lab, cell):
    lab.widgets["filter"].value = "custom"
    before = snapshot(lab)
    lab.cells.objects[4].value = cell
    assert "my kernel's cells must be numbers between -1000 and 1000" in lab.message.object
    assert_unchanged(lab, before)


def test_all_cells_at_1e38_never_reach_core(lab):
    """Issue 11 saw an all-inf map with no message; now the first cell is refused and the map stays finite."""
    lab.widgets["filter"].value = "custom"
    for cell in lab.cells.objects:
        cell.value = 1e38
    assert "cells must be numbers" in lab.message.object
    assert np.isfinite(lab.sources["output"].data["image"][0]).all()


def test_the_dot_product_shows_the_bias_in_use(lab):
    lab.widgets["filter"].value = "sobel_x"
    lab.widgets["bias"].value = 2.5
    lab.select_pixel(3, 4)
    lab.widgets["bias"].value = 1e308                    # refused: the panel keeps saying + bias 2.5
    assert "+ bias 2.5 =" in lab.detail.object and "bias 0" not in lab.detail.object


@pytest.mark.parametrize("extra,words", [
    (["box", "sharpen", "emboss", "laplacian"], "at most 3 more filters fit in the layer, got 4"),
    (["no_such_filter"], "unknown filter no_such_filter"),
])
def test_extra_filters_beyond_the_layer_are_refused(lab, extra, words):
    before = snapshot(lab)
    lab.widgets["extra"].value = extra
    assert words in lab.message.object
    assert_unchanged(lab, before)


@pytest.mark.parametrize("key,value,words", [
    ("filter", "blur", "unknown filter blur"), ("filter", None, "unknown filter None"),
    ("size", "5", "Size h needs a number, got 5"), ("size", True, "Size h needs a number, got True"),
    ("size", 5.5, "odd whole number from 1 to 31, got 5.5"), ("size", 10**400, "Size h must be an odd"),
    ("stride", 0, "Stride must be a whole number from 1 to 4, got 0"), ("stride", 5, "got 5"),
    ("stride", 1.5, "got 1.5"), ("padding", "full", "Padding must be one of valid, same, got full"),
    ("bias", "1", "Bias b needs a number"), ("extra", "sobel", "unknown filter sobel"),
    ("custom", np.ones((4, 4)), "my kernel must be 3×3 or 5×5, got 4x4"),
    ("custom", [[1, 2, 3], [4, 5]], "my kernel must be 3×3 or 5×5"),
    ("custom", [["1", 0, 0], [0, 1, 0], [0, 0, 1]], "cells must be numbers"),
])
def test_compute_names_every_bad_setting(key, value, words):
    settings = dict(conv_lab.default_settings(), **{key: value})
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        conv_lab.compute(photo().astype(np.float32), settings)


def test_a_kernel_larger_than_the_input_without_padding_keeps_the_map(lab):
    lab.widgets["image"].value = "tiny"
    lab.widgets["padding"].value = "valid"
    before = snapshot(lab)
    lab.widgets["size"].value = 31
    assert "31x31 is larger than the input 6x7" in lab.message.object
    assert_unchanged(lab, before)


# ---------------------------------------------------------------- uploads

def test_a_file_over_the_byte_limit_is_refused_before_decoding(lab, monkeypatch):
    monkeypatch.setattr(conv_lab, "MAX_UPLOAD_BYTES", 1000)
    before = snapshot(lab)
    assert lab.load_upload("big.png", encoded(photo(200, 200, seed=3))) is False
    assert "“big.png”" in lab.message.object and "reads files up to 0.0 MB" in lab.message.object
    assert_unchanged(lab, before)


def test_a_photo_over_the_pixel_limit_is_refused(lab, monkeypatch):
    monkeypatch.setattr(conv_lab, "MAX_UPLOAD_PIXELS", 50 * 50)
    before = snapshot(lab)
    assert lab.load_upload("wide.png", encoded(photo(60, 90))) is False
    assert "it is 90×60 pixels; the lab decodes up to 0 million" in lab.message.object
    assert_unchanged(lab, before)


@pytest.mark.parametrize("name,data,words", [
    ("empty.png", b"", "the file is empty"),
    ("text.png", b"hello, not an image", "its bytes are not a PNG or JPEG image"),
    ("anim.gif", encoded(photo(), "GIF"), "it is GIF, not PNG or JPEG"),
    ("cut.png", encoded(photo())[:80], "the file is damaged or cut short"),
    ("cut.jpg", encoded(np.dstack([photo()] * 3), "JPEG")[:300], "damaged or cut short"),
])
def test_a_file_that_is_not_a_photo_is_named_and_the_photo_stays(lab, name, data, words):
    before = snapshot(lab)
    assert lab.load_upload(name, data) is False
    assert f"“{name}”" in lab.message.object and words in lab.message.object
    assert_unchanged(lab, before)


def test_the_page_refusing_a_large_file_shows_a_message_and_keeps_the_photo(lab):
    """static/app.js refuses a file over max_bytes before reading it and says so through the widget's tags."""
    up = lab.widgets["upload"]
    assert up.tags == [{"max_bytes": conv_lab.MAX_UPLOAD_BYTES}]
    before = snapshot(lab)
    up.tags = [{"max_bytes": conv_lab.MAX_UPLOAD_BYTES, "refused": {"name": "noise.png", "bytes": 108_000_000}}]
    assert "“noise.png”" in lab.message.object and "the file is 103.0 MB; the lab reads files up to 25.0 MB" \
        in lab.message.object
    assert up.tags == [{"max_bytes": conv_lab.MAX_UPLOAD_BYTES}]          # ready to report the next one
    assert_unchanged(lab, before)


def test_a_failed_upload_whose_name_comes_after_its_bytes_keeps_the_menu_on_the_photo_shown(lab):
    """Under Pyodide the bytes arrive first, under the previous file's name: a failed upload must not rename the
    photo on screen (issue 11: the menu named the new file while the old photo stayed)."""
    up = lab.widgets["upload"]
    up.param.update(value=encoded(photo(12, 14)), filename="first.png")       # as panel serve: both at once
    assert lab.widgets["image"].value == "first.png"
    before = snapshot(lab)
    up.value = b"not an image"                                                # then a bad file: bytes first ...
    up.filename = "second.png"                                                # ... its name second
    assert lab.widgets["image"].value == "first.png" and "first.png" in lab.widgets["image"].options
    assert "second.png" not in lab.widgets["image"].options
    assert "“second.png”" in lab.message.object and "first.png" not in lab.message.object
    assert_unchanged(lab, before)


def test_a_huge_jpeg_is_decoded_shrunk_and_says_so(lab):
    big = np.dstack([photo(1600, 2400, seed=s) for s in range(3)])           # factor ceil(2400 / 256) = 10
    assert lab.load_upload("wide.jpg", encoded(big, "JPEG")) is True
    assert lab.state["image"].shape == (160, 240)
    original, size, factor = conv_lab.decode_upload(encoded(big, "JPEG"))
    assert size == (1600, 2400) and factor == 10 and original.shape == (160, 240, 3)
    assert "wide.jpg is 1600×2400: it was decoded shrunk to 160×240" in lab.message.object


# ---------------------------------------------------------------- the pooling lab

@pytest.fixture
def pool():
    conv_state = conv_lab.initial_state(images={"small": photo()})
    conv_lab.build(conv_state, "en")
    return pool_lab.build(pool_lab.initial_state(), conv_state, "en")


@pytest.mark.parametrize("field,value,words", [
    ("size", 9, "Pool size must be a whole number from 1 to 8, got 9"), ("size", 0, "got 0"),
    ("stride", 0, "Stride must be a whole number from 1 to 8, got 0"), ("stride", 100, "got 100"),
    ("kind", "min", "Pooling must be one of max, avg, got min"),
    ("source", "video", "Pool what must be one of input, map, got video"),
])
def test_pool_settings_out_of_bounds_are_named(pool, field, value, words):
    before = (dict(pool.state["settings"]), pool.sources["output"].data["image"][0].copy())
    pool.widgets[field].value = value
    assert pool.message.visible and words in pool.message.object
    assert pool.state["settings"] == before[0]
    np.testing.assert_array_equal(pool.sources["output"].data["image"][0], before[1])


# ---------------------------------------------------------------- the studio

@pytest.fixture
def page(data):
    return studio.create_page("en", data=data, autorun=False)


def studio_snapshot(page):
    return dict(page.trainer.config), page.trainer.model, page.trainer.params


@pytest.mark.parametrize("field,value,words", [
    ("batch_size", 0, "batch_size must be in [1, 4096], got 0"), ("batch_size", 10**6, "got 1000000"),
    ("epochs", 0, "epochs must be in [1, 1000], got 0"), ("epochs", -1, "got -1"), ("epochs", 10**6, "got 1000000"),
    ("train_size", 5, "train_size must be in [10, 300], got 5"), ("train_size", 10**9, "got 1000000000"),
    ("learning_rate", 0.0, "learning_rate must be in (0,"), ("learning_rate", -1.0, "got -1.0"),
    ("learning_rate", float("inf"), "got inf"), ("beta_1", 1.0, "beta_1 must be in [0, 0.9999], got 1.0"),
    ("beta_2", 2.0, "beta_2 must be in"), ("seed", -1, "seed must be in"), ("gamma", -1.0, "gamma must be in"),
])
def test_a_studio_field_out_of_range_is_named_and_put_back(page, field, value, words):
    if field == "gamma":
        page.widgets["loss"].value = "focal"
    config, model, params = studio_snapshot(page)
    page.widgets[field].value = value
    assert page.message.alert_type == "danger" and words in page.message.object
    assert page.widgets[field].value == config[field]                      # the field shows the value in use
    assert page.trainer.config == config and page.trainer.model is model and page.trainer.params is params


@pytest.mark.parametrize("text,line,words", [
    ("Conv2D(6, 5)\nDense(10)", 2, "line 2 (Dense(10)) cannot follow an output of shape (None, 28, 28, 6)"),
    ("Conv2D(6, 5)\nPool(2)\nFlatten()\nDense(10)", 2, "line 2 (Pool(2)): unknown layer 'Pool'"),
    ("Conv2D(6, 5, activation=relu)\nFlatten()\nDense(10)", 1, "arguments must be plain numbers"),
    ("Flatten()\nDense(10**9)\nDense(10)", 2, "arguments must be plain numbers"),
    ("Flatten()\nDense(100000)\nDense(10)", 2, "line 2 (Dense(100000)) makes the model too large to train here"),
    ("Conv2D(6, 5)\nFlatten()\nDense(9)", 3, "the last layer must give 10 class scores"),
    ("Conv2D(" + "[" * 300 + "]" * 300 + ")\nFlatten()\nDense(10)", 1, "not a layer"),
    ("(" * 100_000, None, "the architecture is too long for the studio"),
    ("", None, "the architecture is empty"),
    ("MaxPooling2D(2)\nFlatten()\nDense(10, use_bias=False)", None, None),       # fine: it applies
])
def test_a_refused_architecture_keeps_the_students_text_and_marks_the_line(page, text, line, words):
    config, model, params = studio_snapshot(page)
    page.widgets["architecture"].value = text
    page.widgets["apply"].clicks += 1
    if words is None:                                    # a valid one (no weights before the last Dense) applies
        assert page.trainer.model is not model and not page.views.architecture.marked.visible
        return
    assert words in page.message.object
    assert page.widgets["architecture"].value == text                      # the student's text stays
    assert page.trainer.config == config and page.trainer.model is model and page.trainer.params is params
    marked = page.views.architecture.marked
    assert marked.visible is (line is not None)
    if line is not None:
        bad = [n for n, row in enumerate(marked.object.split("<div")[2:], start=1) if row.startswith(" class='bad'")]
        assert bad == [line]


def test_studio_arch_errors_carry_their_line():
    with pytest.raises(studio_arch.ArchError) as e:
        studio_arch.parse("Conv2D(6, 5)\n\n# a comment\nDense(10)")
    assert e.value.line == 4 and str(e.value).startswith("line 4 (Dense(10))")


def test_a_weights_file_the_page_refused_is_named_and_the_model_kept(page):
    config, model, params = studio_snapshot(page)
    load = page.widgets["load"]
    load.tags = [{"max_bytes": studio.MAX_WEIGHTS_BYTES, "refused": {"name": "huge.npz", "bytes": 80 * 2**20}}]
    assert "'huge.npz' is 80.0 MB; the studio reads weights files up to 32 MB" in page.message.object
    assert page.trainer.model is model and page.trainer.params is params and page.trainer.config == config


# ---------------------------------------------------------------- links with hostile settings

HOSTILE = [
    None, 42, "x" * 1_000_000, ["size", 5],
    {"size": 10**5000, "sigma": float("nan"), "bias": 1e308, "kernel": [[1e38] * 3] * 3, "filter": "evil",
     "extra": ["box"] * 10, "photo": "../../etc/passwd", "stride": True, "padding": [1], "zzz": {"a": 1}},
    {"kernel": "k" * 1_000_000, "extra": "sobel", "photo": None},
    {"kernel": [[0] * 100_000] * 3, "size": -1, "sigma": "1"},
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_link_gives_the_conv_lab_its_defaults_and_notices(hostile):
    lab = conv_lab.build(conv_lab.initial_state(images={"small": photo(), "tiny": photo(6, 7, seed=1)}), "en")
    default = lab.url_state()
    lab.widgets["filter"].value = "sobel_x"                                  # something to be reset
    notices = lab.restore(hostile)
    assert notices and all(isinstance(n, tuple) and len(n) == 2 for n in notices)
    assert lab.url_state() == default
    for key in (hostile if isinstance(hostile, dict) else {}):
        assert any(n[1].get("name") == key for n in notices), (key, notices)
    for key, values in notices:
        assert len(i18n.text("ko", key, **values)) < 400                     # said shortly, in any language


@pytest.mark.parametrize("hostile", HOSTILE[:4] + [
    {"size": 0, "stride": 10**5000, "kind": "median", "source": {"x": 1}, "winners": "yes", "q": 1}])
def test_a_hostile_link_gives_the_pool_lab_its_defaults_and_notices(hostile):
    conv_state = conv_lab.initial_state(images={"small": photo()})
    lab = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    default = lab.url_state()
    lab.widgets["kind"].value = "avg"
    notices = lab.restore(hostile)
    assert notices and lab.url_state() == default
    for key in (hostile if isinstance(hostile, dict) else {}):
        assert any(n[1].get("name") == key for n in notices), (key, notices)


def test_pool_settings_that_do_not_fit_the_photo_fall_back_to_the_defaults():
    conv_state = conv_lab.initial_state(images={"tiny": photo(6, 7)})
    lab = pool_lab.build(pool_lab.initial_state(), conv_state, "en")
    notices = lab.restore({"size": 8, "stride": 8})
    assert [key for key, _ in notices] == ["url_failed"] and "pool 8x8 is larger" in notices[0][1]["why"]
    assert lab.url_state() == pool_lab.url_state(pool_lab.initial_state())


def test_conv_settings_that_do_not_fit_the_photo_fall_back_to_the_defaults():
    lab = conv_lab.build(conv_lab.initial_state(images={"tiny": photo(6, 7)}), "en")
    notices = lab.restore({"size": 9, "padding": "valid", "photo": "tiny"})
    assert [key for key, _ in notices] == ["url_failed"] and "9x9 is larger than the input 6x7" in notices[0][1]["why"]
    assert lab.state["settings"]["size"] == 5 and lab.state["settings"]["padding"] == "same"


@pytest.mark.parametrize("hostile", HOSTILE[:4] + [
    {"epochs": 10**400, "learning_rate": "x", "architecture": "(" * 100_000, "imbalanced": "yes", "zz": 1,
     "optimizer": "evil", "batch_size": -1, "alpha": float("nan"), "dropout": 5, "seed": 1.5},
    {"architecture": ["Dense(10)"], "loss": None, "train_size": True}])
def test_a_hostile_link_gives_the_studio_its_defaults_and_notices(page, hostile):
    default = page.url_state()
    model = page.trainer.model
    page.widgets["learning_rate"].value = 0.05
    notices = page.restore(hostile)
    assert notices and page.url_state() == default
    assert page.trainer.model is model                       # LeNet-5 all along: the weights were not redrawn
    for key in (hostile if isinstance(hostile, dict) else {}):
        assert any(n[1].get("name") == key for n in notices), (key, notices)


def test_a_link_read_while_the_data_loads_is_applied_once_it_arrives(late_data):
    page = studio.create_page("en", autorun=False)
    wanted = {"optimizer": "sgd", "learning_rate": 0.05, "epochs": "many"}
    assert page.restore(wanted) == [] and page.url_state() == wanted         # waits, and the URL keeps it
    late_data()
    assert page.retry() is True
    assert page.trainer.config["optimizer"] == "sgd" and page.trainer.config["learning_rate"] == 0.05
    assert page.trainer.config["epochs"] == 4
    assert "Not everything in the link could be used" in page.message.object and "epochs" in page.message.object


def test_restore_never_raises_whatever_it_is_given(page):
    lab = conv_lab.build(conv_lab.initial_state(images={"small": photo()}), "en")
    pool = pool_lab.build(pool_lab.initial_state(), lab.state, "en")
    rng = np.random.default_rng(0)
    values = [None, True, -1, 0, 10**40, 1e308, float("nan"), "", "x" * 5000, [], [[]], {}, {"a": [1]},
              [[1, 2, 3]] * 3, types.SimpleNamespace()]
    for room, keys in ((lab, conv_lab.url_state(lab.state)), (pool, pool.url_state()), (page, page.url_state())):
        for _ in range(40):
            state = {key: values[rng.integers(len(values))] for key in keys if rng.random() < 0.5}
            assert isinstance(room.restore(state), list)
