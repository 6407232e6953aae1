"""inpaintkit: a teaching kit for deep image inpainting (GLCIC, DCGAN + Yeh et al., classifier guidance).

Conventions, stated once for the whole kit:

* images are ``float32`` arrays in **[0, 1]**, channels last: ``(H, W, 3)`` or ``(N, H, W, 3)``;
* masks are ``float32`` with **1 = hole**: ``(H, W, 1)`` or ``(N, H, W, 1)``;
* models take and return [0, 1] images; any other range a network uses inside
  (DCGAN's tanh [-1, 1], a classifier's normalisation) is converted inside the model.
"""
from . import _tflog

# TensorFlow's C++ start-up lines would land in every notebook (and before the CLI's errors):
# silenced before anything imports TensorFlow (see _tflog).
_tflog.install()

__version__ = "0.1.0"

from .errors import InpaintkitError  # noqa: E402,F401
from . import nbdisplay as _nbdisplay  # noqa: E402

# In a Jupyter kernel: widgets carry a static picture of their first state and progress bars are
# text updated in place, so a saved notebook reads right without a kernel (see nbdisplay).
_nbdisplay.install()
