"""python -m core.jax.train over 2 processes on 127.0.0.1 (jax.distributed, gloo's CPU collectives).

The two processes train as one process does (to float rounding: the gradient is summed over two devices), only
process 0 writes, a lost process stops the other with a clear message well within the heartbeat timeout, the
checkpoint it leaves is resumed by both, and processes holding different checkpoints refuse to train.
Every process is started by the test and killed (SIGKILL) by it if still running at the end.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import models
from core.jax import train

ROOT = Path(__file__).resolve().parent.parent
# 512 synthetic images in batches of 32: 16 steps an epoch, about a second for two processes on two cores.
# SGD: two devices sum each gradient in another order than one, and Adam's step (g / sqrt(v)) turns that rounding
# on near-zero gradients into differences of up to 9% of a bias after 96 steps; SGD's stay near 1e-6.
DATA = ["--dataset", "synthetic", "--limit", "512", "--batch-size", "32", "--no-progress", "--epochs", "3",
        "--optimizer", "sgd", "--lr", "0.05"]
HEARTBEAT = 10          # seconds; jax's default (100) is for real clusters
WAIT = 120              # no single wait in this file may take longer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """Two `python -m core.jax.train` processes on 127.0.0.1, stdout/stderr in files beside --out."""

    def __init__(self, tmp_path, name, outs, extra=()):
        port, self.logs, self.procs = free_port(), [], []
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}      # one CPU device per process
        env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1")
        for i, out in enumerate(outs):
            log = tmp_path / f"{name}.{i}.log"
            cmd = [sys.executable, "-m", "core.jax.train", *DATA, *extra, "--out", str(out),
                   "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i),
                   "--heartbeat-timeout", str(HEARTBEAT)]
            with open(log, "w") as f:
                self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT))
            self.logs.append(log)

    def wait(self, i, timeout=WAIT):
        """Process i's exit code and output; fails (not hangs) if it runs past `timeout`."""
        try:
            code = self.procs[i].wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"process {i} still running after {timeout} s:\n{self.output(i)[-3000:]}")
        return code, self.output(i)

    def output(self, i):
        return self.logs[i].read_text(errors="replace")

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()


def wait_for_checkpoint(run, out):
    """Until process 0 has written out/checkpoint.npz (epoch 1 done), both processes still running."""
    deadline = time.monotonic() + WAIT
    while not (out / "checkpoint.npz").exists():
        assert run.procs[0].poll() is None and run.procs[1].poll() is None, run.output(0)[-3000:]
        assert time.monotonic() < deadline, "no checkpoint within the time limit:\n" + run.output(0)[-3000:]
        time.sleep(0.02)


@pytest.fixture
def launch(tmp_path):
    runs = []

    def start(name, outs, extra=()):
        runs.append(Run(tmp_path, name, outs, extra))
        return runs[-1]
    yield start
    for run in runs:
        run.kill()


def test_two_processes_train_as_one_lose_one_and_resume(tmp_path, launch):
    """The whole life of a 2-process run, against one process training the same 3 epochs:
    1. process 1 is killed (SIGKILL) after epoch 1's checkpoint: process 0 stops with a clear error, in far less
       than the heartbeat timeout, and its checkpoint is whole; process 1 (given another --out, as on a host that
       does not share the filesystem) never wrote anything;
    2. both resume from the shared checkpoint and finish: params and losses equal the 1-process run's."""
    one, shared, elsewhere = tmp_path / "one", tmp_path / "shared", tmp_path / "elsewhere"
    assert train.main([*DATA, "--out", str(one)]) == 0

    run = launch("killed", [shared, elsewhere], ["--epochs", "100"])
    wait_for_checkpoint(run, shared)
    run.procs[1].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    code, output = run.wait(0, timeout=HEARTBEAT * 3)
    assert code == 1, output[-3000:]
    assert time.monotonic() - killed_at < HEARTBEAT, "the survivor waited for the heartbeat timeout"
    assert re.search(r"error: process 0 of 2: another process of the run is gone \(.*Gloo", output), output[-3000:]
    assert f"{shared} keeps the checkpoint of the last finished epoch" in output and "--resume" in output
    assert "Traceback" not in output
    saved_epoch = train.load_checkpoint(shared)[2]
    assert 1 <= saved_epoch < 100
    assert not elsewhere.exists()                    # process 1 made no folder and wrote no file

    epochs = max(3, saved_epoch + 1)
    if epochs != 3:                                  # a slow machine got further than epoch 2 before the kill
        assert train.main([*DATA, "--epochs", str(epochs), "--out", str(one), "--resume"]) == 0
    run = launch("resumed", [shared, shared], ["--resume", "--epochs", str(epochs)])
    for i in (0, 1):
        code, output = run.wait(i)
        assert code == 0, output[-3000:]
    assert f"resuming {shared} after epoch {saved_epoch}" in run.output(0)
    assert "2 cpu device(s)" in run.output(0) and run.output(1).count("epoch ") == 0   # process 1 prints nothing

    a, b = train.load_checkpoint(one), train.load_checkpoint(shared)
    assert a[2] == b[2] == epochs
    for layer in a[0]:
        for w in a[0][layer]:
            one_w, two_w = a[0][layer][w], b[0][layer][w]
            assert np.abs(two_w - one_w).max() <= 1e-5 * np.abs(one_w).max(), f"{layer}/{w}"
    losses_one = [e["loss"] for e in a[3]]
    losses_two = [e["loss"] for e in json.loads((shared / "metrics.json").read_text())["epochs"]]
    np.testing.assert_allclose(losses_two, losses_one, rtol=1e-5)
    model, params = models.load(shared / "weights.npz")       # process 0's file opens as the playground opens it
    assert model.name == "lenet5"


def test_losing_process_0_stops_the_others(tmp_path, launch):
    """Process 0 holds the coordination service: when it dies, process 1 stops too, at once, with an error:
    this module's message when its collective fails first, else JAX's own when the service's loss is seen first."""
    out = tmp_path / "run"
    run = launch("coordinator", [out, out], ["--epochs", "100"])
    wait_for_checkpoint(run, out)
    run.procs[0].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    code, output = run.wait(1, timeout=HEARTBEAT * 3)
    assert code != 0 and time.monotonic() - killed_at < HEARTBEAT, output[-3000:]
    assert ("error: process 1 of 2: another process of the run is gone" in output
            or "This most likely indicates that another task died" in output), output[-3000:]
    assert 1 <= train.load_checkpoint(out)[2] < 100


def test_processes_holding_different_checkpoints_refuse_to_train(tmp_path, launch):
    """--resume where process 1's --out has no checkpoint (a filesystem not shared): both stop, naming the
    difference, instead of training on 'replicated' params that differ per process."""
    shared, empty = tmp_path / "shared", tmp_path / "empty"
    assert train.main([*DATA, "--epochs", "1", "--out", str(shared)]) == 0
    before = (shared / "checkpoint.npz").read_bytes()
    run = launch("mismatch", [shared, empty], ["--resume"])
    for i in (0, 1):
        code, output = run.wait(i)
        assert code == 1, output[-3000:]
        assert f"error: process {i} of 2: process 1 holds another " in output, output[-3000:]
        assert "when resuming, read the same checkpoint" in output
    assert (shared / "checkpoint.npz").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--coordinator", "127.0.0.1:1234"], "--coordinator, --num-processes and --process-id go together"),
    (["--num-processes", "2", "--process-id", "0"], "go together"),
    (["--coordinator", "127.0.0.1", "--num-processes", "2", "--process-id", "0"], "HOST:PORT"),
    (["--coordinator", "h:99999", "--num-processes", "2", "--process-id", "0"], "port from 1 to 65535"),
    (["--coordinator", "h:1234", "--num-processes", "2", "--process-id", "2"], "--process-id must be from 0 to 1"),
    (["--coordinator", "h:1234", "--num-processes", "0", "--process-id", "0"], "--num-processes"),
    (["--heartbeat-timeout", "0"], "--heartbeat-timeout"),
])
def test_bad_process_flags_are_refused_by_name(args, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(args)
    assert message in capsys.readouterr().err


def test_distributed_without_a_cluster_says_what_to_pass(tmp_path):
    """Plain --distributed outside SLURM/Open MPI/Cloud TPU: a clear error naming the flags, nothing written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "OMPI_", "PMI_", "JAX_COORD"))}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "core.jax.train", *DATA, "--distributed", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "error: --distributed: no cluster environment" in done.stderr
    assert "--coordinator HOST:PORT --num-processes N --process-id I" in done.stderr
    assert not out.exists()
