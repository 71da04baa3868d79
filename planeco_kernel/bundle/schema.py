"""The data bundle's tables, declared once: file, primary key, columns (dtype, description).

This is the contract between the builder (:mod:`planeco_kernel.bundle.build`) and every reader
(territory model, indicators, apps). :func:`validate` turns any drift into a clear
:class:`~planeco_kernel.errors.SchemaError` naming the table and the columns.

Conventions: codes are strings (INSEE codes keep their leading zeros and the Corsican
``2A``/``2B``; EPCI and SCoT are 9-digit SIREN); populations are nullable integers
(``Int64``); years are ``int16``; the geography of ``territories`` is the latest COG (2026).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planeco_kernel.errors import SchemaError
from planeco_kernel.levels import LEVEL, LEVELS  # the one level vocabulary (LEVELS re-exported)

__all__ = ["FRANCE_CODE", "LEVELS", "LEVEL_LABELS_FR", "TABLES", "Column", "Table", "validate"]

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

LEVEL_LABELS_FR: dict[str, str] = {k: lv.label for k, lv in LEVEL.items()}
"""French label of each level (from :mod:`planeco_kernel.levels`)."""

FRANCE_CODE = "FR"

MANIFEST_PATH = "manifest.json"
"""The bundle's manifest (:class:`planeco_kernel.bundle.reader.Manifest`)."""
SOURCE_FRAME_PATH = "sources/{key}.parquet"
"""Tidy frame of one indicator source (columns of :data:`planeco_kernel.sources.base.TIDY_COLUMNS`)."""
MISSING_REASONS_PATH = "sources/missing_reasons.parquet"
"""Why a source gives no value for a commune (:data:`MISSING_REASONS`)."""
COMPONENTS_PATH = "indicators/components.parquet"
"""Commune × year components of the indicators (:class:`planeco_kernel.indicators.components.Components`)."""
TERRITORY_INDEX_PATH = "territory_index.sqlite"
"""``territories`` and ``population`` as one SQLite file, derived from them by the build, for the
command line's look-ups without pyarrow (:mod:`planeco_kernel.bundle.territory_index`; listed in the
manifest under ``territory_index``)."""


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    path: str
    """Path relative to the bundle directory."""
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    extra_columns_allowed: bool = False
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))


def _c(name: str, dtype: str, description: str, nullable: bool = False) -> Column:
    return Column(name, dtype, description, nullable)


TABLES: dict[str, Table] = {}


def _register(t: Table) -> Table:
    TABLES[t.name] = t
    return t


COG_COMMUNES = _register(Table(
    "cog_communes", "cog/communes.parquet", ("vintage", "code", "type"),
    (
        _c("vintage", "int16", "Millésime du COG (2021…2026)"),
        _c("package_version", "string", "Version du paquet npm @etalab/decoupage-administratif"),
        _c("code", "string", "Code INSEE de la commune"),
        _c("name", "string", "Nom officiel"),
        _c("type", "string", "commune-actuelle, commune-deleguee, commune-associee, arrondissement-municipal"),
        _c("departement_code", "string", "Code du département", nullable=True),
        _c("region_code", "string", "Code de la région", nullable=True),
        _c("epci_siren", "string", "SIREN de l'EPCI à fiscalité propre ce millésime (epci.json)", nullable=True),
        _c("chef_lieu", "string", "Commune de rattachement (communes déléguées/associées, arrondissements)", nullable=True),
        _c("anciens_codes", "object", "Codes absorbés (liste), communes nouvelles", nullable=True),
        _c("population", "Int64", "Population municipale (communes.json)", nullable=True),
        _c("census_year", "int16", "Année du recensement de `population`"),
    ),
    "Communes de chaque millésime du COG, telles que publiées par etalab.",
))

COG_EPCI = _register(Table(
    "cog_epci", "cog/epci.parquet", ("vintage", "siren"),
    (
        _c("vintage", "int16", "Millésime du COG"),
        _c("siren", "string", "SIREN de l'EPCI"),
        _c("name", "string", "Nom"),
        _c("nature", "string", "CC, CA, CU, METRO, MET69"),
        _c("mode_financement", "string", "FPU, FA…", nullable=True),
        _c("population", "Int64", "Population municipale totale (epci.json)", nullable=True),
        _c("census_year", "int16", "Année du recensement des chiffres de epci.json"),
        _c("members_count", "int32", "Nombre de communes membres"),
    ),
))

COG_EPCI_MEMBERS = _register(Table(
    "cog_epci_members", "cog/epci_members.parquet", ("vintage", "siren", "commune_code"),
    (
        _c("vintage", "int16", "Millésime du COG"),
        _c("siren", "string", "SIREN de l'EPCI"),
        _c("commune_code", "string", "Code INSEE de la commune membre"),
        _c("population", "Int64", "Population municipale du membre (epci.json)", nullable=True),
        _c("census_year", "int16", "Année du recensement des chiffres de epci.json"),
    ),
))

COG_DEPARTEMENTS = _register(Table(
    "cog_departements", "cog/departements.parquet", ("vintage", "code"),
    (
        _c("vintage", "int16", "Millésime du COG"),
        _c("code", "string", "Code du département"),
        _c("name", "string", "Nom"),
        _c("region_code", "string", "Code de la région"),
        _c("chef_lieu", "string", "Code INSEE du chef-lieu", nullable=True),
    ),
))

COG_REGIONS = _register(Table(
    "cog_regions", "cog/regions.parquet", ("vintage", "code"),
    (
        _c("vintage", "int16", "Millésime du COG"),
        _c("code", "string", "Code de la région"),
        _c("name", "string", "Nom"),
        _c("chef_lieu", "string", "Code INSEE du chef-lieu", nullable=True),
    ),
))

TERRITORIES = _register(Table(
    "territories", "territories.parquet", ("level", "code"),
    (
        _c("level", "string", "commune, epci, scot, departement, region, france"),
        _c("code", "string", "Code INSEE (commune, département, région), SIREN (EPCI, SCoT) ou FR"),
        _c("name", "string", "Nom officiel"),
        _c("nature", "string", "Nature juridique (CC, CA, SMF, PETR…) ; vide pour les autres niveaux", nullable=True),
        _c("commune_code", "string", "Parent commune (toujours vide : niveau le plus fin)", nullable=True),
        _c("epci_code", "string", "EPCI parent (communes)", nullable=True),
        _c("scot_code", "string", "SCoT parent (communes, EPCI)", nullable=True),
        _c("departement_code", "string", "Département parent (majoritaire en population si plusieurs)", nullable=True),
        _c("region_code", "string", "Région parente (majoritaire en population si plusieurs)", nullable=True),
        _c("population", "Int64", "Dernière population municipale connue", nullable=True),
        _c("census_year", "Int16", "Année du recensement de `population`", nullable=True),
        _c("members_count", "int32", "Nombre de communes membres (1 pour une commune)"),
        _c("flags", "string", "Drapeaux séparés par des virgules : no_epci, split_2024, merged, no_geometry, multi_departement…", nullable=True),
    ),
    "Tous les territoires de la géographie courante (COG le plus récent), tous niveaux.",
))

POPULATION = _register(Table(
    "population", "population.parquet", ("level", "code", "census_year"),
    (
        _c("level", "string", "Niveau du territoire"),
        _c("code", "string", "Code du territoire (géographie courante)"),
        _c("census_year", "int16", "Année du recensement (2018…2023)"),
        _c("population", "Int64", "Population municipale sur la géographie courante", nullable=True),
        _c("source", "string", "Fichier et version d'origine, ex. 'communes.json@4.1.0'"),
        _c("flag", "string", "merged_sum, split_unallocated, missing… ; vide si valeur directe", nullable=True),
    ),
    "Séries de population municipale par année de recensement, sur la géographie courante.",
))

CODE_HISTORY = _register(Table(
    "code_history", "code_history.parquet", ("code", "vintage"),
    (
        _c("code", "string", "Code INSEE tel qu'il apparaît ce millésime"),
        _c("vintage", "int16", "Millésime du COG"),
        _c("name", "string", "Nom ce millésime"),
        _c("type", "string", "commune-actuelle, commune-deleguee, commune-associee, absent"),
        _c("current_code", "string", "Commune actuelle (COG courant) qui couvre ce code", nullable=True),
        _c("event", "string", "none, merged, split, renamed, recreated", nullable=True),
        _c("note", "string", "Explication en français", nullable=True),
        _c("split_group", "object", "Communes actuelles qui se partagent le territoire couvert ce millésime "
           "(détenteur en premier), liste ; vide sauf event = split", nullable=True),
    ),
    "Histoire de chaque code communal à travers les millésimes, et son successeur courant.",
))

SCOT_MEMBERS = _register(Table(
    "scot_members", "scot_members.parquet", ("scot_code", "member_code"),
    (
        _c("scot_code", "string", "SIREN de la structure porteuse du SCoT"),
        _c("member_code", "string", "EPCI (SIREN) ou commune (code INSEE) membre, après résolution"),
        _c("member_level", "string", "epci ou commune"),
        _c("source", "string", "banatic ou user (fichier de périmètres fourni)"),
    ),
))

COMMUNE_GEOMETRY = _register(Table(
    "commune_geometry", "geometry/communes.parquet", ("code",),
    (
        _c("code", "string", "Code INSEE (géographie courante)"),
        _c("geometry", "object", "Contour WKB, WGS84 (EPSG:4326)"),
        _c("area_km2", "float64", "Surface en km², projection équivalente (LAEA)"),
        _c("lon", "float64", "Longitude d'un point intérieur"),
        _c("lat", "float64", "Latitude d'un point intérieur"),
    ),
))

DISPLAY_GEOMETRY = _register(Table(
    "display_geometry", "geometry/display.parquet", ("level", "code"),
    (
        _c("level", "string", "Niveau"),
        _c("code", "string", "Code du territoire"),
        _c("geometry", "object", "Contour simplifié pour l'affichage, WKB WGS84"),
        _c("area_km2", "float64", "Surface en km² (somme des communes)"),
        _c("bbox", "object", "[minx, miny, maxx, maxy]"),
    ),
    "Contours simplifiés de tous les niveaux (communes ; EPCI, SCoT, départements, régions dissous).",
))


# --- planning data: SGPE levers, baromètre, Écolab, ZAN targets (planeco_kernel.bundle.planning) ---

SGPE_LEVERS = _register(Table(
    "sgpe_levers", "planning/sgpe_levers.parquet", ("region_code", "lever_id"),
    (
        _c("region_code", "string", "Code INSEE de la région"),
        _c("region_name", "string", "Nom de la région dans le simulateur (PACA abrégé)"),
        _c("lever_id", "string", "Identifiant du levier (augm_voitelec, reduc_rgaz…)"),
        _c("lever_name", "string", "Nom du levier"),
        _c("sector", "string", "Secteur (Transport de voyageurs, Résidentiel…)"),
        _c("group", "string", "Bloc « Mieux … »"),
        _c("obj_kt", "float64", "ktCO2e évitées en 2030 par rapport à 2019"),
        _c("unit_phys", "string", "Unité physique de traduction", nullable=True),
        _c("ratio_co2_to_phys", "float64", "Unités physiques par ktCO2e (0 : pas de traduction)"),
        _c("start_2019", "float64", "Valeur physique en 2019"),
        _c("relative", "bool", "Levier relatif (kt incluant l'acquis)"),
        _c("hidden", "bool", "Levier masqué pour la région"),
        _c("edition_disabled", "bool", "Levier non modifiable"),
        _c("no_translation", "bool", "Pas de traduction physique"),
        _c("comment", "string", "Commentaire Markdown du SGPE"),
    ),
    "Panorama régional des leviers du simulateur territorial SGPE (données de travail, indicatives).",
))

BAROMETRE_INDICATORS = _register(Table(
    "barometre_indicators", "planning/barometre_indicators.parquet", ("indicator_uid", "kind", "year"),
    (
        _c("indicator_uid", "string", "Identifiant de la série dans le baromètre (Grist)"),
        _c("indicator", "string", "Nom de l'indicateur"),
        _c("sub_level", "string", "Sous-série (graphique empilé)", nullable=True),
        _c("tab", "string", "Onglet du baromètre", nullable=True),
        _c("subtab", "string", "Sous-onglet", nullable=True),
        _c("unit", "string", "Unité (héritée de la première ligne de l'indicateur)", nullable=True),
        _c("perimeter", "string", "Périmètre géographique", nullable=True),
        _c("source", "string", "Source des valeurs", nullable=True),
        _c("source_url", "string", "Lien de la source", nullable=True),
        _c("kind", "string", "value (réalisé) ou target (cible)"),
        _c("year", "int16", "Année"),
        _c("value", "float64", "Valeur"),
        _c("target_source", "string", "Source de la cible (SNBC-3, PPE…)", nullable=True),
        _c("target_url", "string", "Lien de la cible 2030", nullable=True),
        _c("target_method", "string", "Mode de calcul de la cible", nullable=True),
        _c("last_update", "string", "Dernière mise à jour", nullable=True),
        _c("withdrawn_reason", "string", "Motif de suppression de la série", nullable=True),
        _c("irpe_ids", "string", "Séries Écolab associées", nullable=True),
    ),
    "Indicateurs nationaux du baromètre de la planification écologique, réalisés et cibles.",
))

BAROMETRE_LEVERS = _register(Table(
    "barometre_levers", "planning/barometre_levers.parquet", ("lever", "chantier"),
    (
        _c("lever", "string", "Levier du plan"),
        _c("lever_short", "string", "Nom court", nullable=True),
        _c("chantier", "string", "Chantier associé", nullable=True),
        _c("objective", "string", "Objectif du levier", nullable=True),
        _c("objective_source", "string", "Source de l'objectif", nullable=True),
        _c("ges_2030_mt", "float64", "Δ GES 2030 (MtCO2e)", nullable=True),
        _c("ges_2040_mt", "float64", "Δ GES 2040 (MtCO2e)", nullable=True),
        _c("ges_2050_mt", "float64", "Δ GES 2050 (MtCO2e)", nullable=True),
    ),
))

BAROMETRE_COMMITMENTS = _register(Table(
    "barometre_commitments", "planning/barometre_commitments.parquet", ("commitment",),
    (
        _c("commitment", "string", "Engagement de la France"),
        _c("theme", "string", "Thématique"),
        _c("axis", "string", "Axe de la taxonomie environnementale", nullable=True),
    ),
    "Engagements de la France (baromètre de la planification écologique).",
))

ECOLAB_SERIES = _register(Table(
    "ecolab_series", "planning/ecolab_series.parquet", ("indicator_id", "region_code", "year", "dimension"),
    (
        _c("indicator_id", "string", "Identifiant Écolab (611 : consommation d'ENAF)"),
        _c("cube", "string", "Cube Écolab"),
        _c("measure", "string", "Mesure"),
        _c("label", "string", "Libellé de l'indicateur", nullable=True),
        _c("unit", "string", "Unité", nullable=True),
        _c("region_code", "string", "Code INSEE de la région"),
        _c("region_name", "string", "Nom de la région", nullable=True),
        _c("year", "int16", "Année"),
        _c("dimension", "string", "Dimension supplémentaire clé=valeur", nullable=True),
        _c("value", "float64", "Valeur (vide : non publiée)", nullable=True),
    ),
    "Séries régionales Écolab utilisées par le baromètre.",
))

LYON_FLOWS = _register(Table(
    "lyon_flows", "planning/lyon_flows.parquet", ("commune_code", "year"),
    (
        _c("commune_code", "string", "Code INSEE de la commune (Métropole de Lyon)"),
        _c("year", "int16", "Année N du flux (1er janvier N → 1er janvier N+1)"),
        _c("conso_naf_ha", "float64", "Consommation d'espaces NAF (ha)"),
        _c("conso_naf_activite_ha", "float64", "dont activité (ha)"),
        _c("conso_naf_habitat_ha", "float64", "dont habitat (ha)"),
        _c("conso_naf_mixte_ha", "float64", "dont mixte (ha)"),
        _c("conso_naf_routes_ha", "float64", "dont routes (ha)"),
        _c("conso_naf_ferre_ha", "float64", "dont ferré (ha)"),
        _c("conso_naf_inconnu_ha", "float64", "dont inconnu (ha)"),
    ),
    "Flux communaux réels de consommation d'espaces, Métropole de Lyon (Cerema, extrait sparte).",
))

ZAN_TARGETS = _register(Table(
    "zan_targets", "planning/zan_targets.parquet", ("land_id",),
    (
        _c("land_id", "string", "Territoire dans le fichier source (REGION_32, SCOT_…, EPCI_…)"),
        _c("land_level", "string", "region, epci ou scot_sparte (identifiant sparte, sans SIREN)"),
        _c("land_code", "string", "Code INSEE, SIREN ou identifiant sparte"),
        _c("parent_id", "string", "Territoire parent", nullable=True),
        _c("reduction_pct", "float64", "Réduction de la consommation 2021-2030 par rapport à 2011-2020 (%)"),
        _c("document", "string", "Document qui porte l'objectif"),
        _c("in_document", "bool", "Objectif écrit dans le document du territoire"),
        _c("status", "string", "réglementaire ou suggéré"),
        _c("document_url", "string", "Lien du document", nullable=True),
        _c("document_comment", "string", "Commentaire", nullable=True),
    ),
    "Objectifs ZAN territorialisés (SRADDET, SCoT, PLUi).",
))

MISSING_REASONS = _register(Table(
    "missing_reasons", MISSING_REASONS_PATH, ("source", "variable", "commune_code"),
    (
        _c("source", "string", "Identifiant de la source (registre des sources)"),
        _c("variable", "string", "Variable du fichier tidy de la source (composante des indicateurs)"),
        _c("commune_code", "string", "Code INSEE de la commune actuelle sans valeur"),
        _c("reason", "string", "Pourquoi la source ne donne pas de valeur pour cette commune (français)"),
    ),
    "Valeurs écartées par l'étape des sources, avec leur raison (communes fusionnées, Paris, Lyon, Marseille) ; "
    "écrite par planeco_kernel.bundle.sources_step, lue par planeco_kernel.indicators.missing.",
))


def validate(df: pd.DataFrame, table: Table | str, *, origin: str | None = None) -> pd.DataFrame:
    """Check a frame against its declared table; return it with columns in declared order.

    Raises
    ------
    SchemaError
        Naming the table (and the file it came from), the missing and unexpected columns, null
        values in non-nullable columns, and duplicated primary keys.
    """
    t = TABLES[table] if isinstance(table, str) else table
    where = f"{t.name}" + (f" ({origin})" if origin else "")
    expected = list(t.column_names)
    missing = [c for c in expected if c not in df.columns]
    extra = [c for c in df.columns if c not in expected]
    problems: list[str] = []
    if missing:
        problems.append(f"missing columns {missing}")
    if extra and not t.extra_columns_allowed:
        problems.append(f"unexpected columns {extra}")
    if not missing:
        nulls = [c.name for c in t.columns if not c.nullable and df[c.name].isna().any()]
        if nulls:
            problems.append(f"null values in non-nullable columns {nulls}")
        dup = df.duplicated(list(t.primary_key)).sum()
        if dup:
            problems.append(f"{dup} duplicated primary keys {list(t.primary_key)}")
    if problems:
        raise SchemaError(f"{where}: " + "; ".join(problems) + f" (expected columns: {', '.join(expected)})")
    return df[expected] if not t.extra_columns_allowed else df
