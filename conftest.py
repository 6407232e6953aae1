"""pytest runs the notebooks (nbval) and the unit tests on the `quick` preset unless told otherwise."""
import os

os.environ.setdefault("INPAINTKIT_PRESET", "quick")
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
