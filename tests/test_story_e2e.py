"""The story and settings in the URL, end to end in Debian's headless chromium inside the static site's Pyodide
worker: a hostile hash at start and after it (defaults and a notice, never a broken page), one path from the story
into each lab through its "try it" link (the lab opens with the link's settings, "copy link" copies them), a
changed setting written into the URL and restored by a reload (state -> URL -> state), and the busy bar. One page
for the module; fails on any console error and on any request off 127.0.0.1.

Skipped only when /usr/bin/chromium is missing and $CI is unset (CI installs chromium and must run this).
"""
import shutil
from urllib.parse import urlsplit

import pytest

from site_helpers import READY, ensure_built, fresh_browser, logged_page, serve, skip_without_chromium

LOAD_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 20_000

ACTIVE_TAB = """() => {
    const v = [...Bokeh.index.all_views()].find(v => (v.model.css_classes || []).includes("lab-tabs"));
    return v ? v.model.active : null;
}"""
NOTICE = "#app .url-notice li"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    copy = tmp_path_factory.mktemp("site") / "dist"
    shutil.copytree(ensure_built(), copy)
    with serve(copy) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    skip_without_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p, fresh_browser(p) as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page, log = logged_page(context)
        yield page, log, site


def hash_state(page):
    from playground import app, urlstate
    return urlstate.parse(page.evaluate("location.hash"), app.TABS, ("en", "ko"))


def open_tab(page, key):
    from playground import app, i18n
    page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", f"tab_{key}")).first.click()
    page.wait_for_function(f"() => ({ACTIVE_TAB})() === {app.TABS.index(key)}", timeout=STEP_TIMEOUT_MS)


def test_a_megabyte_hash_at_start_gives_the_story_and_a_notice(browser):
    page, log, site = browser
    page.goto(site + "#tab=conv&s=" + "x" * 1_000_000)
    page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
    assert page.evaluate(ACTIVE_TAB) == 0                                   # the story, as without a hash
    page.locator(NOTICE, has_text="characters long").wait_for(timeout=STEP_TIMEOUT_MS)
    origin = urlsplit(site).netloc
    assert [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin] == []
    assert log["errors"] == []


def test_hostile_hashes_after_start_are_notices_not_markup(browser):
    page, log, _ = browser
    page.evaluate("() => { location.hash = '#tab=story&s={%22mlp_units%22:' }")        # bad JSON
    page.locator(NOTICE, has_text="could not be read").wait_for(timeout=STEP_TIMEOUT_MS)
    page.evaluate("() => { location.hash = '#tab=<img src=x onerror=alert(1)>' }")      # not a tab, and markup
    page.locator(NOTICE, has_text="<img src=x").wait_for(timeout=STEP_TIMEOUT_MS)       # shown as text
    assert page.locator("#app .url-notice img").count() == 0
    page.evaluate("() => { location.hash = '#tab=story&s={%22mlp_units%22:-5,%22rf_layers%22:1e300}' }")
    page.locator(NOTICE, has_text="rf_layers").wait_for(timeout=STEP_TIMEOUT_MS)
    assert page.evaluate(ACTIVE_TAB) == 0 and page.evaluate("document.documentElement.dataset.ready") == "true"
    assert log["errors"] == []


def test_the_story_links_open_each_lab_with_their_settings(browser):
    """One link per room the story links to: the room opens, and "copy link" then copies a URL with the link's
    settings (Python wrote the room's url_state into the address bar first)."""
    from playground import app, story, urlstate
    page, log, _ = browser
    links = {}
    for items in story.LINKS.values():
        for _, tab, state in items:
            if tab in app.TABS and (tab not in links or state and not links[tab]):
                links[tab] = state          # one per room, one with settings where the story has one
    assert {"conv", "pool", "studio"} <= set(links)
    for tab, state in links.items():
        open_tab(page, "story")
        href = urlstate.encode(tab, None, state)
        page.locator(f'#app a.story-link[href="{href}"]').first.click()
        page.wait_for_function(f"() => ({ACTIVE_TAB})() === {app.TABS.index(tab)}", timeout=STEP_TIMEOUT_MS)
        page.evaluate("() => document.getElementById('site-toast')?.remove()")
        page.locator("#app .url-copy button").click()
        page.wait_for_function(f"() => location.hash.startsWith('#tab={tab}&lang=en')", timeout=STEP_TIMEOUT_MS)
        got = hash_state(page)
        assert {k: got.state[k] for k in state} == state, (tab, href, got.state)
        page.locator("#site-toast", has_text=f"#tab={tab}&").wait_for(timeout=STEP_TIMEOUT_MS)   # copied
        assert page.evaluate("navigator.clipboard.readText()") == page.evaluate("location.href")
    assert page.locator(NOTICE).count() == 0 or not page.locator("#app .url-notice").is_visible()
    assert log["errors"] == []


def test_every_lab_round_trips_its_settings_through_the_url(browser):
    """For each lab, a URL holding settings (url_examples.EXAMPLES, none of them defaults) set while the page runs,
    as a link or the back button sets it -> the lab shows them -> "copy link" writes them back: the same
    settings, read from the address bar."""
    from playground import app, urlstate
    from url_examples import EXAMPLES
    page, log, site = browser
    page.goto(site)
    page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
    for tab in app.TABS[1:]:
        example = EXAMPLES[tab]
        # no language in the link: the address Python writes back ("&lang=en&s=...") is told from the link's
        page.evaluate("h => { location.hash = h; }", urlstate.encode(tab, None, example))
        page.wait_for_function(f"() => ({ACTIVE_TAB})() === {app.TABS.index(tab)}", timeout=STEP_TIMEOUT_MS)
        page.locator("#app .url-copy button").click()
        page.wait_for_function(f"() => location.hash.startsWith('#tab={tab}&lang=en')", timeout=STEP_TIMEOUT_MS)
        got = hash_state(page).state
        assert {k: got.get(k) for k in example} == example, (tab, got)
    assert log["errors"] == []


def test_a_changed_setting_reaches_the_url_and_a_reload_restores_it(browser):
    from playground import conv_lab
    page, log, _ = browser
    open_tab(page, "conv")
    page.locator(".conv-filter-select select").select_option(label=conv_lab.filter_label("en", "laplacian"))
    page.wait_for_function("() => location.hash.includes('%22filter%22:%22laplacian%22')", timeout=STEP_TIMEOUT_MS)
    written = page.evaluate("location.hash")
    page.reload(wait_until="commit")
    page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
    # A lab's URL: the worker loaded the labs' packages before the app, so the first document drawn is already
    # the lab with the URL's settings (nothing to wait for after ready; benchmarks/story_url.py times it).
    from playground import app
    assert page.evaluate("'lab_packages' in window.cnnPlaygroundTimings.worker")
    assert page.evaluate(ACTIVE_TAB) == app.TABS.index("conv")
    assert page.locator(".conv-filter-select select").input_value() == conv_lab.filter_label("en", "laplacian")
    assert page.evaluate("location.hash") == written
    assert log["errors"] == []


def test_a_long_change_shows_the_busy_bar_and_the_language_reaches_the_url(browser):
    from playground import i18n
    page, log, _ = browser
    page.evaluate("""() => { window.busySeen = false;
        new MutationObserver(() => { if (document.documentElement.dataset.busy) window.busySeen = true; })
            .observe(document.documentElement, {attributes: true}); }""")
    page.locator(".lang-switch button", has_text=i18n.LANGUAGES["ko"]).click()   # rebuilds the page: > 300 ms
    page.locator(".page-title", has_text=i18n.text("ko", "title")).wait_for(timeout=STEP_TIMEOUT_MS)
    page.wait_for_function("() => !document.documentElement.dataset.busy", timeout=STEP_TIMEOUT_MS)
    assert page.evaluate("window.busySeen")
    page.wait_for_function("() => location.hash.includes('lang=ko')", timeout=STEP_TIMEOUT_MS)
    assert hash_state(page).tab == "conv"
    assert log["errors"] == []
