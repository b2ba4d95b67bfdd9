"""The training CLI (core/train.py) on a small MNIST subset: it trains, saves a loadable file, reports the
accuracy of exactly the weights it saved, fails clearly on bad options, and survives a diverging run.

Needs the MNIST cache that `python3 build.py test` fetches first (`python -m core.datasets fetch`).
"""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import datasets, models, train

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
    folded = train.fold_standardization(model, params, mean, std)
    np.testing.assert_allclose(model.apply(folded, x), model.apply(params, (x - mean) / std), rtol=1e-4, atol=1e-5)
    assert folded["C1"]["kernel"].dtype == np.float32 and folded["C3"] is params["C3"]
    np.testing.assert_array_equal(params["C1"]["bias"], 0)      # the original params are left alone


def test_folding_refuses_a_first_layer_that_pads():
    from core import layers
    model = models.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3, padding="same"), layers.Flatten(),
                               layers.Dense(2)])
    with pytest.raises(ValueError, match="Conv2D .* padding='valid'"):
        train.fold_standardization(model, model.init(), 0.1, 0.3)


def test_cosine_decay_runs_from_the_learning_rate_to_a_tenth_of_it():
    from core import optimizers
    opt = optimizers.Adam(learning_rate=1e-3)
    schedule = train.CosineDecay(opt, total_steps=10)
    rates = []
    for step in range(10):
        rates.append(opt.learning_rate)          # the rate this step's update uses
        schedule.on_train_batch_end(step, {"loss": 1.0, "seen": step + 1, "steps": 10})
    assert rates[0] == 1e-3
    assert rates[5] == pytest.approx(1e-4 + 0.5 * 9e-4)     # halfway: the mean of peak and floor
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert opt.learning_rate == pytest.approx(1e-4)          # after the last step: the floor


def test_same_seed_same_weights_and_another_seed_differs(tmp_path, capsys):
    def run(seed, name):
        argv = ["--limit", "128", "--batch-size", "32", "--seed", str(seed), "--out", str(tmp_path / name)]
        assert train.main(argv) == 0
        return models.load(tmp_path / name)[1]

    a, b, c = run(3, "a.npz"), run(3, "b.npz"), run(4, "c.npz")
    capsys.readouterr()
    assert all(np.array_equal(a[k]["kernel"], b[k]["kernel"]) for k in a)
    assert not np.array_equal(a["C1"]["kernel"], c["C1"]["kernel"])


def test_nan_loss_exits_nonzero_with_a_plain_message_and_saves_last_good_params(tmp_path):
    # As a real subprocess: the exit status and what a user sees on the terminal are the point here.
    out = tmp_path / "nan_weights.npz"
    proc = subprocess.run([sys.executable, "-m", "core.train", "--limit", "512", "--optimizer", "sgd", "--lr", "1e4",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the loss became nan" in proc.stderr
    assert f"saved the last parameters with a finite loss to {out}" in proc.stderr
    assert "Traceback" not in proc.stderr and "RuntimeWarning" not in proc.stderr
    assert "final test accuracy" not in proc.stdout
    model, params = models.load(out)        # load refuses NaN/inf, so this also checks the params are finite
    assert model.count_params() == 61706


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adamw"], "invalid choice: 'adamw'"),
    (["--loss", "hinge"], "invalid choice: 'hinge'"),
    (["--dataset", "cifar10"], "invalid choice: 'cifar10'"),
    (["--lr", "-1"], "--lr: must be a finite number > 0, got -1"),
    (["--lr", "nan"], "--lr: must be a finite number > 0"),
    (["--batch-size", "0"], "--batch-size: must be at least 1, got 0"),
    (["--epochs", "two"], "--epochs: expected a whole number, got 'two'"),
    (["--out", "/no/such/folder/w.npz"], "the folder /no/such/folder does not exist"),
])
def test_bad_options_fail_before_training_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_limit_larger_than_the_training_set_is_refused(tmp_path, capsys):
    out = tmp_path / "w.npz"
    assert train.main(["--limit", "60001", "--out", str(out)]) == 1
    assert "--limit 60001 is more than the 60000 training examples" in capsys.readouterr().err
    assert not out.exists()
