"""Baromètre de la planification écologique (SGPE): national indicators, 2030 targets, levers, Écolab series.

Source: planification-ecologique/barometre, commit d3ac302bc962ef23cc2fe5dd920d16f88362b2c2
(2026-08-22), Licence Ouverte 2.0 — ``app/public/grist-backups/*.csv`` (mirror ``sgpe/barometre/
grist/``) and ``app/public/irpe-backups/`` (mirror ``sgpe/barometre/ecolab/``), the latter being
the Écolab API answers (``api.indicateurs.ecologie.gouv.fr``) the baromètre caches.

``grist-indicators.csv`` (comma-separated, UTF-8, quoted multi-line fields): one row per national
series; a chart with several series (stacked bars) has one row per sub-series with the same
``Indicateur`` and its ``Sous-niveau (graphique)`` (e.g. the national ENAF consumption in three
rows: habitat, activité, other uses), the unit being written on the first row only. Year columns
``2010`` … ``2025`` are realised values, ``cible_2023`` … ``cible_2050`` the indicative and official
targets, with ``Source de la cible`` (« 3e stratégie nationale bas-carbone », « Programmation
pluriannuelle de l'énergie 2026-2035 » …) and ``Lien cible 2030``. ``projection_*`` columns only
hold ``0`` placeholders in this backup and are not read. Numbers are written the French way:
decimal comma, thousands separated by a narrow no-break space (``1 667,38``), sometimes padded with
no-break spaces; :func:`parse_fr_number` reads exactly these forms and refuses anything else (a dot,
letters) rather than guess.

Écolab ``indicators/<id>.json``: ``{cubeName, measureName, timeDimension, extraDimension, data,
measureMeta}``; every ``data`` row here is by région (``<cube>.geocode_region``, INSEE code as a
string) and year (``<time>.year``, ISO date), with sometimes one more dimension (cycling-lane type,
fuel, transport mode); values are numbers or decimal strings with a dot (the API's JSON), or null.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

SOURCE_ID = "sgpe_barometre"
ECOLAB_SOURCE_ID = "ecolab"
"""Registry ids (``sources/registry.yaml``: titles, publishers, licences, declared sha256 of every file)."""
_RAW = "https://raw.githubusercontent.com/planification-ecologique/barometre/d3ac302bc962ef23cc2fe5dd920d16f88362b2c2/app/public"

INDICATORS = Release(SOURCE_ID, 2026, f"{_RAW}/grist-backups/grist-indicators.csv", "grist-indicators.csv",
                     mirror_path="sgpe/barometre/grist/grist-indicators.csv", sep=",", encodings=("utf-8",))
LEVERS = Release(SOURCE_ID, 2026, f"{_RAW}/grist-backups/grist-leviers.csv", "grist-leviers.csv",
                 mirror_path="sgpe/barometre/grist/grist-leviers.csv", sep=",", encodings=("utf-8",))
COMMITMENTS = Release(SOURCE_ID, 2026, f"{_RAW}/grist-backups/grist-engagements.csv", "grist-engagements.csv",
                      mirror_path="sgpe/barometre/grist/grist-engagements.csv", sep=",", encodings=("utf-8",))
ECOLAB_MANIFEST = Release(ECOLAB_SOURCE_ID, 2026, f"{_RAW}/irpe-backups/manifest.json", "manifest.json",
                          mirror_path="sgpe/barometre/ecolab/manifest.json")

REGION_CODES = frozenset({"01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75",
                          "76", "84", "93", "94"})
"""INSEE codes of the 18 régions (COG since 2016)."""

_SPACES = "\u00a0\u202f\u2009 "
_FR_NUMBER = re.compile(r"-?\d{1,3}(?:[\u00a0\u202f\u2009 ]\d{3})+(?:,\d+)?|-?\d+(?:,\d+)?")
_DOT_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_VALUE_COL = re.compile(r"(\d{4})")
_TARGET_COL = re.compile(r"cible_(\d{4})")

INDICATOR_COLUMNS = ("indicator_uid", "indicator", "sub_level", "tab", "subtab", "unit", "perimeter",
                     "source", "source_url", "kind", "year", "value", "target_source", "target_url",
                     "target_method", "last_update", "withdrawn_reason", "irpe_ids")
LEVER_COLUMNS = ("lever", "lever_short", "chantier", "objective", "objective_source",
                 "ges_2030_mt", "ges_2040_mt", "ges_2050_mt")
ECOLAB_COLUMNS = ("indicator_id", "cube", "measure", "label", "unit", "region_code", "region_name",
                  "year", "dimension", "value")


def parse_fr_number(text: str | None, *, where: str = "") -> float | None:
    """A number written the French way (``1 667,38``, ``-0,34``, ``51 919``); ``None`` if blank.

    Raises
    ------
    SchemaError
        Anything else (``1.5``, ``12 %``, ``n.d.``): the value is reported, never guessed.
    """
    if text is None:
        return None
    s = str(text).strip(_SPACES + "\t\r\n")
    if not s:
        return None
    if not _FR_NUMBER.fullmatch(s):
        raise SchemaError(f"{where}: « {text} » n'est pas un nombre au format français (ex. « 1 667,38 »).")
    return float(re.sub(f"[{_SPACES}]", "", s).replace(",", "."))


def _read_rows(path: Path, rel: Release, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{rel.filename}: illisible ({exc}).") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise SchemaError(f"{rel.filename}: colonnes manquantes {missing} (colonnes attendues : {', '.join(required)}).")
    return list(reader)


def parse_indicators(path: Path) -> pd.DataFrame:
    """Tidy long frame of the national series: one row per series, kind (``value``/``target``) and year."""
    required = ("ID", "Indicateur", "Sous-niveau (graphique)", "Unité", "Sources", "cible_2030", "Source de la cible")
    rows = _read_rows(path, INDICATORS, required)
    header = list(rows[0]) if rows else []
    value_cols = [(c, "value", int(c)) for c in header if _VALUE_COL.fullmatch(c)]
    target_cols = [(c, "target", int(m.group(1))) for c in header if (m := _TARGET_COL.fullmatch(c))]
    if not value_cols or not target_cols:
        raise SchemaError(f"{INDICATORS.filename}: colonnes d'années (2017…) ou de cibles (cible_2030…) introuvables.")
    out = []
    unit_of: dict[str, str] = {}
    for line, r in enumerate(rows, start=2):
        name = " ".join(r["Indicateur"].split())
        if not name:
            continue
        written = " ".join(r["Unité"].split())
        if written:
            unit_of.setdefault(name, written)
        unit = written or unit_of.get(name) or None
        # a few rows have no Grist id: their line number identifies them
        common = {
            "indicator_uid": r["ID"].strip() or f"ligne-{line}", "indicator": name, "sub_level": r["Sous-niveau (graphique)"].strip() or None,
            "tab": r.get("Indicateurs_Onglet", "").strip() or None, "subtab": r.get("Indicateurs_Sous-onglet", "").strip() or None,
            "unit": unit, "perimeter": r.get("Périmètre", "").strip() or None,
            "source": r["Sources"].strip() or None, "source_url": r.get("Lien site source", "").strip() or None,
            "target_source": r["Source de la cible"].strip() or None, "target_url": r.get("Lien cible 2030", "").strip() or None,
            "target_method": r.get("Mode de calcul de la cible", "").strip() or None,
            "last_update": r.get("Dernière mise à jour", "").strip() or None,
            "withdrawn_reason": r.get("Motif suppression", "").strip() or None,
            "irpe_ids": r.get("IRPE ids", "").strip() or None,
        }
        for col, kind, year in value_cols + target_cols:
            v = parse_fr_number(r.get(col), where=f"{INDICATORS.filename}, ligne {line}, colonne {col}")
            if v is not None:
                out.append({**common, "kind": kind, "year": year, "value": v})
    df = pd.DataFrame(out, columns=list(INDICATOR_COLUMNS))
    for c in INDICATOR_COLUMNS:
        if c not in ("year", "value"):
            df[c] = df[c].astype("string")
    df["year"] = df["year"].astype("int16")
    return df


def parse_levers(path: Path) -> pd.DataFrame:
    """The plan's levers with their objective, its source and the GHG effect (MtCO₂e, negative = avoided)."""
    required = ("Levier", "Levier_court", "Chantier associé", "Objectif du levier", "Sources de l'objectif",
                "Δ GES 2030", "Δ GES 2040", "Δ GES 2050")
    rows = _read_rows(path, LEVERS, required)
    out = []
    for line, r in enumerate(rows, start=2):
        where = f"{LEVERS.filename}, ligne {line}"
        out.append({
            "lever": r["Levier"].strip(), "lever_short": r["Levier_court"].strip() or None,
            "chantier": r["Chantier associé"].strip() or None, "objective": r["Objectif du levier"].strip() or None,
            "objective_source": r["Sources de l'objectif"].strip() or None,
            **{f"ges_{y}_mt": parse_fr_number(r[f"Δ GES {y}"], where=f"{where}, Δ GES {y}") for y in (2030, 2040, 2050)},
        })
    df = pd.DataFrame(out, columns=list(LEVER_COLUMNS))
    for c in LEVER_COLUMNS[:5]:
        df[c] = df[c].astype("string")
    for c in LEVER_COLUMNS[5:]:
        df[c] = df[c].astype("float64")
    return df


def parse_commitments(path: Path) -> pd.DataFrame:
    """France's headline commitments (−50 % gross emissions 2030 vs 1990, net zero 2050, footprint…)."""
    rows = _read_rows(path, COMMITMENTS, ("Engagement", "Thématique", "Axe taxonomie"))
    out = [{"commitment": " ".join(r["Engagement"].split()), "theme": r["Thématique"].strip(),
            "axis": r["Axe taxonomie"].strip() or None} for r in rows if r["Engagement"].strip()]
    df = pd.DataFrame(out, columns=["commitment", "theme", "axis"])
    return df.astype("string")


def _ecolab_value(v, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise SchemaError(f"{where}: valeur booléenne inattendue.")
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    s = str(v).strip()
    if not _DOT_NUMBER.fullmatch(s):
        raise SchemaError(f"{where}: « {v} » n'est pas un nombre décimal de l'API Écolab.")
    return float(s)


def parse_ecolab_indicator(path: Path) -> pd.DataFrame:
    """One Écolab series file -> tidy rows by région, year and (optional) extra dimension."""
    name = Path(path).name
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"ecolab/{name}: JSON illisible ({exc}).") from exc
    for k in ("cubeName", "measureName", "timeDimension", "data"):
        if k not in d:
            raise SchemaError(f"ecolab/{name}: clé « {k} » manquante (le format Écolab a changé).")
    cube, measure, tdim = d["cubeName"], d["measureName"], d["timeDimension"]
    meta = d.get("measureMeta") or {}
    ind_id = measure.rsplit("id_", 1)[-1]
    known = {f"{cube}.geocode_region", f"{cube}.libelle_region", f"{tdim}.year", tdim, measure}
    rows = []
    dropped: dict[str, int] = {}
    for i, r in enumerate(d["data"], start=1):
        where = f"ecolab/{name}, ligne {i}"
        code = r.get(f"{cube}.geocode_region")
        t = r.get(f"{tdim}.year") or r.get(tdim)
        if not code or not t:
            raise SchemaError(f"{where}: région ({cube}.geocode_region) ou date ({tdim}) absente.")
        if str(code) not in REGION_CODES:
            # freight by region of origin also lists foreign countries (DE, BE…), « 99 » and « ZZ »:
            # not French régions, counted and dropped
            dropped[str(code)] = dropped.get(str(code), 0) + 1
            continue
        m = re.match(r"(\d{4})-", str(t))
        if not m:
            raise SchemaError(f"{where}: date « {t} » illisible.")
        extra = sorted((k.split(".", 1)[1], str(v)) for k, v in r.items() if k not in known and v is not None)
        rows.append({
            "indicator_id": ind_id, "cube": cube, "measure": measure.split(".", 1)[1],
            "label": " ".join(str(meta.get("libelle_indicateur") or "").split()) or None,
            "unit": meta.get("unite"), "region_code": str(code), "region_name": r.get(f"{cube}.libelle_region"),
            "year": int(m.group(1)), "dimension": ";".join(f"{k}={v}" for k, v in extra) or None,
            "value": _ecolab_value(r.get(measure), where),
        })
    df = pd.DataFrame(rows, columns=list(ECOLAB_COLUMNS))
    if df.duplicated(["region_code", "year", "dimension"]).any():
        raise SchemaError(f"ecolab/{name}: plusieurs valeurs pour une même région, année et dimension.")
    df.attrs["dropped_codes"] = dropped
    return df


def parse_ecolab(manifest_path: Path) -> pd.DataFrame:
    """Every series the Écolab manifest lists (files next to it, in ``indicators/``)."""
    try:
        man = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"ecolab/manifest.json: illisible ({exc}).") from exc
    ids = man.get("indicatorIds")
    if not isinstance(ids, list) or not ids:
        raise SchemaError("ecolab/manifest.json: « indicatorIds » absent ou vide.")
    folder = Path(manifest_path).parent / "indicators"
    missing = [i for i in ids if not (folder / f"{i}.json").is_file()]
    if missing:
        raise SchemaError(f"ecolab : séries listées dans manifest.json mais absentes de indicators/ : {missing}")
    df = pd.concat([parse_ecolab_indicator(folder / f"{i}.json") for i in ids], ignore_index=True)
    for c in ECOLAB_COLUMNS:
        if c not in ("year", "value"):
            df[c] = df[c].astype("string")
    df["year"] = df["year"].astype("int16")
    df["value"] = df["value"].astype("float64")
    return df


def _obtain(rel: Release, mirror, cache) -> Path:
    """Fetch (mirror, cache or GitHub) and check the sha256 the source registry declares."""
    from planeco_kernel.sources import identity

    artifact = base.obtain(rel, mirror=mirror, cache=cache)
    identity.verify(str(rel.mirror_path), artifact.sha256, where=rel.filename)
    return artifact.path


def load_indicators(*, mirror=None, cache=None) -> pd.DataFrame:
    return parse_indicators(_obtain(INDICATORS, mirror, cache))


def load_commitments(*, mirror=None, cache=None) -> pd.DataFrame:
    return parse_commitments(_obtain(COMMITMENTS, mirror, cache))


def load_levers(*, mirror=None, cache=None) -> pd.DataFrame:
    return parse_levers(_obtain(LEVERS, mirror, cache))


def load_ecolab(*, mirror=None) -> pd.DataFrame:
    """The Écolab series of the baromètre, from the mirror (a folder of files: read in place)."""
    root = base.resolve_mirror(mirror)
    path = root / str(ECOLAB_MANIFEST.mirror_path) if root is not None else None
    if path is None or not path.is_file():
        from planeco_kernel.errors import SourceUnavailableError

        raise SourceUnavailableError(
            "Séries Écolab du baromètre introuvables : indiquez le miroir (--mirror / PLANECO_MIRROR) contenant "
            f"{ECOLAB_MANIFEST.mirror_path}, ou récupérez-les depuis {ECOLAB_MANIFEST.url}."
        )
    from planeco_kernel.sources import identity
    from planeco_kernel.sources.fetch import sha256_file

    folder = str(ECOLAB_MANIFEST.mirror_path).rsplit("/", 1)[0]
    identity.verify(str(ECOLAB_MANIFEST.mirror_path), sha256_file(path), where="ecolab/manifest.json")
    for f in sorted((path.parent / "indicators").glob("*.json")):
        identity.verify(f"{folder}/indicators/{f.name}", sha256_file(f), where=f"ecolab/indicators/{f.name}")
    return parse_ecolab(path)


# --------------------------------------------------------------------------- territorial components
# Which Écolab series (and which row of grist-indicators.csv) give each territorial component of the
# indicator catalogue: parsing facts (series id, dimension, national row, unit factor), read by the
# source step of the build. The catalogue declares the components' levels and the indicators.


@dataclass(frozen=True)
class TerritorialVariable:
    """One territorial component: the Écolab series of the régions and, if any, the national series.

    ``factor`` converts the national series' unit to the Écolab unit (« gigawatts » → MW: 1000);
    ``sub_levels`` are the sub-series summed (all years where each of them has a value), ``()`` for
    a series without sub-series.
    """

    ecolab_id: str
    dimension: str | None = None
    national: str | None = None
    sub_levels: tuple[str, ...] = ()
    factor: float = 1.0


TERRITORIAL_VARIABLES: dict[str, TerritorialVariable] = {
    "conso_enaf_region_ha": TerritorialVariable(
        "611", national="Consommation d'espaces naturels, agricoles et forestiers",
        sub_levels=("Usages habitats", "Usages activités", "Autres usages (ferroviaire, route, mixte…)"), factor=1000.0),
    "puissance_eolienne_mw": TerritorialVariable(
        "898", national="Capacité de production d'électricité renouvelable installée",
        sub_levels=("Eolien terrestre", "Eolien maritime"), factor=1000.0),
    "puissance_solaire_mw": TerritorialVariable(
        "899", national="Capacité de production d'électricité renouvelable installée",
        sub_levels=("Photovoltaïque",), factor=1000.0),
    "part_vp_electriques_parc_pct": TerritorialVariable(
        "826", national="Proportion de voitures particulières électriques dans le parc roulant"),
    "part_vp_electriques_immat_pct": TerritorialVariable(
        "434", dimension="carburant=Electrique et hydrogène;type_vehicule=VP",
        national="Proportion de voitures particulières électriques dans les immatriculations neuves"),
    "part_sau_bio_pct": TerritorialVariable(
        "23", national="Part de la surface agricole utile (SAU) cultivée en agriculture biologique (AB)"),
    "taux_valorisation_dma_pct": TerritorialVariable(
        "681", national="Taux de valorisation des déchets ménagers et assimilés (DMA)"),
    "part_aires_protegees_terrestres_pct": TerritorialVariable(
        "961", national="Part de territoires terrestres en aires protégées", sub_levels=("Total",)),
    "part_protection_forte_terrestre_pct": TerritorialVariable(
        "964", national="Part de territoires terrestres en aires protégées", sub_levels=("Protection forte (France)",)),
    "part_chaleur_enrr_reseaux_pct": TerritorialVariable(
        "510", national="Part de chaleur renouvelable et de récupération dans les réseaux de chaleur"),
    "surface_prairies_permanentes_ha": TerritorialVariable(
        "356", national="Surface de prairies", sub_levels=("Prairies permanentes",), factor=1e6),
    "surface_legumineuses_ha": TerritorialVariable(
        "331", national="Surface de cultures en légumineuses (soja, protéagineux et légumes secs cultivés pour leur "
        "graine et prairies artificielles)", factor=1e6),
    # the national series of the tertiary sector is corrected for the climate, Écolab 255 is not:
    # France is the sum of the régions (declared in the catalogue)
    "conso_energie_tertiaire_gwh": TerritorialVariable("255"),
    # the baromètre counts « passoires » (F and G) in millions of dwellings, not a share by label
    "part_rp_dpe_f_pct": TerritorialVariable("992"),
    "part_rp_dpe_g_pct": TerritorialVariable("994"),
}
TERRITORIAL_COLUMNS = ("level", "code", "year", "variable", "value")
TARGET_COLUMNS = ("variable", "year", "value", "target_source", "target_url", "series")


def ecolab_territorial(ecolab: pd.DataFrame, variables: dict[str, TerritorialVariable] | None = None) -> pd.DataFrame:
    """The régions' values of every territorial component (``level, code, year, variable, value``).

    Raises
    ------
    SchemaError
        A declared series (or dimension) is not in the Écolab table: the layout changed.
    """
    out = []
    for var, spec in (variables or TERRITORIAL_VARIABLES).items():
        d = ecolab[ecolab["indicator_id"] == spec.ecolab_id]
        d = d[d["dimension"].isna()] if spec.dimension is None else d[d["dimension"] == spec.dimension]
        if d.empty:
            raise SchemaError(f"ecolab : série {spec.ecolab_id} (dimension {spec.dimension or 'aucune'}) absente, "
                              f"attendue pour la composante {var}.")
        d = d.dropna(subset=["value"])
        out.append(pd.DataFrame({"level": "region", "code": d["region_code"].astype(str).to_numpy(),
                                 "year": d["year"].astype(int).to_numpy(), "variable": var,
                                 "value": d["value"].astype("float64").to_numpy()}))
    return _typed(pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(TERRITORIAL_COLUMNS)))


def _national_rows(indicators: pd.DataFrame, spec: TerritorialVariable, var: str) -> pd.DataFrame:
    d = indicators[indicators["indicator"] == spec.national]
    if spec.sub_levels:
        d = d[d["sub_level"].isin(list(spec.sub_levels))]
    if d.empty:
        raise SchemaError(f"{INDICATORS.filename} : série nationale « {spec.national} » "
                          f"{list(spec.sub_levels) or ''} absente, attendue pour la composante {var}.")
    return d


def barometre_territorial(indicators: pd.DataFrame, variables: dict[str, TerritorialVariable] | None = None,
                          target_year: int = 2030) -> tuple[pd.DataFrame, pd.DataFrame]:
    """France's values of the territorial components from the baromètre's national series, and their
    official target of ``target_year`` (``TARGET_COLUMNS``), both in the component's unit.

    Sub-series are summed only in the years where each of them has a value (a target: where each has one).
    """
    values, targets = [], []
    for var, spec in (variables or TERRITORIAL_VARIABLES).items():
        if spec.national is None:
            continue
        d = _national_rows(indicators, spec, var)
        n_sub = max(1, len(spec.sub_levels))
        for kind, g in d.groupby("kind"):
            per_year = g.groupby("year")["value"].agg(["sum", "count"])
            per_year = per_year[per_year["count"] == n_sub]["sum"] * spec.factor
            if kind == "value":
                values.append(pd.DataFrame({"level": "france", "code": "FR", "year": per_year.index.astype(int),
                                            "variable": var, "value": per_year.to_numpy(dtype="float64")}))
            elif target_year in per_year.index:
                src = g["target_source"].dropna()
                url = g["target_url"].dropna()
                targets.append({"variable": var, "year": target_year, "value": float(per_year[target_year]),
                                "target_source": _sources_text(str(src.iloc[0])) if len(src) else None,
                                "target_url": str(url.iloc[0]) if len(url) else None, "series": spec.national})
    vals = _typed(pd.concat(values, ignore_index=True) if values else pd.DataFrame(columns=list(TERRITORIAL_COLUMNS)))
    tg = pd.DataFrame(targets, columns=list(TARGET_COLUMNS))
    return vals, tg


def _sources_text(text: str) -> str:
    """« SNBC 3 (provisoire)\nLOSARGA » (one source a line in the file) → « SNBC 3 (provisoire) et LOSARGA »."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return ", ".join(lines[:-1]) + " et " + lines[-1] if len(lines) > 1 else (lines[0] if lines else "")


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=list(TERRITORIAL_COLUMNS))
    for c in ("level", "code", "variable"):
        df[c] = df[c].astype(str)
    df["year"] = df["year"].astype("int64")
    df["value"] = df["value"].astype("float64")
    return df
