"""Which ZAN reduction target applies to a territory: its own document's, else the nearest parent's.

Order searched, from the territory up: the territory itself (a commune's PLU, an EPCI's PLUi),
its EPCI (PLUi), its SCoT, its région (SRADDET); none → the law's 50 %
(:data:`planeco_kernel.trajectories.zan.DEFAULT_TARGET`).

The targets come from the bundle's ``zan_targets`` table (Hauts-de-France, sparte). Its SCoT ids
are sparte's own: they reach a SCoT of the territory model only through ``scot_crosswalk``
(sparte id → SIREN), which the user declares; none is shipped because no public crosswalk is in
the mirror (see :mod:`planeco_kernel.sources.zan_targets`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from planeco_kernel.trajectories.zan import DEFAULT_TARGET, Target

SOURCE_LABEL = "Objectifs territorialisés (sparte, MTES-MCT), Hauts-de-France"
_LEVEL_DOC = dict(region="SRADDET", scot="SCoT", epci="PLUi", commune="PLU")
"""The planning document that sets a target at each level (not a level word)."""


class TargetBook:
    """Targets by (level, code) and the inheritance rule."""

    def __init__(self, targets: pd.DataFrame | None, names: Mapping[tuple[str, str], str] | None = None,
                 scot_crosswalk: Mapping[str, str] | None = None):
        self._by: dict[tuple[str, str], Target] = {}
        self.unresolved: list[str] = []
        names = names or {}
        cross = dict(scot_crosswalk or {})
        if targets is None:
            return
        for r in targets.itertuples(index=False):
            level, code = str(r.land_level), str(r.land_code)
            if level == "scot_sparte":
                siren = cross.get(str(r.land_id)) or cross.get(code)
                if siren is None:
                    self.unresolved.append(str(r.land_id))
                    continue
                level, code = "scot", siren
            doc = str(r.document) if r.document else _LEVEL_DOC.get(level, "")
            self._by[(level, code)] = Target(
                reduction=float(r.reduction_pct) / 100.0, status=str(r.status), document=doc,
                origin_level=level, origin_code=code, origin_name=names.get((level, code), ""),
                url=None if pd.isna(r.document_url) else str(r.document_url), source=SOURCE_LABEL,
            )

    def __len__(self) -> int:
        return len(self._by)

    def own(self, level: str, code: str) -> Target | None:
        return self._by.get((level, code))

    def inherited(self, row: Mapping) -> Target:
        """The target of a ``territories`` row: its own, else the nearest parent's, else 50 %."""
        level, code = str(row["level"]), str(row["code"])
        chain = [(level, code)]
        for lvl, col in (("epci", "epci_code"), ("scot", "scot_code"), ("region", "region_code")):
            if lvl == level:
                continue
            v = row.get(col)
            if v is not None and not pd.isna(v) and _above(level, lvl):
                chain.append((lvl, str(v)))
        for key in chain:
            t = self._by.get(key)
            if t is not None:
                return t
        return DEFAULT_TARGET


_ORDER = {"commune": 0, "epci": 1, "scot": 2, "departement": 3, "region": 4, "france": 5}


def _above(level: str, parent_level: str) -> bool:
    return _ORDER[parent_level] > _ORDER[level]
