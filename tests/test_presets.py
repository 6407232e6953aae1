import pytest

from inpaintkit import presets
from inpaintkit.errors import InpaintkitError


def test_three_presets_grow_from_quick_to_paper():
    q, c, p = presets.QUICK, presets.CLASS, presets.PAPER
    for field in ("phase1_steps", "dcgan_steps", "latent_iters", "classifier_steps"):
        assert getattr(q, field) < getattr(c, field) < getattr(p, field), field
    assert p.glcic_size == 256 and p.glcic_batch == 96 and p.glcic_width == 1.0
    assert (p.phase1_steps, p.phase2_steps, p.phase3_steps) == (90_000, 10_000, 400_000)
    assert p.latent_iters == 1500 and p.dcgan_size == 64
    for pr in presets.PRESETS.values():
        assert pr.glcic_size % 4 == 0


def test_active_reads_environment(monkeypatch):
    monkeypatch.setenv("INPAINTKIT_PRESET", "paper")
    assert presets.active() is presets.PAPER
    monkeypatch.delenv("INPAINTKIT_PRESET")
    assert presets.active() is presets.CLASS
    monkeypatch.setenv("INPAINTKIT_PRESET", "huge")
    with pytest.raises(InpaintkitError, match=r"\$INPAINTKIT_PRESET: expected one of 'quick', 'class', 'paper', got 'huge'"):
        presets.active()
