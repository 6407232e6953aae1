"""How the kit's widgets and progress bars look in a saved notebook, with or without a kernel.

A notebook is read in three states: as cloned (JupyterLab does not trust it, so it will not draw
widgets and falls back to another form of each output), live, and after a student's Run All + save
(JupyterLab then draws the widgets from the state saved in the notebook's metadata). Imported by
``import inpaintkit`` inside a Jupyter kernel, :func:`install` makes every output read right in all
three:

* every ipywidgets widget is displayed with its live view **and** a static ``text/html`` copy of
  its first state (the figures its callback drew, its control values) plus a one-line ``text/plain``
  description, instead of ipywidgets' ``interactive(children=(Dropdown(...`` repr. An untrusted
  notebook shows the static copy; a trusted one the widget.
* :func:`progress` bars are one line of text updated in place (``update_display_data``), not an
  ipywidgets bar: the saved notebook holds the bar's last state (``100%|██████████| 200/200
  [01:24<00:00, ...]``), never a frozen ``0%``, and needs no widget state.

The widgets' state after a student's save comes from JupyterLab's *Save Widget State
Automatically* (``saveState``); without it a reopened notebook says "model not found" in every
widget cell. :func:`lab_setting` turns it on as the default of the JupyterLab installed next to the
kit (``<prefix>/share/jupyter/lab/settings/overrides.d/inpaintkit.json``, read when JupyterLab's page
loads; a user's own choice in Settings still wins). ``python -m inpaintkit`` (any command) and
``import inpaintkit`` in a kernel write it; ``pip install -e`` cannot ship such a file.
"""
from __future__ import annotations

import html
import json
import os
import sys
from pathlib import Path

from tqdm.std import tqdm as _tqdm

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KEEP = 8                        # figures remembered per Output widget (the last ones shown)

_active: list = []              # ipywidgets Output widgets capturing now, innermost last
_shown: dict = {}               # Output's model id -> data bundles shown in it since its last clear
_installed = False


LAB_SETTINGS = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}


def lab_setting(prefix: str | None = None) -> Path | None:
    """Make :data:`LAB_SETTINGS` the defaults of the JupyterLab installed in ``prefix`` (default: this
    Python's; ``$JUPYTERLAB_DIR`` if set). Returns the file, or None where there is no JupyterLab
    or it cannot be written."""
    lab = Path(os.environ.get("JUPYTERLAB_DIR") or Path(prefix or sys.prefix) / "share" / "jupyter" / "lab")
    if prefix is not None:
        lab = Path(prefix) / "share" / "jupyter" / "lab"
    if not (lab / "static").is_dir():               # no JupyterLab here
        return None
    path = lab / "settings" / "overrides.d" / "inpaintkit.json"
    text = json.dumps(LAB_SETTINGS, indent=2) + "\n"
    try:
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    except OSError:
        return None
    return path


def kernel():
    """The IPython shell of a Jupyter kernel we run in, else None."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython
    ip = get_ipython()
    return ip if getattr(ip, "kernel", None) is not None else None


def install() -> bool:
    """In a Jupyter kernel: record what each ipywidgets ``Output`` shows and display widgets with
    their static copy (see the module's doc). Idempotent; returns whether it is installed."""
    global _installed
    ip = kernel()
    if _installed or ip is None:
        return _installed
    lab_setting()
    try:
        import ipywidgets
    except ImportError:                             # pragma: no cover - ipywidgets is a dependency
        return False
    previous = ipywidgets.Widget._widget_construction_callback

    def constructed(widget):
        if isinstance(widget, ipywidgets.Output):
            widget.observe(_capturing, "msg_id")
        if callable(previous):
            previous(widget)

    ipywidgets.Widget.on_widget_constructed(constructed)
    if hasattr(ip.display_pub, "register_hook"):
        ip.display_pub.register_hook(_record)
    ip.display_formatter.mimebundle_formatter.for_type(ipywidgets.Widget, widget_bundle)
    _installed = True
    return True


def _capturing(change) -> None:
    out = change["owner"]
    if change["new"]:
        if out not in _active:
            _active.append(out)
    elif out in _active:
        _active.remove(out)


def _record(msg):
    """Display-publisher hook: remember the bundles shown inside an Output widget (passes all on)."""
    if _active:
        key, kind = _active[-1].model_id, msg.get("msg_type")
        if kind == "clear_output":
            _shown[key] = []
        elif kind in ("display_data", "execute_result"):
            _shown[key] = (_shown.get(key, []) + [dict(msg["content"].get("data", {}))])[-KEEP:]
    return msg


def _walk(widget, seen=None):
    seen = set() if seen is None else seen
    if id(widget) in seen:
        return
    seen.add(id(widget))
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _walk(child, seen)


def controls(widget) -> list[str]:
    """``"name = value"`` of every control inside ``widget`` that has a description."""
    import ipywidgets
    found = []
    for w in _walk(widget):
        if isinstance(w, ipywidgets.ValueWidget) and getattr(w, "description", ""):
            value = w.value
            if isinstance(value, (tuple, list)) and len(value) > 4:
                value = f"{len(value)} items"
            elif isinstance(w, ipywidgets.FileUpload):
                value = f"{len(value)} files"
            elif isinstance(value, float):
                value = f"{value:.3g}"
            found.append(f"{w.description} = {value}")
    return found


def describe(widget) -> str:
    """One line for a kernel-less reader: what the widget is and where it stands."""
    import ipywidgets
    kind = "interactive widget" if isinstance(widget, ipywidgets.interactive) else \
        f"{type(widget).__name__} widget"
    values = controls(widget)
    return f"[{kind}{': ' + ', '.join(values) if values else ''} (run the notebook to use it)]"


def _static_item(data: dict) -> str:
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}" alt="figure"/>'
    if "text/html" in data:
        return data["text/html"]
    text = data.get("text/markdown") or data.get("text/plain")
    return f"<pre>{html.escape(text)}</pre>" if text else ""


def static_html(widget) -> str:
    """The widget's static copy: its description, then what its ``Output`` widgets show now."""
    import ipywidgets
    shown = [d for w in _walk(widget) if isinstance(w, ipywidgets.Output) for d in _shown.get(w.model_id, [])]
    note = (" A picture of its first state; run the notebook to move the controls." if shown else
            " Run the notebook to use it.")
    values = controls(widget)
    head = html.escape(("Interactive widget" if isinstance(widget, ipywidgets.interactive) else
                        f"{type(widget).__name__} widget") + (f" ({', '.join(values)})." if values else "."))
    return (f"<div class=\"inpaintkit-static-widget\"><p><em>{head}{html.escape(note)}</em></p>"
            + "".join(_static_item(d) for d in shown) + "</div>")


def widget_bundle(widget) -> dict:
    """The display bundle of an ipywidgets widget: its live view, its static copy and one line."""
    data = dict(widget._repr_mimebundle_())
    if WIDGET_VIEW in data:
        data["text/plain"] = describe(widget)
        data["text/html"] = static_html(widget)
    return data


class _Discard:
    encoding = "utf-8"

    def write(self, s):
        return len(s)

    def flush(self):
        pass


class NotebookBar(_tqdm):
    """tqdm drawn as one ``text/plain`` output updated in place. Inside an ipywidgets ``Output``
    (a widget's callback) updates cannot reach the output, so the bar is shown once, when done."""

    def __init__(self, *args, **kwargs):
        self._handle = None
        self._when_done = bool(_active)
        kwargs.setdefault("file", _Discard())
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None):
        if self._when_done and not self.disable:        # close() sets disable, then displays
            return True
        from IPython.display import display
        bundle = {"text/plain": self.__str__() if msg is None else msg}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        return True


def progress(total: int, initial: int = 0, desc: str = "", disable: bool = False):
    """A tqdm progress bar: in a Jupyter kernel a :class:`NotebookBar`, elsewhere tqdm's text bar
    on stderr. At most one redraw a second."""
    if kernel() is not None:
        return NotebookBar(total=total, initial=initial, desc=desc, mininterval=1.0, disable=disable)
    return _tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, mininterval=1.0, disable=disable)
