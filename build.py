"""Entry points: set up the environment, run the tests, build and serve the static site.

    python3 build.py          # build dist/: the self-contained, offline static site (same as `build`)
    python3 build.py serve    # build if needed, then serve dist/ on http://127.0.0.1:8000 (PORT=... to change)
    python3 build.py setup    # .venv with the pinned requirements, MNIST fetched and verified into data/
    python3 build.py test     # setup, then the whole test suite

The site build (the sitebuild/ package; docs/site-build.md) uses only pinned inputs from PyPI and npm, each checked
against its sha256, and caches every download and intermediate product in .cache/ ($CNN_SITE_CACHE to move it),
so a rebuild takes seconds. Needs python3, npm and node (node runs Pyodide once at build time to compile the
bytecode; without it the site still works, only slower to start).
"""
import os
import sys
from pathlib import Path

from sitebuild import paths


def setup():
    """Create .venv with the pinned requirements and fetch the data sets (cached: reruns are quick)."""
    if not paths.VENV_PY.exists():
        paths.run(sys.executable, "-m", "venv", paths.VENV)
    stamp = paths.VENV / ".requirements-installed"
    req = (paths.ROOT / "requirements-dev.txt").read_text()
    if not stamp.exists() or stamp.read_text() != req:
        paths.run(paths.VENV_PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
        paths.run(paths.VENV_PY, "-m", "pip", "install", "-q", "-r", "requirements-dev.txt")
        paths.run(paths.VENV_PY, "-m", "pip", "install", "-q", "--no-deps", "-e", ".")
        stamp.write_text(req)
    if (paths.ROOT / "core" / "datasets.py").exists():
        paths.run(paths.VENV_PY, "-m", "core.datasets", "fetch")


def test(args):
    setup()
    paths.run(paths.VENV_PY, "-m", "pytest", "-q", *args)


def in_venv():
    return Path(sys.prefix).resolve() == paths.VENV.resolve()


def main(argv):
    cmd = argv[0] if argv else "build"
    if cmd in ("build", "serve") and not in_venv():
        # The build writes the lock with pyodide-lock and exports the data with numpy: run it in .venv.
        setup()
        os.execv(paths.VENV_PY, [str(paths.VENV_PY), __file__, cmd, *argv[1:]])
    if cmd == "setup":
        setup()
    elif cmd == "test":
        test(argv[1:])
    elif cmd in ("build", "serve"):
        from sitebuild import assemble, server
        assemble.build(force=cmd == "build")
        if cmd == "serve":
            server.serve(port=int(os.environ.get("PORT", "8000")))
    else:
        sys.exit(f"unknown command {cmd!r}; use build, serve, setup or test")


if __name__ == "__main__":
    main(sys.argv[1:])
