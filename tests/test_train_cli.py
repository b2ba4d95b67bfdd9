"""The training CLI (core/train.py) on a small MNIST subset: it trains, saves a loadable file, reports the
accuracy of exactly the weights it saved, fails clearly on bad options, and survives a diverging run.

Needs the MNIST cache that `python3 build.py test` fetches first (`python -m core.datasets fetch`).
"""
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import cli, datasets, models, optimizers, step, train

ROOT = Path(__file__).resolve().parent.parent


def accuracy_lines(text):
    return [float(v) / 100 for v in re.findall(r"test accuracy:? (\d+\.\d+)%", text)]


def test_trains_saves_and_reports_the_accuracy_of_the_saved_weights(tmp_path, capsys):
    out = tmp_path / "w.npz"
    code = train.main(["--model", "lenet5", "--dataset", "mnist", "--epochs", "1", "--batch-size", "64",
                       "--optimizer", "adam", "--lr", "1e-3", "--limit", "512", "--seed", "0", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "512 training and 512 test images" in printed.out
    epoch_acc, final_acc = accuracy_lines(printed.out)
    # the epoch line is on standardized inputs, the final one on [0, 1] with the folded weights: same function
    assert abs(epoch_acc - final_acc) <= 2 / 512
    model, params = models.load(out)
    assert model.get_config()["layers"] == models.lenet5().get_config()["layers"]
    _, (x_test, y_test) = datasets.load_mnist()
    x_test, y_test = datasets.class_balanced_subset(x_test, y_test, 512, seed=0)   # --limit's test subset
    _, acc = model.evaluate(params, datasets.pad_to_32(x_test), y_test.astype(np.int64))
    assert acc == pytest.approx(final_acc, abs=1e-4)    # the printed figure is that of the saved file
    assert acc > 0.15                                   # 8 Adam steps already beat chance (0.10)
    # the progress bar went to stderr and counted every image
    assert "512/512" in printed.err


def test_folding_the_standardization_keeps_the_function():
    model = models.lenet5()
    params = model.init(seed=5)
    x = np.random.default_rng(0).random((4, 32, 32, 1), dtype=np.float32)
    mean, std = 0.1, 0.3
    folded = cli.fold_standardization(model, params, mean, std)
    np.testing.assert_allclose(model.apply(folded, x), model.apply(params, (x - mean) / std), rtol=1e-4, atol=1e-5)
    assert folded["C1"]["kernel"].dtype == np.float32 and folded["C3"] is params["C3"]
    np.testing.assert_array_equal(params["C1"]["bias"], 0)      # the original params are left alone


def test_folding_refuses_a_first_layer_that_pads():
    from core import layers
    model = models.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3, padding="same"), layers.Flatten(),
                               layers.Dense(2)])
    with pytest.raises(ValueError, match="Conv2D .* padding='valid'"):
        cli.fold_standardization(model, model.init(), 0.1, 0.3)


def standardized_subset(limit, seed=0):
    """--limit's training subset as core.train prepares it: padded, then standardized by its own mean and std."""
    (x, y), _ = datasets.load_mnist()
    x, y = datasets.class_balanced_subset(x, y, limit, seed=seed)
    x = datasets.pad_to_32(x)
    mean, std = float(x.mean()), float(x.std())
    return (x - np.float32(mean)) / np.float32(std), y.astype(np.int64), mean, std


def test_the_cosine_schedule_reaches_the_optimizer(tmp_path, capsys):
    """The saved weights are those of model.fit with Adam(optimizers.cosine_decay(lr, steps)), and not those of a
    constant rate: the schedule is plain data in the optimizer, not a callback that could be left out."""
    argv = ["--limit", "128", "--batch-size", "32", "--lr", "3e-3"]
    assert train.main([*argv, "--out", str(tmp_path / "cos.npz")]) == 0
    assert train.main([*argv, "--lr-schedule", "constant", "--out", str(tmp_path / "const.npz")]) == 0
    assert "learning rate 0.003, cosine decay to 0.0003 over 4 steps" in capsys.readouterr().out
    x, y, mean, std = standardized_subset(128)
    model = models.lenet5()
    for name, rate in (("cos.npz", optimizers.cosine_decay(3e-3, 4)), ("const.npz", 3e-3)):
        history = model.fit(x, y, epochs=1, batch_size=32, optimizer=optimizers.Adam(rate), params=model.init(0))
        want = cli.fold_standardization(model, history.params, mean, std)
        saved = models.load(tmp_path / name)[1]
        for k in want:
            for w in want[k]:
                np.testing.assert_allclose(saved[k][w], want[k][w], rtol=1e-6, atol=1e-7, err_msg=f"{name} {k}/{w}")
    cos, const = models.load(tmp_path / "cos.npz")[1], models.load(tmp_path / "const.npz")[1]
    assert not np.allclose(cos["C1"]["kernel"], const["C1"]["kernel"], rtol=1e-3, atol=1e-5)


def test_same_seed_same_weights_and_another_seed_differs(tmp_path, capsys):
    def run(seed, name):
        argv = ["--limit", "128", "--batch-size", "32", "--seed", str(seed), "--out", str(tmp_path / name)]
        assert train.main(argv) == 0
        return models.load(tmp_path / name)[1]

    a, b, c = run(3, "a.npz"), run(3, "b.npz"), run(4, "c.npz")
    capsys.readouterr()
    assert all(np.array_equal(a[k]["kernel"], b[k]["kernel"]) for k in a)
    assert not np.array_equal(a["C1"]["kernel"], c["C1"]["kernel"])


def test_a_diverging_run_exits_nonzero_keeps_the_good_file_and_saves_last_good_params_beside_it(tmp_path):
    # As a real subprocess: the exit status and what a user sees on the terminal are the point here.
    out = tmp_path / "weights.npz"
    model = models.lenet5()
    models.save(out, model, model.init(seed=7))       # a good file from an earlier run
    before = out.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "core.train", "--limit", "512", "--optimizer", "sgd", "--lr", "1e8",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: training stopped: the loss became" in proc.stderr
    last_good = tmp_path / "weights.last_good.npz"
    assert f"saved the last good parameters to {last_good}; {out} was left as it was" in proc.stderr
    assert "Traceback" not in proc.stderr and "RuntimeWarning" not in proc.stderr
    assert "final test accuracy" not in proc.stdout
    assert out.read_bytes() == before                  # the good file is untouched
    model, params = models.load(last_good)   # load refuses NaN/inf, so this also checks the params are finite
    assert model.count_params() == 61706


def test_a_nan_loss_is_named_as_such(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(step, "DIVERGE_FACTOR", math.inf)       # only NaN/inf counts: SGD at 1e4 reaches it
    out = tmp_path / "w.npz"
    assert train.main(["--limit", "512", "--optimizer", "sgd", "--lr", "1e4", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"training stopped: the (loss|gradient of \S+) became (nan|inf|NaN/inf) at epoch 1, batch \d+ ",
                     err), err
    assert f"nothing was written to {out}" in err and not out.exists()
    models.load(tmp_path / "w.last_good.npz")


def test_a_finite_loss_that_grows_a_thousandfold_stops_the_run_too(tmp_path, capsys):
    """Adam at lr 1000 sends the loss to ~1e22 without NaN: exit 1 with core.step's message, no final accuracy,
    and OUT.last_good.npz holds the last good params (here the first ones: the first update exploded), folded."""
    out = tmp_path / "w.npz"
    assert train.main(["--limit", "256", "--lr", "1e3", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert re.search(r"error: training stopped: the loss became \S+ at epoch 1, batch 2, more than 1000 times its "
                     r"value at the start of the run \(often a learning rate that is too high\)", printed.err)
    last_good = tmp_path / "w.last_good.npz"
    assert (f"saved the last good parameters to {last_good}; nothing was written to {out}; try a smaller --lr"
            in printed.err)
    assert "final test accuracy" not in printed.out and not out.exists()
    model, params = models.load(last_good)
    _, _, mean, std = standardized_subset(256)
    want = cli.fold_standardization(model, model.init(seed=0), mean, std)
    for k in want:
        for w in want[k]:
            np.testing.assert_array_equal(params[k][w], want[k][w])


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adamx"], "invalid choice: 'adamx'"),
    (["--loss", "hinge"], "invalid choice: 'hinge'"),
    (["--dataset", "cifar10"], "invalid choice: 'cifar10'"),
    (["--lr", "-1"], "--lr: must be a finite number > 0, got -1"),
    (["--lr", "nan"], "--lr: must be a finite number > 0"),
    (["--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["--epochs", "two"], "--epochs: expected a whole number, got 'two'"),
    (["--out", "/no/such/folder/w.npz"], "--out /no/such/folder/w.npz: the folder /no/such/folder does not exist"),
])
def test_bad_options_fail_before_training_with_a_clear_message(argv, message, capsys):
    """(The whole table of bad options, with the files they leave alone, is in tests/test_bad_inputs.py.)"""
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_limit_larger_than_the_training_set_is_refused(tmp_path, capsys):
    out = tmp_path / "w.npz"
    assert train.main(["--limit", "60001", "--out", str(out)]) == 1
    assert "--limit 60001 is more than the 60000 training examples" in capsys.readouterr().err
    assert not out.exists()


def test_out_as_a_folder_or_a_name_without_npz_writes_exactly_the_path_it_prints(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    for given, written in (("run", "run/weights.npz"), ("run/", "run/weights.npz"), ("noext", "noext")):
        assert train.main(["--limit", "64", "--batch-size", "32", "--out", str(tmp_path / given)]) == 0
        out = capsys.readouterr().out
        assert f"saved {tmp_path / written}" in out
        model, _ = models.load(str(tmp_path / written))      # load reads what save wrote, under the same name
        assert model.count_params() == 61706
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noext", "run"]     # nothing else, no temporary files
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["weights.npz"]


def test_weight_decay_reaches_the_optimizer(tmp_path, capsys):
    """--weight-decay: the saved weights are those of model.fit with Adam(weight_decay=...), not those without."""
    argv = ["--limit", "128", "--batch-size", "32", "--lr", "3e-3", "--lr-schedule", "constant"]
    assert train.main([*argv, "--weight-decay", "0.5", "--out", str(tmp_path / "wd.npz")]) == 0
    assert "adam (learning rate 0.003, weight decay 0.5)" in capsys.readouterr().out
    x, y, mean, std = standardized_subset(128)
    model = models.lenet5()
    history = model.fit(x, y, epochs=1, batch_size=32, optimizer=optimizers.Adam(3e-3, weight_decay=0.5),
                        params=model.init(0))
    want = cli.fold_standardization(model, history.params, mean, std)
    saved = models.load(tmp_path / "wd.npz")[1]
    for k in want:
        for w in want[k]:
            np.testing.assert_allclose(saved[k][w], want[k][w], rtol=1e-6, atol=1e-7, err_msg=f"{k}/{w}")


def test_a_damaged_data_cache_says_to_fetch_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    (tmp_path / datasets.MNIST_CACHE).write_bytes(b"PK\x03\x04 cut short")
    out = tmp_path / "w.npz"
    assert train.main(["--limit", "64", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error: mnist is not available" in err and "mnist.npz" in err and "python -m core.datasets fetch" in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["autoencoder", "segmenter"])
def test_autoencoder_and_segmenter_train_and_report_their_own_metric_of_the_saved_file(name, tmp_path, capsys):
    """--model autoencoder reports the reconstruction MSE, --model segmenter pixel accuracy and mean IoU: the
    figures of the saved file on plain [0, 1] test digits (their first layers pad, so no standardization)."""
    out = tmp_path / f"{name}.npz"
    assert train.main(["--model", name, "--limit", "128", "--batch-size", "32", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training on [0, 1] pixels" in printed
    model, params = models.load(out)
    assert model.get_config() == cli.build_model(name).get_config()
    _, (x_test, y_test) = datasets.load_mnist()
    x_test, y_test = datasets.class_balanced_subset(x_test, y_test, 128, seed=0)     # --limit's test subset
    x, y = cli.examples(name, x_test, y_test)
    result = model.evaluate(params, x, y, loss=cli.DEFAULT_LOSS[name], return_dict=True)
    if name == "autoencoder":
        assert np.array_equal(x, y) and x.shape == (128, 28, 28, 1) and 0 <= x.min() and x.max() <= 1
        mse = float(re.search(r"final test reconstruction MSE: (\d+\.\d+)", printed).group(1))
        assert mse == pytest.approx(result["loss"], abs=5e-5) and "test loss" in printed
        assert mse < 0.25                          # sigmoid outputs of 0.5 everywhere would give ~0.19 .. 0.25
    else:
        assert y.shape == (128, 28, 28) and set(np.unique(y)) <= set(range(11))
        found = re.search(r"final test pixel accuracy: (\d+\.\d+)%, mean IoU: (\d\.\d+)", printed)
        assert float(found.group(1)) / 100 == pytest.approx(result["pixel_accuracy"], abs=5e-5)
        assert float(found.group(2)) == pytest.approx(result["mean_iou"], abs=5e-5)
        assert "test pixel accuracy" in printed and "test mean IoU" in printed
