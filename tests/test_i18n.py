"""playground.i18n: one table per language for the whole page (labs and studio), every key used, none missing."""
import pathlib
import re
import string

import pytest

from playground import conv_lab, i18n

PLAYGROUND = pathlib.Path(__file__).resolve().parent.parent / "playground"
CODE = "\n".join(p.read_text(encoding="utf-8") for p in sorted(PLAYGROUND.glob("*.py")) if p.name != "i18n.py")
LITERALS = set(re.findall(r"""["']([A-Za-z0-9_]+)["']""", CODE))
# Keys the code builds from a prefix and a name it holds: "f_" + name, t("loss_" + k), f"msg_{status}".
PREFIXES = set(re.findall(r"""["']([a-z]+_)["']\s*\+|f["']([a-z]+_)\{""", CODE))
PREFIXES = {a or b for a, b in PREFIXES}
# The places the code looks a key up: t("key"), i18n.text(lang, "key"), ("error", "key", values), LabError("key").
KEY = r"""["']([a-z0-9_]+)["']\s*[,)]"""
LOOKUPS = set(re.findall(r"\bt\(\s*" + KEY + r"|i18n\.text\(\s*[\w\"']+\s*,\s*" + KEY
                         + r"|\(\s*[\"'](?:info|error)[\"']\s*,\s*" + KEY + r"|LabError\(\s*" + KEY, CODE))
LOOKUPS = {next(k for k in groups if k) for groups in LOOKUPS}


def fields(template):
    return sorted(f for _, f, _, _ in string.Formatter().parse(template) if f)


def used(key):
    """A literal somewhere in playground/, or a prefix the code builds keys from plus a name it holds."""
    return key in LITERALS or any(key.startswith(p) and key[len(p):] in LITERALS for p in PREFIXES)


def test_both_languages_have_the_same_keys_and_placeholders():
    en, ko = i18n.STRINGS["en"], i18n.STRINGS["ko"]
    assert set(en) == set(ko)
    for key in en:
        assert fields(en[key]) == fields(ko[key]), key


def test_every_key_is_used_somewhere_in_the_playground():
    assert {"f_", "loss_", "opt_", "status_", "msg_"} <= PREFIXES        # the families i18n's docstring names
    unused = sorted(key for key in i18n.STRINGS["en"] if not used(key))
    assert unused == []


def test_every_key_the_code_looks_up_exists():
    assert {"stride", "err_upload", "why_format", "err_config", "msg_loaded"} <= LOOKUPS   # the regex finds them
    assert sorted(LOOKUPS - set(i18n.STRINGS["en"])) == []


def test_every_filter_loss_optimizer_and_trainer_message_has_its_string():
    from playground import training
    en = i18n.STRINGS["en"]
    names = ([f"f_{n}" for n in conv_lab.FILTERS] + [f"loss_{n}" for n in training.LOSSES]
             + [f"opt_{n}" for n in training.OPTIMIZERS]
             + [f"status_{s}" for s in ("ready", "running", "paused", "stopped", "done", "diverged")]
             + [f"msg_{s}" for s in ("done", "stopped", "diverged", "nonfinite", "loaded")])
    assert [n for n in names if n not in en] == []


def test_one_name_per_tab_in_each_language():
    """The studio's tab had two Korean names (one per table); the lecture says 학습 (training), not a studio."""
    assert [i18n.text("ko", k) for k in ("tab_conv", "tab_pool", "tab_studio")] == ["컨볼루션", "풀링", "LeNet 학습"]
    assert i18n.text("en", "tab_studio") == "LeNet studio"


def test_text_fills_placeholders_and_falls_back_to_english():
    assert i18n.text("ko", "input_plot", h=3, w=4) == "입력 3×4×1"
    assert i18n.text("fr", "stride") == "Stride"


@pytest.mark.parametrize("header,lang", [
    ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"), ("en-US,en;q=0.9,ko;q=0.8", "en"), ("en;q=0.1, ko", "ko"),
    ("fr-FR", "en"), ("", "en"), (None, "en"), ("ko", "ko")])
def test_pick_language(header, lang):
    assert i18n.pick_language(header) == lang
