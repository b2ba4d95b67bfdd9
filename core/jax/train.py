"""Full-size training with the JAX mirror; the weights it writes open in the playground.

    python -m core.jax.train --model lenet5 --dataset mnist --epochs 10 --batch-size 128 --optimizer adam \
        --lr 1e-3 --out run/
    python -m core.jax.train ... --out run/ --resume      # continue from run/checkpoint.npz

What happens, top to bottom:
1. The data set goes onto the device(s) once (normalised float32; 28x28 padded to 32x32 for LeNet-5).
2. Each epoch is one jitted call: shuffle on the device, lax.scan one optimizer step per batch (compiled.py).
   On a CPU backend the default (--loop auto) runs the same steps as a loop of jitted steps instead, because
   XLA's CPU backend compiles convolutions inside loop bodies to much slower code (see Compiled.train_epoch).
   With several devices every batch is split over them (parallel.py); with --distributed, over every host's.
3. After each epoch: test loss/accuracy, then run/checkpoint.npz (params, optimizer state, epoch, metrics) is
   written atomically (a temporary file renamed over the old one), then run/weights.npz (core.models.save, the
   playground's format) and run/metrics.json. A kill -9 at any moment loses at most the epoch in progress.
4. A loss that diverges (core.step's rule, checked on each epoch's losses: NaN/inf, or more than 1000 times the
   run's first) stops the run with core's message; the checkpoint of the last good epoch stays as it was.

--lr-schedule cosine decays the rate from --lr to --lr / 10 over --epochs (optimizers.cosine_decay, as
`python -m core.train` does). The step count lives in the optimizer state, so the jitted steps follow it and a
resumed run continues where it stopped (with the same --epochs, exactly as if never interrupted).

Every epoch's shuffle and dropout keys derive from (--seed, epoch), so a resumed run ends with exactly the
params an uninterrupted one would have.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .. import models, optimizers, step
from . import compiled, parallel, zoo

MODELS = {"lenet5": None, **zoo.MODELS}
DATASETS = ("mnist", "fashion_mnist", "synthetic")
CHECKPOINT, WEIGHTS, METRICS = "checkpoint.npz", "weights.npz", "metrics.json"
# Settings a resumed run must share with the run it continues (--epochs, --lr and --out may change: continuing
# with a smaller learning rate is a common schedule; the optimizer state does not depend on it).
# The schedule is among them: a cosine keeps its step count in the optimizer state, a constant rate has none.
SAME_ON_RESUME = ("model", "dataset", "batch_size", "optimizer", "momentum", "lr_schedule", "loss", "seed", "limit")


# -- data ------------------------------------------------------------------------------------------------------
def load_data(name, limit=None, seed=0):
    """((x_train, y_train), (x_test, y_test)) as float32 (N, 28, 28, 1) normalised with MNIST's mean/std, int32 labels.

    "synthetic" is random images with learnable labels (the brightest quadrant), for smoke tests without data.
    """
    from .. import datasets
    if name == "synthetic":
        n_train, n_test = limit or 2048, max((limit or 2048) // 4, 64)
        rng = np.random.default_rng(seed)
        x = rng.random((n_train + n_test, 28, 28), dtype=np.float32) * 255
        q = x.reshape(-1, 2, 14, 2, 14).sum(axis=(2, 4)).reshape(-1, 4)
        y = q.argmax(axis=1)
        (xtr, ytr), (xte, yte) = (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
    elif name in ("mnist", "fashion_mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (xtr, ytr), (xte, yte) = loader()
        if limit:
            xtr, ytr, xte, yte = xtr[:limit], ytr[:limit], xte[:max(limit // 4, 1)], yte[:max(limit // 4, 1)]
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")

    def prep(x):
        x = (np.asarray(x, np.float32) / 255 - datasets.MNIST_MEAN) / datasets.MNIST_STD
        return x[..., None]
    return (prep(xtr), np.asarray(ytr, np.int32)), (prep(xte), np.asarray(yte, np.int32))


def build_model(name, input_shape=(28, 28, 1), classes=10):
    """lenet5 takes 32x32 (the lecture's LeNet-5, fed padded 28x28 digits); the zoo models take 28x28 directly."""
    if name == "lenet5":
        return models.lenet5(input_shape=(32, 32, 1), classes=classes)
    if name not in zoo.MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return zoo.MODELS[name](input_shape=input_shape, classes=classes)


def fit_input(x, model):
    """Zero-pad 28x28 images to the model's input size (LeNet-5's 32x32), in normalised units of the background."""
    h, w = model.input_shape[:2]
    ph, pw = h - x.shape[1], w - x.shape[2]
    if ph < 0 or pw < 0:
        raise ValueError(f"images of {x.shape[1]}x{x.shape[2]} are larger than the model's input {h}x{w}")
    if ph or pw:
        background = float(x.min())
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), constant_values=background)
    return x


# -- checkpoints: flat .npz files of plain arrays, written atomically ---------------------------------------
def flatten(tree, prefix=""):
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = np.asarray(v)
    return out


def unflatten(flat):
    tree = {}
    for key, v in flat.items():
        *path, leaf = key.split("/")
        node = tree
        for p in path:
            node = node.setdefault(p, {})
        node[leaf] = v
    return tree


def atomic_write(path, write):
    """write(file) into a temporary file beside `path`, fsync it, then rename it over `path` (atomic on POSIX)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)     # mkstemp makes it private; these are ordinary output files
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(out, params, opt_state, epoch, history, config):
    arrays = {**{f"params/{k}": v for k, v in flatten(params).items()},
              **{f"opt/{k}": v for k, v in flatten(opt_state).items()},
              "epoch": np.array(epoch), "history": np.array(json.dumps(history)),
              "config": np.array(json.dumps(config))}
    atomic_write(Path(out) / CHECKPOINT, lambda f: np.savez(f, **arrays))


def load_checkpoint(out):
    """-> (params, opt_state, epoch, history, config) from out/checkpoint.npz (plain arrays, never unpickled)."""
    path = Path(out) / CHECKPOINT
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        params = unflatten({k[7:]: v for k, v in files.items() if k.startswith("params/")})
        opt_state = unflatten({k[4:]: v for k, v in files.items() if k.startswith("opt/")})
        return (params, opt_state, int(files["epoch"]), json.loads(str(files["history"])),
                json.loads(str(files["config"])))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e}); "
                         f"move it away to start over") from None


def write_outputs(out, model, params, history, config):
    """The playground's weights file and the metrics JSON, both atomically."""
    host_params = jax.tree_util.tree_map(np.asarray, params)
    atomic_write(Path(out) / WEIGHTS, lambda f: models.save(f, model, host_params))
    text = json.dumps({"config": config, "epochs": history}, indent=1).encode()
    atomic_write(Path(out) / METRICS, lambda f: f.write(text))


# -- the run -----------------------------------------------------------------------------------------------
def train(config, progress=True, log=print):
    """Run (or resume) a training run described by `config` (the CLI's options as a dict). Returns the history.

    Raises FloatingPointError when the loss stops being finite (the last good checkpoint is kept).
    """
    out = Path(config["out"])
    out.mkdir(parents=True, exist_ok=True)
    have_checkpoint = (out / CHECKPOINT).exists()
    if have_checkpoint and not config["resume"]:
        raise ValueError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")

    model = build_model(config["model"])
    (xtr, ytr), (xte, yte) = load_data(config["dataset"], config["limit"], config["seed"])
    xtr, xte = fit_input(xtr, model), fit_input(xte, model)
    if config["batch_size"] > len(xtr):
        raise ValueError(f"--batch-size {config['batch_size']} is larger than the {len(xtr)} training images")
    steps = len(xtr) // config["batch_size"]
    rate = config["lr"]
    if config["lr_schedule"] == "cosine":
        rate = optimizers.cosine_decay(rate, config["epochs"] * steps)
    # --momentum 0 means "not given": sgd/rmsprop then have none, the momentum/nesterov names their default
    opt = optimizers.get(config["optimizer"], learning_rate=rate,
                         **({"momentum": config["momentum"]} if config["momentum"] else {}))
    devices = jax.devices()
    mesh = parallel.data_mesh(devices) if len(devices) > 1 else None
    jm = compiled.compile(model, optimizer=opt, loss=config["loss"], mesh=mesh)
    settings = {k: config[k] for k in SAME_ON_RESUME}

    if have_checkpoint:
        params, opt_state, start, history, saved = load_checkpoint(out)
        saved.setdefault("lr_schedule", "constant")     # checkpoints from before --lr-schedule ran at a constant rate
        changed = {k: (saved.get(k), v) for k, v in settings.items() if saved.get(k) != v}
        if changed:
            raise ValueError(f"--resume: {out} was trained with different settings "
                             + ", ".join(f"{k}={a!r} (now {b!r})" for k, (a, b) in changed.items()))
        jm.check_params(params, where=f"{out / CHECKPOINT}")
        log(f"resuming {out} after epoch {start}")
    else:
        params = model.init(seed=config["seed"])
        opt_state, start, history = opt.init(params), 0, []

    put = (lambda t: parallel.replicate(t, mesh)) if mesh is not None else (lambda t: jax.tree_util.tree_map(
        jnp.asarray, t))
    params, opt_state = put(params), put(opt_state)
    xtr, ytr, xte, yte = put(xtr), put(ytr), put(xte), put(yte)     # resident on the device(s) from here on
    base_key = jax.random.key(config["seed"])
    per_epoch = steps * config["batch_size"]
    log(f"{model.name}: {model.count_params():,} weights, {len(xtr):,} training images, {steps} steps of "
        f"{config['batch_size']} per epoch on {len(devices)} {devices[0].platform} device(s)")

    limit = None        # the divergence limit: the first loss of this run (core.step.check_losses) sets it
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=per_epoch * (config["epochs"] - start), unit="img", unit_scale=True, dynamic_ncols=True)
    try:
        for epoch in range(start, config["epochs"]):
            t0 = time.perf_counter()
            key = jax.random.fold_in(base_key, epoch)
            new_params, new_state, losses = jm.train_epoch(params, opt_state, xtr, ytr, key, config["batch_size"],
                                                           loop=config.get("loop", "auto"))
            losses = np.asarray(losses)                  # waits for the epoch to finish
            seconds = time.perf_counter() - t0
            bad, limit = step.check_losses(losses, limit)
            if bad is not None:
                kept = f"the checkpoint of epoch {epoch} in {out} is kept" if epoch else "nothing was saved"
                where = f"epoch {epoch + 1}, batch {bad + 1}"
                raise FloatingPointError(f"{step.diverged_message(float(losses[bad]), where)}; try a smaller --lr; "
                                         f"{kept}")
            params, opt_state = new_params, new_state
            test_loss, test_acc = jm.evaluate(params, xte, yte, batch_size=min(1000, len(xte)))
            record = {"epoch": epoch + 1, "loss": float(losses.mean()), "test_loss": test_loss,
                      "test_accuracy": test_acc, "seconds": round(seconds, 3),
                      "images_per_s": round(per_epoch / seconds, 1)}
            history.append(record)
            if jax.process_index() == 0:             # one writer when many hosts train together
                save_checkpoint(out, params, opt_state, epoch + 1, history, settings)
                write_outputs(out, model, params, history, config)
            if bar is not None:
                bar.update(per_epoch)
                bar.set_postfix(epoch=epoch + 1, loss=f"{record['loss']:.4f}", test_acc=f"{test_acc:.4f}")
            log(f"epoch {epoch + 1}/{config['epochs']}: loss {record['loss']:.4f}, test loss {test_loss:.4f}, "
                f"test accuracy {test_acc:.4f}, {record['images_per_s']:,.0f} img/s ({seconds:.2f} s)")
    finally:
        if bar is not None:
            bar.close()
    return history


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.jax.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="lenet5", choices=sorted(MODELS))
    p.add_argument("--dataset", default="mnist", choices=DATASETS)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="adam", choices=list(optimizers.NAMES),
                   help="momentum and nesterov are SGD with momentum (0.9 unless --momentum says)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-schedule", default="constant", choices=("constant", "cosine"),
                   help="cosine: decay from --lr to --lr/10 over the run's --epochs; constant: keep --lr (default)")
    p.add_argument("--momentum", type=float, default=0.0, help="for sgd, rmsprop, momentum and nesterov")
    p.add_argument("--loss", default="categorical_crossentropy", choices=["categorical_crossentropy", "mse", "focal"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images (smoke runs)")
    p.add_argument("--out", default="run")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--loop", default="auto", choices=["auto", "scan", "steps"],
                   help="one lax.scan per epoch, or a loop of jitted steps; auto: steps on CPU, scan elsewhere")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    p.add_argument("--distributed", action="store_true",
                   help="call jax.distributed.initialize() first: one process per host, all hosts' devices")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0:
        p.error("--epochs and --batch-size must be >= 1 and --lr > 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.distributed:
        jax.distributed.initialize()
    config = {k: getattr(args, k) for k in ("model", "dataset", "epochs", "batch_size", "optimizer", "lr",
                                            "lr_schedule", "momentum", "loss", "seed", "limit", "out", "resume",
                                            "loop")}
    log = print if jax.process_index() == 0 else (lambda *a: None)
    try:
        train(config, progress=not args.no_progress and jax.process_index() == 0, log=log)
    except (ValueError, FloatingPointError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
