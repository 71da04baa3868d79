"""Key figures of the « Fiche territoire »: construction, 2021 housing, both vacancies, brownfields, CatNat, programmes.

Plain data for the Fiche (no widget): :func:`sections` reads the indicator cube at the
territory's level and returns, per section, each figure's French value, year, source and
vintage, and the section's notes (why census and LOVAC vacancy differ, that the brownfield
surface is that of the land units, that CatNat counts recognised disasters, not exposure);
:func:`programme_badges` lists the ANCT programmes of a commune with their signature dates.
The HTML is rendered by the ``fiche_figures.html`` template fragments.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from planeco_kernel import fmt
from planeco_kernel.indicators.cube import Cube
from planeco_kernel.indicators.missing import missing_reason, missing_text
from planeco_kernel.indicators.sentences import format_value

VACANCY_NOTE = (
    "Deux mesures de la vacance : le recensement compte les logements inoccupés le jour de l'enquête, parc "
    "social compris ; LOVAC compte les logements du parc privé déclarés vacants au 1er janvier dans les "
    "fichiers fiscaux. Elles ne mesurent pas la même chose et ne se comparent pas terme à terme."
)
FRICHES_NOTE = (
    "La surface indiquée est celle des unités foncières où se trouvent les friches, pas celle des friches "
    "elles-mêmes (souvent bien plus petites). Une friche absente de l'inventaire Cartofriches n'en est pas "
    "moins une friche : l'inventaire est incomplet par nature."
)
CATNAT_NOTE = (
    "Ce sont des catastrophes naturelles reconnues par arrêté (procédure CatNat), pas une mesure de "
    "l'exposition aux risques : une commune sans arrêté n'est pas une commune sans risque."
)
PROGRAMMES_NOTE = "Aux échelles intercommunales et au-delà : nombre de communes membres de chaque programme."

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("construction", "Construction", (
        "logements_autorises", "logements_commences", "logements_autorises_moyenne_5ans",
        "logements_commences_moyenne_5ans", "logements_autorises_moyenne_5ans_pour_1000_habitants",
        "part_logements_collectifs_autorises")),
    ("logement", "Logement", (
        "nombre_logements", "nombre_residences_principales", "nombre_residences_secondaires",
        "part_residences_secondaires", "taux_logements_sociaux_sru")),
    ("vacance", "Logements vacants", ("nombre_logements_vacants", "taux_vacance", "taux_vacance_lovac",
                                      "taux_vacance_longue_lovac")),
    ("friches", "Friches", ("friches_sites", "friches_sans_projet", "friches_avec_projet", "friches_potentielles",
                            "friches_surface_unites_foncieres_ha")),
    ("risques", "Risques et adaptation : catastrophes naturelles reconnues", (
        "catnat_arretes", "catnat_arretes_10_ans", "catnat_derniere_annee", "catnat_inondations",
        "catnat_secheresse", "catnat_mouvements_terrain", "catnat_tempetes")),
    ("programmes", "Programmes de revitalisation (ANCT)", (
        "communes_action_coeur_de_ville", "communes_petites_villes_de_demain", "communes_ort")),
)
"""Fiche sections: key, French title, indicator ids (of the catalogue) in display order."""

COMMUNE_ONLY_SECTIONS = {"programmes"}
"""Sections shown as badges at commune level instead of figures."""


@dataclass(frozen=True)
class Figure:
    """One figure: French label and value, its year, and its source with vintage."""

    indicator: str
    label: str
    value_text: str
    year: int | None
    source: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    """One section of key figures, with its notes and links (label, URL)."""

    key: str
    title: str
    figures: tuple[Figure, ...]
    notes: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProgrammeBadge:
    """One ANCT programme of a commune: label and signature date (French text), source."""

    key: str
    label: str
    signed_text: str
    source: str


def _latest(cube: Cube, level: str, code: str, indicator: str) -> tuple[float | None, int | None]:
    if not cube.status[indicator].available:
        return None, None
    series = cube[level][indicator].sel(territory=code).to_series().dropna()
    if series.empty:
        return None, None
    return float(series.iloc[-1]), int(series.index[-1])


def _source_text(cube: Cube, indicator: str, year: int | None = None) -> str:
    """The source of the value shown: for a component fed by several sources (census 2021 beside the
    older censuses), the one that gave ``year`` (:attr:`Components.provenance`); else the indicator's."""
    cat = cube.catalogue
    ind = cat.indicators[indicator]
    sid = ind.source
    if year is not None:
        given = {cube.components.provenance.get(c, {}).get(int(year)) for c in ind.components}
        given = {g for g in given if g in cat.sources}
        if sid not in given and len(given) == 1:
            sid = given.pop()
    src = cat.sources[sid]
    return f"{src.short or src.title} ({src.vintage})"


def provisional_started_year(cube: Cube) -> int | None:
    """The latest year with dwellings authorised but no dwellings started anywhere: provisional, blank."""
    if not (cube.status["logements_autorises"].available and cube.status["logements_commences"].available):
        return None
    auth = set(cube.status["logements_autorises"].years)
    started = set(cube.status["logements_commences"].years)
    blank = sorted(auth - started)
    return blank[-1] if blank and blank[-1] > max(started) else None


def _figure(cube: Cube, level: str, code: str, indicator: str) -> Figure:
    ind = cube.catalogue.indicators[indicator]
    value, year = _latest(cube, level, code, indicator)
    if indicator == "catnat_derniere_annee":
        text = fmt.MISSING if value is None else str(int(value))
    else:
        text = format_value(value, ind.unit)
    note = "" if value is not None else (cube.status[indicator].reason if not cube.status[indicator].available
                                         else missing_text(missing_reason(cube, indicator, level, code)))
    cover_var = f"{indicator}__coverage"
    if value is not None and level != "commune" and cover_var in cube[level]:
        cover = float(cube[level][cover_var].sel(territory=code, year=year))
        if not math.isnan(cover) and cover < 0.999:
            note = f"estimation sur les communes renseignées ({fmt.percent(100 * cover, 0)} de la population)"
    return Figure(indicator, ind.label, text, year, _source_text(cube, indicator, year), note)


def sections(cube: Cube, level: str, code: str) -> list[Section]:
    """The key-figure sections of territory ``code`` at ``level`` (programmes: communes get badges instead)."""
    from planeco_kernel.sources.catnat import GEORISQUES_COMMUNE_URL

    out = []
    for key, title, ids in SECTIONS:
        if key in COMMUNE_ONLY_SECTIONS and level == "commune":
            continue
        figures = tuple(_figure(cube, level, code, i) for i in ids if i in cube.catalogue.indicators)
        notes: list[str] = []
        links: list[tuple[str, str]] = []
        if key == "construction" and (year := provisional_started_year(cube)) is not None:
            notes.append(f"Logements commencés {year} : provisoires, absents du fichier Sit@del (les déclarations "
                         "d'ouverture de chantier arrivent avec retard) ; ils ne sont pas comptés 0.")
        if key == "vacance":
            notes.append(VACANCY_NOTE)
        if key == "friches":
            notes.append(FRICHES_NOTE)
        if key == "risques":
            notes.append(CATNAT_NOTE)
            if level == "commune":
                links.append(("Les risques de la commune sur Géorisques", GEORISQUES_COMMUNE_URL.format(code=code)))
        if key == "programmes":
            notes.append(PROGRAMMES_NOTE)
        out.append(Section(key, title, figures, tuple(notes), tuple(links)))
    return out


def _date_text(raw: float) -> str:
    n = int(raw)
    return fmt_date(dt.date(n // 10000, n // 100 % 100, n % 100))


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def fmt_date(d: dt.date) -> str:
    """« 8 septembre 2021 », « 1er janvier 2024 »."""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def programmes_source(cube: Cube) -> str:
    """« ANCT, programmes (listes au 23 juillet 2026) », or "" when the source is not in the bundle."""
    if not cube.status.get("communes_petites_villes_de_demain") or not cube.status["communes_petites_villes_de_demain"].available:
        return ""
    src = cube.catalogue.sources["anct_programmes"]
    return f"{src.short} ({src.vintage})"


def programme_badges(cube: Cube, code: str) -> list[ProgrammeBadge]:
    """The ANCT programmes commune ``code`` takes part in, with the signature date of each convention."""
    from planeco_kernel.sources.anct_programmes import PROGRAMMES

    comps = cube.components
    pos = {c: i for i, c in enumerate(comps.codes)}
    if code not in pos or "programme_acv" not in comps.values:
        return []
    i = pos[code]
    src = cube.catalogue.sources["anct_programmes"]
    source = f"{src.short} ({src.vintage})"
    out = []
    for p, (label, _url) in PROGRAMMES.items():
        member = comps.values[f"programme_{p}"][i]
        if not (member == 1.0).any():
            continue
        dates = comps.values.get(f"programme_{p}_signature")
        signed = None if dates is None else next((v for v in dates[i][::-1] if not math.isnan(v)), None)
        text = f"convention signée le {_date_text(signed)}" if signed is not None else "date de signature non publiée"
        out.append(ProgrammeBadge(p, label, text, source))
    return out
