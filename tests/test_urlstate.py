"""Settings in the URL: playground/urlstate.py (the hash <-> tab, language, settings; hostile input) and the page's
machinery in playground/app.py (restore at start, links and the back button through Panel's Location, debounced
writes, copy link), without a browser. tests/test_story_e2e.py does the same in chromium."""
import json
import time
from urllib.parse import unquote

import pytest
from panel.io.location import Location

from playground import app, i18n, urlstate
from url_examples import EXAMPLES

TABS = ("story", "conv", "pool")
LANGS = ("en", "ko")


def parse(text):
    return urlstate.parse(text, TABS, LANGS)


# ---------------------------------------------------------------- encode / parse

@pytest.mark.parametrize("state", [
    {}, {"filter": "sobel_x", "stride": 2}, {"bias": -1.5e-3, "kernel": [[0.0, 1.0], [-2.5, 3.25]]},
    {"text": "a&b=c#d%e f\"g'h+i/j?k"}, {"name": "수용장 → 풀링", "flag": True, "none": None},
])
def test_encode_then_parse_gives_the_same_tab_language_and_settings(state):
    text = urlstate.encode("conv", "ko", state)
    assert text.startswith("#tab=conv&lang=ko")
    got = parse(text)
    assert (got.tab, got.lang, got.state, got.notices) == ("conv", "ko", state, [])
    # what a browser keeps in location.hash: no character its fragment encoding would change
    assert not set(text) & set(' "<>`') and text.isascii()


def test_one_state_has_one_hash_and_json_stays_readable():
    a = urlstate.encode("pool", "en", {"stride": 2, "kind": "max"})
    b = urlstate.encode("pool", "en", {"kind": "max", "stride": 2})
    assert a == b == "#tab=pool&lang=en&s={%22kind%22:%22max%22,%22stride%22:2}"
    assert urlstate.encode("story") == "#tab=story"


def test_a_state_too_long_for_a_url_keeps_only_the_tab():
    text = urlstate.encode("conv", "en", {"x": "y" * urlstate.MAX_CHARS})
    assert text == "#tab=conv&lang=en"


def test_a_bare_room_key_is_a_tab():
    assert (parse("#pool").tab, parse("pool").tab) == ("pool", "pool")


@pytest.mark.parametrize("text", [None, 42, b"#tab=conv", "", "#", "&", "=", "#&&&", "#=x"])
def test_empty_or_not_text_means_defaults_without_fuss(text):
    got = parse(text)
    assert (got.tab, got.lang, got.state) == (None, None, {})


def test_a_megabyte_of_text_is_refused_unread():
    text = "#tab=conv&s=" + "[" * 1_000_000
    t0 = time.perf_counter()
    got = parse(text)
    assert time.perf_counter() - t0 < 0.05          # (not a speed target: proof that nothing was split or decoded)
    assert (got.tab, got.state) == (None, {})
    assert got.notices == [("url_too_long", {"n": len(text), "max": urlstate.MAX_CHARS})]


@pytest.mark.parametrize("s,words", [
    ("{", "Expecting"), ("{%22a%22:}", "Expecting"), ("[1,2]", "expected a JSON object, got list"),
    ("%22text%22", "got str"), ("{%22a%22:NaN}", "NaN"), ("{%22a%22:Infinity}", "Infinity"),
    ("{%22a%22:1e999}", "not finite"), ("{%22a%22:" + "9" * 400 + "}", "too many digits"),
    ("[" * 3000 + "]" * 3000, "nested too deeply"),
    ("{%22a%22:" + "[" * 7 + "]" * 7 + "}", "nested too deeply"),
    ("%zz%", "Expecting"),
])
def test_settings_that_are_not_a_small_json_object_get_a_notice(s, words):
    got = parse("#tab=conv&s=" + s)
    assert got.tab == "conv" and got.state == {}
    [(key, values)] = got.notices
    assert key == "url_bad_settings" and words in values["why"], values


def test_unknown_tab_language_and_keys_are_named_shortened_in_notices():
    hostile = "<img src=x onerror=alert(1)>" + "x" * 100
    got = parse(f"#tab={hostile}&lang=fr&zoom=3&s={{}}")
    assert (got.tab, got.lang, got.state) == (None, None, {})
    keys = [k for k, _ in got.notices]
    assert keys == ["url_unknown_key", "url_unknown_tab", "url_unknown_lang"]
    tab_notice = got.notices[1][1]
    assert tab_notice["name"] == hostile[:urlstate.SHOWN_CHARS] + "…" and tab_notice["names"] == "story, conv, pool"


def test_only_the_first_fields_are_read_and_a_repeated_key_counts_once():
    got = parse("#tab=pool&tab=conv&" + "&".join(f"k{i}=1" for i in range(30)))
    assert got.tab == "pool"
    assert ("url_too_many", {"max": urlstate.MAX_FIELDS}) in got.notices
    assert sum(k == "url_unknown_key" for k, _ in got.notices) == urlstate.MAX_FIELDS - 2


def test_every_notice_key_has_its_string_with_the_right_placeholders():
    hashes = ["#" + "x" * 9000, "#tab=nope&lang=xx&q=1&s=[", "&".join(["a=1"] * 20)]
    notices = [n for h in hashes for n in parse(h).notices]
    for key, values in notices:
        for lang in LANGS:
            assert i18n.text(lang, key, **values)            # KeyError on a missing placeholder


# ---------------------------------------------------------------- the checks rooms share

def test_number_choice_and_flag_refuse_what_a_url_can_smuggle():
    assert urlstate.number("n", 3, 1, 4, integer=True) == 3 and urlstate.number("n", 3.0, 1, 4, integer=True) == 3
    assert urlstate.number("x", 0.5, 0, 1) == 0.5
    for value in (True, "3", None, [3], 3.5, 0, 5, float("nan"), 10**400):
        with pytest.raises(urlstate.Refused) as e:
            urlstate.number("n", value, 1, 4, integer=True)
        key, values = e.value.notice
        assert key == "url_refused" and values["name"] == "n" and values["allowed"] == "1…4 (int)"
    assert len(e.value.notice[1]["value"]) <= urlstate.SHOWN_CHARS + 1   # 10**400 is quoted shortened
    assert urlstate.choice("k", "max", ("max", "avg")) == "max"
    for value in ("MAX", 1, None, ["max"], True):
        with pytest.raises(urlstate.Refused):
            urlstate.choice("k", value, ("max", "avg"))
    assert urlstate.flag("f", False) is False
    with pytest.raises(urlstate.Refused):
        urlstate.flag("f", 1)


def test_restore_fields_applies_the_valid_keeps_defaults_and_lists_the_rest():
    checks = {"a": lambda n, v: urlstate.number(n, v, 0, 10), "b": lambda n, v: urlstate.choice(n, v, ("x", "y"))}
    values, notices = urlstate.restore_fields({"a": 99, "b": "y", "c": 1}, checks, {"a": 1.0, "b": "x"})
    assert values == {"a": 1.0, "b": "y"}
    assert [k for k, _ in notices] == ["url_refused", "url_unknown_key"]
    assert urlstate.restore_fields([1, 2], checks, {"a": 1.0})[0] == {"a": 1.0}


# ---------------------------------------------------------------- the page: start, links, back, writes

def protocol_rooms():
    """Every room of the page that has url_state/restore (built once, to ask)."""
    page = app.build_page("en")
    keys = []
    for index, key in enumerate(app.TABS):
        page.tabs.active = index
        room = page.rooms[key]
        if getattr(room, "url_state", None) and getattr(room, "restore", None):
            keys.append(key)
    return keys


ROOMS_WITH_PROTOCOL = protocol_rooms()


def test_the_story_and_the_labs_take_part():
    assert "story" in ROOMS_WITH_PROTOCOL


@pytest.mark.parametrize("key", ROOMS_WITH_PROTOCOL)
def test_every_room_round_trips_state_url_state(key):
    """state -> URL -> a fresh page -> the same URL (and the example's settings really applied)."""
    example = EXAMPLES.get(key, {})
    page = app.build_page("en", url=urlstate.encode(key, "en", example))
    assert page.active == app.TABS.index(key) and page.notices == [], page.notices
    url = page.current_url()
    state = urlstate.parse(url, app.TABS, LANGS).state
    assert {k: state[k] for k in example} == example
    again = app.build_page("ko", url=url)                 # the language comes from the URL too
    assert again.lang == "en" and again.current_url() == url


def test_the_story_writes_only_what_differs_from_the_lecture():
    page = app.build_page("en")
    assert page.current_url() == "#tab=story&lang=en"
    page.story.widgets["mlp_units"].value = 500
    assert json.loads(unquote(page.current_url().split("&s=")[1])) == {"mlp_units": 500}


def test_a_hostile_hash_at_start_gives_defaults_and_an_escaped_notice():
    bad = '#tab=story&s={"mlp_units":1e308,"rf_layers":"<b>x</b>","pool_kind":"min","zz":[1]}'
    page = app.build_page("en", url=bad)
    assert page.active == 0 and page.story.settings == dict(page.story.settings, mlp_units=100, rf_layers=2)
    keys = [k for k, _ in page.notices]
    assert keys.count("url_refused") == 3 and "url_unknown_key" in keys
    assert page.notice.panel.visible
    shown = page.notice.box.object
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>x</b>" not in shown
    page.notice.close.clicks += 1                           # the close button
    assert not page.notice.panel.visible and page.notices == []


@pytest.mark.parametrize("text", ["#" + "a" * 1_000_000, "#tab=story&s={", "#tab=%00%ff&lang=<x>", "#tab=story&s=null"])
def test_malformed_hashes_still_build_the_page(text):
    page = app.build_page("en", url=text)
    assert page.active == 0 and page.story is not None and page.notice.panel.visible


def test_a_link_to_a_room_the_page_does_not_have_is_a_notice_not_a_crash():
    page = app.build_page("en", url="#tab=no_such_lab")
    assert page.active == 0
    assert page.notices[0][0] == "url_unknown_tab"


def test_a_room_whose_restore_breaks_does_not_break_the_page(monkeypatch):
    page = app.build_page("en")

    def broken(state):
        raise RuntimeError("bug")
    monkeypatch.setattr(page.story, "restore", broken)
    notices = page.apply_url("#tab=story&s={%22a%22:1}")
    assert notices == [("url_bad_settings", {"why": "RuntimeError: bug"})]


def test_links_and_back_arrive_through_the_location_and_are_applied():
    loc = Location()
    page = app.build_page("en", url="", location=loc)
    loc.hash = urlstate.encode("pool", "ko", {"kind": "avg"})           # a link clicked, or the back button
    assert page.lang == "ko" and app.TABS[page.active] == "pool" and page.notices == []
    if "pool" in ROOMS_WITH_PROTOCOL:
        assert page.pool.url_state()["kind"] == "avg"
    assert loc.hash.startswith("#tab=pool&lang=ko")                       # applied, not written over
    loc.hash = "#tab=story"
    assert app.TABS[page.active] == "story" and page.lang == "ko"


def test_settings_are_written_once_they_hold_still_and_not_echoed_back():
    loc = Location()
    page = app.build_page("en", url="", location=loc)
    applied = []
    page.apply_url, original = (lambda text: applied.append(text)), page.apply_url
    page.sync_url()
    assert loc.hash == ""                                   # nothing changed: the address bar is left alone
    page.story.widgets["rf_layers"].value = 5
    page.sync_url()
    assert loc.hash == ""                                   # changed this period: wait for the next
    page.story.widgets["rf_layers"].value = 6
    page.sync_url()
    assert loc.hash == ""                                   # still moving
    page.sync_url()
    assert loc.hash == page.current_url() == page.url_written
    assert "%22rf_layers%22:6" in loc.hash
    assert applied == []                                    # our own write was not applied back
    page.apply_url = original


def test_copy_link_writes_the_current_settings_at_once():
    loc = Location()
    page = app.build_page("en", url="", location=loc)
    page.story.widgets["pool_kind"].value = "avg"
    page.copy_button.clicks += 1
    assert loc.hash == page.current_url() and "avg" in loc.hash


def test_a_language_switch_keeps_the_tab_and_goes_into_the_url():
    loc = Location()
    page = app.build_page("en", url="#tab=story&s={%22ws_h%22:5}", location=loc)
    page.lang_switch.value = "ko"
    assert page.story.settings["ws_h"] == 5 and page.story.lang == "ko"
    page.sync_url()
    page.sync_url()
    assert loc.hash == urlstate.encode("story", "ko", {"ws_h": 5})


def test_under_panel_serve_a_hash_that_arrives_while_loading_is_applied_on_load(monkeypatch):
    """What a callback changes before the browser has loaded is not drawn there, so the URL waits for onload."""
    onload = []
    monkeypatch.setattr(app, "server_session", lambda: True)
    monkeypatch.setattr(app.pn.state, "onload", onload.append)
    loc = Location()
    page = app.build_page("en", url="", location=loc)
    loc.hash = "#tab=pool"
    assert app.TABS[page.active] == "story" and len(onload) == 1
    onload[0]()
    assert app.TABS[page.active] == "pool"
    loc.hash = "#tab=conv"                                  # once loaded: at once
    assert app.TABS[page.active] == "conv"
