"""Data-parallel training over every visible device with jax.sharding: one Mesh axis "data", batches split on it.

    mesh = data_mesh()                                # all devices of all hosts, one axis named "data"
    jm = compile(model, optimizer, mesh=mesh)         # train_epoch splits each batch over the mesh
    params = replicate(params, mesh)                  # every device holds the whole (small) params tree
    x, y = replicate(x_train, mesh), replicate(y_train, mesh)   # or shard_batch(x, mesh) for one batch

Params stay replicated and each device computes the gradient of its slice of the batch; because the loss is a mean
over the whole (sharded) batch, XLA inserts the all-reduce itself, and the result equals one device's to float
rounding (the order of the sum differs).

Many processes (hosts, or several processes on one machine): start the same script in every process and join
first (distributed.initialize: from a SLURM, Open MPI or Cloud TPU environment, or with the coordinator's
"host0:1234", the process count and this process's id). jax.devices() then lists every process's devices,
data_mesh() spans them all, and replicate() / shard_batch() build each process's part from its own copy of the
data: every process must hold the same copy. They check that it does (a hash of each leaf, gathered from every
process) and raise ValueError otherwise, rather than train on "replicated" params that differ per process.
`python -m core.jax.train --distributed` or `--coordinator HOST:PORT --num-processes N --process-id I` does this.
"""
import hashlib

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_mesh(devices=None):
    """A 1-D Mesh over `devices` (default: every device of every host) with the axis name "data"."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), ("data",))


def check_same_copy(tree):
    """ValueError unless every process holds the same `tree` (shapes, dtypes, values); nothing with one process.

    Each process hashes its leaves and the hashes are gathered (a collective: every process must call it)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    if jax.process_count() == 1 or not flat:       # nothing to compare (plain SGD's optimizer state is {})
        return

    def digest(a):
        a = np.ascontiguousarray(a)
        h = hashlib.blake2b(f"{a.dtype.str}{a.shape}".encode(), digest_size=8)
        h.update(memoryview(a.reshape(-1).view(np.uint8)))
        return np.frombuffer(h.digest(), np.uint8)
    mine = np.concatenate([digest(np.asarray(a)) for _, a in flat]).reshape(len(flat), 8)
    every = np.asarray(multihost_utils.process_allgather(mine))       # (processes, leaves, 8)
    differ = (every != every[0]).any(axis=2)                           # (processes, leaves)
    if differ.any():
        process, leaf = (int(i[0]) for i in np.nonzero(differ))
        path, a = flat[leaf]
        name = jax.tree_util.keystr(path) or f"the array of shape {np.shape(a)}"
        raise ValueError(f"process {process} holds another {name} than process 0: every process must hold the "
                         f"same copy (load the same data set; when resuming, read the same checkpoint)")


def _put(tree, sharding):
    """Place every leaf with `sharding`, building each device's part from this process's copy (works across
    hosts, after check_same_copy has made sure that every process has the same)."""
    check_same_copy(tree)

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
