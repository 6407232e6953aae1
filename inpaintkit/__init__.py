"""inpaintkit: a teaching kit for deep image inpainting (GLCIC, DCGAN + Yeh et al., classifier guidance).

Conventions, stated once for the whole kit:

* images are ``float32`` arrays in **[0, 1]**, channels last: ``(H, W, 3)`` or ``(N, H, W, 3)``;
* masks are ``float32`` with **1 = hole**: ``(H, W, 1)`` or ``(N, H, W, 1)``;
* models take and return [0, 1] images; any other range a network uses inside
  (DCGAN's tanh [-1, 1], a classifier's normalisation) is converted inside the model.
"""
import os as _os

# TensorFlow's C++ start-up chatter would land in every notebook; keep warnings and errors.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from .errors import InpaintkitError  # noqa: F401
