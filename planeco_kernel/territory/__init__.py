"""Territories of the current French geography (communes, EPCI, SCoT, départements, régions, France).

>>> from planeco_kernel.territory import load_model
>>> model = load_model()                      # doctest: +SKIP
>>> model.resolve("st etienne").territory     # doctest: +SKIP
Territory(commune:42218 'Saint-Étienne')

See :mod:`planeco_kernel.territory.model` for the look-up rules and
:mod:`planeco_kernel.territory.names` for name matching.
"""

from __future__ import annotations

from planeco_kernel.territory.model import Resolution, Territory, TerritoryModel, clear_cache, load_model

__all__ = ["Resolution", "Territory", "TerritoryModel", "clear_cache", "load_model"]
