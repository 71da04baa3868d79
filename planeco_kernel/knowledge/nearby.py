"""Which territories are "nearby or similar" to a territory code.

The territory model (:meth:`planeco_kernel.territory.TerritoryModel.nearby`) gives the
territories of the same level nearest to a code (great-circle distance between their points);
added to them are the territory's own parents (its EPCI, SCoT…) and the other members of its
EPCI (for a commune) or SCoT (for an EPCI). When the model cannot answer (no data
bundle, or a code it does not know), the fallback is the same département: two codes match when
their département prefix is equal (``69123`` and ``69266`` → ``69``; ``2A004`` → ``2A``;
``97411`` → ``974``). EPCI SIREN codes (9 digits) have no département prefix and only match
themselves in the fallback.
"""

from __future__ import annotations

import re

_COMMUNE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_DEP = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")


def departement_of(code: str) -> str | None:
    """The département prefix of a commune or département code, None otherwise."""
    c = code.strip().upper()
    if _COMMUNE.match(c):
        return c[:3] if c.startswith("97") else c[:2]
    if _DEP.match(c):
        return c
    return None


NEARBY_COUNT = 30
"""How many nearest territories of the same level count as "nearby"."""


def _from_territory_model(code: str) -> set[str] | None:
    from planeco_kernel.errors import PlanecoError
    from planeco_kernel.territory import load_model

    try:
        model = load_model()
        t = model.get(code)
        near = model.nearby(t.code, limit=NEARBY_COUNT, level=t.level)
    except PlanecoError:
        return None
    parents = {lvl: c for lvl, c in t.parents.items() if lvl != "france"}
    # the other members of the same EPCI (for a commune) or SCoT (for an EPCI) count as nearby too
    siblings: set[str] = set()
    group = {"commune": "epci", "epci": "scot"}.get(t.level)
    if group and parents.get(group):
        siblings = {m.code for m in model.get(parents[group], level=group).members(t.level)}
    return {t.code} | {n.code for n in near} | set(parents.values()) | siblings


def related(code: str) -> tuple[set[str] | None, str | None, str]:
    """Codes related to ``code``: ``(codes from the territory model or None, fallback prefix, method)``."""
    codes = _from_territory_model(code)
    if codes is not None:
        return codes, None, f"modèle de territoires ({NEARBY_COUNT} territoires les plus proches et territoires parents)"
    return None, departement_of(code), "même département (repli : modèle de territoires indisponible)"


def matcher(code: str):
    """A predicate ``f(other_code) -> bool`` true for territories nearby or similar to ``code``."""
    codes, dep, _method = related(code)
    if codes is not None:
        return lambda other: other in codes
    if dep is None:
        return lambda other: other == code
    return lambda other: other == code or departement_of(other or "") == dep
