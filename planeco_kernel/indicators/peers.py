"""Peer groups of communes, as declared in ``catalogue.yaml`` (``peer_groups``).

A commune's peers are the communes of the same population size class (latest population
municipale of the bundle) and, when the bundle has commune surfaces, the same density class
(population / surface in km²). The class bounds are data, in the catalogue: the grouping is
reproducible and documented.
"""

from __future__ import annotations

import numpy as np

from planeco_kernel.indicators.catalogue import Catalogue, SizeClass


def classify(values: np.ndarray, classes: tuple[SizeClass, ...]) -> np.ndarray:
    """Index of the class of each value (lower bounds inclusive); -1 for missing values."""
    bounds = np.array([c.min for c in classes])
    idx = np.searchsorted(bounds, values, side="right") - 1
    return np.where(np.isnan(values), -1, idx)


def peer_keys(population: np.ndarray, surface_km2: np.ndarray | None, catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """Peer-group key and French label of each commune.

    Returns
    -------
    keys, labels
        ``keys``: ``"t<size>-d<density>"`` (``"t<size>"`` without surfaces; ``None`` when the
        population is unknown); ``labels``: e.g. ``"2 000 à 4 999 habitants, peu dense (25 à 299 hab./km²)"``.
    """
    pop = np.asarray(population, dtype="float64")
    size = classify(pop, catalogue.size_classes)
    if surface_km2 is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            dens = np.where(surface_km2 > 0, pop / surface_km2, np.nan)
        dcls = classify(dens, catalogue.density_classes)
    else:
        dcls = np.full(len(pop), -2)
    keys = np.empty(len(pop), dtype=object)
    labels = np.empty(len(pop), dtype=object)
    for i, (s, d) in enumerate(zip(size, dcls)):
        if s < 0:
            keys[i], labels[i] = None, None
            continue
        label = catalogue.size_classes[s].label
        if d == -2:
            keys[i], labels[i] = f"t{s}", label
        elif d < 0:
            keys[i], labels[i] = None, None
        else:
            keys[i], labels[i] = f"t{s}-d{d}", f"{label}, {catalogue.density_classes[d].label}"
    return keys, labels
