"""Where the site build reads and writes, and how it runs a command: what every part of sitebuild shares.

Imports no other part (they all import this), so it can never be part of an import circle.
"""
import os
import subprocess
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


def run(*cmd, **kw):
    """Echo a command's first line, then run it in ROOT (or `cwd=`); a failure raises."""
    print("+", " ".join(str(c) for c in cmd).splitlines()[0][:200], flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=kw.pop("cwd", ROOT), **kw)
