"""Every faster layout in core/conv_fast.py computes the lecture's convolution (core/conv.py's "rows" layout):
the output and all three gradients, over shapes, paddings, bias, fused relu, dtypes and both routes (CPython, and
the Pyodide route that backend.WASM switches on). And the cost model still picks what it picked for LeNet-5."""
import numpy as np
import pytest

from core import backend, conv, conv_fast, models

CASES = {                                         # x (N, H, W, C), kernel (kh, kw, C, F), padding
    "3x3 valid": ((2, 8, 8, 3), (3, 3, 3, 4), "valid"),
    "odd unequal same": ((2, 9, 11, 2), (3, 5, 2, 3), "same"),
    "LeNet C3": ((3, 14, 14, 6), (5, 5, 6, 16), "valid"),
    "even kernel same (pads 1+2, 0+1)": ((2, 7, 6, 3), (4, 2, 3, 2), "same"),
    "one channel, even kernel, int padding": ((2, 6, 7, 1), (2, 2, 1, 5), 1),
    "one output pixel (LeNet C5)": ((2, 5, 5, 4), (5, 5, 4, 6), "valid"),
    "1x1 kernel, int padding": ((1, 7, 4, 2), (1, 1, 2, 3), 2),
}


def data(case, dtype, seed=0):
    """x, kernel, bias and an output gradient for a case, in this dtype."""
    x_shape, k_shape, padding = CASES[case]
    rng = np.random.default_rng(seed)
    x, k, b = rng.standard_normal(x_shape), rng.standard_normal(k_shape), rng.standard_normal(k_shape[3])
    out_shape = conv.conv2d_forward(x, k, None, 1, padding, layout="rows")[0].shape
    dout = rng.standard_normal(out_shape)
    return [a.astype(dtype) for a in (x, k, b, dout)] + [padding]


def run(layout, x, k, b, dout, padding, relu=False, need_dx=True):
    """(out, dx, dkernel, dbias) through one layout."""
    out, cache = conv.conv2d_forward(x, k, b, 1, padding, relu=relu, layout=layout)
    assert cache["layout"] == layout
    return (out,) + conv.conv2d_backward(dout, cache, need_dx)


def assert_same(got, ref):
    """Equal to the dtype's rounding: float64 to 1e-10, float32 to 1e-5 of the largest value."""
    for g, r in zip(got, ref):
        if r is None:
            assert g is None
            continue
        assert g.shape == r.shape and g.dtype == r.dtype
        tol = 1e-10 if r.dtype == np.float64 else 1e-5
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))


@pytest.mark.parametrize("wasm", [False, True], ids=["cpython", "pyodide"])
@pytest.mark.parametrize("relu", [False, True], ids=["linear", "relu"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("layout", list(conv_fast.LAYOUTS))
def test_every_layout_equals_the_lecture_one(monkeypatch, layout, case, dtype, with_bias, relu, wasm):
    monkeypatch.setattr(backend, "WASM", wasm)
    x, k, b, dout, padding = data(case, dtype)
    b = b if with_bias else None
    ref = run("rows", x, k, b, dout, padding, relu)
    got = run(layout, x, k, b, dout, padding, relu)
    assert_same(got, ref)
    if relu:
        assert (ref[0] == 0).any() and (ref[0] > 0).any()      # relu really cut something
    if not with_bias:
        assert got[3] is None


@pytest.mark.parametrize("layout", list(conv_fast.LAYOUTS))
def test_every_layout_skips_the_input_gradient_on_request(layout):
    x, k, b, dout, padding = data("LeNet C3", np.float64, seed=1)
    ref = run("rows", x, k, b, dout, padding)
    got = run(layout, x, k, b, dout, padding, need_dx=False)
    assert got[1] is None
    assert_same(got[:1] + got[2:], ref[:1] + ref[2:])


@pytest.mark.parametrize("layout", list(conv_fast.LAYOUTS))
@pytest.mark.parametrize("order", [(0, 3, 1, 2), (3, 1, 2, 0), (3, 0, 1, 2)], ids=["NCHW", "CHWN", "CNHW"])
def test_every_layout_reads_any_memory_order(layout, order):
    """An NHWC view of other memory (what the layouts themselves return) gives the same numbers."""
    x, k, b, dout, padding = data("odd unequal same", np.float64, seed=2)
    view = np.ascontiguousarray(x.transpose(order)).transpose(np.argsort(order))
    assert not view.flags.c_contiguous and np.array_equal(view, x)
    assert_same(run(layout, view, k, b, dout, padding), run("rows", x, k, b, dout, padding))


@pytest.mark.parametrize("layout", list(conv_fast.LAYOUTS))
def test_fast_layouts_refuse_strides_they_cannot_do(layout):
    x, k = np.zeros((1, 8, 8, 2)), np.zeros((3, 3, 2, 4))
    with pytest.raises(ValueError, match=rf"Conv2D 'c': the '{layout}' layout needs stride 1, got strides \(2, 2\)"):
        conv.conv2d_forward(x, k, None, 2, "same", name="Conv2D 'c'", layout=layout)
    assert conv.conv2d_forward(x, k, None, 2, "same", layout="rows")[1]["layout"] == "rows"


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match=r"conv2d: layout must be 'rows' or one of 'shift', 'exact', 'fft', got 'fast'"):
        conv.conv2d_forward(np.zeros((1, 8, 8, 2)), np.zeros((3, 3, 2, 4)), layout="fast")


# LeNet-5's convolutions (padded input, output, kernel) and the layouts the cost model picked for them when it was
# measured (benchmarks/pyodide_profile.py convs, benchmarks/bench_lenet.py): a change here changes the speed.
LENET = {"C1": ((32, 32), (28, 28), (5, 5, 1, 6)), "C3": ((14, 14), (10, 10), (5, 5, 6, 16)),
         "C5": ((5, 5), (1, 1), (5, 5, 16, 120))}
PICKS = {False: {"C1": "exact", "C3": "exact", "C5": "rows"},
         True: {"C1": "exact", "C3": "fft", "C5": "rows"}}


@pytest.mark.parametrize("wasm", [False, True], ids=["cpython", "pyodide"])
def test_the_cost_model_picks_for_lenet5(monkeypatch, wasm):
    """Under Pyodide, C3 through transforms; C1 (32x32 transforms for only 6 filters) and C5 (one output pixel)
    directly. CPython, with BLAS, never takes the fft layout, and at batch 32 the exact layout; a window nearly as
    wide as the input (C5) takes rows."""
    monkeypatch.setattr(backend, "WASM", wasm)
    picks = {name: conv_fast.pick_layout((1, 1), out_hw, padded_hw, kernel, 32)
             for name, (padded_hw, out_hw, kernel) in LENET.items()}
    assert picks == PICKS[wasm]
    # a 3x3 kernel over 14x14 (12 of 14 columns kept): under Pyodide too little work to pay for transforms, and
    # the shift layout's 14% wasted product costs more than the exact layout's copies save (on CPython too)
    assert conv_fast.pick_layout((1, 1), (12, 12), (14, 14), (3, 3, 6, 16), 32) == "exact"
    assert {conv_fast.pick_layout((2, 2), out_hw, padded_hw, kernel, 32)
            for padded_hw, out_hw, kernel in LENET.values()} == {"rows"}      # stride 2: only rows
    # the convolution lab's photo, one 256x256 image with a 5x5 kernel and "same" padding: on CPython the shift
    # layout's few long copies beat the exact layout's one per output row until the batch is 8
    photo = [conv_fast.pick_layout((1, 1), (256, 256), (260, 260), (5, 5, 1, 1), n) for n in (1, 7, 8)]
    assert photo == (["shift"] * 3 if wasm else ["shift", "shift", "exact"])


@pytest.mark.parametrize("wasm", [False, True], ids=["cpython", "pyodide"])
def test_lenet5_layers_take_those_layouts(monkeypatch, wasm):
    """The same picks reached through the model's own Conv2D layers (their shapes, their call)."""
    monkeypatch.setattr(backend, "WASM", wasm)
    model = models.lenet5()
    params = model.init(seed=0)
    x = np.random.default_rng(3).random((4, 32, 32, 1), dtype=np.float32)
    taken = {}
    for layer in model.layers:
        x, cache = layer.forward(params.get(layer.name, {}), x)
        if layer.kind == "Conv2D":
            taken[layer.name] = cache[0]["layout"]
    assert taken == PICKS[wasm]
