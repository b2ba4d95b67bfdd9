"""Settings in the URL: the page's `location.hash` <-> (tab, language, the open room's settings). Pure Python.

    encode("conv", "en", {"filter": "sobel_x", "stride": 2})
        -> '#tab=conv&lang=en&s={%22filter%22:%22sobel_x%22,%22stride%22:2}'
    parse(hash, tabs=("story", "conv"), langs=("en", "ko"))
        -> Parsed(tab="conv", lang="en", state={"filter": "sobel_x", "stride": 2}, notices=[])

The hash is `tab=<room key>&lang=<ko|en>&s=<the room's url_state() as JSON>`, each part optional (`#conv`, a bare
room key, is a tab too). A hash comes from anyone (a link in a chat, a hand-edited URL), so `parse` never raises:
what it cannot use it leaves out (the page keeps its defaults) and says why in `notices`, a list of
(i18n key, values) pairs. The length is checked before anything else is read, so 1 MB of text costs nothing.
Each room checks its own settings in `restore(state)` (a setting's range, a filter's name); `number`, `choice`
and `flag` below are the checks they share.
"""
import json
import math
import types
from urllib.parse import quote, unquote

MAX_CHARS = 8000        # longer hashes are refused unread; encode() never writes one this long
MAX_FIELDS = 8          # tab, lang, s and a few unknown ones are read; the rest is refused
MAX_DEPTH = 6           # nesting of the settings JSON (a kernel is a list of lists: depth 3)
MAX_DIGITS = 30         # a JSON number longer than this is refused (int("9" * 5000) costs, and means nothing here)
SHOWN_CHARS = 40        # how much of a refused name a notice echoes
SAFE = ":,[]{}"         # left unescaped by encode (browsers keep them as they are in a fragment)


def encode(tab, lang=None, state=None):
    """The hash for `tab` in `lang` with the room's settings `state` (a JSON-able dict; None or {}: none).

    Keys are sorted, so one state has one hash. A state too long for MAX_CHARS is left out (the tab stays).
    """
    parts = [("tab", str(tab))]
    if lang:
        parts.append(("lang", str(lang)))
    head = "#" + "&".join(f"{k}={quote(v, safe='')}" for k, v in parts)
    if not state:
        return head
    text = json.dumps(state, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    full = f"{head}&s={quote(text, safe=SAFE)}"
    return full if len(full) <= MAX_CHARS else head


def parse(text, tabs, langs):
    """What a hash asks for: Parsed(tab, lang, state, notices); tab/lang None and state {} where it asks for
    nothing usable. `tabs`, `langs`: the names the page knows. Never raises, whatever `text` is."""
    out = types.SimpleNamespace(tab=None, lang=None, state={}, notices=[])
    if not isinstance(text, str):
        text = ""
    if len(text) > MAX_CHARS:        # before anything is split or decoded
        out.notices.append(("url_too_long", {"n": len(text), "max": MAX_CHARS}))
        return out
    text = text[1:] if text.startswith("#") else text
    if not text:
        return out
    if "=" not in text and "&" not in text:
        text = "tab=" + text             # "#conv": a bare room key
    fields = text.split("&", MAX_FIELDS)
    if len(fields) > MAX_FIELDS:
        out.notices.append(("url_too_many", {"max": MAX_FIELDS}))
        fields = fields[:MAX_FIELDS]
    seen = {}
    for field in fields:
        key, _, value = field.partition("=")
        key, value = unquote(key, errors="replace"), unquote(value, errors="replace")
        if key in seen or not key:
            continue                     # the first of a repeated key counts
        seen[key] = value
    for key in seen:
        if key not in ("tab", "lang", "s"):
            out.notices.append(("url_unknown_key", {"name": shown(key)}))
    if "tab" in seen:
        if seen["tab"] in tabs:
            out.tab = seen["tab"]
        else:
            out.notices.append(("url_unknown_tab", {"name": shown(seen["tab"]), "names": ", ".join(tabs)}))
    if "lang" in seen:
        if seen["lang"] in langs:
            out.lang = seen["lang"]
        else:
            out.notices.append(("url_unknown_lang", {"name": shown(seen["lang"]), "names": ", ".join(langs)}))
    if seen.get("s"):
        state, why = settings_json(seen["s"])
        if why is None:
            out.state = state
        else:
            out.notices.append(("url_bad_settings", {"why": why}))
    return out


def settings_json(text):
    """(dict, None) from the `s` part, or (None, why) with why an English phrase for the notice."""
    try:
        value = json.loads(text, parse_constant=refuse_constant, parse_float=finite_float, parse_int=short_int)
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as e:              # json.JSONDecodeError is a ValueError; so are the refusals below
        return None, shown(str(e), 80)
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {type(value).__name__}"
    if depth(value) > MAX_DEPTH:
        return None, "nested too deeply"
    return value, None


def refuse_constant(name):
    raise ValueError(f"{name} is not a number a setting can take")


def finite_float(text):
    if len(text) > MAX_DIGITS:
        raise ValueError(f"number {shown(text, 12)} has too many digits")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{shown(text, 12)} is not finite")
    return value


def short_int(text):
    if len(text) > MAX_DIGITS:
        raise ValueError(f"number {shown(text, 12)} has too many digits")
    return int(text)


def depth(value):
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def shown(text, limit=SHOWN_CHARS):
    """A refused name as a notice may echo it: at most `limit` characters (the page escapes it as HTML)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------- checks rooms share in restore()
# Each returns the value to use, or raises Refused with the i18n notice to give (the room keeps its default).

class Refused(ValueError):
    """A setting from a URL that a room does not take: `.notice` is the (i18n key, values) to show; `allowed`
    says what it may be without words (`1…4 (int)`, `max, avg`), so the notice reads in either language."""

    def __init__(self, name, value, allowed):
        self.notice = ("url_refused", {"name": shown(name), "value": quoted(value), "allowed": allowed})
        super().__init__(f"{shown(name)}={quoted(value)}: {allowed}")


def quoted(value):
    """A refused value as a notice may echo it, shortened (repr refuses ints of 4300+ digits: say their size)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"(a number of about {int(value.bit_length() * 0.30103)} digits)"
    return shown(repr(value))


def number(name, value, lo, hi, integer=False):
    """`value` if it is a number in [lo, hi] (a whole one when `integer`); bools are not numbers here."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and (isinstance(value, int) or math.isfinite(value)) and lo <= value <= hi)   # (a huge int is no float)
    if ok and integer and value != int(value):
        ok = False
    if not ok:
        raise Refused(name, value, f"{lo}…{hi}" + (" (int)" if integer else ""))
    return int(value) if integer else float(value)


def choice(name, value, options):
    """`value` if it is one of `options` (strings or numbers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value not in options:
        raise Refused(name, value, ", ".join(map(str, options)))
    return options[list(options).index(value)]       # the option itself: 256.0 from a URL is the option 256


def flag(name, value):
    if not isinstance(value, bool):
        raise Refused(name, value, "true, false")
    return value


def restore_fields(state, checks, current):
    """Apply the checked fields of `state` over `current` (a dict of defaults or present values).

    checks: {field: check(name, value) -> value, raising Refused}. Returns (new dict, notices). Fields of
    `state` that `checks` does not name are refused with a notice; a non-dict `state` gives `current` unchanged.
    """
    values, notices = dict(current), []
    if not isinstance(state, dict):
        return values, [("url_bad_settings", {"why": "expected a JSON object"})]
    for name, value in state.items():
        check = checks.get(name)
        if check is None:
            notices.append(("url_unknown_key", {"name": shown(name)}))
            continue
        try:
            values[name] = check(name, value)
        except Refused as e:
            notices.append(e.notice)
    return values, notices
