"""What every section of the Networks tab shows alike: its settings, its run buttons and status, its curves.

Each function returns a namespace with its `panel` and `refresh()` (and the widgets and sources tests read), as the
studio's views do. Display only: the numbers come from core through the section's experiment.
"""
import types

import panel as pn
from bokeh.models import ColumnDataSource, Range1d
from bokeh.palettes import Category10
from bokeh.plotting import figure

from . import networks_run, views
from .studio import message_text

BUTTONS = ("start", "pause", "resume", "stop")
CURVE_W, CURVE_H = 380, 230
TABLE_CSS = """
table { border-collapse: collapse; font: 12px monospace; margin: 4px 0; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f4f4f4; }
"""


def settings_view(section, t, labels, options=None):
    """A widget per setting of section.SETTINGS (labels: setting -> i18n key; options: option -> i18n key for the
    choices), bound to section.settings; a refused value goes back to the one in force. css class:
    <section.css>-<setting> with _ as -."""
    specs, w = section.SETTINGS, {}
    for name, spec in specs.items():
        css = [f"{section.css}-{name.replace('_', '-')}"]
        label, value, width = t(labels[name]), section.settings[name], 130
        if spec[0] == "int":
            w[name] = pn.widgets.IntInput(label=label, value=value, start=spec[2], end=spec[3], width=width,
                                          css_classes=css)
        elif spec[0] == "float":
            w[name] = pn.widgets.FloatInput(label=label, value=value, start=spec[2], end=spec[3], width=width,
                                            format="0.[00000]", css_classes=css)
        elif spec[0] == "choice":
            w[name] = pn.widgets.Select(label=label, value=value, width=width, css_classes=css,
                                        options={t(options[o]): o for o in spec[2]})
        else:   # one Select per position of the list
            w[name] = [pn.widgets.Select(label=f"{label} {i + 1}", value=v, width=180, css_classes=css,
                                         options={t(options[o]): o for o in spec[2]}) for i, v in enumerate(value)]

    def changed(name, value):
        try:
            section.settings[name] = networks_run.check(specs[name], value, name)
        except ValueError:
            sync()

    def sync():
        """Show section.settings (a restored URL sets them from outside)."""
        for name, widget in w.items():
            value = section.settings[name]
            if isinstance(widget, list):
                for box, v in zip(widget, value):
                    box.value = v
            elif widget.value != value:
                widget.value = value

    for name, widget in w.items():
        if isinstance(widget, list):
            for box in widget:
                box.param.watch(lambda event, name=name: changed(name, [b.value for b in w[name]]), "value")
        else:
            widget.param.watch(lambda event, name=name: changed(name, event.new), "value")
    flat = [x for widget in w.values() for x in (widget if isinstance(widget, list) else [widget])]
    return types.SimpleNamespace(widgets=w, sync=sync, flat=flat)


def run_view(section, t, act):
    """Start / Pause / Resume / Stop for the section's experiment (act(name)), its status and its message."""
    css = section.css
    w = {key: pn.widgets.Button(label=t(key), width=80, css_classes=[f"{css}-{key}"],
                                color={"start": "success", "stop": "danger"}.get(key, "default")) for key in BUTTONS}
    status = pn.pane.HTML("", css_classes=[f"{css}-status"])
    alert = pn.pane.Alert("", alert_type="info", visible=False, css_classes=[f"{css}-message"])

    def refresh():
        exp = section.experiment
        s = exp.status
        status.object = t("nets_status", status=t("status_" + s), what=progress_text(exp.results, t))
        w["start"].disabled = s in ("running", "paused")
        w["pause"].disabled = s != "running"
        w["resume"].disabled = s != "paused"
        w["stop"].disabled = s not in ("running", "paused")
        msg = section.alert or exp.message
        alert.object = message_text(msg, t)
        alert.alert_type = "danger" if msg and msg[0] == "error" else "info"
        alert.visible = msg is not None

    for key in BUTTONS:
        w[key].on_click(lambda event, key=key: act(key))
    panel = pn.Column(pn.Row(*w.values()), status, alert)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, status=status, alert=alert)


def progress_text(results, t):
    """What the experiment is doing: its results' "stage" (i18n key, values), a model's name in the page's words."""
    key, values = results.get("stage", ("nets_stage_ready", {}))
    if "model" in values:
        values = dict(values, model=t(f"model_{values['model']}"))
    return t(key, **values)


def lines_figure(title, x_label, y_label, css, series, labels, width=CURVE_W, height=CURVE_H, y_range=None):
    """A line (with dots) per series on one figure; the sources are named <css>-<series>. Returns (fig, sources).
    Draw through show_lines. Fixed ranges (Range1d), 0..1 until there are points: an automatic range over no data
    makes BokehJS warn and draw the empty plot without axes. y_range: (low, high) kept as it is."""
    fig = figure(title=title, width=width, height=height, x_axis_label=x_label, y_axis_label=y_label,
                 x_range=Range1d(0, 1), y_range=Range1d(*(y_range or (0, 1))),
                 tools="pan,wheel_zoom,reset", toolbar_location="right", name=css, css_classes=[css])
    sources = {}
    for i, (key, label) in enumerate(zip(series, labels)):
        colour = Category10[10][i % 10]
        sources[key] = ColumnDataSource({"x": [], "y": []}, name=f"{css}-{key}")
        fig.line("x", "y", source=sources[key], color=colour, line_width=2, legend_label=label)
        fig.scatter("x", "y", source=sources[key], color=colour, size=4)
    fig.legend.location = "top_right"
    fig.legend.click_policy = "hide"
    fig.legend.visible = False                  # a legend over an empty plot floats over nothing
    return fig, sources


def show_lines(fig, sources, data, fixed_y=False):
    """data {series: columns with "x" and "y"} into lines_figure's sources, then views.fit_ranges over every
    series' points (fixed_y: the y range stays)."""
    for key, columns in data.items():
        sources[key].data = columns
    views.fit_ranges(fig, [x for source in sources.values() for x in source.data["x"]],
                     None if fixed_y else [y for source in sources.values() for y in source.data["y"]])
