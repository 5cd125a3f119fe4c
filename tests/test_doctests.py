"""Every docstring example in the package runs and shows what it claims."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cleancorp

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(cleancorp.__path__, "cleancorp.")
    if not m.name.endswith("__main__") and "engines" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
