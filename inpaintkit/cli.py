"""Command line: ``python -m inpaintkit check | run | inpaint``.

Errors a user can cause (a missing file, a bad preset) print one line on stderr
and exit with status 2; they never print a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import InpaintkitError


def cmd_check(args) -> int:
    import platform
    from . import __version__, presets
    ok = True
    print(f"inpaintkit {__version__} on Python {platform.python_version()} ({platform.machine()})")
    for mod in ("numpy", "keras", "tensorflow", "torch", "skimage", "cv2", "matplotlib", "ipywidgets", "h5py"):
        try:
            m = __import__(mod)
            print(f"  {mod:<11} {getattr(m, '__version__', '?')}")
        except Exception as e:  # noqa: BLE001 - report anything that breaks an import
            required = mod not in ("torch",)
            ok = ok and not required
            print(f"  {mod:<11} MISSING ({'required' if required else 'optional'}): {type(e).__name__}")
    from . import backend
    gpus = backend.accelerators()
    print(f"  backend     {backend.NAME} {backend.backend_version()} (set KERAS_BACKEND to change)")
    print(f"  devices     {', '.join(gpus) if gpus else 'CPU only'} ({backend.threads()} CPU threads)")
    try:
        print(f"  preset      {presets.active().summary()}")
    except InpaintkitError as e:
        ok = False
        print(f"  preset      ERROR {e}")
    from . import weights
    print(f"  weights     {', '.join(weights.names()) or 'none shipped yet'}")
    print("usable" if ok else "NOT usable: install the missing packages (see README)")
    return 0 if ok else 1


POLL_S = 0.5


def _polling(get_msg):
    """``get_msg(timeout)`` of a kernel client's shell channel, polled in ``POLL_S`` slices.

    nbclient waits for a cell's reply with one ``get_msg(timeout=T)`` (T = None: forever); after a
    cell that displays an ipywidget that wait sometimes misses the reply's wake-up and only sees
    it when T runs out (jupyter/nbclient#312, open): a notebook run then hangs forever, or for the
    whole per-cell timeout. Asking again every half second finds the reply that is already there."""
    import inspect
    from queue import Empty

    async def get(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_S if deadline is None else min(POLL_S, max(0.0, deadline - time.monotonic()))
            try:
                msg = get_msg(timeout=left)
                return await msg if inspect.isawaitable(msg) else msg
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
    return get


def notebook_client(nb, path: Path, timeout):
    """An ``nbclient.NotebookClient`` for ``nb`` run in ``path``'s folder, with :func:`_polling`
    on the shell channel."""
    from nbclient import NotebookClient

    class Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            kc.shell_channel.get_msg = _polling(kc.shell_channel.get_msg)
            return kc

    return Client(nb, timeout=timeout, kernel_name="python3", startup_timeout=300,   # a busy machine: slow start
                  resources={"metadata": {"path": str(path.parent.resolve())}})


def cmd_run(args) -> int:
    import nbformat

    from . import presets
    presets.get(args.preset)
    env_backup = dict(os.environ)
    os.environ[presets.ENV_VAR] = args.preset
    os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "0")
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    try:
        for name in args.notebooks:
            path = Path(name)
            if not path.is_file() or path.suffix != ".ipynb":
                raise InpaintkitError(f"notebook: expected an existing .ipynb file, got {name!r}")
            nb = nbformat.read(path, as_version=4)
            t0 = time.perf_counter()
            client = notebook_client(nb, path, args.timeout)
            try:
                client.execute()
            except Exception as e:  # noqa: BLE001 - a failing cell: report it, keep the partial copy
                out = _save(nb, path, args)
                print(f"FAILED {path} after {time.perf_counter() - t0:.0f}s: {str(e).splitlines()[0][:300]}\n"
                      f"  partial output saved to {out}", file=sys.stderr)
                return 1
            out = _save(nb, path, args)
            print(f"ran {path} on preset {args.preset!r} in {time.perf_counter() - t0:.1f}s -> {out}")
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    return 0


# TensorFlow's C++ start-up lines (absl, before logging is set up: oneDNN, cuInit on a machine
# without a GPU). ``import inpaintkit`` keeps them out of a kernel (see _tflog), so executed notebooks
# need no cleaning; strip_tf_noise stays for notebooks executed by other means.
def without_tf_noise(text: str) -> str:
    """``text`` without TensorFlow's absl start-up lines."""
    from ._tflog import without_noise
    return without_noise(text)


def strip_tf_noise(nb) -> int:
    """Remove TensorFlow's absl start-up lines from every stderr output of ``nb`` (in place);
    outputs left empty are dropped. Returns the number of lines removed."""
    removed = 0
    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                clean = without_tf_noise(out["text"])
                removed += len(out["text"].splitlines()) - len(clean.splitlines())
                if not clean.strip():
                    continue
                out["text"] = clean
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return removed


def kernelspec() -> dict:
    """The notebook metadata of the kernel that runs notebooks (``python3``), with the display name
    the installed ipykernel gives it: JupyterLab writes that name into a notebook it opens, so any
    other name marks the notebook modified the moment it is opened."""
    name = "Python 3 (ipykernel)"
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        name = KernelSpecManager().get_kernel_spec("python3").display_name or name
    except Exception:  # noqa: BLE001 - no kernelspec machinery: keep ipykernel's default name
        pass
    return {"name": "python3", "display_name": name, "language": "python"}


def _save(nb, path: Path, args) -> Path:
    import nbformat
    nb.metadata["kernelspec"] = kernelspec()
    # A committed notebook carries no widget state in its metadata: JupyterLab's widget manager rewrites
    # that metadata (to its live, at first empty, state) as soon as a kernel starts, which marked every
    # cloned notebook modified on opening and, once autosaved, replaced the stored state anyway.
    # Untrusted, JupyterLab draws each widget's static copy (nbdisplay); after a student's Run All +
    # save, JupyterLab's saveState writes the live state.
    nb.metadata.pop("widgets", None)
    if args.inplace:
        out = path
    else:
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / path.name
    nbformat.write(nb, out)
    return out


_INPAINT_FLAGS = ("out", "mask", "method", "weights", "seed")


def cmd_inpaint(args) -> int:
    """Errors name the command-line flag (``--out: expected ...``); the kit's warnings about the
    inputs (an inverted or JPEG mask) print as one ``warning:`` line each."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            from . import methods
            methods.inpaint_file(args.image, args.mask, args.out, method=args.method, weights=args.weights,
                                 seed=args.seed, overwrite=args.overwrite)
        except InpaintkitError as e:
            msg = str(e)
            name = msg.split(":", 1)[0]
            raise InpaintkitError(f"--{msg}" if name in _INPAINT_FLAGS else msg) from None
        finally:
            for w in caught:
                if issubclass(w.category, UserWarning) and str(w.message).split(":", 1)[0] in _INPAINT_FLAGS:
                    print(f"warning: --{w.message}", file=sys.stderr)
    print(f"wrote {args.out} ({args.method})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m inpaintkit", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="versions, backend, GPU or not, active preset")
    c.set_defaults(fn=cmd_check)
    r = sub.add_parser("run", help="execute notebooks headless and save the executed copies")
    r.add_argument("notebooks", nargs="+")
    r.add_argument("--preset", default=os.environ.get("INPAINTKIT_PRESET", "class"))
    r.add_argument("--backend", choices=("tensorflow", "torch", "jax"), default=None)
    r.add_argument("--out-dir", default="executed", help="where executed copies go (default: executed/)")
    r.add_argument("--inplace", action="store_true", help="overwrite the notebook with its executed copy")
    r.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    r.set_defaults(fn=cmd_run)
    i = sub.add_parser("inpaint", help="fill the holes of an image")
    i.add_argument("image")
    i.add_argument("--mask", required=True, help="image of the same size, non-zero = hole (a JPEG mask is "
                                                 "lossy: binarised at 0.5); over 50 %% hole warns (inverted?)")
    i.add_argument("--method", default="telea")
    i.add_argument("--out", required=True, help="lossless output (.png, .bmp, .tif, .tiff, .webp), written "
                                                "atomically: a failed write leaves a previous file intact")
    i.add_argument("--overwrite", action="store_true", help="allow --out to be the input image or mask")
    i.add_argument("--weights", default=None, help="a .weights.h5 file (learned methods) instead of the shipped one; "
                                                    "for glcic also a shipped name, e.g. glcic_photos_phase1")
    i.add_argument("--seed", type=int, default=0)
    i.set_defaults(fn=cmd_inpaint)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from .nbdisplay import lab_setting
    lab_setting()          # JupyterLab saves widget state with the notebook (see nbdisplay)
    try:
        return args.fn(args)
    except InpaintkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
