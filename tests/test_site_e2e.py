"""The static site end to end, in Debian's headless chromium: build dist/ (cached), serve it on 127.0.0.1, load it
with a fresh profile, wait for the readiness contract (<html data-ready="true">), then use the app: change the
filter and compare the drawn feature map with what the core computes, click an output pixel and check the dot
product shown, switch the language. Fails on any request that leaves 127.0.0.1 and on any console error.

Skipped only when /usr/bin/chromium is missing and $CI is unset (CI installs chromium and must run this).
"""
import re
from urllib.parse import urlsplit

import gzip
import hashlib
import json
import urllib.request

import numpy as np
import pytest

from site_helpers import READY, ensure_built, fresh_browser, import_sitebuild, logged_page, serve, skip_without_chromium


LOAD_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 20_000

# Bokeh renders Panel's figures; these read them through BokehJS's public document API.
JS_IMAGE = """name => {
    const d = Bokeh.documents[0].get_model_by_name(name).data.image[0];
    return {shape: Array.from(d.shape), values: Array.from(d)};
}"""
JS_PIXEL_POINT = """([name, i, j]) => {
    const view = [...Bokeh.index.all_views()].find(v => v.model.name === name && v.frame);
    const box = view.el.getBoundingClientRect();
    return [box.left + view.frame.x_scale.compute(j + 0.5), box.top + view.frame.y_scale.compute(i + 0.5)];
}"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """A private copy of the built site: another test run rebuilding dist/ meanwhile cannot pull it away."""
    import shutil
    copy = tmp_path_factory.mktemp("site") / "dist"
    shutil.copytree(ensure_built(), copy)
    return copy


@pytest.fixture(scope="module")
def site(dist):
    with serve(dist) as url:
        yield url


@pytest.fixture(scope="module")
def playwright():
    skip_without_chromium()
    from playwright.sync_api import sync_playwright   # pinned in requirements-dev.txt
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser_page(site, playwright):
    """One fresh-profile page for the module, loaded until ready; with every request and console error logged."""
    with fresh_browser(playwright) as context:
        page, log = logged_page(context)
        page.goto(site)
        page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
        from playground import i18n
        page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", "tab_conv")).click()   # the story comes first
        page.locator(".conv-output-plot").first.wait_for(timeout=STEP_TIMEOUT_MS)
        yield page, log, site


def host_state():
    """The conv lab's starting state computed on the host with the same data the site ships."""
    from playground import conv_lab
    return conv_lab, conv_lab.initial_state()


def drawn_image(page, name):
    got = page.evaluate(JS_IMAGE, name)
    return np.asarray(got["values"], np.float32).reshape(got["shape"])


def wait_for_new_image(page, name, before):
    page.wait_for_function(
        """([name, before]) => {
            const d = Bokeh.documents[0].get_model_by_name(name).data.image[0];
            let s = 0; for (let k = 0; k < d.length; k += 97) s += d[k];
            return Math.abs(s - before) > 1e-3;
        }""", arg=[name, checksum(before)], timeout=STEP_TIMEOUT_MS)


def checksum(image):
    return float(np.asarray(image, np.float64).ravel()[::97].sum())


# ---------------------------------------------------------------- build helpers (no download, no browser)

def test_a_download_with_the_wrong_hash_is_deleted_and_refused(tmp_path):
    fetch = import_sitebuild().fetch
    path = tmp_path / "x.whl"
    path.write_bytes(b"not what was pinned")
    with pytest.raises(ValueError, match="x.whl: sha256"):
        fetch.verified(path, "0" * 64)
    assert not path.exists()
    path.write_bytes(b"pinned")
    assert fetch.verified(path, hashlib.sha256(b"pinned").hexdigest()) == path


def test_repack_drops_members_and_keeps_record_true(tmp_path):
    import base64
    import zipfile
    wheels = import_sitebuild().wheels
    src, dst = tmp_path / "p-1-py3-none-any.whl", tmp_path / "slim.whl"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("p/__init__.py", "x = 1\n")
        z.writestr("p/dist/big.js", "var a;" * 1000)
        z.writestr("p-1.dist-info/METADATA", "Name: p\nVersion: 1\n")
        z.writestr("p-1.dist-info/RECORD", "stale")
    wheels.repack(src, dst, lambda name: name.endswith(".js"))
    with zipfile.ZipFile(dst) as z:
        assert sorted(z.namelist()) == ["p-1.dist-info/METADATA", "p-1.dist-info/RECORD", "p/__init__.py"]
        record = {line.split(",")[0]: line.split(",")[1] for line in z.read("p-1.dist-info/RECORD").decode().split()}
        digest = base64.urlsafe_b64encode(hashlib.sha256(b"x = 1\n").digest()).rstrip(b"=").decode()
        assert record["p/__init__.py"] == f"sha256={digest}"
        assert "p/dist/big.js" not in record


# ---------------------------------------------------------------- the build and the server (no browser)

def test_lock_lists_exactly_the_shipped_wheels_with_their_hashes(dist):
    sb = import_sitebuild()
    lock = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())["packages"]
    official = json.loads((sb.paths.PYODIDE_CORE / "pyodide-lock.json").read_text())["packages"]
    for name, entry in lock.items():
        path = dist / "pyodide" / entry["file_name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name
        assert set(entry["depends"]) <= set(lock), f"{name} depends on unshipped {entry['depends']}"
        if name in sb.pins.OFFICIAL:   # the wasm builds are byte-identical to Pyodide 0.27.7's own
            assert entry["sha256"] == official[name]["sha256"], name
    wheels = {p.name for p in (dist / "pyodide").glob("*.whl")}
    assert wheels == {e["file_name"] for e in lock.values()}
    config = json.loads((dist / "site.json").read_text())
    start = set(config["packages"])
    assert {"numpy", "panel", "bokeh", "cnn-playground"} <= start
    assert all(set(lock[n]["depends"]) <= start for n in start), "the start list must be closed under depends"
    assert not start & sb.lock.LAZY, "pandas & co. stay out of the start (the first view never imports them)"


def test_slim_wheels_keep_python_drop_bundled_js(dist):
    import zipfile
    panel = next((dist / "pyodide").glob("panel-*.whl"))
    names = zipfile.ZipFile(panel).namelist()
    assert "panel/__init__.py" in names and "panel/io/pyodide.py" in names
    assert not [n for n in names if n.startswith("panel/tests/") or n.endswith(".ts")]
    assert panel.stat().st_size < 2_000_000
    assert (dist / "js" / "panel.min.js").exists() and (dist / "js" / "bokeh.min.js").exists()


def test_page_and_worker_name_no_other_origin(dist):
    server = import_sitebuild().server
    for name in ("index.html", "app.js", "worker.js", "site.json"):
        text = (dist / name).read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), f"{name} names another origin"
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', (dist / "index.html").read_text())
    assert meta and meta.group(1) == server.CSP, "the page's meta CSP and the server's header must agree"


def test_server_sends_csp_gzip_and_revalidates(site, dist):
    with urllib.request.urlopen(site) as r:
        csp = r.headers["Content-Security-Policy"]
        assert r.status == 200 and "default-src 'self'" in csp and "'wasm-unsafe-eval'" in csp
        assert "http" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    req = urllib.request.Request(site + "pyodide/pyodide.asm.js", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(r.read()) == (dist / "pyodide" / "pyodide.asm.js").read_bytes()
        etag = r.headers["ETag"]
    req = urllib.request.Request(site + "pyodide/pyodide.asm.js",
                                 headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as e:   # urllib reports 304 as an error
        urllib.request.urlopen(req)
    assert e.value.code == 304
    for path in ("../build.py", "nope.js", "pyodide/pyodide.asm.js.gz"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(site + path)
        assert e.value.code == 404, path


# ---------------------------------------------------------------- in the browser

def test_loads_ready_from_its_own_origin_only(browser_page):
    page, log, site = browser_page
    assert page.evaluate("document.documentElement.dataset.ready") == "true"
    origin = urlsplit(site).netloc
    outside = [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
    assert outside == [], f"requests left {origin}: {outside}"
    # the worker loaded Pyodide and the wheels from here: the lock, the wasm and panel's wheel were requested
    paths = {urlsplit(u).path for u in log["requests"]}
    assert {"/pyodide/pyodide-lock.json", "/pyodide/pyodide.asm.wasm"} <= paths
    assert any(p.startswith("/pyodide/panel-") for p in paths), sorted(paths)
    assert page.locator(".conv-output-plot").count() >= 1


def test_filter_change_redraws_what_core_computes(browser_page):
    page, log, _ = browser_page
    conv_lab, state = host_state()
    before = drawn_image(page, "conv-output-plot-source")
    np.testing.assert_allclose(before, state["result"]["maps"][state["settings"]["filter"]], rtol=1e-4, atol=1e-3)

    # Panel's Select lists labels (the page is English: the browser's locale is en-US)
    page.locator(".conv-filter-select select").select_option(label=conv_lab.filter_label("en", "sobel_x"))
    wait_for_new_image(page, "conv-output-plot-source", before)
    settings = dict(state["settings"], filter="sobel_x")
    expected = conv_lab.compute(state["image"], settings)["maps"]["sobel_x"]
    np.testing.assert_allclose(drawn_image(page, "conv-output-plot-source"), expected, rtol=1e-4, atol=1e-3)
    assert log["errors"] == []


def test_click_output_pixel_shows_its_dot_product(browser_page):
    page, log, _ = browser_page
    conv_lab, state = host_state()
    settings = dict(state["settings"], filter="sobel_x")   # left so by the test above
    result = conv_lab.compute(state["image"], settings)
    i, j = 40, 97
    x, y = page.evaluate(JS_PIXEL_POINT, ["conv-output-plot", i, j])
    page.mouse.click(x, y)
    detail = conv_lab.inspect(state["image"], result, settings, i, j)
    expected = conv_lab.fmt(detail["output"])
    # Panel draws the pane inside a shadow root: Playwright's locators pierce it, textContent is read there
    dot = page.locator(".conv-dot-product", has_text=expected)
    dot.wait_for(timeout=STEP_TIMEOUT_MS)
    text = dot.evaluate("el => (el.shadowRoot || el).textContent")
    assert re.search(rf"\b{i}\b.*\b{j}\b", text, re.S), text
    assert expected in text, f"dot product of ({i}, {j}) should end in {expected}: {text!r}"
    # every product of the window is listed: patch value × kernel value
    assert text.count("×") >= detail["dot"]["kernel"].size
    assert log["errors"] == []


def test_pooling_tab_pools_the_photo_as_core_does(browser_page):
    page, log, _ = browser_page
    conv_lab, state = host_state()
    from playground import i18n, pool_lab
    page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", "tab_pool")).click()   # built on first open
    page.wait_for_function("() => !!Bokeh.documents[0].get_model_by_name('pool-output-plot-source')",
                           timeout=STEP_TIMEOUT_MS)
    expected = pool_lab.compute(state["image"], pool_lab.initial_state()["settings"])["output"]
    np.testing.assert_allclose(drawn_image(page, "pool-output-plot-source"), expected, rtol=1e-5, atol=1e-3)
    assert log["errors"] == []


def test_upload_a_png_decoded_by_pillow_in_the_worker(browser_page, tmp_path):
    """Pillow is loaded after the page answers; an upload must still be decoded and become the input."""
    from PIL import Image
    page, log, _ = browser_page
    ramp = np.add.outer(np.arange(40) * 3, np.arange(60) * 2).astype(np.uint8)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    page.locator(".conv-upload input[type=file]").set_input_files(str(tmp_path / "ramp.png"))
    page.wait_for_function(
        "() => Bokeh.documents[0].get_model_by_name('conv-input-plot-source').data.image[0].shape.join() === '40,60'",
        timeout=STEP_TIMEOUT_MS)
    np.testing.assert_allclose(drawn_image(page, "conv-input-plot-source"), ramp, atol=1e-3)
    assert log["errors"] == []


def test_language_switch_to_korean(browser_page):
    # Runs after the tests that look models up by name: a switch rebuilds the page, and BokehJS drops the replaced
    # models from its index only on a lazy recompute (Document's recompute_timeout, 30 s by default), so until then
    # get_model_by_name finds the old and the new model and throws "Multiple models are named ...".
    page, log, _ = browser_page
    from playground import i18n
    page.locator(".lang-switch button", has_text=i18n.LANGUAGES["ko"]).click()
    page.locator(".page-title", has_text=i18n.text("ko", "title")).wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".lab-tabs", has_text=i18n.text("ko", "tab_conv")).wait_for(timeout=STEP_TIMEOUT_MS)
    # the conv lab is rebuilt in Korean when its tab opens again (a switch rebuilds the open room at once)
    page.locator(".lab-tabs .bk-tab", has_text=i18n.text("ko", "tab_conv")).click()
    page.locator(".conv-numbers", has_text=i18n.text("ko", "numbers_title")).wait_for(
        state="attached", timeout=STEP_TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.ready") == "true"
    assert log["errors"] == []


def test_reload_drops_ready_then_comes_back_from_cache(browser_page):
    page, log, site = browser_page
    served = len(log["requests"])
    page.reload(wait_until="commit")
    assert page.evaluate("document.documentElement.dataset.ready") is None
    page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
    origin = urlsplit(site).netloc
    assert all(urlsplit(u).netloc == origin for u in log["requests"][served:] if not u.startswith(("data:", "blob:")))
    assert log["errors"] == []


def test_a_failing_app_shows_its_error_and_never_signals_ready(dist, playwright, tmp_path):
    """The same site told to run an app that does not exist: the page says why, data-ready stays unset."""
    import shutil
    broken = tmp_path / "dist"
    shutil.copytree(dist, broken)
    config = json.loads((broken / "site.json").read_text())
    config["app"] = "playground.no_such_page:create_app"
    (broken / "site.json").write_text(json.dumps(config))
    (broken / "site.json.gz").unlink(missing_ok=True)
    with serve(broken) as url, fresh_browser(playwright) as context:
        errors = []
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(url)
        page.locator(".site-loading.failed").wait_for(timeout=LOAD_TIMEOUT_MS)
        assert "no_such_page" in page.locator("#loading-msg").inner_text()
        assert page.evaluate("document.documentElement.dataset.ready") is None
        assert any("no_such_page" in e for e in errors), errors


def test_a_stray_cdn_reference_is_refused_by_the_csp(dist, playwright, tmp_path):
    """A copy of the page that names a CDN script: the browser refuses it by CSP, loudly, and sends nothing."""
    import shutil
    stray = tmp_path / "dist"
    shutil.copytree(dist, stray)
    index = stray / "index.html"
    index.write_text(index.read_text().replace(
        "</head>", '<script src="https://cdn.example.org/lib.js"></script>\n</head>'))
    (stray / "index.html.gz").unlink(missing_ok=True)
    with serve(stray) as url, fresh_browser(playwright) as context:
        responses, failed, errors = [], {}, []
        context.on("response", lambda response: responses.append(response.url))
        context.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(url, wait_until="load")
        assert any("Content Security Policy" in e and "cdn.example.org" in e for e in errors), errors
        # the browser stopped it before the network: no response, failed as blocked by the CSP
        assert "https://cdn.example.org/lib.js" not in responses
        assert "csp" in (failed.get("https://cdn.example.org/lib.js") or "").lower(), failed
