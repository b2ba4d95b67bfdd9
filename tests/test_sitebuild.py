"""The site build's parts (sitebuild/), each on its own: the pins table, downloads and their checks, the lock for a
few fake wheels, the app wheel, the bytecode compiler, the boot shim, the server, staleness and $CNN_SITE_CACHE.
Fast and offline: no download, no browser (tests/test_site_e2e.py builds and loads the real site).
"""
import ast
import base64
import gzip
import hashlib
import http.client
import importlib
import importlib.util
import io
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
import time
import tarfile
import tokenize
import types
import zipfile
from pathlib import Path

import pytest

from site_helpers import ROOT, import_sitebuild, in_ci, serve

sb = import_sitebuild()
BUILD_FILES = [ROOT / "build.py", *sorted((ROOT / "sitebuild").glob("*.*")), *sorted((ROOT / "static").glob("*"))]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def make_wheel(folder, name, version, requires=(), files=None):
    """A minimal pure wheel `name`-`version` in `folder` with the given Requires-Dist lines; returns its path."""
    stem = name.replace("-", "_")
    files = files or {f"{stem}/__init__.py": b"x = 1\n"}
    info = f"{stem}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n"
                                                                                for r in requires)
    path = Path(folder) / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, data in files.items():
            z.writestr(member, data)
        z.writestr(f"{info}/METADATA", meta)
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return path


# ---------------------------------------------------------------- pins

def test_pins_table_is_well_formed():
    names = [row[0] for row in sb.pins.PINS]
    assert len(names) == len(set(names)), "one row per pin"
    for row in sb.pins.PINS:
        assert len(row) == 4 and all(isinstance(v, str) for v in row), row
        name, version, kind, digest = row
        assert re.fullmatch(r"(@[a-z0-9]+(-[a-z0-9]+)*/)?[a-z0-9]+(-[a-z0-9]+)*", name), \
            f"{name}: write pins by their canonical name"
        assert re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?", version), f"{name}: version {version!r}"
        assert kind in ("npm", "wheel", "sdist"), f"{name}: kind {kind!r}"
        assert re.fullmatch(r"[0-9a-f]{64}", digest), f"{name}: sha256 {digest!r}"
    files = [sb.fetch.pin(name)["file"] for name in names]
    assert len(files) == len(set(files))
    assert sb.pins.CARRIER in names and "pyodide" in names and {"panel", "bokeh"} <= set(names)
    assert not set(sb.pins.OFFICIAL) & set(names), "the official builds come out of the carrier, not a pin"
    assert all(sb.fetch.pin(name)["kind"] == "sdist" for name in sb.pins.BUILD_ENV)


def test_pins_name_the_files_the_registries_serve():
    assert sb.fetch.pin("pyodide")["file"] == f"pyodide-{sb.fetch.pin('pyodide')['version']}.tgz"
    markdown_it = sb.fetch.pin("markdown-it-py")
    assert markdown_it["file"] == f"markdown_it_py-{markdown_it['version']}-py3-none-any.whl"
    assert markdown_it["spec"] == f"markdown-it-py=={markdown_it['version']}"
    assert sb.fetch.pin("pyyaml")["file"].endswith(".tar.gz")
    assert sb.fetch.pin("pyodide")["spec"].startswith("pyodide@")
    font = sb.fetch.pin("@fontsource/nanum-gothic")     # a scoped npm package packs as scope-name-version.tgz
    assert font["file"] == f"fontsource-nanum-gothic-{font['version']}.tgz"
    assert font["spec"] == f"@fontsource/nanum-gothic@{font['version']}"
    with pytest.raises(ValueError, match="pin 'no-such-thing'"):
        sb.fetch.pin("no-such-thing")


def string_literals(path):
    """The string literals of a Python file (comments and docstrings aside), or the whole text of any other."""
    if path.suffix != ".py":
        return [path.read_text()]
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [t.string for t in tokens if t.type == tokenize.STRING]


def test_one_literal_per_pinned_version():
    tree = ast.parse((ROOT / "sitebuild" / "pins.py").read_text())
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for name, version, _, _ in sb.pins.PINS:
        assert constants.count(version) == 1, f"{name} {version}: written {constants.count(version)} times in pins.py"
        spelled = re.compile(r"(?<![\w.])" + re.escape(version) + r"(?![\w])")
        for path in BUILD_FILES:
            if path.name != "pins.py" and path.suffix not in (".pyc",):
                hits = [s for s in string_literals(path) if spelled.search(s)]
                assert not hits, f"{path.relative_to(ROOT)} spells {name}'s version {version}: derive it from pins"


# ---------------------------------------------------------------- downloads

def test_a_download_with_the_wrong_hash_is_refused(tmp_path):
    path = tmp_path / "x.whl"
    path.write_bytes(b"not what was pinned")
    with pytest.raises(ValueError, match=r"x\.whl: sha256 .* expected 0{64}"):
        sb.fetch.verified(path, "0" * 64)
    assert not path.exists()


def test_missing_downloads_take_one_command_per_kind(cache, monkeypatch):
    rows = (("a", "1.0", "npm", "0" * 64), ("@s/b", "2.0", "npm", "0" * 64), ("c", "3.0", "wheel", "0" * 64),
            ("d", "4.0", "wheel", "0" * 64), ("e", "5.0", "sdist", "0" * 64), ("f", "6.0", "wheel", "0" * 64))
    monkeypatch.setattr(sb.pins, "PINS", rows)
    (cache / "pypi").mkdir(parents=True)
    (cache / "pypi" / "f-6.0-py3-none-any.whl").write_bytes(b"already here")
    ran = []
    monkeypatch.setattr(sb.paths, "run", lambda *cmd, **kw: ran.append(([str(c) for c in cmd], kw.get("cwd"))))
    sb.fetch.download(sb.fetch.missing())
    assert ran[0] == (["npm", "pack", "--silent", "a@1.0", "@s/b@2.0"], cache.resolve() / "npm")
    wheels, sdists = ran[1][0], ran[2][0]
    assert wheels[-2:] == ["c==3.0", "d==4.0"] and "--only-binary=:all:" in wheels and "--no-deps" in wheels
    assert sdists[-1:] == ["e==5.0"] and "--no-binary=:all:" in sdists
    assert "--no-build-isolation" in sdists     # pip prepares an sdist's metadata to download it: not in isolation
    assert len(ran) == 3, "f is cached: nothing fetched for it"


def test_sdists_are_built_without_build_isolation(cache, monkeypatch):
    """pip would otherwise first build the sdist's build requirements (PyYAML's Cython: minutes of compiling)."""
    monkeypatch.setattr(sb.pins, "PINS", (("tinysrc", "0.0.1", "sdist", sha(b"an sdist")),))
    (cache / "pypi").mkdir(parents=True)
    (cache / "pypi" / "tinysrc-0.0.1.tar.gz").write_bytes(b"an sdist")
    ran = []

    def fake_pip(*cmd, **kw):
        ran.append([str(c) for c in cmd])
        out = Path(cmd[cmd.index("-w") + 1])
        out.mkdir(parents=True, exist_ok=True)
        make_wheel(out, "tinysrc", "0.0.1")
    monkeypatch.setattr(sb.paths, "run", fake_pip)
    assert sb.fetch.pure_wheel("tinysrc").name == "tinysrc-0.0.1-py3-none-any.whl"
    assert "--no-build-isolation" in ran[0] and "wheel" in ran[0]


def test_run_holds_output_back_and_shows_it_when_the_command_fails(capsys):
    assert sb.paths.run(sys.executable, "-c", "print('chatter')").stdout == "chatter\n"
    assert "chatter" not in capsys.readouterr().out
    with pytest.raises(subprocess.CalledProcessError):
        sb.paths.run(sys.executable, "-c", "print('why it broke'); raise SystemExit(3)")
    assert "why it broke" in capsys.readouterr().err


# ---------------------------------------------------------------- the Korean font and the first view

def test_hangul_used_collects_every_hangul_character_of_the_ui_sources(tmp_path):
    for rel, text in (("playground/i18n.py", "T = {'ko': '컨볼루션 풀링', 'en': 'Convolution'}\n"),
                      ("playground/sub/story.md", "이야기\n"), ("static/worker.js", "// 파이썬 ok\n"),
                      ("static/logo.png", "그림"), ("core/x.py", "'코어'\n")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert sb.font.hangul_used(tmp_path) == "".join(sorted(set("컨볼루션풀링이야기파이썬")))
    # the real UI: every Korean string of the i18n tables is covered
    from playground import i18n
    used = set(sb.font.hangul_used())
    korean = {c for value in i18n.STRINGS["ko"].values() for c in str(value) if sb.font.HANGUL.match(c)}
    assert korean and korean <= used, sorted(korean - used)


def test_subset_keeps_only_the_characters_asked_for():
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont

    def box():
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0)), pen.lineTo((100, 700)), pen.lineTo((800, 700)), pen.closePath()
        return pen.glyph()
    names = [".notdef", "ga", "na", "da"]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord("가"): "ga", ord("나"): "na", ord("다"): "da"})
    fb.setupGlyf({name: box() for name in names})
    fb.setupHorizontalMetrics({name: (1000, 100) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Test", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.font.flavor = "woff2"
    whole = io.BytesIO()
    fb.save(whole)
    cut = sb.font.subset(whole.getvalue(), "나")
    assert cut[:4] == b"wOF2"
    font = TTFont(io.BytesIO(cut))
    assert set(font.getBestCmap()) == {ord("나")}


FIRST_VIEW_PAGE = """<body><div id="loading"><!-- first view: header --><div class="first-view-status"></div>
<!-- first view: story --></div></body>"""


def texts(lang, title, story):
    return {"title": title, "subtitle": f"{lang} <sub>", "tabs": [f"{lang} A", f"{lang} B"],
            "switch": [["ko", "한국어"], ["en", "English"]], "story": story, "story_css": ""}


def test_first_view_writes_title_tabs_and_story_in_every_language(tmp_path):
    index = tmp_path / "index.html"
    index.write_text(FIRST_VIEW_PAGE)
    sb.first_view.write(index, {"en": texts("en", "CNN Playground", "<h2>S</h2><p>Intro</p><p>more</p>"),
                                "ko": texts("ko", "CNN 놀이터", "<p class='x'>소개</p><svg class=\"s\" "
                                            "xmlns=\"http://www.w3.org/2000/svg\" width=\"9\"></svg>")})
    page = index.read_text()
    assert "<!-- first view" not in page
    assert page.index('class="fv-lang" lang="en"') < page.index("first-view-status") < page.index(
        'class="fv-lang first-view-story" lang="ko"'), "header, then the status, then the story"
    assert "<h1 elementtiming=\"first-view-title\">CNN 놀이터</h1>" in page
    assert "en &lt;sub&gt;" in page, "texts are escaped, the story is HTML"
    assert '<nav class="first-view-tabs" aria-hidden="true"><span class="active">ko A</span><span>ko B</span>' in page
    assert '<p elementtiming="first-view">Intro</p><p>more</p>' in page, "the first paragraph is timed"
    assert "<p elementtiming=\"first-view\" class='x'>소개</p>" in page
    assert '<svg class="s" width="9"></svg>' in page, "no namespace URL: the page names no other origin"
    en_switch = page[page.index('lang="en"'):].split("first-view-switch", 1)[1]
    assert en_switch.index('<span class="active">English</span>') < en_switch.index("</header>")


def test_first_view_without_a_story_and_without_markers(tmp_path):
    index = tmp_path / "index.html"
    index.write_text(FIRST_VIEW_PAGE)
    sb.first_view.write(index, {"en": texts("en", "T", "")})
    assert 'class="fv-lang first-view-story" lang="en"></div>' in index.read_text()
    index.write_text("<body></body>")
    with pytest.raises(ValueError, match="markers"):
        sb.first_view.write(index, {"en": texts("en", "T", "")})


def test_story_css_is_scoped_to_the_first_view():
    css = ":host { display: block; }\nh3 { margin: 0; }\np, li { color: red; }\n"
    assert sb.first_view.scoped_css(css, ".s").split("\n") == [
        ".s { display: block; }", ".s h3 { margin: 0; }", ".s p, .s li { color: red; }"]


def test_static_index_has_the_first_view_markers():
    page = (ROOT / "static" / "index.html").read_text()
    assert sb.first_view.HEADER_MARK in page and sb.first_view.STORY_MARK in page
    assert 'id="loading-msg"' in page and 'id="loading-bar"' in page


# ---------------------------------------------------------------- wheels and the lock

def test_app_wheel_packs_every_module_of_core_and_playground(tmp_path):
    root = tmp_path / "repo"
    for rel in ("core/__init__.py", "core/a.py", "core/sub/b.py", "core/jax/j.py", "core/__pycache__/c.py",
                "playground/p.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"NAME = {rel!r}\n")
    (root / "pyproject.toml").write_text('[project]\nname = "cnn-playground"\nversion = "9.8.7"\n')
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    wheel = sb.wheels.app_wheel(tmp_path / "a", root=root)
    assert wheel.name == "cnn_playground-9.8.7-py3-none-any.whl"
    assert wheel.read_bytes() == sb.wheels.app_wheel(tmp_path / "b", root=root).read_bytes(), "reproducible"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert {"core/__init__.py", "core/a.py", "core/sub/b.py", "playground/p.py"} <= names
        assert not [n for n in names if "jax" in n or "__pycache__" in n]
        assert "Version: 9.8.7" in z.read("cnn_playground-9.8.7.dist-info/METADATA").decode()
        for line in z.read("cnn_playground-9.8.7.dist-info/RECORD").decode().splitlines():
            member, digest, size = line.split(",")
            if digest:
                data = z.read(member)
                assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
                    b"=").decode() and int(size) == len(data), member


def test_slimming_keeps_bokeh_s_own_resource_hashes_only():
    own = sb.fetch.pin("bokeh")["version"]
    assert not sb.wheels.drop_from_bokeh(f"bokeh/_sri/{own}.json")
    assert sb.wheels.drop_from_bokeh("bokeh/_sri/0.0.1.json")
    assert sb.wheels.drop_from_bokeh("bokeh/server/static/js/bokeh.min.js")
    assert not sb.wheels.drop_from_bokeh("bokeh/server/static/__init__.py")
    assert sb.wheels.drop_from_panel("panel/dist/panel.min.js") and sb.wheels.drop_from_panel("panel/tests/t.py")
    assert not sb.wheels.drop_from_panel("panel/dist/css/button.css")


OFFICIAL_INFO = {"abi_version": "2024_0", "arch": "wasm32", "platform": "emscripten_3_1_58", "python": "3.12.7",
                 "version": "0.27.7"}


def official_lock(tmp_path):
    """A folder holding one official wheel, and a Pyodide-style lock listing it (and one package the site does not
    ship): (folder, wheel, lock path, the wheel's entry)."""
    pkg = tmp_path / "pyodide"
    pkg.mkdir()
    wheel = pkg / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    wheel.write_bytes(b"official build")
    entry = {"name": "numpy", "version": "2.0.2", "file_name": wheel.name, "install_dir": "site",
             "sha256": sha(wheel.read_bytes()), "package_type": "package", "imports": ["numpy"], "depends": [],
             "unvendored_tests": True}
    other = dict(entry, name="scipy", file_name="scipy-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl")
    path = tmp_path / "official-lock.json"
    path.write_text(json.dumps({"info": OFFICIAL_INFO, "packages": {"numpy": entry, "scipy": other}}))
    return pkg, wheel, path, entry


def test_lock_for_a_few_fake_wheels(tmp_path):
    pkg, numpy, lock_in, numpy_entry = official_lock(tmp_path)
    alpha = make_wheel(pkg, "alpha", "1.0", [
        "beta>=2", "numpy", 'tornado>=6; sys_platform != "emscripten"', 'pytest; extra == "tests"',
        "nh3", "pandas", "typing-extensions; python_version < '3.13'", "zeta; python_version >= '3.13'"])
    others = [alpha, make_wheel(pkg, "beta", "2.0"), make_wheel(pkg, "typing-extensions", "4.0"),
              make_wheel(pkg, "linkify-it-py", "2.2.0"), make_wheel(pkg, "uc-micro-py", "2.0.0")]
    lock = sb.lock.write(pkg, lock_in, [numpy], others)

    assert lock == json.loads((pkg / "pyodide-lock.json").read_text())
    assert lock["info"] == OFFICIAL_INFO
    assert set(lock["packages"]) == {"numpy", "alpha", "beta", "typing-extensions", "linkify-it-py", "uc-micro-py"}
    assert lock["packages"]["numpy"] == numpy_entry, "the official entry as Pyodide's own lock has it"
    entry = lock["packages"]["alpha"]
    # markers read as Pyodide 0.27 sees them (emscripten, Python 3.12, no extras); nh3 never ships, pandas is lazy,
    # typing-extensions follows once the page answers (lock.AFTER_START)
    assert entry["depends"] == ["beta", "numpy"]
    assert entry["file_name"] == alpha.name and entry["sha256"] == sha(alpha.read_bytes())
    assert (entry["name"], entry["version"], entry["imports"], entry["install_dir"]) == ("alpha", "1.0", ["alpha"],
                                                                                       "site")
    assert sb.lock.EXTRA_DEPENDS["linkify-it-py"] == {"uc-micro-py"}, "the dependency its metadata forgets"
    assert lock["packages"]["linkify-it-py"]["depends"] == [], "both load after the start, each by name"
    # the format Pyodide 0.27.7 itself ships: its keys, no deprecated shared_library
    assert set(entry) == set(numpy_entry)
    assert sb.lock.startup_packages(lock, "alpha") == ["alpha", "beta", "numpy"]
    assert set(sb.assemble.AFTER_READY) >= sb.lock.AFTER_START | {"pillow"}, "each loaded by name once ready"


def test_lock_refuses_a_dependency_that_does_not_ship(tmp_path):
    pkg, numpy, lock_in, _ = official_lock(tmp_path)
    with pytest.raises(ValueError, match=r"not shipped: \['gamma'\]"):
        sb.lock.write(pkg, lock_in, [numpy], [make_wheel(pkg, "alpha", "1.0", ["gamma"])])
    stray = pkg / "pillow-10.2.0-cp312-cp312-pyodide_2024_0_wasm32.whl"
    stray.write_bytes(b"?")
    with pytest.raises(ValueError, match="lists no entry for .*pillow-10.2.0"):
        sb.lock.write(pkg, lock_in, [numpy, stray], [])


# ---------------------------------------------------------------- bytecode

def test_compile_imported_writes_unchecked_pycs_for_site_and_stdlib(tmp_path):
    compiler = importlib.import_module("sitebuild.bytecode_compile")
    site = tmp_path / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "mod.py").write_text("VALUE = 6 * 7\n")
    (site / "native.so").write_bytes(b"")
    stdlib = tmp_path / "python312.zip"
    with zipfile.ZipFile(stdlib, "w") as z:
        z.writestr("colors.py", "RED = 'red'\n")
        z.writestr("unused.py", "X = 1\n")
    modules = [types.SimpleNamespace(__file__=str(site / "pkg" / "mod.py")),
               types.SimpleNamespace(__file__=f"{stdlib}/colors.py"),
               types.SimpleNamespace(__file__=str(site / "native.so")),        # not Python source
               types.SimpleNamespace(__file__=str(tmp_path / "elsewhere.py")),  # neither site nor stdlib
               types.SimpleNamespace()]                                         # a built-in module
    site_zip, std_zip, n = compiler.compile_imported(modules, str(site), str(stdlib))
    assert n == 1
    with zipfile.ZipFile(io.BytesIO(site_zip)) as z:
        pyc_name = importlib.util.cache_from_source("pkg/mod.py")
        assert z.namelist() == [pyc_name]
        pyc = z.read(pyc_name)
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01, "hash-based, unchecked: never reads the source"
    namespace = {}
    exec(marshal.loads(pyc[16:]), namespace)
    assert namespace["VALUE"] == 42
    with zipfile.ZipFile(io.BytesIO(std_zip)) as z:
        assert sorted(z.namelist()) == ["colors.py", "colors.pyc", "unused.py"]


def test_bytecode_is_rebuilt_when_the_boot_shim_changes(tmp_path, monkeypatch):
    assert {ROOT / "static" / "boot.js", ROOT / "static" / "boot.py"} <= set(sb.bytecode.SOURCES)
    copies = []
    for source in sb.bytecode.SOURCES:
        copies.append(tmp_path / source.name)
        shutil.copy(source, copies[-1])
    monkeypatch.setattr(sb.bytecode, "SOURCES", tuple(copies))
    lock = tmp_path / "pyodide-lock.json"
    lock.write_text("{}")
    key = sb.bytecode.cache_key(lock, ["numpy"], "a:b")
    assert sb.bytecode.cache_key(lock, ["numpy"], "a:b") == key
    (tmp_path / "boot.py").write_text((tmp_path / "boot.py").read_text() + "\n# changed\n")
    assert sb.bytecode.cache_key(lock, ["numpy"], "a:b") != key
    assert sb.bytecode.cache_key(lock, ["numpy", "panel"], "a:b") != sb.bytecode.cache_key(lock, ["numpy"], "a:b")


# ---------------------------------------------------------------- the boot shim (static/boot.js, static/boot.py)

def test_boot_shim_is_what_worker_and_bytecode_step_both_run():
    boot = ast.parse((ROOT / "static" / "boot.py").read_text())
    functions = {n.name for n in boot.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert {"start", "apply_patch", "link_documents"} <= functions
    worker = (ROOT / "static" / "worker.js").read_text()
    node = (ROOT / "sitebuild" / "bytecode_node.mjs").read_text()
    for text in (worker, node):
        assert "boot.js" in text and "boot.py" in text and "playgroundBoot.start(" in text
    assert "runPython" not in worker, "the worker runs Python only through the shared boot shim"


@pytest.mark.skipif(not shutil.which("node") and not in_ci(), reason="node is not installed; CI installs it")
def test_boot_js_converter_turns_undefined_into_null():
    script = ("const vm = require('vm'); const fs = require('fs');"
              f"vm.runInThisContext(fs.readFileSync({json.dumps(str(ROOT / 'static' / 'boot.js'))}, 'utf8'));"
              "const out = playgroundBoot.panelDictConverter([['a', undefined], ['b', 1], ['c', null]]);"
              "console.log(JSON.stringify([out, playgroundBoot.dataDir]));")
    got = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)
    assert got == [{"a": None, "b": 1, "c": None}, "/home/pyodide/data"]


def test_static_files_name_no_other_origin():
    for path in sorted((ROOT / "static").glob("*")):
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text()), path.name


# ---------------------------------------------------------------- the server

@pytest.fixture
def site_dir(tmp_path):
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>t</title>")
    (site / "app.js").write_text("var x = 1;\n" * 200)
    (site / "app.js.gz").write_bytes(gzip.compress((site / "app.js").read_bytes()))
    (site / "sub" / "index.html").write_text("sub page")
    (tmp_path / "secret.txt").write_text("outside the site")
    return site


def get(url, path, method="GET", **headers):
    host = url.split("//")[1].rstrip("/")
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request(method, path, headers=headers)   # sent as written: no client-side normalisation of ../
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def test_server_policy_is_the_page_s_own():
    page = (ROOT / "static" / "index.html").read_text()
    assert f'content="{sb.server.CSP}"' in page
    assert "default-src 'self'" in sb.server.CSP and "'wasm-unsafe-eval'" in sb.server.CSP


def test_page_csp_refuses_a_page_without_one(tmp_path):
    (tmp_path / "index.html").write_text("<html></html>")
    with pytest.raises(ValueError, match="index.html: no <meta"):
        sb.server.page_csp(tmp_path / "index.html")


def test_server_csp_gzip_revalidation(site_dir):
    sent = []
    with serve(site_dir, sent=sent) as url:
        response, body = get(url, "/")
        assert response.status == 200 and body == (site_dir / "index.html").read_bytes()
        assert response.headers["Content-Security-Policy"] == sb.server.CSP
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"

        plain, body = get(url, "/app.js")
        assert plain.headers["Content-Encoding"] is None and body == (site_dir / "app.js").read_bytes()
        packed, body = get(url, "/app.js", **{"Accept-Encoding": "gzip, deflate"})
        assert packed.headers["Content-Encoding"] == "gzip" and body == (site_dir / "app.js.gz").read_bytes()
        assert packed.headers["ETag"] != plain.headers["ETag"], "the two encodings are two representations"

        again, body = get(url, "/app.js", **{"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
        assert again.status == 304 and body == b""
        head, body = get(url, "/app.js", method="HEAD")
        assert head.status == 200 and body == b"" and int(head.headers["Content-Length"]) == len(
            (site_dir / "app.js").read_bytes())
        assert get(url, "/sub/")[1] == b"sub page"
    assert ("app.js", 304, 0) in sent and ("app.js", 200, len((site_dir / "app.js.gz").read_bytes())) in sent


@pytest.mark.parametrize("path", ["/nope.js", "/app.js.gz", "/../secret.txt", "/%2e%2e/secret.txt",
                                  "/sub/../../secret.txt", "/sub/%2E%2E%2F..%2Fsecret.txt"])
def test_server_404s_missing_gz_and_outside_paths(site_dir, path):
    with serve(site_dir) as url:
        response, body = get(url, path)
    assert response.status == 404, path
    assert b"outside the site" not in body


# ---------------------------------------------------------------- staleness

def fake_repo(root):
    for rel in ("build.py", "requirements-dev.txt", "pyproject.toml", "sitebuild/pins.py", "sitebuild/x.mjs",
                "static/boot.py", "core/a.py", "playground/p.py", "data/demo_images.npz", "data/other.npz"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


def test_a_source_edited_during_the_build_leaves_the_site_stale(tmp_path, monkeypatch):
    # The stamp is the build's start: an edit made while the build ran is not taken for built.
    root = fake_repo(tmp_path / "repo")
    monkeypatch.setattr(sb.paths, "CACHE", tmp_path / "cache")

    def fake_assemble(site):
        site.mkdir(parents=True)
        (site / "index.html").write_text("built")
        later = time.time() + 5                       # the edit, after the build read the sources
        os.utime(root / "core" / "a.py", (later, later))
        (site / "site.json").write_text("{}")
        os.utime(site / "site.json", (later + 5, later + 5))   # written at the end, as assemble_into does
    monkeypatch.setattr(sb.assemble, "assemble_into", fake_assemble)
    dist = sb.assemble.build(dist=tmp_path / "dist")
    assert sb.assemble.stale(dist, root)


def test_stale_when_any_source_is_newer_than_the_build(tmp_path):
    root = fake_repo(tmp_path / "repo")
    dist = tmp_path / "dist"
    dist.mkdir()
    assert sb.assemble.stale(dist, root), "never built"
    stamp = dist / "site.json"
    stamp.write_text("{}")
    now = max(p.stat().st_mtime for p in root.rglob("*") if p.is_file())
    os.utime(stamp, (now + 10, now + 10))
    assert not sb.assemble.stale(dist, root)
    for rel in ("sitebuild/x.mjs", "static/boot.py", "build.py", "requirements-dev.txt", "core/a.py",
                "data/demo_images.npz"):
        os.utime(root / rel, (now + 20, now + 20))
        assert sb.assemble.stale(dist, root), f"{rel} changed"
        os.utime(root / rel, (now, now))
    (root / "sitebuild" / "__pycache__").mkdir()
    (root / "sitebuild" / "__pycache__" / "pins.cpython-311.pyc").write_text("")
    os.utime(root / "data" / "other.npz", (now + 20, now + 20))     # not shipped
    assert not sb.assemble.stale(dist, root), "caches and unshipped data are not sources"


def test_every_file_of_the_build_itself_is_a_source():
    sources = set(sb.assemble.sources())
    own = {p for p in (ROOT / "sitebuild").iterdir() if p.is_file()} | {ROOT / "build.py"}
    assert own <= sources, own - sources
    assert {ROOT / "static" / "boot.py", ROOT / "static" / "boot.js", ROOT / "static" / "worker.js"} <= sources


# ---------------------------------------------------------------- $CNN_SITE_CACHE

@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The build pointed at a cache of its own through $CNN_SITE_CACHE, as a fresh process would read it."""
    monkeypatch.setenv("CNN_SITE_CACHE", str(tmp_path / "cache"))
    importlib.reload(sb.paths)
    yield tmp_path / "cache"
    monkeypatch.undo()
    importlib.reload(sb.paths)


def fake_inputs(tmp_path):
    """A pinned npm tarball (Pyodide's core with a lock naming one official wheel), a carrier with that wheel,
    a pure wheel and an sdist, as (pins rows, their files)."""
    numpy = b"official numpy build"
    numpy_name = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    lock = {"info": OFFICIAL_INFO, "packages": {"numpy": {
        "name": "numpy", "version": "2.0.2", "file_name": numpy_name, "install_dir": "site", "sha256": sha(numpy),
        "package_type": "package", "imports": ["numpy"], "depends": [], "unvendored_tests": False}}}
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        for name in sb.fetch.PYODIDE_FILES:
            data = json.dumps(lock).encode() if name == "pyodide-lock.json" else name.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    carrier = io.BytesIO()
    with zipfile.ZipFile(carrier, "w") as z:
        z.writestr(sb.pins.CARRIER_DIR + numpy_name, numpy)
    panel = make_wheel(tmp_path, "panel", "0.0.1", files={"panel/__init__.py": b"", "panel/tests/t.py": b""})
    files = {"pyodide": tgz.getvalue(), sb.pins.CARRIER: carrier.getvalue(), "panel": panel.read_bytes(),
             "tinysrc": b"an sdist"}
    kinds = {"pyodide": "npm", sb.pins.CARRIER: "wheel", "panel": "wheel", "tinysrc": "sdist"}
    return tuple((name, "0.0.1", kinds[name], sha(data)) for name, data in files.items()), files


def test_every_part_keeps_its_files_in_CNN_SITE_CACHE(cache, tmp_path, monkeypatch):
    assert sb.paths.CACHE == cache.resolve() and sb.paths.PYODIDE_CORE == cache.resolve() / "pyodide-core"
    rows, files = fake_inputs(tmp_path)
    monkeypatch.setattr(sb.pins, "PINS", rows)
    monkeypatch.setattr(sb.pins, "OFFICIAL", ("numpy",))
    for name, data in files.items():     # as if downloaded before: present in the cache, so nothing is fetched
        p = sb.fetch.pin(name)
        folder = cache / ("npm" if p["kind"] == "npm" else "pypi")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / p["file"]).write_bytes(data)

    ran = []

    def fake_run(*cmd, **kw):             # stands in for pip wheel and node, writing what they would write
        ran.append(cmd)
        if "wheel" in cmd:
            out = Path(cmd[cmd.index("-w") + 1])
            out.mkdir(parents=True, exist_ok=True)
            make_wheel(out, "tinysrc", "0.0.1")
        elif cmd[0] == "node":
            for name in ("pycache.zip", "python_stdlib.zip"):
                (Path(cmd[-1]) / name).write_bytes(b"zip")
        else:
            raise AssertionError(f"nothing should be downloaded: {cmd}")
    monkeypatch.setattr(sb.paths, "run", fake_run)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")

    made = [sb.fetch.fetch("panel"), sb.fetch.fetch("pyodide"), sb.fetch.pure_wheel("tinysrc"),
            sb.fetch.pyodide_core() / "pyodide.mjs", *sb.wheels.official_wheels(),
            sb.wheels.slim("panel", sb.fetch.fetch("panel"))]
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "pyodide-lock.json").write_text("{}")
    assert sb.bytecode.precompile(pkg, tmp_path, ["numpy"], "a:b") and (pkg / "pycache.zip").exists()
    made += list((cache / "pyc").rglob("pycache.zip"))

    def fake_assemble(site):
        site.mkdir(parents=True)
        (site / "index.html").write_text("built")
        (site / "site.json").write_text("{}")
    monkeypatch.setattr(sb.assemble, "assemble_into", fake_assemble)
    dist = sb.assemble.build(dist=tmp_path / "dist")
    assert (dist / "index.html").read_text() == "built"
    made.append(cache / "staging" / "build.lock")

    folders = {p.resolve().relative_to(cache.resolve()).parts[0] for p in made}
    assert folders == {"pypi", "npm", "built", "pyodide-core", "official", "slim", "pyc", "staging"}
    assert all(p.exists() for p in made)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".dist-")], "nothing left beside dist/"
    assert [c[0] for c in ran] == [sys.executable, "node"]
