"""Where the site build reads and writes, how it runs a command and how it tells the user what it is doing: what
every part of sitebuild shares.

Imports no other part (they all import this), so it can never be part of an import circle.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"          # the hand-written page, worker and the Pyodide boot shim
DIST = ROOT / "dist"              # the built site
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
# Downloads and intermediate products, so that a rebuild takes seconds (gitignored). Every part reads it from
# here: a second checkout can share one cache, or a test can point the whole build at a folder of its own.
CACHE = Path(os.environ.get("CNN_SITE_CACHE", ROOT / ".cache")).resolve()
PYODIDE_CORE = CACHE / "pyodide-core"    # the unpacked npm package: pyodide.mjs (Node), the official lock
# When the command began: build.py sets it before it re-runs itself in .venv, so the clock goes on across that.
STARTED = float(os.environ.setdefault("CNN_BUILD_STARTED", str(time.time())))


def step(message):
    """One progress line: the time since the command began, then what is happening now (and how long it takes)."""
    print(f"[{time.time() - STARTED:5.0f} s] {message}", flush=True)


def run(*cmd, show=False, **kw):
    """Run a command in ROOT (or `cwd=`). Its output is held back (pip's and npm's chatter is no news to the user)
    and printed only if it fails, which raises CalledProcessError; `show=True` lets it through as it comes."""
    cmd = [str(c) for c in cmd]
    cwd = kw.pop("cwd", ROOT)
    if show:
        return subprocess.run(cmd, check=True, cwd=cwd, **kw)
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if done.returncode:
        print(f"failed ({done.returncode}): {' '.join(cmd)[:300]}\n{done.stdout[-6000:]}", file=sys.stderr, flush=True)
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout)
    return done
