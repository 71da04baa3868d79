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
COMPONENTS_PATH = "indicators/components.parquet"
"""Commune × year components of the indicators (:class:`planeco_kernel.indicators.components.Components`)."""


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
