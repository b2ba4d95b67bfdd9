"""Many processes, one run: jax.distributed set up for `python -m core.jax.train`, and how a process stops.

    distributed.initialize("10.0.0.1:1234", num_processes=2, process_id=0)   # a plain cluster: say it all
    distributed.initialize()                    # SLURM, Open MPI, Cloud TPU: everything from the environment
    distributed.stop("error: ...")              # a distributed process that fails: print, then exit at once

One process per host (or per group of devices); each owns its local devices, jax.devices() lists every process's,
and parallel.data_mesh() spans them all. On CPUs the cross-process collectives are gloo's (TCP), so two processes
on one machine, 127.0.0.1, behave as two hosts would.

Failure: the coordination service (inside process 0) counts a process as dead when its heartbeats stop for
`heartbeat_timeout` seconds and then stops the others, with JAX's message "...another task died...". Sooner
than that, a collective whose peer has gone fails at once (gloo: "Connection closed by peer"); the training CLI
turns that into its own message. A process that fails leaves with os._exit: the orderly exit of
jax.distributed is a barrier that waits for every process, and the others may be stuck in a collective with it.
"""
import os
import signal
import sys
import traceback

import jax

HEARTBEAT_TIMEOUT = 100     # jax.distributed's default, seconds


def parse_address(text):
    """'HOST:PORT' -> the same text, or ValueError naming it (argparse shows it as the flag's error)."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--coordinator must be HOST:PORT with a port from 1 to 65535, got {text!r}")
    return text


def initialize(coordinator=None, num_processes=None, process_id=None, heartbeat_timeout=HEARTBEAT_TIMEOUT):
    """Join the run before anything else touches jax's devices. Without arguments jax finds the coordinator,
    the process count and this process's id in a SLURM, Open MPI or Cloud TPU environment.

    Raises ValueError (naming what is missing) when neither the arguments nor the environment say it. A coordinator
    that never answers raises nothing: after jax's initialization timeout (5 minutes) JAX ends the process with
    "Terminating process because the JAX distributed service detected fatal errors"."""
    # gloo (TCP) is jaxlib 0.10's default for CPU collectives; said here so that a CPU run of several processes
    # never goes without them, whatever the default becomes
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                   process_id=process_id, heartbeat_timeout_seconds=int(heartbeat_timeout))
    except ValueError as e:
        if coordinator is None:
            raise ValueError(f"--distributed: no cluster environment (SLURM, Open MPI, Cloud TPU) says where the "
                             f"coordinator is ({e}); pass --coordinator HOST:PORT --num-processes N "
                             f"--process-id I") from None
        raise
    # JAX's preemption notifier takes SIGTERM and only notes it, so `kill` (or a scheduler's first signal) would
    # not stop a run; give SIGTERM back its default: the process ends, and the others stop as for any lost process
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def who():
    """'process I of N' for messages."""
    return f"process {jax.process_index()} of {jax.process_count()}"


def lost_peer(error):
    """Whether `error` is a collective that failed because another process is gone. gloo's failures come back as
    a ValueError holding XLA's status text ("UNKNOWN: Gloo all-reduce failed: ... Connection reset by peer");
    other backends' (NCCL) as jax.errors.JaxRuntimeError."""
    return isinstance(error, jax.errors.JaxRuntimeError) or "Gloo" in str(error)


def failure_message(error, out, expected=True):
    """The line a failing process prints before stop(): which process, what happened, what is kept.
    expected=False (a bug, not bad input) adds the traceback, which stop()'s quick exit would otherwise lose."""
    if lost_peer(error):
        first = str(error).strip().splitlines()[0]
        return (f"error: {who()}: another process of the run is gone ({first}); {out} keeps the checkpoint of "
                f"the last finished epoch, if any: start every process again, with --resume to continue it")
    text = f"error: {who()}: {error}"
    if not expected:
        text = "".join(traceback.format_exception(error)) + text
    return text


def stop(message, code=1):
    """Print `message` to stderr and end this process now, without jax.distributed's orderly exit.

    That exit is a barrier for every process: when another process is gone, or blocked in a collective that
    waits for this one, it would wait out its timeout and then abort with a C++ stack trace."""
    print(message, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
