"""python -m core.jax.train: outputs the playground opens (scoring on plain pixels what the run scored), exact
resume, kill -9, NaN stops, bad settings, --out checks, damaged checkpoints."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import cli, datasets, models
from core.jax import train

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--dataset", "synthetic", "--limit", "256", "--batch-size", "32", "--no-progress"]


def checkpoint_params(out):
    return train.load_checkpoint(out)[0]


def check_outputs(out, epochs):
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, epochs + 1))
    for e in metrics["epochs"]:
        assert 0 <= e["test_accuracy"] <= 1 and e["images_per_s"] > 0 and np.isfinite(e["loss"])
    model, params = models.load(out / "weights.npz")          # the core's own loader, as the playground uses it
    assert model.name == "lenet5" and model.count_params() == 61706
    # the checkpoint's params (standardized inputs) with the standardization folded into C1
    saved = cli.fold_standardization(model, checkpoint_params(out), datasets.MNIST_MEAN, datasets.MNIST_STD)
    for layer in params:
        for w in params[layer]:
            np.testing.assert_array_equal(params[layer][w], saved[layer][w])
    assert oct((out / "weights.npz").stat().st_mode & 0o777) == "0o644"


def test_outputs_and_exact_resume(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train.main([*SMALL, "--epochs", "3", "--out", str(straight)]) == 0
    check_outputs(straight, 3)
    assert "epoch 3/3" in capsys.readouterr().out
    assert train.main([*SMALL, "--epochs", "2", "--out", str(split)]) == 0
    assert train.main([*SMALL, "--epochs", "3", "--out", str(split), "--resume"]) == 0
    a, b = checkpoint_params(straight), checkpoint_params(split)
    for layer in a:
        for w in a[layer]:
            np.testing.assert_array_equal(a[layer][w], b[layer][w])   # same keys per epoch: bit for bit
    check_outputs(split, 3)


def test_refuses_bad_resumes_and_stops_on_nan_keeping_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    sgd = ["--optimizer", "sgd", "--out", str(out)]
    assert train.main([*SMALL, *sgd, "--epochs", "1", "--lr", "0.01"]) == 0
    before = (out / "checkpoint.npz").read_bytes(), (out / "weights.npz").read_bytes()
    assert train.main([*SMALL, *sgd, "--epochs", "2"]) == 1
    assert "already holds a checkpoint; pass --resume" in capsys.readouterr().err
    assert train.main([*SMALL, "--epochs", "2", "--out", str(out), "--resume", "--optimizer", "adam"]) == 1
    assert "optimizer='sgd' (now 'adam')" in capsys.readouterr().err
    code = train.main([*SMALL, *sgd, "--epochs", "3", "--lr", "1e12", "--resume"])     # explodes in epoch 2
    err = capsys.readouterr().err
    assert code == 1
    assert "the loss became" in err and "at epoch 2" in err and "checkpoint of epoch 1" in err and "--lr" in err
    assert ((out / "checkpoint.npz").read_bytes(), (out / "weights.npz").read_bytes()) == before


DIVERGED = (r"error: training stopped: the loss became \S+ at epoch {epoch}, batch \d+, more than 1000 times its value "
            r"at the start of the run \(often a learning rate that is too high\); try a smaller --lr; {kept}")


def test_a_finite_loss_that_grows_a_thousandfold_stops_the_run(tmp_path, capsys):
    """core.step's rule on each epoch's losses: Adam at lr 1000 keeps the loss finite (~1e22) but stops the run,
    with core's message, before anything is written; resumed so, the last good epoch's files stay as they were."""
    out = tmp_path / "run"
    assert train.main([*SMALL, "--epochs", "1", "--lr", "1e3", "--out", str(out)]) == 1
    assert re.search(DIVERGED.format(epoch=1, kept="nothing was saved"), capsys.readouterr().err)
    assert not (out / "checkpoint.npz").exists() and not (out / "weights.npz").exists()
    assert train.main([*SMALL, "--epochs", "1", "--out", str(out)]) == 0
    before = (out / "checkpoint.npz").read_bytes(), (out / "weights.npz").read_bytes()
    assert train.main([*SMALL, "--epochs", "2", "--lr", "1e3", "--resume", "--out", str(out)]) == 1
    assert re.search(DIVERGED.format(epoch=2, kept=f"the checkpoint of epoch 1 in {re.escape(str(out))} is kept"),
                     capsys.readouterr().err)
    assert ((out / "checkpoint.npz").read_bytes(), (out / "weights.npz").read_bytes()) == before


def test_the_cosine_schedule_runs_in_the_jitted_steps(tmp_path, capsys):
    """--lr-schedule cosine: the step count is in the checkpointed optimizer state (8 steps an epoch), the weights
    differ from a constant rate's, and a resume must keep the schedule."""
    cosine, constant = tmp_path / "cosine", tmp_path / "constant"
    common = [*SMALL, "--optimizer", "momentum", "--lr", "0.05", "--epochs", "2"]
    assert train.main([*common, "--lr-schedule", "cosine", "--out", str(cosine)]) == 0
    assert train.main([*common, "--out", str(constant)]) == 0
    _, opt_state, _, _, config = train.load_checkpoint(cosine)
    assert int(opt_state["count"]) == 16 and config["lr_schedule"] == "cosine"
    assert "count" not in train.load_checkpoint(constant)[1]
    a, b = checkpoint_params(cosine), checkpoint_params(constant)
    assert not np.allclose(a["C1"]["kernel"], b["C1"]["kernel"], rtol=1e-3, atol=1e-5)
    capsys.readouterr()
    assert train.main([*common, "--epochs", "3", "--out", str(constant), "--resume", "--lr-schedule", "cosine"]) == 1
    assert "lr_schedule='constant' (now 'cosine')" in capsys.readouterr().err


def test_kill_9_mid_run_loses_at_most_one_epoch(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-u", "-m", "core.jax.train", "--dataset", "synthetic", "--limit", "1024",
           "--batch-size", "32", "--epochs", "1000", "--no-progress", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed = 0
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:                                   # kill right after epoch 2 is reported
            if line.startswith("epoch "):
                printed = int(line.split()[1].split("/")[0])
                if printed >= 2:
                    break
            assert time.monotonic() < deadline, "training did not reach epoch 2"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert printed >= 2
    _, _, saved_epoch, history, _ = train.load_checkpoint(out)      # never a torn file, whenever the kill landed
    assert saved_epoch in (printed, printed + 1)                       # at most the epoch in progress is lost
    assert len(history) == saved_epoch
    assert train.main(["--dataset", "synthetic", "--limit", "1024", "--batch-size", "32", "--no-progress",
                       "--epochs", str(saved_epoch + 1), "--out", str(out), "--resume"]) == 0
    history = json.loads((out / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in history] == list(range(1, saved_epoch + 2))
    models.load(out / "weights.npz")
    (out / "checkpoint.npz").write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        train.load_checkpoint(out)


def test_mnist_lenet5_learns(tmp_path):
    """A real data set through the whole script: 4,096 MNIST digits, one epoch, well above chance."""
    try:
        train.load_data("mnist", limit=8)
    except FileNotFoundError as e:
        pytest.skip(f"MNIST cache missing: {e}")
    out = tmp_path / "run"
    assert train.main(["--dataset", "mnist", "--limit", "4096", "--batch-size", "64", "--epochs", "1",
                       "--no-progress", "--out", str(out)]) == 0
    accuracy = json.loads((out / "metrics.json").read_text())["epochs"][-1]["test_accuracy"]
    assert accuracy > 0.8


def test_load_data_pads_mnist_for_lenet5():
    (x, y), (xt, yt) = train.load_data("synthetic", limit=64)
    assert x.shape == (64, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int32
    padded = train.fit_input(x, models.lenet5())
    assert padded.shape == (64, 32, 32, 1)
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], x)
    with pytest.raises(ValueError, match="unknown dataset"):
        train.load_data("cifar10")


def test_the_saved_file_scores_on_plain_pixels_what_the_run_scored(tmp_path):
    """The steps see standardized pixels; weights.npz, opened as the studio opens it and fed plain [0, 1] pixels
    padded with 0 (prepared here independently of the script), gives the run's test accuracy and loss. The
    checkpoint's unfolded params, fed the same pixels, would not."""
    try:
        (_, _), (x_test, y_test) = datasets.load_mnist()
    except FileNotFoundError as e:
        pytest.skip(f"MNIST cache missing: {e}")
    out = tmp_path / "run"
    assert train.main(["--dataset", "mnist", "--limit", "2048", "--batch-size", "64", "--epochs", "1",
                       "--no-progress", "--out", str(out)]) == 0
    last = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    model, params = models.load(out / "weights.npz")
    plain = np.zeros((512, 32, 32, 1), np.float32)                  # --limit 2048 tests on the first 512
    plain[:, 2:30, 2:30, 0] = x_test[:512] / np.float32(255)
    loss, accuracy = model.evaluate(params, plain, y_test[:512].astype(np.int64))
    assert accuracy == last["test_accuracy"] and accuracy > 0.7
    assert loss == pytest.approx(last["test_loss"], rel=1e-4)
    raw_loss, raw_accuracy = model.evaluate(checkpoint_params(out), plain, y_test[:512].astype(np.int64))
    assert raw_accuracy < accuracy and raw_loss > loss


def test_weight_decay_is_kept_with_the_checkpoint(tmp_path, capsys):
    """--weight-decay reaches the jitted steps (other params than without it) and a resume must repeat it."""
    with_wd, without = tmp_path / "wd", tmp_path / "plain"
    assert train.main([*SMALL, "--epochs", "1", "--weight-decay", "0.5", "--out", str(with_wd)]) == 0
    assert train.main([*SMALL, "--epochs", "1", "--out", str(without)]) == 0
    a, b = checkpoint_params(with_wd), checkpoint_params(without)
    assert np.abs(a["F6"]["kernel"]).sum() < np.abs(b["F6"]["kernel"]).sum()     # decay shrinks the weights
    assert train.load_checkpoint(with_wd)[4]["weight_decay"] == 0.5
    capsys.readouterr()
    assert train.main([*SMALL, "--epochs", "2", "--resume", "--out", str(with_wd)]) == 1
    assert "weight_decay=0.5 (now None)" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["autoencoder", "segmenter"])
def test_autoencoder_and_segmenter_files_are_the_numpy_clis_and_score_there_what_they_scored(name, tmp_path):
    """--model autoencoder|segmenter: the same architecture as python -m core.train writes (weights files are
    interchangeable), the metrics of each, and the NumPy core gives the JAX run's figures on the same examples."""
    out = tmp_path / name
    assert train.main([*SMALL, "--model", name, "--epochs", "1", "--out", str(out)]) == 0
    last = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    model, params = models.load(out / "weights.npz")
    assert model.get_config() == cli.build_model(name).get_config()
    _, (x_test, y_test) = train.load_data("synthetic", 256, 0, standardize=False)
    x, y = cli.examples(name, x_test, y_test)
    result = model.evaluate(params, x, y, loss=cli.DEFAULT_LOSS[name], return_dict=True)
    assert set(last) >= {f"test_{k}" for k in result}
    for k, v in result.items():
        assert last[f"test_{k}"] == pytest.approx(v, rel=1e-4, abs=1e-6), k
    if name == "segmenter":
        assert {"test_pixel_accuracy", "test_mean_iou"} <= set(last) and "test_accuracy" not in last
    else:
        assert "test_accuracy" not in last and "test_pixel_accuracy" not in last
