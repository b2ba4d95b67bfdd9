"""`python3 build.py setup` on a machine that lacks a system package: as root it installs it with apt-get (mocked
here: no package is really installed), otherwise it says the one command that would; README and .ci/run name
the same requirements and commands. Fast and offline: every command setup would run is recorded, none is run.
"""
import importlib.util
import re
import shlex

import pytest

from site_helpers import ROOT, import_sitebuild

sb = import_sitebuild()
system = importlib.import_module("sitebuild.system")


def load_build():
    spec = importlib.util.spec_from_file_location("build_cli", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A machine where chromium is missing (its check points at nothing) and all else is there; a fresh .venv
    folder; every command setup runs recorded in `ran` instead of run."""
    there = str(ROOT / "build.py")
    packages = tuple((name, why, str(tmp_path / "no-chromium") if name == "chromium" else there)
                     for name, why, _ in system.PACKAGES)
    monkeypatch.setattr(system, "PACKAGES", packages)
    ran = []

    def record(*cmd, **kw):
        ran.append([str(c) for c in cmd])
        if "venv" in cmd:
            (tmp_path / "venv" / "bin").mkdir(parents=True)
    monkeypatch.setattr(sb.paths, "run", record)
    monkeypatch.setattr(sb.paths, "VENV", tmp_path / "venv")
    monkeypatch.setattr(sb.paths, "VENV_PY", tmp_path / "venv" / "bin" / "python")
    monkeypatch.setattr(system.shutil, "which", lambda name: f"/usr/bin/{name}")
    return ran


def apt_commands(ran):
    return [cmd for cmd in ran if cmd[0] == "apt-get"]


def test_setup_as_root_installs_a_missing_system_package_with_apt(machine, monkeypatch, capsys):
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    load_build().setup()
    assert apt_commands(machine) == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]
    assert machine.index(["apt-get", "update", "-qq"]) == 0, "system packages come before .venv and pip"
    assert "installing chromium with apt-get" in capsys.readouterr().out
    # then the rest of setup: .venv, the pinned requirements, this project, the data
    commands = [" ".join(cmd) for cmd in machine]
    assert any(" -m venv " in c for c in commands)
    assert any("pip install" in c and "requirements-dev.txt" in c for c in commands)
    assert any(c.endswith("-m core.datasets fetch") for c in commands)


def test_setup_without_root_says_the_one_command_and_goes_on(machine, monkeypatch, capsys):
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    load_build().setup()
    assert apt_commands(machine) == []
    err = capsys.readouterr().err.strip().splitlines()
    line = next(line for line in err if "missing system packages" in line)
    assert "chromium: the browser tests" in line and "`sudo apt-get install chromium`" in line
    assert len(err) == 1, "one line"
    assert any("requirements-dev.txt" in " ".join(cmd) for cmd in machine), "setup goes on"


def test_nothing_missing_nothing_installed_nothing_said(machine, monkeypatch, capsys):
    monkeypatch.setattr(system, "PACKAGES", tuple((n, w, str(ROOT)) for n, w, _ in system.PACKAGES))
    monkeypatch.setattr(system.os, "geteuid", lambda: 0)
    load_build().setup()
    assert apt_commands(machine) == []
    assert "system packages" not in capsys.readouterr().out


def test_each_check_reads_the_machine(tmp_path):
    assert system.present(str(tmp_path)) and not system.present(str(tmp_path / "nope"))
    assert system.present("ensurepip") == (importlib.util.find_spec("ensurepip") is not None)
    assert not system.present("no-such-command-cnn-playground")
    assert system.missing((("x", "why", str(tmp_path / "nope")), ("y", "why", str(tmp_path)))) == ["x"]


def test_readme_names_the_requirements_and_ci_runs_readme_s_test_command():
    readme = (ROOT / "README.md").read_text()
    lines = [line for line in readme.splitlines() if all(name in line for name, _, _ in system.PACKAGES)]
    assert len(lines) == 1, "the system requirements, in one line"
    commands = re.findall(r"^(python3 build.py \w+)", readme, re.M)
    assert commands[:2] == ["python3 build.py serve", "python3 build.py test"], "README opens with run and test"
    ci = [shlex.split(line) for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ["python3", "build.py", "test"] in ci, ".ci/run calls README's test command"
    assert not [cmd for cmd in ci if "apt-get" in cmd or "pip" in cmd], "setup installs, not .ci/run"
