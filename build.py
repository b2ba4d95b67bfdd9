"""Entry points: set up the environment, run the tests, (later) build and serve the static site.

    python3 build.py setup   # .venv with the pinned requirements, MNIST fetched and verified into data/
    python3 build.py test    # setup, then the whole test suite
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"


def run(*cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def setup():
    """Create .venv with the pinned requirements and fetch the data sets (cached: reruns are quick)."""
    if not VENV_PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".requirements-installed"
    req = (ROOT / "requirements-dev.txt").read_text()
    if not stamp.exists() or stamp.read_text() != req:
        run(VENV_PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
        run(VENV_PY, "-m", "pip", "install", "-q", "-r", "requirements-dev.txt")
        run(VENV_PY, "-m", "pip", "install", "-q", "--no-deps", "-e", ".")
        stamp.write_text(req)
    if (ROOT / "core" / "datasets.py").exists():
        run(VENV_PY, "-m", "core.datasets", "fetch")


def test(args):
    setup()
    run(VENV_PY, "-m", "pytest", "-q", *args)


def main(argv):
    cmd = argv[0] if argv else "test"
    if cmd == "setup":
        setup()
    elif cmd == "test":
        test(argv[1:])
    else:
        sys.exit(f"unknown command {cmd!r}; use setup or test")


if __name__ == "__main__":
    main(sys.argv[1:])
