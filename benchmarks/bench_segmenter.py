"""The segmentation net's training step (models.segmenter(): 28x28 digits -> 11 classes per pixel): the JAX mirror
against the same network in PyTorch on the CPU, in the same run.

    python benchmarks/bench_segmenter.py                  # one pinned core, both engines single-threaded
    python benchmarks/bench_segmenter.py --rounds 3 --steps 20 --batch-sizes 32    # bench_jax.py's flags

bench_jax.py's method, for this model: both engines train the same network (encoder, a 7x7 context window, a
transposed convolution back, 4x nearest upsampling, a skip connection by concatenation, 1x1 pixel logits; per-pixel
softmax cross-entropy averaged over every pixel; plain SGD) on the same synthetic images and masks. The JAX side
is the one jitted step `core.jax.compile(model).train_step` runs (and `python -m core.jax.train`'s steps: the
graph walk of compiled.py over the core's params); PyTorch is eager. Before timing, PyTorch gets the core's initial
weights (HWIO kernels as OIHW) and both losses and the first step's params must agree, so the two sides are one
network. Rounds interleave the engines (the order alternating), each timing --steps steps after warm-up; we
report medians [min-max] and the median of the per-round ratios, per second of wall time and of CPU time. With
--threads 1 (the default) the process is pinned to one core before either library starts (wall time = CPU time).
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench_jax.py's method is this script's: its flags, its pinning to one core (done on import, before jax and torch
# start their threads) and its summary line
from bench_jax import ARGS, line  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import core.jax as cj  # noqa: E402
from core import models, optimizers  # noqa: E402

LR = 0.01
CLASSES = 11


class TorchSegmenter(nn.Module):
    """models.segmenter() (its defaults: widths 8, 16, 32, context 32) written in PyTorch, NCHW."""

    def __init__(self, classes=CLASSES):
        super().__init__()
        self.enc1, self.enc2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.mid, self.context = nn.Conv2d(16, 32, 3, padding=1), nn.Conv2d(32, 32, 7)
        self.unfold, self.pixels = nn.ConvTranspose2d(32, 16, 7), nn.Conv2d(16 + 8, classes, 1)

    def forward(self, x):
        e1 = F.relu(self.enc1(x))
        m = F.relu(self.mid(F.max_pool2d(F.relu(self.enc2(F.max_pool2d(e1, 2))), 2)))
        u = F.relu(self.unfold(F.relu(self.context(m))))
        return self.pixels(torch.cat([F.interpolate(u, scale_factor=4, mode="nearest"), e1], dim=1))

    def load_core(self, params):
        """The core's params tree: Conv2D kernels (kh, kw, C, F) -> (F, C, kh, kw); Conv2DTranspose's Keras layout
        (kh, kw, F, C) -> PyTorch's (C, F, kh, kw)."""
        with torch.no_grad():
            for name in ("enc1", "enc2", "mid", "context", "unfold", "pixels"):
                layer = getattr(self, name)
                layer.weight.copy_(torch.from_numpy(np.asarray(params[name]["kernel"]).transpose(3, 2, 0, 1)))
                layer.bias.copy_(torch.from_numpy(np.asarray(params[name]["bias"])))


def engines(batches):
    """{"jax": run, "torch": run}: run(steps) takes `steps` SGD steps over the batches from the same initial
    weights, blocks until done and returns the last loss. Checks first that both are the same network."""
    model = models.segmenter(classes=CLASSES)
    params = model.init(seed=0)
    jm = cj.compile(model, optimizer=optimizers.SGD(LR), loss="categorical_crossentropy")
    net = TorchSegmenter()
    net.load_core(params)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()          # mean over every pixel of (N, classes, H, W) logits, as the core's
    jax_batches = [(jax.device_put(x), jax.device_put(y)) for x, y in batches]
    torch_batches = [(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(
        y.astype(np.int64))) for x, y in batches]
    step = jm._jit("train_step")             # the jitted function train_step calls, minus its Python checks
    carry = [jax.device_put(params), jm.init_optimizer(params)]

    def run_jax(steps):
        p, s = carry
        for i in range(steps):
            p, s, loss = step(p, s, *jax_batches[i % len(jax_batches)], None)
        loss.block_until_ready()
        carry[:] = [p, s]
        return float(loss)

    def torch_step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    def run_torch(steps):
        losses = [torch_step(*torch_batches[i % len(torch_batches)]) for i in range(steps)]
        return losses[-1].item()

    assert sum(p.numel() for p in net.parameters()) == model.count_params()
    first = run_jax(1), run_torch(1)                  # the loss before the first step, on the same batch
    assert abs(first[0] - first[1]) <= 1e-5 * abs(first[1]), f"the two networks differ: losses {first}"
    moved = np.asarray(carry[0]["unfold"]["kernel"]).transpose(3, 2, 0, 1)
    assert np.allclose(moved, net.unfold.weight.detach().numpy(), rtol=1e-4, atol=1e-6), "first steps differ"
    return {"jax": run_jax, "torch": run_torch}


def interleaved(runners, images, rounds, steps):
    """Per engine, images/s of each round by wall time and by this process's CPU time; after a warm-up, the
    engines' order alternating round by round."""
    names = list(runners)
    for run in runners.values():
        run(3)                                        # compile, warm caches
    wall, cpu = {name: [] for name in names}, {name: [] for name in names}
    for r in range(rounds):
        for name in names[::1 if r % 2 == 0 else -1]:
            t0, c0 = time.perf_counter(), time.process_time()
            runners[name](steps)
            wall[name].append(steps * images / (time.perf_counter() - t0))
            cpu[name].append(steps * images / (time.process_time() - c0))
    return wall, cpu


def main():
    if ARGS.profile:
        sys.exit("bench_segmenter.py times the two engines only; --profile is bench_jax.py's (LeNet-5)")
    print(f"segmenter training (81,475 weights, 28x28x1 -> 28x28x11, SGD), images/s; jax {jax.__version__} "
          f"({jax.devices()[0].platform}), torch {torch.__version__}, {ARGS.threads} thread(s) each"
          + (f", pinned to core {sorted(os.sched_getaffinity(0))[0]}" if ARGS.threads == 1 else "")
          + f"; {ARGS.rounds} rounds x {ARGS.steps} steps, medians [min-max]")
    rng = np.random.default_rng(0)
    for b in ARGS.batch_sizes:
        batches = [(rng.random((b, 28, 28, 1), dtype=np.float32),
                    rng.integers(0, CLASSES, (b, 28, 28)).astype(np.int32)) for _ in range(4)]
        wall, cpu = interleaved(engines(batches), b, ARGS.rounds, ARGS.steps)
        print(line(f"batch {b:4d} wall", wall), flush=True)
        print(line(f"batch {b:4d} cpu ", cpu), flush=True)


if __name__ == "__main__":
    main()
