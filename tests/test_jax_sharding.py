"""Data-parallel training over 4 (simulated) CPU devices gives the same losses and params as one device.

XLA_FLAGS=--xla_force_host_platform_device_count=4 must be set before jax starts, so the check runs in a fresh
Python process; the test reads its JSON report.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import json
    import jax, numpy as np
    import core.jax as cj
    from core import models, optimizers
    from core.jax import parallel

    assert len(jax.devices()) == 4, jax.devices()
    model = models.lenet5(dropout=0.25)          # dropout too: its keys must not depend on the device count
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32, 32, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.int32)
    params = model.init(seed=0)
    key = jax.random.key(3)
    report = {}

    one = cj.compile(model, optimizer=optimizers.Adam(1e-3))
    p1, s1, l1 = one.train_epoch(params, one.init_optimizer(params), x, y, key, batch_size=16)

    mesh = parallel.data_mesh()
    four = cj.compile(model, optimizer=optimizers.Adam(1e-3), mesh=mesh)
    rp, rs = parallel.replicate(params, mesh), parallel.replicate(four.init_optimizer(params), mesh)
    rx, ry = parallel.replicate(x, mesh), parallel.replicate(y, mesh)
    p4, s4, l4 = four.train_epoch(rp, rs, rx, ry, key, batch_size=16)
    report["losses_1"], report["losses_4"] = np.asarray(l1).tolist(), np.asarray(l4).tolist()
    report["param_max_rel_diff"] = max(
        float(np.abs(np.asarray(p4[k][w]) - np.asarray(p1[k][w])).max() / np.abs(np.asarray(p1[k][w])).max())
        for k in p1 for w in p1[k])
    report["params_devices"] = len(p4["C1"]["kernel"].sharding.device_set)
    hlo = four._jit("train_epoch", None, None, 16).lower(rp, rs, rx, ry, key).compile().as_text()
    report["all_reduce_in_epoch"] = "all-reduce" in hlo

    # One explicit step on a batch split with shard_batch: each device holds a quarter of it.
    xb, yb = parallel.shard_batch((x[:16], y[:16]), mesh)
    report["batch_shard_rows"] = sorted({s.data.shape[0] for s in xb.addressable_shards})
    _, _, step4 = four.train_step(rp, rs, xb, yb, key)
    _, _, step1 = one.train_step(params, one.init_optimizer(params), x[:16], y[:16], key)
    report["step_losses"] = [float(step1), float(step4)]
    try:
        parallel.shard_batch(x[:10], mesh)
    except ValueError as e:
        report["uneven_error"] = str(e)
    print("REPORT" + json.dumps(report))
""")


def test_four_devices_match_one():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(l for l in run.stdout.splitlines() if l.startswith("REPORT"))
    report = json.loads(line[len("REPORT"):])
    assert len(report["losses_4"]) == 4
    for a, b in zip(report["losses_1"], report["losses_4"]):
        assert abs(a - b) <= 1e-5 * abs(a), (report["losses_1"], report["losses_4"])
    assert report["param_max_rel_diff"] < 1e-4
    assert report["params_devices"] == 4            # params replicated on every device
    assert report["all_reduce_in_epoch"]            # the gradient really is summed across devices
    assert report["batch_shard_rows"] == [4]        # 16 examples, 4 per device
    assert abs(report["step_losses"][0] - report["step_losses"][1]) <= 1e-5 * report["step_losses"][0]
    assert "does not split evenly over 4 devices" in report["uneven_error"]
