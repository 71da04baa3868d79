"""ZEN side: the SGPE regional lever panorama, kt ↔ physical conversion, national sector targets,
declension to sub-territories by visible keys, and the roll-up of commitments against the lever gap.

The panorama is **SGPE working data, indicative and non-binding** (:data:`NOTICE`), shown with it
wherever it appears.

Conversion (the simulateur's, README of the mirror)::

    phys_2030 = max(0, start_2019 + kt × ratio)      kt = (phys_2030 − start_2019) / ratio

a negative ratio meaning the physical quantity goes down (boilers, L/100 km), bounded to
``[0, start_2019]``. Levers with ``ratio = 0`` (``noTranslation``) have no physical unit: a quantity
in a physical unit is refused for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planeco_kernel.errors import PlanecoError
from planeco_kernel.sources.catalog import info
from planeco_kernel.sources.sgpe_leviers import NOTICE, SOURCE_ID

KT = "ktCO2e"
SOURCE_LABEL = f"{info(SOURCE_ID).label}, {info(SOURCE_ID).vintage_text.split(' ;')[0]}"
ACTOR_TYPES = ("entreprise", "association", "etablissement_public", "collectivite")
COMMITMENT_COLUMNS = ("territory_code", "lever_id", "quantity", "unit", "year", "actor", "actor_type", "source", "action_id")

NATIONAL_SECTOR_SERIES: dict[str, str] = {
    "Total national": "Émissions nationales de gaz à effet de serre (hors secteur UTCATF et puits)",
    "Transports": "Émissions domestiques du secteur des transports (hors international)",
    "Bâtiments": "Émissions directes des bâtiments résidentiels et tertiaires",
    "Agriculture": "Émissions domestiques de gaz à effet serre liées à l'agriculture",
    "Industrie": "Émissions de gaz à effet serre par l'industrie manufacturière et de construction",
    "Énergie": "Émissions de gaz à effet de serre par l'industrie de l'énergie",
    "Déchets": "Émissions de gaz à effet de serre domestiques par le secteur des déchets",
}
"""National series of the baromètre used as the sector trajectory (MtCO₂e, CITEPA Secten; target SNBC-3)."""

DECLENSION_KEYS: dict[str, str] = {
    "population": "population municipale",
    "logements": "parc de logements",
    "surface": "surface du territoire (km²)",
}
LEVER_DEFAULT_KEY: dict[str, str] = {
    "reduc_rconso": "logements", "reduc_rfioul": "logements", "reduc_rgaz": "logements",
    "reduc_artif": "surface", "augm_haies": "surface", "augm_prairies": "surface", "augm_couverts": "surface",
    "reduc_azote": "surface", "reduc_eneragri": "surface",
}
"""Key per lever for the declension (others: population). Shown as « estimation par clé de répartition : … »."""


class LeverError(PlanecoError):
    """A lever quantity or a commitment cannot be used (unknown lever, wrong unit…)."""


@dataclass(frozen=True)
class Lever:
    region_code: str
    lever_id: str
    name: str
    sector: str
    group: str
    obj_kt: float
    unit_phys: str | None
    ratio: float
    start_2019: float
    relative: bool
    hidden: bool
    edition_disabled: bool
    no_translation: bool
    comment: str = ""

    @property
    def translatable(self) -> bool:
        return self.ratio != 0 and not self.no_translation and bool(self.unit_phys)

    def kt_to_phys(self, kt: float) -> float:
        """Physical value in 2030 for ``kt`` ktCO₂e avoided (the simulateur's formula)."""
        if not self.translatable:
            raise LeverError(f"Levier « {self.name} » : pas de traduction physique (SGPE).")
        v = max(0.0, self.start_2019 + kt * self.ratio)
        if self.ratio < 0:
            v = min(v, self.start_2019)
        return v

    def phys_to_kt(self, phys: float) -> float:
        """ktCO₂e avoided in 2030 for a physical value ``phys`` in 2030."""
        if not self.translatable:
            raise LeverError(f"Levier « {self.name} » : pas de traduction physique (SGPE).")
        return (phys - self.start_2019) / self.ratio

    def delta_phys_to_kt(self, delta: float) -> float:
        """ktCO₂e of a physical *change* (a commitment: +5 thousand electric vehicles)."""
        if not self.translatable:
            raise LeverError(f"Levier « {self.name} » : pas de traduction physique (SGPE).")
        return delta / self.ratio

    @property
    def obj_phys(self) -> float | None:
        return self.kt_to_phys(self.obj_kt) if self.translatable else None


def levers_of(sgpe_levers: pd.DataFrame, region_code: str, *, include_hidden: bool = False) -> list[Lever]:
    d = sgpe_levers[sgpe_levers["region_code"] == region_code]
    if d.empty:
        raise LeverError(f"Région {region_code} absente du simulateur SGPE (18 régions, codes INSEE).")
    out = []
    for r in d.itertuples(index=False):
        if r.hidden and not include_hidden:
            continue
        out.append(Lever(str(r.region_code), str(r.lever_id), str(r.lever_name), str(r.sector), str(r.group),
                         float(r.obj_kt), None if pd.isna(r.unit_phys) else str(r.unit_phys),
                         float(r.ratio_co2_to_phys), float(r.start_2019), bool(r.relative), bool(r.hidden),
                         bool(r.edition_disabled), bool(r.no_translation), str(r.comment)))
    return out


def panorama(levers: list[Lever]) -> pd.DataFrame:
    """One row per lever: sector, group, 2030 objective in kt and in its physical unit."""
    rows = [{"lever_id": lv.lever_id, "lever": lv.name, "sector": lv.sector, "group": lv.group, "obj_kt": lv.obj_kt,
             "unit_phys": lv.unit_phys, "start_2019": lv.start_2019 if lv.translatable else None,
             "obj_phys_2030": lv.obj_phys} for lv in levers]
    df = pd.DataFrame(rows)
    df.attrs["source"] = SOURCE_LABEL
    df.attrs["notice"] = NOTICE
    return df


# ---------------------------------------------------------------------- commitments and gaps

def check_commitments(df: pd.DataFrame, levers: dict[str, Lever], *, origin: str = "engagements",
                      first_line: int = 1) -> pd.DataFrame:
    """Validate a commitments frame (shared contract of OWNERS.md); add ``kt`` (ktCO₂e).

    Raises
    ------
    LeverError
        Naming the line (1 = first data row) and what is wrong: missing column, unknown lever,
        negative quantity, wrong unit, year outside 2019–2050, unknown actor type.
    """
    missing = [c for c in COMMITMENT_COLUMNS if c not in df.columns]
    if missing:
        raise LeverError(f"{origin} : colonnes manquantes {missing} (attendues : {', '.join(COMMITMENT_COLUMNS)}).")
    out = df.reset_index(drop=True).copy()
    kts = []
    for i, r in enumerate(out.itertuples(index=False), start=first_line):
        where = f"{origin}, ligne {i}"
        lv = levers.get(str(r.lever_id))
        if lv is None:
            raise LeverError(f"{where} : levier inconnu « {r.lever_id} » pour cette région.")
        try:
            q = float(r.quantity)
        except (TypeError, ValueError):
            raise LeverError(f"{where} : quantité « {r.quantity} » non numérique.") from None
        if not np.isfinite(q) or q < 0:
            raise LeverError(f"{where} : quantité négative ou invalide ({r.quantity}).")
        try:
            y = int(r.year)
        except (TypeError, ValueError):
            raise LeverError(f"{where} : année « {r.year} » invalide.") from None
        if not 2019 <= y <= 2050:
            raise LeverError(f"{where} : année {y} hors de 2019–2050.")
        if str(r.actor_type) not in ACTOR_TYPES:
            raise LeverError(f"{where} : type d'acteur « {r.actor_type} » inconnu ({', '.join(ACTOR_TYPES)}).")
        kts.append(_to_kt(lv, q, str(r.unit), where))
    out["kt"] = kts
    return out


def _to_kt(lv: Lever, q: float, unit: str, where: str) -> float:
    if unit == KT:
        return q
    if lv.translatable and unit == lv.unit_phys:
        # a commitment is a change in the physical quantity, in the direction of the lever
        return abs(lv.delta_phys_to_kt(q if lv.ratio > 0 else -q))
    allowed = KT + (f" ou « {lv.unit_phys} »" if lv.translatable else "")
    raise LeverError(f"{where} : unité « {unit} » invalide pour le levier « {lv.name} » (attendu {allowed}).")


def read_commitments(data: bytes, filename: str, levers: dict[str, Lever]) -> pd.DataFrame:
    """Read a commitments file (CSV with ``;`` or ``,``, or XLSX) and check it; errors name the file's line.

    The header is line 1, so the first commitment is line 2, as a spreadsheet shows it.
    """
    import io

    try:
        if filename.lower().endswith(".xlsx"):
            df = pd.read_excel(io.BytesIO(data), dtype={"territory_code": str, "action_id": str})
        else:
            df = pd.read_csv(io.BytesIO(data), sep=None, engine="python", dtype={"territory_code": str, "action_id": str},
                             encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise LeverError(f"{filename} : fichier illisible ({exc}). Attendu un CSV ou XLSX avec les colonnes "
                         f"{', '.join(COMMITMENT_COLUMNS)}.") from exc
    if "action_id" in df.columns:
        df["action_id"] = df["action_id"].fillna("")
    return check_commitments(df, levers, origin=filename, first_line=2)


def coverage(levers: list[Lever], commitments: pd.DataFrame | None) -> pd.DataFrame:
    """Per lever: objective, committed (kt), gap and coverage share; commitments already checked."""
    obj = pd.DataFrame([{"lever_id": lv.lever_id, "lever": lv.name, "sector": lv.sector, "obj_kt": lv.obj_kt}
                        for lv in levers])
    if commitments is not None and len(commitments):
        got = commitments.groupby("lever_id")["kt"].sum()
    else:
        got = pd.Series(dtype="float64")
    obj["committed_kt"] = obj["lever_id"].map(got).fillna(0.0)
    obj["gap_kt"] = (obj["obj_kt"] - obj["committed_kt"]).clip(lower=0)
    obj["coverage"] = np.where(obj["obj_kt"] > 0, obj["committed_kt"] / obj["obj_kt"].where(obj["obj_kt"] > 0, 1), np.nan)
    obj.attrs["source"] = SOURCE_LABEL
    obj.attrs["notice"] = NOTICE
    return obj


def sector_coverage(cov: pd.DataFrame) -> pd.DataFrame:
    s = cov.groupby("sector", sort=False)[["obj_kt", "committed_kt", "gap_kt"]].sum().reset_index()
    s["coverage"] = np.where(s["obj_kt"] > 0, s["committed_kt"] / s["obj_kt"].where(s["obj_kt"] > 0, 1), np.nan)
    return s


# ---------------------------------------------------------------------- national trajectory

def national_sectors(indicators: pd.DataFrame) -> pd.DataFrame:
    """National emissions by sector from the baromètre: last value, 2030 target, its source, gap."""
    rows = []
    for sector, name in NATIONAL_SECTOR_SERIES.items():
        d = indicators[indicators["indicator"] == name]
        if d.empty:
            rows.append({"sector": sector, "series": name, "available": False})
            continue
        v = d[d["kind"] == "value"].sort_values("year")
        t = d[(d["kind"] == "target") & (d["year"] == 2030)]
        last_y = int(v["year"].iloc[-1])
        last_v = float(v["value"].iloc[-1])
        v2019 = v[v["year"] == 2019]["value"]
        target = float(t["value"].iloc[0]) if len(t) else None
        rows.append({"sector": sector, "series": name, "available": True, "unit": str(d["unit"].iloc[0]),
                     "value_2019": float(v2019.iloc[0]) if len(v2019) else None, "last_year": last_y,
                     "last_value": last_v, "target_2030": target,
                     "target_source": None if pd.isna(d["target_source"].iloc[0]) else str(d["target_source"].iloc[0]),
                     "source": None if pd.isna(d["source"].iloc[0]) else str(d["source"].iloc[0]),
                     "gap_to_target": (last_v - target) if target is not None else None,
                     "required_pace": ((target - last_v) / (2030 - last_y)) if target is not None and last_y < 2030 else None})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- declension

def declension(obj_kt: float, key: pd.Series, *, key_name: str) -> pd.DataFrame:
    """Split a regional objective among sub-territories in proportion to ``key`` (sums checked).

    Returns a frame ``code, key_value, share, obj_kt`` with ``attrs['method']`` the visible label
    (« estimation par clé de répartition : parc de logements »).
    """
    v = pd.to_numeric(key, errors="coerce").astype("float64")
    if v.isna().any() or (v < 0).any():
        bad = v.index[v.isna() | (v < 0)].tolist()[:5]
        raise LeverError(f"Clé « {key_name} » : valeurs manquantes ou négatives pour {bad}.")
    s = v.sum()
    if s <= 0:
        raise LeverError(f"Clé « {key_name} » : somme nulle.")
    share = v / s
    out = pd.DataFrame({"code": v.index.astype(str), "key_value": v.to_numpy(), "share": share.to_numpy(),
                        "obj_kt": (obj_kt * share).to_numpy()})
    diff = float(out["obj_kt"].sum() - obj_kt)
    if abs(diff) > 1e-9 * max(1.0, abs(obj_kt)):
        raise LeverError(f"Déclinaison : la somme ({out['obj_kt'].sum()}) diffère de l'objectif ({obj_kt}).")
    out.attrs["method"] = f"estimation par clé de répartition : {DECLENSION_KEYS.get(key_name, key_name)}"
    out.attrs["sum_check"] = {"objective_kt": obj_kt, "sum_kt": float(out["obj_kt"].sum()), "difference_kt": diff}
    return out


def inventory_key(inventory: pd.DataFrame, sector: str, year: int | None = None) -> pd.Series:
    """A regional observatory inventory (territory × sector × year, tCO₂e) as a declension key.

    Raises
    ------
    LeverError
        Missing columns, negative values, or no row for the sector (naming the line for bad rows).
    """
    need = ("territory_code", "sector", "year", "tco2e")
    missing = [c for c in need if c not in inventory.columns]
    if missing:
        raise LeverError(f"Inventaire : colonnes manquantes {missing} (attendues : {', '.join(need)}).")
    for i, r in enumerate(inventory.itertuples(index=False), start=1):
        try:
            v = float(r.tco2e)
        except (TypeError, ValueError):
            raise LeverError(f"Inventaire, ligne {i} : valeur « {r.tco2e} » non numérique.") from None
        if not np.isfinite(v) or v < 0:
            raise LeverError(f"Inventaire, ligne {i} : valeur négative ou invalide ({r.tco2e}).")
    d = inventory[inventory["sector"] == sector]
    if d.empty:
        raise LeverError(f"Inventaire : aucune ligne pour le secteur « {sector} ».")
    y = year if year is not None else int(d["year"].max())
    d = d[d["year"] == y]
    return d.groupby(d["territory_code"].astype(str))["tco2e"].sum().astype("float64")
