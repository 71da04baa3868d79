"""Why an indicator has no value for a commune, when the build knows it.

The source step of the build (:mod:`planeco_kernel.bundle.sources_step`) writes the bundle's
``missing_reasons`` table (:data:`planeco_kernel.bundle.schema.MISSING_REASONS`): one row
``source, variable, commune_code, reason`` per value it left missing for a known reason (the rate or
median of a merged commune, of Paris, Lyon or Marseille, that cannot be computed from its pieces:
:mod:`planeco_kernel.sources.merged_communes`). A ``variable`` is a catalogue component; an indicator
reads the components of its formula (:attr:`planeco_kernel.indicators.catalogue.Indicator.components`),
each from the sources the catalogue names. :func:`missing_reason` joins the two: for an indicator and
a commune without a value, the French reasons of its components, or ``None``.

Only commune values have such reasons: above the commune, an aggregate leaves out the communes
without a value (its coverage says how many).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planeco_kernel.bundle.reader import Bundle

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from planeco_kernel.indicators.catalogue import Catalogue
    from planeco_kernel.indicators.cube import Cube

Reasons = dict[str, list[tuple[str, str, str]]]
"""``{commune_code: [(source, variable, reason), …]}``."""

TABLE = "missing_reasons"


def index_reasons(table: pd.DataFrame | None) -> Reasons:
    """The ``missing_reasons`` table indexed by commune (``{}`` for ``None``)."""
    out: Reasons = {}
    if table is None:
        return out
    for src, var, code, why in zip(table["source"], table["variable"], table["commune_code"], table["reason"],
                                   strict=True):
        out.setdefault(str(code), []).append((str(src), str(var), str(why)))
    return out


_BY_BUNDLE: dict[tuple, Reasons] = {}


def bundle_reasons(bundle: Bundle) -> Reasons:
    """The reasons of ``bundle`` (``{}`` for a bundle built before the table existed), cached per build."""
    hit = _BY_BUNDLE.get(bundle.stamp)
    if hit is None:
        hit = index_reasons(bundle.read(TABLE) if bundle.has(TABLE) else None)
        _BY_BUNDLE.clear()
        _BY_BUNDLE[bundle.stamp] = hit
    return hit


def reason_for(reasons: Reasons, catalogue: Catalogue, indicator: str, code: str) -> str | None:
    """The French reason(s) why commune ``code`` has no value of ``indicator``, from ``reasons``; ``None``
    when none is known. Several components (or sources) without a value: their distinct reasons, joined
    by « ; », in the order of the formula's components."""
    rows = reasons.get(str(code))
    if not rows:
        return None
    ind = catalogue.get(indicator)
    texts: list[str] = []
    for name in sorted(ind.components):
        comp = catalogue.components.get(name)
        sources = set(comp.sources) if comp is not None else set()
        for src, var, why in rows:
            if var == name and (not sources or src in sources) and why not in texts:
                texts.append(why)
    return " ; ".join(texts) or None


def missing_reason(where: Cube | Bundle, indicator: str, level: str, code: str) -> str | None:
    """Why territory ``code`` at ``level`` has no value of ``indicator``, if the build knows it.

    ``where`` is the cube (whose :attr:`~planeco_kernel.indicators.cube.Cube.missing_reasons` the cube
    loader filled from its bundle) or the bundle itself (its catalogue is then the default one).
    Returns ``None`` above the commune level and when no reason is recorded.
    """
    if level != "commune":
        return None
    if isinstance(where, Bundle):
        from planeco_kernel.indicators.catalogue import load_catalogue

        return reason_for(bundle_reasons(where), load_catalogue(), indicator, code)
    return reason_for(where.missing_reasons, where.catalogue, indicator, code)


def missing_text(reason: str | None, default: str = "non disponible pour ce territoire") -> str:
    """« non disponible : <reason> », or ``default`` when no reason is known."""
    return f"non disponible : {reason}" if reason else default
