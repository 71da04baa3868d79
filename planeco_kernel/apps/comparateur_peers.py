"""The peers of the « Comparateur territorial »: automatic comparable territories and ANCT programme peers.

A part of :class:`planeco_kernel.apps.comparateur_data.ComparateurData` (these methods use its
territory model, comparator and cube), kept apart from the cards, the map and the exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planeco_kernel.levels import PARENT_COLUMNS

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

PROGRAMME_ORDER: tuple[str, ...] = ("acv", "pvd", "ort")
"""A commune's programme for the peer group « communes du même programme »: ACV, then PVD, then ORT."""

PROGRAMME_PEERS = 12
"""At most this many communes of the same programme are added (nearest in population)."""

PEER_GROUPS: dict[str, str] = {
    "peers": "territoires comparables proches (taille et densité)",
    "programme_departement": "communes du même programme ANCT dans le département",
    "programme_region": "communes du même programme ANCT dans la région",
}
"""Peer groups of the side-by-side comparison: value → French label."""

AUTO_PEERS = 3
"""Automatic peers added to the comparison (nearest territories of the same level and peer group)."""


class ComparateurPeers:
    """Peer searches of :class:`~planeco_kernel.apps.comparateur_data.ComparateurData`."""

    def auto_peers(self, t: Territory, n: int = AUTO_PEERS) -> list[Territory]:
        """The ``n`` nearest territories of the same level — for a commune, of the same peer group
        (size and density classes of the catalogue)."""
        if t.level == "france":
            return []
        tab = self.comparator.tables("commune") if t.level == "commune" else None
        keys = tab.groups.get("peers") if tab is not None else None
        if keys is None or t.code not in tab.row:
            try:
                return self.model.nearby(t.code, limit=n, level=t.level)
            except Exception:  # noqa: BLE001 - no geometry in the bundle: no automatic peers
                return []
        mine = keys[tab.row[t.code]]
        found: list[Territory] = []
        for limit in (100, 2500):  # widen the circle for rare classes (big cities)
            try:
                near = self.model.nearby(t.code, limit=limit, level="commune")
            except Exception:  # noqa: BLE001
                return []
            found = [m for m in near if m.code in tab.row and keys[tab.row[m.code]] == mine][:n]
            if len(found) >= n:
                break
        return found

    def programme_of(self, t: Territory) -> str | None:
        """The ANCT programme a commune takes part in (« acv », « pvd », then « ort »), or ``None``."""
        comps = self.cube.components
        if t.level != "commune" or "programme_acv" not in comps.values:
            return None
        i = int(np.flatnonzero(comps.codes == t.code)[0]) if (comps.codes == t.code).any() else None
        if i is None:
            return None
        for p in PROGRAMME_ORDER:
            arr = comps.values.get(f"programme_{p}")
            if arr is not None and (arr[i] == 1.0).any():
                return p
        return None

    def programme_peers(self, t: Territory, scope: str = "departement", n: int = PROGRAMME_PEERS) -> list[Territory]:
        """The other communes of ``t``'s ANCT programme in its département (or région), nearest in
        population first, at most ``n``; ``[]`` when ``t`` takes part in none."""
        p = self.programme_of(t)
        if p is None:
            return []
        comps = self.cube.components
        member = (comps.values[f"programme_{p}"] == 1.0).any(axis=1)
        terr = self.cube.territories
        communes = terr[terr["level"] == "commune"].set_index("code").reindex(comps.codes)
        col = PARENT_COLUMNS[scope]
        here = communes[col].to_numpy(dtype=object) == communes.loc[t.code, col]
        codes = [c for c in comps.codes[member & here] if c != t.code]
        pop = communes["population"].astype("float64")
        mine = float(pop.get(t.code, np.nan))
        codes.sort(key=lambda c: abs(float(pop.get(c, np.nan)) - mine) if not np.isnan(mine) else 0.0)
        return [self.model.get(c, "commune") for c in codes[:n]]
