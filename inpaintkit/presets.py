"""Training presets: ``quick`` (CI, seconds), ``class`` (a 2-core laptop, minutes) and
``paper`` (a GPU, the papers' sizes and schedules).

Notebooks read the active preset from one place, the ``INPAINTKIT_PRESET``
environment variable (default ``class``)::

    from inpaintkit import presets
    P = presets.active()          # e.g. Preset(name='class', ...)
    P.glcic_size, P.phase1_steps
"""
from __future__ import annotations

import dataclasses
import os

from .errors import check_choice

ENV_VAR = "INPAINTKIT_PRESET"
DEFAULT = "class"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    # data
    n_train: int              # toy cars generated for training
    n_val: int                # fixed validation images shown in sample grids
    # GLCIC (Iizuka et al. 2017)
    glcic_size: int           # image side (paper: 256)
    glcic_width: float        # channel multiplier of the completion net (paper: 1.0)
    glcic_disc_width: float   # channel multiplier of the discriminators (paper: 1.0)
    glcic_batch: int          # paper: 96
    phase1_steps: int         # Tc, paper: 90 000
    phase2_steps: int         # Td, paper: 10 000
    phase3_steps: int         # paper: 400 000 (500k total)
    glcic_lr: float           # Adadelta in the paper; the kit uses Adam at this rate
    # DCGAN (Radford et al.) and semantic inpainting (Yeh et al. 2017)
    dcgan_size: int           # paper: 64
    dcgan_width: float        # paper: 1.0 (64 base filters)
    dcgan_batch: int          # paper: 64 (Yeh: 64)
    dcgan_steps: int
    latent_iters: int         # Yeh: 1500
    restarts: int             # random z restarts per image, best kept
    # Inception-v1 classifier and classifier guidance (sem_inpainting)
    classifier_size: int      # 64 in sem_inpainting
    classifier_width: float
    classifier_batch: int
    classifier_steps: int
    recon_iters: int          # layer-wise reconstruction iterations
    # bookkeeping
    checkpoint_every: int     # steps between checkpoints
    sample_every: int         # steps between sample grids

    def summary(self) -> str:
        return (f"preset {self.name!r}: GLCIC {self.glcic_size}² x{self.glcic_width} batch {self.glcic_batch}, "
                f"phases {self.phase1_steps}/{self.phase2_steps}/{self.phase3_steps} steps; "
                f"DCGAN {self.dcgan_size}² x{self.dcgan_width} {self.dcgan_steps} steps; "
                f"latent search {self.latent_iters} it x{self.restarts} restarts; "
                f"classifier {self.classifier_size}² x{self.classifier_width} {self.classifier_steps} steps")


QUICK = Preset(
    name="quick", n_train=512, n_val=8,
    glcic_size=32, glcic_width=0.25, glcic_disc_width=0.25, glcic_batch=8,
    phase1_steps=20, phase2_steps=10, phase3_steps=10, glcic_lr=1e-3,
    dcgan_size=32, dcgan_width=0.25, dcgan_batch=16, dcgan_steps=20,
    latent_iters=20, restarts=2,
    classifier_size=32, classifier_width=0.25, classifier_batch=16, classifier_steps=20,
    recon_iters=20, checkpoint_every=10, sample_every=10,
)

CLASS = Preset(
    name="class", n_train=6000, n_val=8,
    glcic_size=64, glcic_width=0.5, glcic_disc_width=0.25, glcic_batch=16,
    phase1_steps=200, phase2_steps=100, phase3_steps=60, glcic_lr=1e-3,
    dcgan_size=64, dcgan_width=0.25, dcgan_batch=32, dcgan_steps=600,
    latent_iters=300, restarts=4,
    classifier_size=64, classifier_width=0.25, classifier_batch=32, classifier_steps=400,
    recon_iters=200, checkpoint_every=100, sample_every=50,
)

PAPER = Preset(
    # 20 000 toy cars: at GLCIC's 256² that is 15.7 GB of float32 in host memory (100 000 would be 78 GB)
    name="paper", n_train=20_000, n_val=16,
    glcic_size=256, glcic_width=1.0, glcic_disc_width=1.0, glcic_batch=96,
    phase1_steps=90_000, phase2_steps=10_000, phase3_steps=400_000, glcic_lr=1e-3,
    dcgan_size=64, dcgan_width=1.0, dcgan_batch=64, dcgan_steps=40_000,
    latent_iters=1500, restarts=10,
    classifier_size=64, classifier_width=1.0, classifier_batch=128, classifier_steps=20_000,
    recon_iters=1500, checkpoint_every=1000, sample_every=500,
)

PRESETS = {p.name: p for p in (QUICK, CLASS, PAPER)}


def get(name: str) -> Preset:
    check_choice("preset", name, tuple(PRESETS))
    return PRESETS[name]


def active() -> Preset:
    """The preset named by ``$INPAINTKIT_PRESET`` (default ``class``)."""
    name = os.environ.get(ENV_VAR, DEFAULT).strip().lower() or DEFAULT
    check_choice(f"${ENV_VAR}", name, tuple(PRESETS))
    if name == "paper":
        _distribute_once()
    return PRESETS[name]


_distributed = False


def _distribute_once() -> None:
    """The paper trained on four GPUs: the paper preset uses every visible accelerator."""
    global _distributed
    if not _distributed:
        _distributed = True
        from . import backend
        n = backend.data_parallel()
        if n > 1:
            print(f"paper preset: training data-parallel on {n} replicas ({backend.NAME})")
