"""Which territories are "nearby or similar" to a territory code.

The territory model (``planeco_kernel.territory``) is written in parallel; it is used only
through an optional import: if it provides ``neighbours(code)`` or ``similar(code)`` returning
territory codes, those are used. Otherwise (module absent, function absent, or an error) the
fallback is the same département: two codes match when their département prefix is equal
(``69123`` and ``69266`` → ``69``; ``2A004`` → ``2A``; ``97411`` → ``974``). EPCI SIREN codes
(9 digits) have no département prefix and only match themselves in the fallback.
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


def _from_territory_model(code: str) -> set[str] | None:
    try:
        from planeco_kernel import territory as model  # optional: written in parallel
    except Exception:
        return None
    for name in ("neighbours", "similar"):
        fn = getattr(model, name, None)
        if callable(fn):
            try:
                return {str(getattr(t, "code", t)) for t in fn(code)} | {code}
            except Exception:
                return None
    return None


def related(code: str) -> tuple[set[str] | None, str | None, str]:
    """Codes related to ``code``: ``(codes from the territory model or None, fallback prefix, method)``."""
    codes = _from_territory_model(code)
    if codes is not None:
        return codes, None, "modèle de territoires (voisins et territoires similaires)"
    return None, departement_of(code), "même département (repli : modèle de territoires indisponible)"


def matcher(code: str):
    """A predicate ``f(other_code) -> bool`` true for territories nearby or similar to ``code``."""
    codes, dep, _method = related(code)
    if codes is not None:
        return lambda other: other in codes
    if dep is None:
        return lambda other: other == code
    return lambda other: other == code or departement_of(other or "") == dep
