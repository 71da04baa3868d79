"""Indicators: the catalogue (declared as data), the commune → France cube, comparisons.

Public API (imports are lazy so that ``import planeco_kernel.indicators`` stays cheap):

- :func:`load_catalogue` — the validated catalogue (``catalogue.yaml``);
- :func:`load_cube` — the :class:`~planeco_kernel.indicators.cube.Cube` of every level;
- :func:`compare` — one territory against its parents and peers.
"""

from __future__ import annotations

from planeco_kernel.indicators.catalogue import Catalogue, Indicator, load_catalogue

__all__ = ["Catalogue", "Indicator", "load_catalogue", "load_cube", "compare"]


def load_cube(data_dir=None, **kwargs):
    """Load (or build) the indicator cube of the bundle; see :func:`planeco_kernel.indicators.cube.load_cube`."""
    from planeco_kernel.indicators.cube import load_cube as _load

    return _load(data_dir, **kwargs)


def compare(code: str, level: str | None = None, *, cube=None, data_dir=None):
    """Compare one territory; see :func:`planeco_kernel.indicators.comparison.compare`."""
    from planeco_kernel.indicators.comparison import compare as _compare

    return _compare(code, level, cube=cube, data_dir=data_dir)
