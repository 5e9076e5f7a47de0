"""A history read as named NumPy columns: what the collector's own work reads at rest.

The stores' ``query()`` returns a pandas DataFrame, which the pages and the API draw and
serve. The work that runs with nobody looking (the insight engine's forecasts and warm
start, ``/health``'s missed-tick window) reads the same rows through ``query_columns()`` as
:class:`Columns` instead, so that a monitor at rest never imports pandas (and with it
PyArrow): about 65 MB of resident memory (docs/benchmarks.md, "Footprint at rest").
:meth:`Columns.frame` is the DataFrame ``query()`` returns, built from the same arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class Columns:
    """Rows oldest first: one float64 array per name (``timestamp`` among them), all the same
    length; ``attrs`` as a DataFrame's (``tier``, ``step``, ``error``)."""

    def __init__(self, data: Mapping[str, np.ndarray], attrs: Mapping | None = None):
        self.data = dict(data)
        self.attrs = dict(attrs or {})

    @classmethod
    def of(cls, names: Iterable[str], block: np.ndarray) -> Columns:
        """From a block of one row per name (as the rings and the raw tier hold them)."""
        return cls(dict(zip(names, block, strict=True)))

    @classmethod
    def no_rows(cls, names: Iterable[str] = ("timestamp",)) -> Columns:
        return cls({name: np.zeros(0) for name in names})

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> Columns:
        return cls({name: frame[name].to_numpy("float64") for name in frame.columns}, frame.attrs)

    @property
    def columns(self) -> list[str]:
        return list(self.data)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def __len__(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def frame(self) -> pd.DataFrame:
        """The same rows as a DataFrame (for the pages and the API)."""
        import pandas as pd  # on use, for start-up cost: a monitor at rest never builds a frame

        frame = pd.DataFrame(self.data, columns=list(self.data))
        frame.attrs.update(self.attrs)
        return frame
