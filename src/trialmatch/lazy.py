"""A module imported on first attribute access, so a command that never uses it never pays
for importing it.

>>> json = LazyModule("json")
>>> json.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # introspection (doctest, copy, pickle) imports nothing
            raise AttributeError(attr)
        module = importlib.import_module(self._name)
        value = getattr(module, attr)
        setattr(self, attr, value)  # later reads skip this method
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
