"""Split a SCoT's or EPCI's ZAN envelope among its communes: declared keys, weights, the 1 ha floor.

Method
------
1. Each key ``k`` (a non-negative value per commune) becomes shares ``s_k = v_k / Σ v_k``; the
   combined share is ``Σ_k w_k s_k / Σ_k w_k`` with the declared weights ``w_k ≥ 0``.
2. The envelope ``E`` is split in proportion to the combined shares.
3. The *garantie communale* is a hard constraint: every commune gets at least
   :data:`~planeco_kernel.trajectories.zan.FLOOR_HA` (loi du 20 juillet 2023). Communes below it are
   raised to it and the others share what is left in proportion to their shares, repeated until
   no commune is below (water filling). With ``pools`` (pooling at EPCI level, the law allows the
   guarantee to be mutualised in the intercommunality), the floor applies to each pool as a whole
   (number of its communes × 1 ha), and a pool's envelope is split among its communes by their
   shares, so a commune of a pool may get less than 1 ha.
4. Σ communes = ``E`` exactly (checked, difference reported); the amounts forced by the floors and
   taken from the other communes are shown (``redistribution_ha``). If the floors alone exceed
   ``E`` the guarantee wins: each unit gets its floor and the overrun is reported.

Rounded values (``envelope_rounded_ha``, 0.01 ha) use the largest-remainder method so that they too
sum exactly to the rounded envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories.zan import FLOOR_HA, REFERENCE_PERIOD

DECLARED_KEYS: dict[str, str] = {
    "conso_passee": "consommation d'espaces 2011–2020 (ha)",
    "population": "population municipale (dernier recensement)",
    "croissance_pop": "croissance de la population (5 ans, négatif compté 0)",
    "sobriete": "effort de sobriété passé : baisse de la consommation 2016–2020 par rapport à 2011–2015 (ha, négatif compté 0)",
    "egal": "part égale par commune",
}
"""Keys planeco computes from the bundle; users add their own (``user_keys``)."""


class SplitError(PlanecoError):
    """The split cannot be done as asked (unknown key, missing values, bad weights)."""


@dataclass
class SplitResult:
    envelope_ha: float
    weights: dict[str, float]
    pooled: bool
    table: pd.DataFrame
    sum_check: dict
    floors_total_ha: float
    redistributed_ha: float
    overrun_ha: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "envelope_ha": round(self.envelope_ha, 6), "weights": self.weights, "pooled": self.pooled,
            "sum_check": self.sum_check, "floors_total_ha": round(self.floors_total_ha, 6),
            "redistributed_ha": round(self.redistributed_ha, 6), "overrun_ha": round(self.overrun_ha, 6),
            "notes": self.notes,
            "communes": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                         for r in self.table.to_dict(orient="records")],
        }


def parse_weights(items: list[str] | Mapping[str, float]) -> dict[str, float]:
    """``["conso_passee=0.7", "population=0.3"]`` -> weights; errors in French naming the item."""
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = []
        for it in items:
            if "=" not in it:
                raise SplitError(f"Clé « {it} » : écrivez NOM=POIDS, par exemple conso_passee=0.7.")
            k, v = it.split("=", 1)
            try:
                pairs.append((k.strip(), float(v.replace(",", "."))))
            except ValueError as exc:
                raise SplitError(f"Clé « {it} » : le poids « {v} » n'est pas un nombre.") from exc
    w: dict[str, float] = {}
    for k, v in pairs:
        if not np.isfinite(v) or v < 0:
            raise SplitError(f"Clé « {k} » : le poids doit être un nombre positif ou nul (trouvé {v}).")
        if k in w:
            raise SplitError(f"Clé « {k} » donnée deux fois.")
        w[k] = float(v)
    if not w or sum(w.values()) <= 0:
        raise SplitError("Donnez au moins une clé de poids strictement positif.")
    return w


def combined_shares(values: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Weighted mean of the keys' normalised shares (sums to 1)."""
    total_w = sum(weights.values())
    out = np.zeros(len(values))
    for k, w in weights.items():
        if w == 0:
            continue
        if k not in values.columns:
            raise SplitError(f"Clé inconnue « {k} ». Clés disponibles : {', '.join(values.columns)}.")
        v = values[k].to_numpy(dtype="float64")
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            who = values.index[bad][:5].tolist()
            raise SplitError(f"Clé « {k} » : valeurs manquantes ou négatives pour {who} — choisissez une autre clé "
                             "ou fournissez ces valeurs.")
        s = v.sum()
        if s <= 0:
            raise SplitError(f"Clé « {k} » : toutes les valeurs sont nulles, elle ne peut pas répartir l'enveloppe.")
        out += (w / total_w) * (v / s)
    return out


def _water_fill(total: float, share: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Allocate ``total`` by ``share`` with ``alloc ≥ floor``; floors win if Σ floor > total."""
    n = len(share)
    fixed = np.zeros(n, dtype=bool)
    alloc = np.zeros(n)
    if floor.sum() >= total:
        return floor.astype("float64").copy()
    while True:
        free = ~fixed
        remaining = total - floor[fixed].sum()
        s = share[free].sum()
        if s <= 0:  # only zero-share units left: they get their floor, the rest by floors
            alloc[free] = floor[free]
            leftover = total - alloc.sum()
            alloc += leftover * floor / floor.sum()
            return alloc
        alloc[free] = remaining * share[free] / s
        alloc[fixed] = floor[fixed]
        newly = free & (alloc < floor - 1e-12)
        if not newly.any():
            return alloc
        fixed |= newly


def round_exact(values: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Round so that the rounded values sum to the rounded total (largest remainder)."""
    scale = 10 ** decimals
    target = int(round(values.sum() * scale))
    scaled = values * scale
    base = np.floor(scaled + 1e-9)
    rest = target - int(base.sum())
    if rest > 0:
        order = np.argsort(-(scaled - base), kind="stable")
        base[order[:rest]] += 1
    elif rest < 0:
        order = np.argsort(scaled - base, kind="stable")
        base[order[:-rest]] -= 1
    return base / scale


def split_envelope(envelope_ha: float, values: pd.DataFrame, weights: Mapping[str, float], *,
                   pools: pd.Series | None = None, floor: float = FLOOR_HA,
                   names: pd.Series | None = None) -> SplitResult:
    """Split ``envelope_ha`` among the communes (rows of ``values``, index commune codes).

    Parameters
    ----------
    values
        One column per key, one row per commune (non-negative; a missing value is an error).
    weights
        Key -> weight (≥ 0, not all zero).
    pools
        Commune -> pool id (EPCI SIREN) to pool the floors; ``None`` for a floor per commune.
    """
    if not np.isfinite(envelope_ha) or envelope_ha < 0:
        raise SplitError(f"Enveloppe invalide : {envelope_ha}.")
    if values.index.duplicated().any():
        raise SplitError(f"Communes en double : {values.index[values.index.duplicated()].tolist()[:5]}")
    share = combined_shares(values, weights)
    n = len(values)
    before = envelope_ha * share
    if pools is None:
        unit = np.arange(n)
    else:
        p = pools.reindex(values.index)
        keys = [str(x) if not pd.isna(x) else f"_commune_{i}" for i, x in enumerate(p)]
        _, unit = np.unique(keys, return_inverse=True)
    n_units = unit.max() + 1 if n else 0
    u_share = np.bincount(unit, weights=share, minlength=n_units)
    u_floor = floor * np.bincount(unit, minlength=n_units).astype("float64")
    u_alloc = _water_fill(envelope_ha, u_share, u_floor)
    # within a unit: by share, equal parts if the unit's shares are all zero
    within = np.where(u_share[unit] > 0, share / np.where(u_share[unit] > 0, u_share[unit], 1.0),
                      1.0 / np.bincount(unit, minlength=n_units)[unit])
    alloc = u_alloc[unit] * within
    total = float(alloc.sum())
    floors_total = float(u_floor.sum())
    overrun = max(0.0, floors_total - envelope_ha)
    raised = alloc > before + 1e-9
    redistributed = float((alloc - before)[raised].sum())
    rounded = round_exact(alloc, 2)
    table = pd.DataFrame({
        "code": values.index.astype(str), "name": (names.reindex(values.index).to_numpy() if names is not None else ""),
        "share_pct": 100 * share, "before_floor_ha": before, "envelope_ha": alloc, "envelope_rounded_ha": rounded,
        "floor_applied": raised, "pool": (pools.reindex(values.index).to_numpy() if pools is not None else None),
        "redistribution_ha": alloc - before,
    })
    expected = envelope_ha + overrun
    diff = total - expected
    check = {"envelope_ha": round(envelope_ha, 6), "sum_communes_ha": round(total, 6), "difference_ha": diff,
             "ok": abs(diff) <= 1e-9 * max(1.0, expected),
             "sum_rounded_ha": round(float(rounded.sum()), 2), "rounded_ok": abs(rounded.sum() - round(total, 2)) < 5e-3}
    notes = []
    if overrun > 0:
        notes.append(f"Les garanties communales ({floors_total:g} ha) dépassent l'enveloppe de {overrun:.2f} ha : "
                     "la garantie l'emporte, chaque commune (ou groupement) reçoit son plancher.")
    if redistributed > 0 and overrun == 0:
        notes.append(f"{redistributed:.2f} ha ont été pris aux autres communes pour garantir le plancher de {floor:g} ha.")
    return SplitResult(envelope_ha, dict(weights), pools is not None, table, check, floors_total, redistributed, overrun, notes)


# ---------------------------------------------------------------------- keys from the bundle

def key_values(pdata, communes: pd.DataFrame, keys, *, user_keys: pd.DataFrame | None = None) -> pd.DataFrame:
    """Values of the requested keys for ``communes`` (rows of ``territories``), index commune code."""
    idx = pd.Index(communes["code"].astype(str).tolist(), name="commune_code")
    out = pd.DataFrame(index=idx)
    f = pdata.commune_flows
    r0, r1 = REFERENCE_PERIOD
    for k in keys:
        if user_keys is not None and k in user_keys.columns:
            out[k] = pd.to_numeric(user_keys[k], errors="coerce").reindex(idx)
        elif k == "conso_passee":
            out[k] = f.reindex(idx).reindex(columns=range(r0, r1 + 1)).sum(axis=1, min_count=r1 - r0 + 1) if not f.empty else np.nan
        elif k == "sobriete":
            if f.empty:
                out[k] = np.nan
            else:
                g = f.reindex(idx)
                a = g.reindex(columns=range(2011, 2016)).sum(axis=1, min_count=5)
                b = g.reindex(columns=range(2016, 2021)).sum(axis=1, min_count=5)
                out[k] = (a - b).clip(lower=0)
        elif k == "population":
            out[k] = pd.to_numeric(communes.set_index("code")["population"], errors="coerce").reindex(idx).astype("float64")
        elif k == "croissance_pop":
            out[k] = _pop_growth(pdata, idx)
        elif k == "egal":
            out[k] = 1.0
        else:
            known = list(DECLARED_KEYS) + (list(user_keys.columns) if user_keys is not None else [])
            raise SplitError(f"Clé inconnue « {k} ». Clés disponibles : {', '.join(known)}.")
    return out


def _pop_growth(pdata, idx: pd.Index) -> pd.Series:
    pop = pdata.tables.get("population")
    if pop is None:
        return pd.Series(np.nan, index=idx)
    p = pdata.tables.get("_population_wide")
    if p is None:  # computed once per PlanningData
        p = pop[pop["level"] == "commune"].pivot_table(index="code", columns="census_year", values="population",
                                                       aggfunc="first")
        pdata.tables["_population_wide"] = p
    last = max(p.columns)
    first = min(c for c in p.columns if c >= last - 5)
    return (p[last].astype("float64") - p[first].astype("float64")).clip(lower=0).reindex(idx)


def compare(results: Mapping[str, SplitResult]) -> pd.DataFrame:
    """Side by side: one row per commune, one envelope column per scenario, and the spread."""
    frames = []
    for name, r in results.items():
        frames.append(r.table.set_index("code")["envelope_ha"].rename(name))
    out = pd.concat(frames, axis=1)
    first = next(iter(results.values()))
    out.insert(0, "name", first.table.set_index("code")["name"])
    vals = out[list(results)]
    out["ecart_max_ha"] = vals.max(axis=1) - vals.min(axis=1)
    return out.reset_index()


# ---------------------------------------------------------------------- scenarios of keys

SPLIT_FORMAT = "planeco-zan-split"


@dataclass
class KeyScenario:
    """A named set of key weights for a territory's split, saved as a small YAML file."""

    name: str
    territory: str
    weights: dict[str, float]
    pool_floors: bool = False
    version: int = 1

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump({"format": SPLIT_FORMAT, "version": self.version, "name": self.name,
                               "territory": self.territory, "keys": self.weights, "pool_floors": self.pool_floors},
                              allow_unicode=True, sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str, *, origin: str = "répartition.yaml") -> KeyScenario:
        import yaml

        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SplitError(f"{origin} : YAML invalide ({exc}).") from exc
        if not isinstance(d, dict) or d.get("format") != SPLIT_FORMAT:
            raise SplitError(f"{origin} : format attendu « {SPLIT_FORMAT} ».")
        for k in ("name", "territory", "keys"):
            if k not in d:
                raise SplitError(f"{origin} : champ « {k} » manquant.")
        if not isinstance(d["keys"], dict):
            raise SplitError(f"{origin} : « keys » doit associer chaque clé à son poids.")
        return cls(str(d["name"]), str(d["territory"]), parse_weights({str(k): float(v) for k, v in d["keys"].items()}),
                   bool(d.get("pool_floors", False)), int(d.get("version", 1)))


def export_xlsx(results: Mapping[str, SplitResult]) -> bytes:
    """The side-by-side comparison and each scenario's detail, one sheet each (XLSX)."""
    import io

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        compare(results).to_excel(xl, index=False, sheet_name="Comparaison")
        for name, r in results.items():
            r.table.to_excel(xl, index=False, sheet_name=name[:31])
    return buf.getvalue()
