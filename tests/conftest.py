"""Fixtures for every test module (the root conftest.py holds the suite-wide settings)."""
import pytest


@pytest.fixture(autouse=True)
def _float32_policy_after_each_test():
    """A test that switches Keras to mixed_bfloat16 (or runs a script that does) never leaks it into the
    tests that run after it in the same worker."""
    yield
    import sys
    keras = sys.modules.get("keras")
    if keras is not None and keras.mixed_precision.global_policy().name != "float32":
        keras.mixed_precision.set_global_policy("float32")
