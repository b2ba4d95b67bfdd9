"""LeNet-5 on full MNIST with the JAX mirror on one GPU: time to >= 99.0% test accuracy, and images/s vs PyTorch.

    python benchmarks/gpu_mnist.py                      # on a GPU machine (targets: <= 3 s incl. compile, >= 1.5x)
    python benchmarks/gpu_mnist.py --smoke              # seconds on any CPU: synthetic data, checks the script runs
    python benchmarks/gpu_mnist.py --json result.json   # also write the figures as JSON

Needs: jax with its CUDA plugin (the same jax version as requirements-dev.txt), MNIST cached in data/ by
`python -m core.datasets fetch` (the GPU machine may be offline: bring data/ with the checkout), and for the
comparison a CUDA build of torch (skipped with a note when missing).

What is timed:
- "wall to 99%": from putting the data on the device to the end of the evaluation that first shows >= 99.0% test
  accuracy, including every compilation (the epoch program and the evaluation) but not `import jax`.
  Each epoch is one jitted lax.scan over the shuffled batches (core.jax.Compiled.train_epoch).
- images/s: a steady-state (already compiled) epoch of the JAX mirror vs the same LeNet-5, optimizer, batch size
  and resident data in PyTorch eager (forward, backward, Adam step per batch; torch.cuda.synchronize at the end).
  Both run float32 with TF32 allowed for convolutions and matrix products (JAX's default on NVIDIA GPUs; set
  explicitly for torch), so the comparison is like for like.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if "--smoke" in sys.argv:            # before jax reads its configuration: the smoke run is for any CPU
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import core.jax as cj  # noqa: E402
from core import models, optimizers  # noqa: E402
from core.jax import train as jtrain  # noqa: E402

TARGET = 0.99


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--schedule", default="3e-3:3,5e-4:3",
                   help="Adam learning rates as lr:epochs,lr:epochs,... (a constant 2e-3 plateaus near 98.7%%)")
    p.add_argument("--torch-steps", type=int, default=300, help="timed PyTorch steps")
    p.add_argument("--smoke", action="store_true", help="synthetic data, 1 epoch, a few torch steps (any CPU)")
    p.add_argument("--json", help="write the results to this file")
    return p.parse_args()


def parse_schedule(text):
    """"3e-3:3,5e-4:3" -> [(0.003, 3), (0.0005, 3)]"""
    try:
        phases = [(float(lr), int(n)) for lr, n in (part.split(":") for part in text.split(","))]
    except ValueError:
        raise SystemExit(f"--schedule must look like 3e-3:3,5e-4:3 (lr:epochs,...), got {text!r}") from None
    if not phases or any(lr <= 0 or n < 1 for lr, n in phases):
        raise SystemExit(f"--schedule needs positive learning rates and epoch counts, got {text!r}")
    return phases


def jax_run(data, args):
    """Train until the test accuracy reaches TARGET (or the schedule ends); returns the figures.

    Each phase of the schedule is its own compiled program (the learning rate is a constant in it); Adam's state
    carries over from phase to phase.
    """
    (xtr, ytr), (xte, yte) = data
    model = models.lenet5()
    phases = parse_schedule(args.schedule)
    compiled = [cj.compile(model, optimizer=optimizers.Adam(lr)) for lr, _ in phases]
    plan = [jm for jm, (_, n) in zip(compiled, phases) for _ in range(n)]    # the Compiled for each epoch
    jm = evaluator = compiled[0]
    t0 = time.perf_counter()
    params = jax.device_put(model.init(seed=0))
    state = jm.init_optimizer(params)
    xtr, ytr, xte, yte = (jax.device_put(a) for a in (jtrain.fit_input(xtr, model), ytr,
                                                       jtrain.fit_input(xte, model), yte))
    base = jax.random.key(0)
    steps = len(xtr) // args.batch_size
    epochs, reached, epoch_seconds = [], None, []
    for epoch, jm in enumerate(plan):
        e0 = time.perf_counter()
        params, state, losses = jm.train_epoch(params, state, xtr, ytr, jax.random.fold_in(base, epoch),
                                               args.batch_size, loop="scan")
        losses.block_until_ready()
        epoch_seconds.append(time.perf_counter() - e0)
        _, acc = evaluator.evaluate(params, xte, yte, batch_size=min(10000, len(xte)))
        epochs.append({"epoch": epoch + 1, "loss": float(np.mean(np.asarray(losses))), "test_accuracy": acc,
                       "seconds": round(epoch_seconds[-1], 3), "since_start": round(time.perf_counter() - t0, 3)})
        print(f"  jax epoch {epoch + 1}: test accuracy {acc:.4f}, {epoch_seconds[-1]:.2f} s "
              f"({epochs[-1]['since_start']:.2f} s since start)", flush=True)
        if acc >= TARGET and reached is None:
            reached = epochs[-1]["since_start"]
            if not args.smoke:
                break
    steady = min(epoch_seconds[1:]) if len(epoch_seconds) > 1 else None
    if steady is None:       # reached the target in one epoch: time one more, compiled, for the throughput figure
        e0 = time.perf_counter()
        jm.train_epoch(params, state, xtr, ytr, jax.random.fold_in(base, 99), args.batch_size,
                       loop="scan")[2].block_until_ready()
        steady = time.perf_counter() - e0
    return {"epochs": epochs, "wall_to_target_s": reached, "first_epoch_s_incl_compile": round(epoch_seconds[0], 3),
            "images_per_s": round(steps * args.batch_size / steady, 1)}


def torch_run(data, args):
    try:
        import torch
        from torch import nn
    except ImportError:
        return {"skipped": "torch is not installed"}
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.smoke:
        return {"skipped": "torch has no CUDA device here"}
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    (xtr, ytr), _ = data
    x = torch.from_numpy(np.ascontiguousarray(jtrain.fit_input(xtr, models.lenet5()).transpose(0, 3, 1, 2))).to(device)
    y = torch.from_numpy(ytr.astype(np.int64)).to(device)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(), nn.Linear(120, 84),
                        nn.ReLU(), nn.Linear(84, 10)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=parse_schedule(args.schedule)[0][0], eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    b = args.batch_size
    n_batches = len(x) // b

    def steps(k):
        for i in range(k):
            j = (i % n_batches) * b
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[j:j + b]), y[j:j + b])
            loss.backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    steps(min(20, args.torch_steps))                   # warm-up: cuDNN autotuning, allocator
    t0 = time.perf_counter()
    steps(args.torch_steps)
    seconds = time.perf_counter() - t0
    return {"device": device, "torch": torch.__version__, "images_per_s": round(args.torch_steps * b / seconds, 1)}


def main():
    args = parse_args()
    if args.smoke:
        args.schedule, args.torch_steps, args.batch_size = "3e-3:1", 3, 64
        data = jtrain.load_data("synthetic", limit=256)
    else:
        data = jtrain.load_data("mnist")
    dev = jax.devices()[0]
    print(f"jax {jax.__version__} on {dev.platform} ({dev.device_kind}); LeNet-5, Adam schedule {args.schedule}, "
          f"batch {args.batch_size}, {len(data[0][0]):,} training images", flush=True)
    result = {"jax": jax.__version__, "device": f"{dev.platform} {dev.device_kind}", "batch_size": args.batch_size,
              "schedule": args.schedule, "smoke": args.smoke}
    result["jax_run"] = jax_run(data, args)
    result["torch_run"] = torch_run(data, args)
    j, t = result["jax_run"], result["torch_run"]
    print(f"wall time to >= {TARGET:.1%} test accuracy (incl. compile): "
          + (f"{j['wall_to_target_s']:.2f} s (target <= 3 s)" if j["wall_to_target_s"] is not None else
             f"not reached in {len(j['epochs'])} epochs"))
    print(f"first epoch incl. compile {j['first_epoch_s_incl_compile']:.2f} s; jax {j['images_per_s']:,.0f} img/s")
    if "images_per_s" in t:
        result["speedup_vs_torch"] = round(j["images_per_s"] / t["images_per_s"], 2)
        print(f"torch eager ({t['device']}) {t['images_per_s']:,.0f} img/s: "
              f"jax/torch {result['speedup_vs_torch']:.2f}x (target >= 1.5x)")
    else:
        print(f"torch comparison skipped: {t['skipped']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
