"""Data-parallel training over every visible device with jax.sharding: one Mesh axis "data", batches split on it.

    mesh = data_mesh()                                # all devices of all hosts, one axis named "data"
    jm = compile(model, optimizer, mesh=mesh)         # train_epoch splits each batch over the mesh
    params = replicate(params, mesh)                  # every device holds the whole (small) params tree
    x, y = replicate(x_train, mesh), replicate(y_train, mesh)   # or shard_batch(x, mesh) for one batch

Params stay replicated and each device computes the gradient of its slice of the batch; because the loss is a mean
over the whole (sharded) batch, XLA inserts the all-reduce itself, and the result equals one device's to float
rounding (the order of the sum differs).

Many hosts (GPU nodes, TPU pods): start the same script on every host and call
`jax.distributed.initialize()` first (it reads the coordinator address, process count and id from the cluster
environment: SLURM, Open MPI or Cloud TPU; otherwise pass coordinator_address="host0:1234", num_processes=N,
process_id=i). jax.devices() then lists the devices of every host, data_mesh() spans them all, and replicate()
builds each host's part from its own copy of the data, so every host must load the same data set.
`python -m core.jax.train --distributed` does exactly this.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_mesh(devices=None):
    """A 1-D Mesh over `devices` (default: every device of every host) with the axis name "data"."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), ("data",))


def _put(tree, sharding):
    """Place every leaf with `sharding`, building each device's part from the host copy (works across hosts)."""
    def put(a):
        a = np.asarray(a)
        return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])
    return jax.tree_util.tree_map(put, tree)


def replicate(tree, mesh):
    """A full copy of every leaf on every device of the mesh (params, optimizer state, a resident data set)."""
    return _put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batch(tree, mesh):
    """Split every leaf's first axis (the batch) evenly over the mesh's devices."""
    for leaf in jax.tree_util.tree_leaves(tree):
        if np.shape(leaf)[0] % mesh.size:
            raise ValueError(f"shard_batch: a batch of {np.shape(leaf)[0]} does not split evenly over "
                             f"{mesh.size} devices; use a batch size that is a multiple of {mesh.size}")
    return _put(tree, NamedSharding(mesh, PartitionSpec("data")))
