"""Issue 11's corpus of bad inputs against the optimizers, the training step and controller, the weights files,
the data caches and both command lines. Every case asserts three things:

- the outcome: a ValueError (or FloatingPointError for a run that diverged), or for a command line its exit
  status and a message on stderr, never silence and never a traceback;
- that the message names the input (the setting, the flag, the file, the weight);
- that nothing was lost: params, optimizer state, the studio's model and every file on disk are as they were.

(Model and layer cases are in tests/test_bad_inputs_models.py.) The MNIST cases need the cache that
`python -m core.datasets fetch` writes, as the rest of the suite does.
"""
import io
import json
import math
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import cli, datasets, files, layers as L, losses, models, optimizers, step, train
from playground import training as T

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- helpers

def npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zipped(members):
    """A zip of raw members {name: bytes}, stored as np.savez stores them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def npy_header(shape, descr="<f4", version=(1, 0)):
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    writer = np.lib.format.write_array_header_1_0 if version == (1, 0) else np.lib.format.write_array_header_2_0
    writer(buf, header)
    return buf.getvalue()


def small_model():
    return models.Sequential([L.Input((32, 32, 1)), L.Conv2D(2, 5, strides=4, name="C1"), L.Flatten(name="flat"),
                              L.Dense(10, name="OUTPUT")], name="small")


def weights(architecture, fmt=models.FORMAT, **arrays):
    """A weights file whose architecture is `architecture` (a dict -> JSON, or text as it is)."""
    text = architecture if isinstance(architecture, str) else json.dumps(architecture)
    return npz(__format__=np.array(fmt), __architecture__=np.array(text), **arrays)


def good_arrays(model=None, seed=0):
    model = model or small_model()
    params = model.init(seed)
    return {f"{k}/{w}": a for k, v in params.items() for w, a in v.items()}


def architecture(model=None):
    return (model or small_model()).get_config()


def spec(name, kind, config, inputs):
    return {"name": name, "kind": kind, "config": config, "inputs": inputs}


def dense_claiming(inputs):
    """LeNet-size file (a few kB) whose architecture claims a Dense layer with `inputs` inputs."""
    side = int(math.isqrt(inputs))
    return {"class": "Sequential", "name": "crafted",
            "layers": [spec("input", "Input", {"shape": [side, side, 1]}, []),
                       spec("flatten", "Flatten", {}, ["input"]),
                       spec("OUTPUT", "Dense", {"units": 10}, ["flatten"])]}


def with_arrays(arch_edit=None, array_edit=None, model=None):
    arch = architecture(model)
    arrays = good_arrays(model)
    if arch_edit:
        arch_edit(arch)
    if array_edit:
        array_edit(arrays)
    return weights(arch, **arrays)


def set_in(path, value):
    def edit(tree):
        node = tree
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def tree_copy(tree):
    return {k: tree_copy(v) if isinstance(v, dict) else np.array(v, copy=True) for k, v in tree.items()}


def same_tree(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_tree(a[k], b[k]) for k in a)
    return np.array_equal(np.asarray(a), np.asarray(b))


def folder_state(folder):
    """Every file under folder with its bytes: the 'nothing on disk changed' check."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- optimizers: settings that would make NaN

OPTIMIZER_CASES = [
    ("Adam beta_1=1.0", lambda: optimizers.Adam(beta_1=1.0), r"Adam: beta_1 must be a finite number in \[0, 1\)"),
    ("Adam beta_2=1.0", lambda: optimizers.Adam(beta_2=1.0), r"Adam: beta_2 must be a finite number in \[0, 1\)"),
    ("Adam beta_1=nan", lambda: optimizers.Adam(beta_1=float("nan")), "Adam: beta_1 must be a finite number"),
    ("Adam lr=inf", lambda: optimizers.Adam(float("inf")), "Adam: learning_rate must be a finite number > 0, got inf"),
    ("SGD lr=nan", lambda: optimizers.SGD(float("nan")), "SGD: learning_rate must be a finite number > 0"),
    ("SGD lr='0.01'", lambda: optimizers.SGD("0.01"), "SGD: learning_rate must be a number, got '0.01'"),
    ("RMSprop lr=None", lambda: optimizers.RMSprop(None), "RMSprop: learning_rate must be a number, got None"),
    ("Adagrad lr=-1", lambda: optimizers.Adagrad(-1), "Adagrad: learning_rate must be a finite number > 0, got -1"),
    ("RMSprop momentum=1.5", lambda: optimizers.RMSprop(momentum=1.5), r"RMSprop: momentum must be .*got 1.5"),
    ("RMSprop rho=1", lambda: optimizers.RMSprop(rho=1), r"RMSprop: rho must be a finite number in \[0, 1\)"),
    ("SGD momentum=-0.1", lambda: optimizers.SGD(momentum=-0.1), "SGD: momentum must be .*got -0.1"),
    ("SGD momentum=True", lambda: optimizers.SGD(momentum=True), "SGD: momentum must be a number, got True"),
    ("SGD nesterov='yes'", lambda: optimizers.SGD(nesterov="yes"), "SGD: nesterov must be True or False"),
    ("Adam epsilon=0", lambda: optimizers.Adam(epsilon=0), "Adam: epsilon must be a finite number > 0, got 0"),
    ("Adagrad initial_accumulator_value=-1", lambda: optimizers.Adagrad(initial_accumulator_value=-1),
     "Adagrad: initial_accumulator_value must be a finite number >= 0"),
    ("Adam weight_decay=-0.1", lambda: optimizers.Adam(weight_decay=-0.1), "Adam: weight_decay must be"),
    ("SGD lr x weight_decay >= 1", lambda: optimizers.SGD(0.5, weight_decay=2),
     "SGD: learning_rate x weight_decay must be < 1"),
    ("a schedule giving NaN", lambda: optimizers.Adam(lambda t: math.nan), "Adam: learning_rate .*schedule"),
    ("a callable that is no schedule", lambda: optimizers.SGD(dict), "SGD: learning_rate is callable but not"),
    ("cosine_decay peak=inf", lambda: optimizers.cosine_decay(math.inf, 10), "cosine_decay: peak must be"),
    ("get('adamx')", lambda: optimizers.get("adamx"), "unknown optimizer 'adamx'"),
    ("get('adam', rho=0.9)", lambda: optimizers.get("adam", rho=0.9), "optimizer 'adam' has no setting 'rho'"),
]


@pytest.mark.parametrize("case, make, message", OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_optimizer_settings_that_would_make_nan_are_refused_by_name(case, make, message):
    params = {"d": {"kernel": np.ones((2, 2), np.float32)}}
    before = tree_copy(params)
    with pytest.raises(ValueError, match=message):
        make()
    assert same_tree(params, before)


# ---------------------------------------------------------------- a NaN gradient never reaches params or state

def nan_gradient_loss(logits, y):
    """A loss whose value is fine but whose gradient is NaN (as an overflow on the way back makes it)."""
    return 1.0, np.full_like(logits, np.nan)


def test_a_nan_gradient_stops_the_step_before_params_or_optimizer_state_move():
    model = small_model()
    params, opt = model.init(0), optimizers.Adam(1e-3)
    state = opt.init(params)
    before, state_before = tree_copy(params), tree_copy(state)
    x = np.random.default_rng(0).random((4, 32, 32, 1), dtype=np.float32)
    with pytest.raises(step.Diverged, match=r"the gradient of OUTPUT/kernel became NaN/inf at this batch "
                                            r"\(the loss was 1\)") as err:
        step.train_step(model, opt, nan_gradient_loss, params, state, x, np.arange(4))
    assert err.value.gradient == "OUTPUT/kernel" and err.value.loss == 1.0
    assert same_tree(params, before) and same_tree(state, state_before)


def test_fit_with_a_nan_gradient_keeps_the_last_good_params():
    model = small_model()
    start = model.init(0)
    before = tree_copy(start)
    x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
    with pytest.raises(models.NonFiniteLossError, match=r"training stopped: the gradient of OUTPUT/kernel became "
                                                        r"NaN/inf at epoch 1, batch 1 \(the loss was 1\)") as err:
        model.fit(x, np.arange(8) % 10, batch_size=4, loss=nan_gradient_loss, params=start)
    assert same_tree(err.value.params, before) and same_tree(model.params, before)


def test_fit_diverging_to_a_finite_1e22_stops_with_the_last_good_params():
    """Adam at lr 1000: the loss grows a thousandfold without NaN; fit stops and keeps the params whose loss
    passed (here the first ones)."""
    model = small_model()
    start = model.init(0)
    before = tree_copy(start)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 32, 32, 1), dtype=np.float32), rng.integers(0, 10, 64)
    with pytest.raises(models.NonFiniteLossError, match=r"the loss became \S+ at epoch 1, batch \d+, more than 1000"):
        model.fit(x, y, batch_size=8, epochs=3, optimizer=optimizers.Adam(1e3), params=start)
    assert step.all_finite(model.params) and same_tree(start, before)


# ---------------------------------------------------------------- weights files: everything is a ValueError

# (id, the file's bytes, what the message says). The cases are loaded from disk as hostile.npz (so the message
# must name it) and given to the studio as an upload (whose model must survive).
HOSTILE = [
    ("100,000 nested brackets", lambda: weights("[" * 100_000 + "]" * 100_000), "no readable architecture"),
    ("a Dense with 10^10 inputs in 2 kB", lambda: weights(dense_claiming(10 ** 10), **good_arrays()),
     r"10,000,000,000 parameters|parameters, more than"),
    ("a Dense with 10^7 inputs in 2 kB", lambda: weights(dense_claiming(10 ** 7), **good_arrays()),
     "holds 1,042 numbers but its architecture has 99,982,450 parameters"),
    ("5,000 layers", lambda: weights({"layers": [spec("input", "Input", {"shape": [4]}, [])] + [
        spec(f"a{i}", "Activation", {"activation": "relu"}, [f"a{i - 1}" if i else "input"]) for i in range(5000)]}),
     "5,001 layers, more than the 256 allowed"),
    ("an array header claiming 10^10 floats", lambda: zipped({
        "__format__.npy": npy(np.array(models.FORMAT)),
        "C1/kernel.npy": npy_header((10 ** 10,)) + b"\0" * 64}), r"C1/kernel claims shape \(10000000000,\)"),
    ("an array header claiming fewer bytes than it holds", lambda: zipped({
        "C1/kernel.npy": npy_header((2,)) + b"\0" * 64}), r"claims shape \(2,\) of float32 \(8 bytes\) but holds 64"),
    ("pickled objects", lambda: npz(__format__=np.array(models.FORMAT), obj=np.array([{"a": 1}], dtype=object)),
     "contains pickled objects"),
    ("a truncated file", lambda: with_arrays()[:1500], "truncated or not a .npz"),
    ("text", lambda: b"hello, not weights", "truncated or not a .npz"),
    ("no bytes at all", lambda: b"", "truncated or not a .npz"),
    ("a zip of something else", lambda: zipped({"readme.txt": b"hi"}), "'readme.txt' is not a .npy array"),
    ("a .npy format version 3", lambda: zipped({"a.npy": b"\x93NUMPY\x03\x00" + b"\0" * 20}),
     "unsupported .npy format version"),
    ("a damaged array header", lambda: zipped({"a.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': nope}  \n"}),
     "damaged array header"),
    ("another program's .npz", lambda: npz(a=np.zeros(3)), "not a CNN Playground weights file"),
    ("a format stamp that is a million numbers", lambda: npz(__format__=np.zeros(10 ** 6)),
     "not a CNN Playground weights file"),
    ("no architecture", lambda: npz(__format__=np.array(models.FORMAT)), "no readable architecture"),
    ("an architecture that is a list", lambda: weights("[1, 2]"), "model architecture is malformed"),
    ("an architecture of 2 million characters", lambda: weights(" " * 2_000_000 + "{}"),
     "2,000,002 characters, more than"),
    ("a 5,000-digit number", lambda: weights("1" * 5000), "no readable architecture"),
    ("a first layer that is not Input", lambda: with_arrays(set_in(["layers", 0, "kind"], "Dense")),
     "the first layer is 'Dense', not Input"),
    ("an unknown layer kind", lambda: with_arrays(set_in(["layers", 1, "kind"], "Conv3D")),
     "unknown layer kind 'Conv3D'"),
    ("filters='many'", lambda: with_arrays(set_in(["layers", 1, "config", "filters"], "many")), "filters"),
    ("an input of infinite size", lambda: with_arrays(set_in(["layers", 0, "config", "shape"], [1e999, 32, 1])),
     r"Input: shape must be .*got \[inf, 32, 1\]"),
    ("a layer fed from nowhere", lambda: with_arrays(set_in(["layers", 2, "inputs"], ["nowhere"])), "malformed"),
    ("a layer with no inputs", lambda: with_arrays(set_in(["layers", 2, "inputs"], [])), "malformed"),
    ("a config that is a list", lambda: with_arrays(set_in(["layers", 1, "config"], [1, 2])),
     "layer 2 is not"),
    ("a name that is a number", lambda: with_arrays(set_in(["name"], 5)), "the name must be text"),
    ("an array not named layer/weight", lambda: with_arrays(array_edit=set_in(["junk"], np.zeros(2, np.float32))),
     "array 'junk' is not named layer/weight"),
    ("integer weights", lambda: with_arrays(array_edit=set_in(["C1/kernel"], np.zeros((5, 5, 1, 2), np.int32))),
     "C1/kernel has dtype int32, expected floating point"),
    ("NaN weights", lambda: with_arrays(array_edit=set_in(["C1/bias"], np.array([np.nan, 0], np.float32))),
     "C1/bias contains NaN or inf"),
    ("a kernel of the wrong shape", lambda: with_arrays(array_edit=set_in(["C1/kernel"], np.zeros((3, 3, 1, 2),
                                                                                                     np.float32))),
     r"Conv2D 'C1' kernel has shape \(3, 3, 1, 2\), expected \(5, 5, 1, 2\)"),
    ("a missing layer", lambda: with_arrays(array_edit=lambda a: (a.pop("OUTPUT/kernel"), a.pop("OUTPUT/bias"))),
     r"missing layers \['OUTPUT'\]"),
]


@pytest.mark.parametrize("case, make, message", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_a_hostile_weights_file_is_a_value_error_naming_it(case, make, message, tmp_path):
    path = tmp_path / "hostile.npz"
    path.write_bytes(make())
    before = folder_state(tmp_path)
    with pytest.raises(ValueError, match=message) as err:
        models.load(path)
    assert "hostile.npz" in str(err.value)
    assert folder_state(tmp_path) == before


@pytest.fixture(scope="module")
def studio_data():
    (x, y), (xt, yt) = datasets.load_subset("mnist")
    x, y = datasets.class_balanced_subset(x, y, 100, seed=1)
    xt, yt = datasets.class_balanced_subset(xt, yt, 50, seed=1)
    return {"x_train": x, "y_train": y.astype(np.int64), "x_test": xt, "y_test": yt.astype(np.int64)}


def studio_uploads():
    """The studio's own uploads: every hostile file, and what only the studio refuses."""
    big = models.Sequential([L.Input((32, 32, 1)), L.Flatten(name="flat"), L.Dense(2000, name="F"),
                             L.Dense(10, name="OUTPUT")], name="big")
    small28 = models.Sequential([L.Input((28, 28, 1)), L.Flatten(name="flat"), L.Dense(10, name="OUTPUT")])
    loud = good_arrays()
    loud["C1/kernel"] = np.full((5, 5, 1, 2), 1e300)                 # finite as float64, inf as float32
    return HOSTILE + [
        ("values beyond float32", lambda: weights(architecture(), **loud), "beyond float32's range"),
        ("a 2-million-weight stack", lambda: weights(architecture(big), **good_arrays(big)), "2,000,000"),
        ("a 28x28 model", lambda: weights(architecture(small28), **good_arrays(small28)), "needs input"),
        ("not bytes", lambda: "a text, not bytes", "expected the file's bytes, got str"),
    ]


STUDIO = studio_uploads()


@pytest.mark.parametrize("case, make, message", STUDIO, ids=[c[0] for c in STUDIO])
def test_the_studio_refuses_a_hostile_upload_and_keeps_its_model(case, make, message, studio_data):
    t = T.Trainer(studio_data, architecture='Conv2D(2, 5, strides=4, name="C1")\nFlatten()\nDense(10, name="OUTPUT")',
                  epochs=1, batch_size=10)
    t.start()
    t.step(2)
    t.pause()
    model, params, config, seen = t.model, tree_copy(t.params), dict(t.config), t.images_seen
    with pytest.raises(ValueError, match=message) as err:
        t.load_bytes(make(), "upload.npz")
    assert "upload.npz" in str(err.value) or case == "a 28x28 model"
    assert t.model is model and same_tree(t.params, params) and t.config == config
    assert t.images_seen == seen and t.status == "paused"


def test_random_damage_to_a_weights_file_is_a_value_error_or_a_good_load():
    """300 single-byte flips and 50 cuts of a small weights file: each loads (the flip hit a number) or is a
    ValueError; nothing else escapes and nothing NaN loads."""
    good = weights(architecture(), **good_arrays())
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "refused": 0}
    blobs = [good[:int(n)] for n in rng.integers(0, len(good), 50)]
    for i in rng.integers(0, len(good), 300):
        damaged = bytearray(good)
        damaged[i] ^= int(rng.integers(1, 256))
        blobs.append(bytes(damaged))
    for blob in blobs:
        try:
            _, params = models.load(blob)
        except ValueError:
            outcomes["refused"] += 1
        else:
            assert step.all_finite(params)
            outcomes["loaded"] += 1
    assert outcomes["refused"] >= 50 and sum(outcomes.values()) == 350


# ---------------------------------------------------------------- saving never costs a good file

def good_file(tmp_path, name="w.npz"):
    model = small_model()
    path = tmp_path / name
    models.save(path, model, model.init(seed=1))
    return model, path


SAVE_CASES = [
    ("NaN params", lambda m: {**m.init(2), "C1": {"kernel": np.full((5, 5, 1, 2), np.nan, np.float32),
                                                  "bias": np.zeros(2, np.float32)}},
     "save: C1/kernel contains NaN or inf"),
    ("inf params", lambda m: {**m.init(2), "OUTPUT": {"kernel": np.full((98, 10), np.inf, np.float32),
                                                      "bias": np.zeros(10, np.float32)}},
     "save: OUTPUT/kernel contains NaN or inf"),
    ("integer params", lambda m: {**m.init(2), "C1": {"kernel": np.zeros((5, 5, 1, 2), np.int64),
                                                      "bias": np.zeros(2, np.float32)}},
     "save: C1/kernel has dtype int64"),
    ("another model's params", lambda m: models.lenet5().init(0),
     r"params do not match model 'small': unexpected layers \['C3', 'C5', 'F6'\]"),
]


@pytest.mark.parametrize("case, make, message", SAVE_CASES, ids=[c[0] for c in SAVE_CASES])
def test_save_refuses_params_that_would_not_load_and_keeps_the_good_file(case, make, message, tmp_path):
    model, path = good_file(tmp_path)
    before = folder_state(tmp_path)
    with pytest.raises(ValueError, match=message):
        models.save(path, model, make(model))
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("where, message", [("/sys/w.npz", "cannot write weights file '/sys/w.npz'"),
                                            ("/no/such/folder/w.npz", "cannot write weights file"),
                                            ("FOLDER", "cannot write weights file")])
def test_save_to_a_place_it_cannot_write_is_a_value_error_naming_it(where, message, tmp_path):
    model = small_model()
    where = str(tmp_path) if where == "FOLDER" else where
    before = folder_state(tmp_path)
    with pytest.raises(ValueError, match=message) as err:
        models.save(where, model, model.init(0))
    assert where in str(err.value) and folder_state(tmp_path) == before


def test_a_save_that_fails_half_way_leaves_the_old_file_whole(tmp_path, monkeypatch):
    model, path = good_file(tmp_path)
    before = folder_state(tmp_path)

    def savez_then_fail(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(ValueError, match=r"cannot write weights file .*w\.npz.*No space left on device"):
        models.save(path, model, model.init(5))
    assert folder_state(tmp_path) == before           # the old file, whole, and no temporary file beside it


def test_save_and_load_agree_on_a_name_without_npz(tmp_path):
    """Silently wrong before: save('noext') wrote noext.npz, load('noext') found nothing."""
    model = small_model()
    params = model.init(3)
    written = models.save(tmp_path / "noext", model, params)
    assert written == tmp_path / "noext" and [p.name for p in tmp_path.iterdir()] == ["noext"]
    assert same_tree(models.load(tmp_path / "noext")[1], params)


def test_read_npz_refuses_more_than_its_byte_budget_before_unpacking():
    """A zip bomb's members claim more than max_bytes unpacked: refused from the directory, nothing inflated."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.npy", npy(np.zeros(4_000_000, np.uint8)))
    assert len(bomb.getvalue()) < 10_000
    with pytest.raises(ValueError, match=r"bomb\.npz unpacks to more than 1,000,000 bytes"):
        files.read_npz(bomb.getvalue(), "bomb.npz", max_bytes=1_000_000)


# ---------------------------------------------------------------- data

def write_cache(folder, **changes):
    arrays = {k: np.zeros(s, np.uint8) for k, s in datasets.SPLIT_SHAPES.items()}
    arrays["y_train"] = np.arange(60000, dtype=np.uint8) % 10
    arrays["y_test"] = np.arange(10000, dtype=np.uint8) % 10
    arrays.update(changes)
    datasets.write_npz(folder / datasets.MNIST_CACHE, arrays)


DATA_CASES = [
    ("a torn mnist.npz", lambda d: (d / "mnist.npz").write_bytes(b"PK\x03\x04 torn"), "mnist.npz: damaged cache"),
    ("mnist.npz of text", lambda d: (d / "mnist.npz").write_text("not an archive"), "mnist.npz: damaged cache"),
    ("mnist.npz with a short x_test", lambda d: write_cache(d, x_test=np.zeros((10, 28, 28), np.uint8)),
     r"mnist.npz: x_test should be uint8 \(10000, 28, 28\)"),
    ("mnist.npz with float pixels", lambda d: write_cache(d, x_train=np.zeros((60000, 28, 28), np.float32)),
     "mnist.npz: x_train should be uint8"),
    ("mnist.npz with label 12", lambda d: write_cache(d, y_test=np.full(10000, 12, np.uint8)),
     "mnist.npz: y_test holds label 12 > 9"),
]


@pytest.mark.parametrize("case, make, message", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_a_damaged_data_cache_is_a_value_error_naming_it_and_saying_to_fetch_again(case, make, message, tmp_path):
    make(tmp_path)
    before = folder_state(tmp_path)
    with pytest.raises(ValueError, match=message) as err:
        datasets.load_mnist(tmp_path)
    assert "python -m core.datasets fetch" in str(err.value)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("call, message", [
    (lambda x, y: datasets.class_balanced_subset(x, y, 0), "n must be an int in 1..100, got 0"),
    (lambda x, y: datasets.class_balanced_subset(x, y, -5), "n must be an int in 1..100, got -5"),
    (lambda x, y: datasets.class_balanced_subset(x, y, 2.5), "n must be an int in 1..100, got 2.5"),
    (lambda x, y: datasets.imbalanced_subset(x, y, (5,), keep=0), r"keep must be in \(0, 1\], got 0"),
    (lambda x, y: datasets.preprocess(x.astype(np.float32)), "expects uint8 pixels 0..255, got dtype float32"),
    (lambda x, y: datasets.preprocess(x[:, :20]), r"expects images of shape \(N, 28, 28\)"),
], ids=["n=0", "n=-5", "n=2.5", "keep=0", "float pixels", "20x28 digits"])
def test_bad_data_arguments_are_refused_by_name(call, message):
    x, y = np.zeros((100, 28, 28), np.uint8), np.arange(100) % 10
    before = x.copy(), y.copy()
    with pytest.raises(ValueError, match=message):
        call(x, y)
    assert np.array_equal(x, before[0]) and np.array_equal(y, before[1])


# ---------------------------------------------------------------- the studio's training controller

@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": "0.01"}, "learning_rate must be a number, got '0.01'"),
    ({"learning_rate": math.inf}, r"learning_rate must be in \(0, 1000000.0\], got inf"),
    ({"learning_rate": 0}, r"learning_rate must be in \(0"),
    ({"batch_size": 0}, r"batch_size must be in \[1, 4096\], got 0"),
    ({"epochs": -1}, r"epochs must be in \[1, 1000\], got -1"),
    ({"epochs": 2.5}, "epochs must be a whole number, got 2.5"),
    ({"beta_1": 1.0}, r"beta_1 must be in \[0, 0.9999\], got 1.0"),
    ({"momentum": float("nan")}, "momentum must be in"),
    ({"optimizer": "adamx"}, "optimizer must be one of"),
    ({"dropout": "0.5"}, "dropout must be a number, got '0.5'"),
], ids=["lr '0.01'", "lr inf", "lr 0", "batch 0", "epochs -1", "epochs 2.5", "beta_1 1.0", "momentum nan",
        "optimizer adamx", "dropout '0.5'"])
def test_the_studio_refuses_bad_settings_by_name_and_keeps_everything(settings, message, studio_data):
    t = T.Trainer(studio_data)
    model, params, config = t.model, tree_copy(t.params), dict(t.config)
    with pytest.raises(ValueError, match=message):
        t.configure(**settings)
    assert t.model is model and same_tree(t.params, params) and t.config == config and t.status == "ready"


def test_the_studio_stops_on_a_nan_gradient_with_the_last_good_weights(studio_data):
    t = T.Trainer(studio_data, epochs=1, batch_size=10)
    t.start()
    t.step(2)
    good = tree_copy(t.params)
    t.run["loss_fn"] = nan_gradient_loss          # the run's loss, as the next batches will call it
    assert t.step(3) == 0
    kind, key, values = t.message
    assert (t.status, kind, key) == ("diverged", "error", "msg_nonfinite_grad")
    assert values["weight"] == "OUTPUT/kernel" and values["loss"] == 1.0
    assert same_tree(t.params, good)


def test_the_studio_refuses_to_load_while_running(studio_data):
    t = T.Trainer(studio_data)
    blob = t.save_bytes()
    t.start()
    params = tree_copy(t.params)
    with pytest.raises(ValueError, match="pause or stop training before loading weights"):
        t.load_bytes(blob, "mine.npz")
    assert t.status == "running" and same_tree(t.params, params)


# ---------------------------------------------------------------- python -m core.train

def existing_out(tmp_path):
    model, path = good_file(tmp_path, "existing.npz")
    return path


CORE_TRAIN_USAGE = [
    (["--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["--epochs", "-1"], "--epochs: must be at least 1, got -1"),
    (["--epochs", "two"], "--epochs: expected a whole number, got 'two'"),
    (["--lr", "fast"], "--lr: expected a number, got 'fast'"),
    (["--lr", "nan"], "--lr: must be a finite number > 0, got nan"),
    (["--lr", "-1"], "--lr: must be a finite number > 0, got -1"),
    (["--lr", "inf"], "--lr: must be a finite number > 0, got inf"),
    (["--limit", "0"], "--limit: must be at least 1, got 0"),
    (["--limit", "-5"], "--limit: must be at least 1, got -5"),
    (["--weight-decay", "-1"], "--weight-decay: must be a finite number >= 0, got -1"),
    (["--optimizer", "sgd", "--lr", "0.5", "--weight-decay", "4"], "--weight-decay 4: SGD: learning_rate x weight_decay"),
    (["--optimizer", "adamx"], "--optimizer: invalid choice: 'adamx'"),
    (["--out", "/sys/w.npz"], "--out /sys/w.npz: cannot write in /sys"),
    (["--out", "/no/such/folder/w.npz"], "--out /no/such/folder/w.npz: the folder /no/such/folder does not exist"),
    (["--out", "/no/such/folder/"], "--out /no/such/folder/weights.npz: the folder /no/such/folder does not exist"),
]


@pytest.mark.parametrize("argv, message", CORE_TRAIN_USAGE, ids=[" ".join(a) for a, _ in CORE_TRAIN_USAGE])
def test_core_train_refuses_bad_options_before_anything_runs(argv, message, tmp_path, capsys):
    out = existing_out(tmp_path)
    before = folder_state(tmp_path)
    argv = argv if "--out" in argv else [*argv, "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and "Traceback" not in err
    assert folder_state(tmp_path) == before


def test_core_train_lr_1e8_leaves_an_existing_file_untouched(tmp_path):
    """Lost before: a diverged run wrote its params over a good file. Now --out stays as it was, and the last
    good params go beside it, as the message says. A real process: its exit status and stderr are the point."""
    out = existing_out(tmp_path)
    before = out.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "core.train", "--limit", "256", "--lr", "1e8", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert re.search(r"error: training stopped: the (loss|gradient of \S+) became", proc.stderr), proc.stderr
    assert f"{out} was left as it was" in proc.stderr and "existing.last_good.npz" in proc.stderr
    assert out.read_bytes() == before
    assert step.all_finite(models.load(tmp_path / "existing.last_good.npz")[1])


def test_core_train_on_a_torn_data_cache_says_to_fetch_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 torn")
    out = existing_out(tmp_path)
    before = folder_state(tmp_path)
    assert train.main(["--limit", "64", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error: mnist is not available" in err and "mnist.npz: damaged cache" in err
    assert "python -m core.datasets fetch" in err
    assert folder_state(tmp_path) == before


def test_core_train_limit_beyond_the_data_is_refused(tmp_path, capsys):
    out = existing_out(tmp_path)
    before = folder_state(tmp_path)
    assert train.main(["--limit", "60001", "--out", str(out)]) == 1
    assert "--limit 60001 is more than the 60000 training examples" in capsys.readouterr().err
    assert folder_state(tmp_path) == before


# ---------------------------------------------------------------- python -m core.jax.train

@pytest.fixture(scope="module")
def jax_train():
    pytest.importorskip("jax")
    from core.jax import train as jt
    return jt


JAX_SMALL = ["--dataset", "synthetic", "--limit", "64", "--batch-size", "32", "--epochs", "1", "--no-progress"]

JAX_USAGE = [
    (["--limit", "0"], "--limit: must be at least 1, got 0"),
    (["--limit", "-3"], "--limit: must be at least 1, got -3"),
    (["--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (["--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["--lr", "inf"], "--lr: must be a finite number > 0, got inf"),
    (["--lr", "fast"], "--lr: expected a number, got 'fast'"),
    (["--momentum", "-1"], "--momentum: must be a finite number >= 0, got -1"),
    (["--weight-decay", "nan"], "--weight-decay: must be a finite number >= 0, got nan"),
]


@pytest.mark.parametrize("argv, message", JAX_USAGE, ids=[" ".join(a) for a, _ in JAX_USAGE])
def test_jax_train_refuses_bad_options_before_anything_runs(argv, message, jax_train, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        jax_train.main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err
    assert not out.exists()


def test_jax_train_out_an_existing_file_is_refused_and_kept(jax_train, tmp_path, capsys):
    out = existing_out(tmp_path)
    before = folder_state(tmp_path)
    assert jax_train.main([*JAX_SMALL, "--out", str(out)]) == 1
    assert f"--out {out} is a file; it must be a folder" in capsys.readouterr().err
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("out", ["/sys/run", "/proc/run"])
def test_jax_train_out_an_unwritable_folder_is_refused_before_training(out, jax_train, capsys):
    assert jax_train.main([*JAX_SMALL, "--out", out]) == 1
    err = capsys.readouterr().err
    assert f"--out {out}" in err and "cannot" in err and "epoch 1" not in err


def test_jax_train_resume_from_a_checkpoint_missing_optimizer_state(jax_train, tmp_path, capsys):
    """A KeyError inside jit before: now the checkpoint is refused by name, and left as it was."""
    out = tmp_path / "run"
    assert jax_train.main([*JAX_SMALL, "--out", str(out)]) == 0
    arrays = files.read_npz(out / "checkpoint.npz", "checkpoint")
    np.savez(out / "checkpoint.npz", **{k: v for k, v in arrays.items() if not k.startswith("opt/m/")})
    before = folder_state(tmp_path)
    capsys.readouterr()
    assert jax_train.main([*JAX_SMALL, "--epochs", "2", "--resume", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"checkpoint\.npz: its optimizer state does not fit the optimizer: missing opt/m/\w+/\w+", err)
    assert folder_state(tmp_path) == before


def test_jax_train_resume_from_a_torn_checkpoint(jax_train, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"PK\x03\x04 torn")
    before = folder_state(tmp_path)
    assert jax_train.main([*JAX_SMALL, "--resume", "--out", str(out)]) == 1
    assert "checkpoint.npz is not a readable checkpoint" in capsys.readouterr().err
    assert folder_state(tmp_path) == before


def test_jax_train_batch_larger_than_the_data(jax_train, tmp_path, capsys):
    out = tmp_path / "run"
    assert jax_train.main(["--dataset", "synthetic", "--limit", "16", "--batch-size", "32", "--no-progress",
                           "--out", str(out)]) == 1
    assert "--batch-size 32 is larger than the 16 training images" in capsys.readouterr().err
    assert not (out / "checkpoint.npz").exists()


def test_jax_train_limit_beyond_mnist(jax_train, tmp_path, capsys):
    out = tmp_path / "run"
    assert jax_train.main(["--dataset", "mnist", "--limit", "60001", "--no-progress", "--out", str(out)]) == 1
    assert "--limit 60001 is more than the 60000 training images of mnist" in capsys.readouterr().err
    assert not (out / "checkpoint.npz").exists()


def test_core_train_a_loss_that_does_not_fit_the_model_is_refused_before_training(tmp_path, capsys):
    out = existing_out(tmp_path)
    before = folder_state(tmp_path)
    assert train.main(["--model", "autoencoder", "--loss", "categorical_crossentropy", "--limit", "32",
                       "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: --loss categorical_crossentropy does not fit --model autoencoder" in err
    assert folder_state(tmp_path) == before


def test_jax_train_a_loss_that_does_not_fit_the_model_is_refused_before_training(jax_train, tmp_path, capsys):
    out = tmp_path / "run"
    assert jax_train.main([*JAX_SMALL, "--model", "autoencoder", "--loss", "focal", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--loss focal does not fit --model autoencoder" in err
    assert not (out / "checkpoint.npz").exists()
