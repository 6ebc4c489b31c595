"""Reading the records a collection script pickled when it ran as ``python -m`` (its dataclasses then live in
``__main__``, which the fitting script that reads them is not)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


def read_records(path: Path, *classes: type) -> Any:
    """Unpickle ``path``, resolving ``__main__.<name>`` to the class of that name among ``classes``."""
    by_name = {cls.__name__: cls for cls in classes}

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "__main__" and name in by_name:
                return by_name[name]
            return super().find_class(module, name)

    with Path(path).open("rb") as source:
        return _Unpickler(source).load()
