"""The story tab (playground/story.py): its numbers are core's, its widgets redraw through core, its links open
rooms the page has (and only those), its settings survive a URL, and static_html() is the same story as plain
HTML for the page before Python starts."""
import html.parser
import re

import numpy as np
import pytest

from core import arithmetic, layers, models, pooling, receptive
from playground import app, i18n, story, urlstate

ALL_TABS = app.TABS + ("backprop", "losses", "optimizers", "regularization", "networks")


@pytest.fixture(params=["en", "ko"])
def built(request):
    return story.build(dict(story.DEFAULTS), request.param, tabs=ALL_TABS)


def text_of(pane):
    return re.sub(r"<[^>]+>", " ", pane.object)


# ---------------------------------------------------------------- the lecture's numbers, from core

def test_the_mlp_needs_196608_inputs_for_the_lectures_image():
    n = story.mlp_numbers(256, 3, 100)
    assert n["inputs"] == 196_608                                # the lecture's number, computed by Flatten
    assert n["params"] == arithmetic.dense_params(196_608, 100)


def test_the_two_worked_multiplication_counts_come_from_the_layer_table():
    conv1, conv2 = story.lecture_cost()
    assert (conv1["output_shape"], conv1["per"], conv1["mults"]) == ((128, 128, 64), 28, 128 * 128 * 28 * 64)
    assert (conv2["output_shape"], conv2["per"], conv2["mults"]) == ((64, 64, 128), 1601, 64 * 64 * 1601 * 128)
    for lang in ("en", "ko"):
        text = story.cost_html(lang, [conv1, conv2])
        assert "128·128·28·64 = " in text and "29,360,128" in text
        assert "64·64·1601·128 = " in text and "839,385,088" in text
        assert "28 = 3·3·3+1" in text and "1601 = 5·5·64+1" in text


def test_lenet5_has_61706_weights_layer_by_layer():
    n = story.lenet_numbers()
    assert n["total"] == 61_706 == models.lenet5().count_params()
    text = story.lenet_html("en", n)
    for line in ("(5·5·1+1)·6 = 156", "(5·5·6+1)·16 = 2,416", "(5·5·16+1)·120 = 48,120",
                 "(120+1)·84 = 10,164", "(84+1)·10 = 850", "61,706"):
        assert line in text


def test_receptive_field_and_weight_sharing_numbers_are_cores():
    assert story.receptive_numbers(3, 3)["size"] == receptive.stacked_size(3, 3, 3) == 7
    assert story.receptive_numbers(2, 5)["sizes"] == [5, 9]
    n = story.sharing_numbers(3, 3, 64, 256)
    assert n["conv"] == arithmetic.conv_params((3, 3), 3, 64) == 64 * (3 * 3 * 3 + 1)
    assert n["dense"] == arithmetic.dense_params(256 * 256 * 3, 256 * 256 * 64)
    assert n["ratio"] == n["dense"] // n["conv"]


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_the_pooling_example_is_core_pooling(kind):
    ex = story.pooling_example(kind)
    x = story.POOL_EXAMPLE[None, :, :, None]
    forward = pooling.max_pool_forward if kind == "max" else pooling.avg_pool_forward
    np.testing.assert_array_equal(ex["output"], forward(x, 2, 2)[0][0, :, :, 0])
    if kind == "max":       # each winner holds its window's maximum
        assert sorted(float(story.POOL_EXAMPLE[r, c]) for r, c in ex["winners"]) == sorted(ex["output"].ravel())
    else:
        assert ex["winners"] == []


def test_the_texts_quote_the_computed_numbers(built):
    lang = built.lang
    texts = " ".join(text_of(p) for p in built.layout.select(lambda o: hasattr(o, "object")
                                                              and isinstance(o.object, str)))
    for number in ("196,608", "29,360,128", "839,385,088", "61,706"):
        assert number in texts, (lang, number)


# ---------------------------------------------------------------- the live widgets

def test_widgets_redraw_through_core(built):
    w, views = built.widgets, built.views
    w["mlp_side"].value, w["mlp_channels"].value, w["mlp_units"].value = 28, 1, 84
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(84)])
    assert f"{model.layer_table()[1]['params']:,}" in text_of(views["mlp"].panel.objects[-2])
    w["rf_layers"].value, w["rf_kernel"].value = 4, 5
    assert f"{receptive.stacked_size(5, 5, 5, 5)}×" in text_of(views["receptive"].panel.objects[-2])
    assert views["receptive"].panel.objects[1].object.count("<rect") > 17 * 17       # the grid grew with it
    w["ws_h"].value, w["ws_k"].value, w["ws_filters"].value = 5, 6, 16
    assert f"{arithmetic.conv_params((5, 5), 6, 16):,}" in text_of(views["sharing"].panel.objects[-2])
    w["pool_kind"].value = "avg"
    assert "3.75" in views["pooling"].panel.objects[1].object                        # (1+3+5+6)/4
    assert built.settings["pool_kind"] == "avg"


def test_the_timeline_is_a_bokeh_figure_with_the_lectures_years():
    s = story.build(dict(story.DEFAULTS), "en", tabs=ALL_TABS)
    data = s.source.data
    years = dict(zip([label.split(" ", 1)[1] for label in data["label"]], data["x"]))
    assert {years["Neocognitron"], years["LeNet-5"], years["ImageNet, ILSVRC"], years["AlexNet: 15.3% error"],
            years["VGG, GoogLeNet"], years["ResNet"], years["GAN"]} == {1980, 1998, 2010, 2012, 2014, 2015}
    assert (years["VGG, GoogLeNet"], years["GAN"], years["ResNet"]) == (2014, 2014, 2015)
    why = [label for label, lane in zip(data["label"], data["y"]) if lane < 0]
    for word in ("GPU", "ReLU", "Cross-entropy", "Dropout", "Adam", "data"):
        assert any(word in label for label in why), word
    assert s.figure.name == "story-timeline" and s.source.name == "story-timeline-source"


# ---------------------------------------------------------------- links into the labs

def hrefs(text):
    return re.findall(r'href="([^"]+)"', text)


def test_links_open_only_rooms_the_page_has():
    only_labs = story.build(dict(story.DEFAULTS), "en", tabs=("story", "conv", "pool", "studio"))
    links = " ".join(div.text for div in only_labs.links.values())
    assert len(only_labs.links) == len(story.SECTIONS)
    for href in hrefs(links):
        parsed = urlstate.parse(href.replace("&amp;", "&"), ("story", "conv", "pool", "studio"), ("en", "ko"))
        assert parsed.tab and parsed.notices == [], href
    assert "backprop" not in links and 'class="story-soon"' in links
    everything = story.links_html("en", "learning", ALL_TABS)
    assert {urlstate.parse(h.replace("&amp;", "&"), ALL_TABS, ()).tab for h in hrefs(everything)} == {
        "backprop", "losses", "optimizers", "regularization", "networks", "studio"}


def test_every_link_opens_its_room_with_its_settings_on_the_page():
    """Each "try it" link applied to the real page: the right tab, no notice (the room took every setting)."""
    page = app.build_page("en")
    for key, links in story.LINKS.items():
        for label, tab, state in links:
            if tab not in app.TABS:
                continue
            notices = page.apply_url(urlstate.encode(tab, None, state))
            assert app.TABS[page.active] == tab and notices == [], (label, notices)
            room = page.rooms[tab]
            if state and getattr(room, "url_state", None):
                got = room.url_state()
                assert {k: got[k] for k in state} == state, label


# ---------------------------------------------------------------- settings in the URL

def test_url_state_round_trip_and_defaults_are_empty(built):
    assert built.url_state() == {}
    changed = {"mlp_side": 64, "mlp_channels": 1, "mlp_units": 7, "rf_layers": 6, "rf_kernel": 7, "ws_h": 1,
               "ws_k": 512, "ws_filters": 1, "ws_side": 28, "pool_kind": "avg"}
    assert built.restore(changed) == []
    assert built.url_state() == changed
    fresh = story.build(dict(story.DEFAULTS), "en", tabs=ALL_TABS)
    assert fresh.restore(built.url_state()) == [] and fresh.url_state() == changed
    assert fresh.restore({}) == [] and fresh.url_state() == {}            # a link without settings: the defaults


@pytest.mark.parametrize("bad", [
    {"mlp_units": 10**400}, {"mlp_units": 1e308}, {"mlp_units": -1}, {"mlp_units": 2.5}, {"mlp_units": "84"},
    {"mlp_side": 100}, {"rf_layers": True}, {"rf_kernel": [3]}, {"pool_kind": "min"}, {"ws_k": None},
    {"unknown": 1}, {"pool_kind": "x" * 100_000},
])
def test_restore_refuses_hostile_values_and_keeps_the_defaults(bad):
    s = story.build(dict(story.DEFAULTS), "en", tabs=ALL_TABS)
    notices = s.restore(bad)
    assert len(notices) == 1 and notices[0][0] in ("url_refused", "url_unknown_key")
    assert s.settings == story.DEFAULTS and s.url_state() == {}
    assert len(i18n.text("ko", notices[0][0], **notices[0][1])) < 300


# ---------------------------------------------------------------- the story before Python: static_html

class Tags(html.parser.HTMLParser):
    VOID = {"br", "img", "hr", "meta", "input", "rect", "line", "circle", "polygon"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.attrs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.attrs.extend(attrs)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_static_html_is_the_story_as_plain_safe_html(lang):
    text = story.static_html(lang)
    assert text.startswith(f'<article class="story-static" lang="{lang}">') and text.endswith("</article>")
    for _, title, _ in story.SECTIONS:
        assert i18n.text(lang, title) in text
    for number in ("196,608", "29,360,128", "839,385,088", "61,706", "128·128·28·64", "64·64·1601·128"):
        assert number in text
    tags = Tags()
    tags.feed(text)
    assert tags.stack == [] and tags.errors == []                           # every element closed in order
    assert "<script" not in text.lower()
    assert not [name for name, _ in tags.attrs if name.startswith("on")]   # nothing the CSP would refuse
    assert not re.search(r"(?:src|href)=\"(?!#)", text)                     # only in-page links, nothing fetched
    for href in hrefs(text):
        assert urlstate.parse(href.replace("&amp;", "&"), app.TABS, ()).tab in app.TABS
    assert text.count("<svg") == 8


def test_static_html_of_an_unknown_language_is_english():
    assert story.static_html("fr") == story.static_html("en")
