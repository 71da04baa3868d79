"""ZAN: what a territory can do without consuming land — brownfields, long-vacant homes, density of permits.

Beside a territory's ZAN envelope (the trajectories' view), :func:`zan_levers` returns three
indicative levers, each with its source, vintage and method:

1. **Brownfields without project** (Cerema Cartofriches): the count of referenced sites « sans
   projet » and the surface of the land units they stand on — the surface of the land units, not
   of the brownfields (much larger as a rule).
2. **Long-term vacant private dwellings, estimated**: per commune, LOVAC 2025 long-term vacancy
   rate (private dwellings vacant for more than two years) × an estimate of the private stock =
   census 2021 dwellings − social rented dwellings (SRU 2024 rate × census 2021 main residences);
   summed over the communes where the rate is published (statistical secret elsewhere), with the
   share of dwellings covered. An estimate, labelled so: LOVAC's own denominator is not published.
3. **Dwellings authorised per hectare consumed for housing** over the same five years (Sit@del,
   Cerema fichiers fonciers), where both sources are in the bundle (the Métropole de Lyon offline,
   all of France online).

These are indicative: they are never subtracted from the legal envelope (loi Climat et
résilience) and are shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planeco_kernel.indicators.cube import PARENT_COLUMNS, Cube

CAVEAT = ("Leviers indicatifs : ils ne se retranchent pas de l'enveloppe légale de consommation d'espaces ; "
          "ils disent où construire sans consommer d'espaces naturels, agricoles et forestiers.")


@dataclass(frozen=True)
class Lever:
    """One lever: a value with its unit, year(s), source and method (French texts)."""

    key: str
    label: str
    value: float | None
    unit: str
    years: str
    source: str
    method: str
    estimate: bool = False
    coverage: float | None = None
    """Share of the territory's census dwellings (or communes) behind the value, when partial."""
    why_missing: str = ""


@dataclass(frozen=True)
class ZanLevers:
    """The levers of one territory."""

    code: str
    name: str
    level: str
    levers: tuple[Lever, ...]
    caveat: str = CAVEAT

    def get(self, key: str) -> Lever:
        return next(lv for lv in self.levers if lv.key == key)


def _source(cube: Cube, sid: str) -> str:
    src = cube.catalogue.sources[sid]
    return f"{src.title} ({src.vintage})"


def _commune_rows(cube: Cube, code: str, level: str) -> np.ndarray:
    """Positions, in the components, of the communes of territory ``code`` of ``level``."""
    t = cube.territories
    communes = t[t["level"] == "commune"]
    if level == "commune":
        members = {code}
    elif level == "france":
        members = set(communes["code"])
    else:
        members = set(communes.loc[communes[PARENT_COLUMNS[level]] == code, "code"])
    return np.flatnonzero(np.isin(cube.components.codes, list(members)))


def _latest(comps, name: str, rows: np.ndarray) -> tuple[np.ndarray | None, int | None]:
    """The latest year with any value of component ``name``, and its values on ``rows``."""
    arr = comps.values.get(name)
    if arr is None:
        return None, None
    have = [j for j in range(len(comps.years)) if not np.isnan(arr[:, j]).all()]
    if not have:
        return None, None
    j = have[-1]
    return arr[rows, j], comps.years[j]


def _value(cube: Cube, level: str, code: str, indicator: str) -> tuple[float | None, int | None]:
    """The latest available value of ``indicator`` for the territory, and its year."""
    if not cube.status[indicator].available:
        return None, None
    series = cube[level][indicator].sel(territory=code).to_series().dropna()
    if series.empty:
        return None, None
    return float(series.iloc[-1]), int(series.index[-1])


def zan_levers(cube: Cube, code: str, level: str) -> ZanLevers:
    """The three levers of territory ``code`` at ``level`` (``commune``, ``epci``, ``scot``, ``departement``,
    ``region``, ``france``); a lever whose sources are not in the bundle has ``value=None`` and says why."""
    t = cube.territories
    row = t[(t["level"] == level) & (t["code"] == code)]
    if row.empty:
        from planeco_kernel.errors import TerritoryNotFoundError

        raise TerritoryNotFoundError(code, level=level)
    name = str(row["name"].iloc[0])
    rows = _commune_rows(cube, code, level)
    levers = [
        *_brownfields(cube, level, code),
        _vacant(cube, rows),
        _density(cube, level, code),
    ]
    return ZanLevers(code, name, level, tuple(levers))


def _brownfields(cube: Cube, level: str, code: str) -> list[Lever]:
    src = _source(cube, "cartofriches")
    n, year = _value(cube, level, code, "friches_sans_projet")
    ha, _ = _value(cube, level, code, "friches_surface_unites_foncieres_ha")
    why = "" if n is not None else cube.status["friches_sans_projet"].reason or "non disponible pour ce territoire"
    return [
        Lever("friches_sans_projet", "Friches sans projet", n, "sites", str(year or ""), src,
              "Sites de friches référencés sans projet de reconversion (inventaire incomplet par nature).",
              why_missing=why),
        Lever("friches_surface_unites_foncieres_ha", "Surface des unités foncières de toutes les friches référencées",
              ha, "ha", str(year or ""), src,
              "Surface des unités foncières des friches référencées (tous statuts), pas la surface des friches "
              "elles-mêmes : souvent bien plus grande.", why_missing=why),
    ]


def _vacant(cube: Cube, rows: np.ndarray) -> Lever:
    comps = cube.components
    label = "Logements du parc privé vacants depuis plus de deux ans (estimation)"
    source = " ; ".join(_source(cube, s) for s in ("lovac", "insee_rp_logement", "sru"))
    method = ("Par commune : taux de vacance de plus de deux ans (LOVAC) × parc privé estimé (logements du "
              "recensement − logements sociaux, taux SRU × résidences principales), sommé sur les communes où "
              "le taux est publié (secret statistique ailleurs).")
    rate, ry = _latest(comps, "taux_vacance_longue_lovac_pct", rows)
    log, ly = _latest(comps, "logements", rows)
    rp, _ = _latest(comps, "residences_principales", rows)
    sru, sy = _latest(comps, "taux_logements_sociaux_sru_pct", rows)
    if rate is None or log is None or rp is None:
        return Lever("logements_vacants_longue_duree", label, None, "logements", "", source, method, estimate=True,
                     why_missing="taux LOVAC ou logements du recensement absents du paquet de données.")
    social = np.where(np.isnan(sru), 0.0, sru) / 100 * rp if sru is not None else np.zeros_like(rp)
    private = np.clip(log - social, 0.0, None)
    ok = ~np.isnan(rate) & ~np.isnan(private)
    total_log = np.nansum(log)
    coverage = float(np.nansum(np.where(ok, log, 0.0)) / total_log) if total_log > 0 else None
    value = float(np.sum(rate[ok] / 100 * private[ok])) if ok.any() else None
    years = f"LOVAC {ry}, recensement {ly}" + (f", SRU {sy}" if sy else "")
    return Lever("logements_vacants_longue_duree", label, value, "logements", years, source, method, estimate=True,
                 coverage=coverage, why_missing="" if value is not None else "aucun taux LOVAC publié pour ces communes.")


def _density(cube: Cube, level: str, code: str) -> Lever:
    ind = "logements_autorises_par_ha_habitat"
    value, year = _value(cube, level, code, ind)
    source = f"{_source(cube, 'sitadel_communes')} ; {_source(cube, 'cerema_conso')}"
    why = ""
    if value is None:
        why = cube.status[ind].reason or (
            "consommation d'espaces pour l'habitat inconnue pour ce territoire (hors ligne : Métropole de Lyon "
            "seulement ; `planeco data build` en ligne l'ajoute pour toute la France).")
    return Lever(ind, "Logements autorisés par hectare consommé pour l'habitat (5 ans)", value, "logements par ha",
                 f"{year - 4}–{year}" if year else "", source,
                 "Logements autorisés pendant cinq ans rapportés aux hectares d'espaces NAF consommés pour l'habitat "
                 "pendant les mêmes années.", why_missing=why)
