"""Build-time checks: sources against their published totals, and a rebuild against the previous one.

:func:`source_checks` runs in the source step of ``planeco data build`` on the tidy frames just
read and on the components moved to the current geography. Each check is declared here with the
published figure it reproduces and where that figure comes from; a mismatch stops the build with
a clear :class:`~planeco_kernel.errors.BundleError` (the previous bundle stays in use), and every
result is written to ``manifest.json`` (``checks``). A check whose edition is not the one the
file holds (a newer file downloaded from the publisher) is recorded as ``non applicable``.

:func:`headline` and :func:`compare_headline` compare the headline counts of a build with the
previous bundle's (territories per level, SCoT carriers, population totals per level) against the
tolerances declared in the source registry (``build_checks``); beyond them the build needs
``--accept-changes`` (issue 15, item 12: a silently shortened BANATIC file moved the SCoT layer
from 609 carriers to 922).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from planeco_kernel import fmt
from planeco_kernel.errors import BundleError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from planeco_kernel.indicators.components import Components

CENSUS_2018_POPULATION = 66_732_538
"""P18_POP over the communes of the comparateur de territoires (France without Mayotte) =
population municipale 2018 (INSEE, populations légales 2018)."""
CENSUS_2018_VACANCY = 0.0816
"""P18_LOGVAC / P18_LOG over the communes: 2,954,500 / 36,220,594 = 8.16 % (the SGPE baromètre gives
8.2 % for 2019)."""
FILOSOFI_2019_MEDIANS: dict[str, float] = {"01001": 23_970.0, "35238": 21_760.0, "69123": 24_150.0, "75056": 28_570.0}
"""MED19 of a few communes whose perimeter did not change since 2021 (comparateur de territoires;
Rennes, Lyon and Paris, given both whole and by arrondissement), read back from the components after the move to the current geography."""
LYON_2011_2020_HA = 827.7
"""Métropole de Lyon, NAF consumption 2011–2020 over its 58 communes (sparte extract; the ZAN
reference period)."""


ARRONDISSEMENTS = frozenset({f"751{i:02d}" for i in range(1, 21)} | {f"6938{i}" for i in range(1, 10)}
                            | {f"132{i:02d}" for i in range(1, 17)})
"""The 45 arrondissements municipaux of Paris, Lyon and Marseille (INSEE codes, stable)."""


def _arrondissements(history: pd.DataFrame) -> set[str]:
    return set(ARRONDISSEMENTS) | set(history.loc[history["type"] == "arrondissement-municipal", "code"].astype(str))


def _result(check_id: str, status: str, expected: Any, got: Any, text: str) -> dict[str, Any]:
    return {"id": check_id, "status": status, "expected": expected, "got": got, "text": text}


def source_checks(frames: dict[str, pd.DataFrame], comps: Components, history: pd.DataFrame) -> list[dict[str, Any]]:
    """Run the declared checks; return their results.

    Raises
    ------
    BundleError
        A source does not reproduce its published total (French, naming the source and figures).
    """
    out: list[dict[str, Any]] = []
    arr = _arrondissements(history)
    cc = frames.get("insee_comparateur")
    if cc is not None:
        out += _comparateur(cc, comps, arr)
    if "cerema_lyon" in frames:
        out.append(_lyon(comps))
    failed = [r for r in out if r["status"] == "échec"]
    if failed:
        raise BundleError("Contrôle des sources à la construction : " + " ; ".join(r["text"] for r in failed)
                          + ". Le paquet de données existant est conservé. Le fichier lu n'est pas celui dont "
                          "les totaux publiés sont connus, ou sa lecture est fausse : signalez-le.")
    return out


def _comparateur(cc: pd.DataFrame, comps: Components, arr: set[str]) -> list[dict[str, Any]]:
    communes = cc[~cc["commune_code"].isin(arr)]
    pop = communes[(communes["variable"] == "population") & (communes["year"] == 2018)]["value"]
    if pop.empty:
        return [_result("insee_comparateur.population_2018", "non applicable", CENSUS_2018_POPULATION, None,
                        "édition sans recensement 2018 : totaux publiés de l'édition 2018 non applicables")]
    res = []
    total = float(pop.sum())
    ok = abs(total - CENSUS_2018_POPULATION) < 1.0
    res.append(_result("insee_comparateur.population_2018", "ok" if ok else "échec", CENSUS_2018_POPULATION,
                       round(total), f"population 2018 sur les communes : {fmt.integer(total)} habitants "
                       f"(publié : {fmt.integer(CENSUS_2018_POPULATION)})"))
    sums = communes[communes["year"] == 2018].groupby("variable")["value"].sum()
    rate = float(sums["logements_vacants"] / sums["logements"])
    ok = abs(rate - CENSUS_2018_VACANCY) < 0.0001
    res.append(_result("insee_comparateur.vacance_2018", "ok" if ok else "échec", CENSUS_2018_VACANCY,
                       round(rate, 5), f"taux de vacance 2018 : {fmt.number(100 * rate, 2)} % "
                       f"(publié : {fmt.number(100 * CENSUS_2018_VACANCY, 2)} %)"))
    j = comps.year_index(2019)
    codes = {c: i for i, c in enumerate(comps.codes)}
    for code, expected in FILOSOFI_2019_MEDIANS.items():
        if code not in codes:  # a bundle of another geography (tests, a partial build)
            res.append(_result(f"insee_comparateur.mediane_2019.{code}", "non applicable", expected, None,
                               f"commune {code} absente de la géographie du paquet"))
            continue
        got = None
        if j is not None and code in codes and "niveau_vie_median_eur" in comps.values:
            v = comps.values["niveau_vie_median_eur"][codes[code], j]
            got = None if np.isnan(v) else float(v)
        ok = got == expected
        res.append(_result(f"insee_comparateur.mediane_2019.{code}", "ok" if ok else "échec", expected, got,
                           f"médiane du niveau de vie 2019 de {code} : "
                           f"{f'{fmt.integer(got)} €' if got is not None else 'absente'} (fichier : {fmt.integer(expected)} €)"))
    return res


def _lyon(comps: Components) -> dict[str, Any]:
    years = [y for y in range(2011, 2021) if comps.year_index(y) is not None]
    if "conso_naf_ha" not in comps.values or len(years) != 10:
        return _result("cerema_lyon.conso_2011_2020", "échec", LYON_2011_2020_HA, None,
                       "consommation d'espaces 2011-2020 de la Métropole de Lyon absente des composantes")
    idx = [comps.year_index(y) for y in years]
    scope = comps.scope.get("cerema_lyon:conso_naf_ha", comps.scope.get("cerema_lyon"))
    if scope is None or int(np.asarray(scope).sum()) != 58:  # another geography (tests, a partial build)
        return _result("cerema_lyon.conso_2011_2020", "non applicable", LYON_2011_2020_HA, None,
                       "les 58 communes de la Métropole de Lyon ne sont pas toutes dans la géographie du paquet")
    total = float(np.nansum(comps.values["conso_naf_ha"][np.asarray(scope, dtype=bool)][:, idx]))
    ok = abs(total - LYON_2011_2020_HA) < 0.05
    return _result("cerema_lyon.conso_2011_2020", "ok" if ok else "échec", LYON_2011_2020_HA, round(total, 1),
                   f"consommation d'espaces 2011-2020 de la Métropole de Lyon : {fmt.number(total, 1)} ha "
                   f"(publié : {fmt.number(LYON_2011_2020_HA, 1)} ha)")


# --------------------------------------------------------------------------- headline counts


def headline(territories: pd.DataFrame, population: pd.DataFrame, scot: dict[str, Any] | None) -> dict[str, Any]:
    """Headline counts of a build: territories per level, SCoT carriers, population per level (latest year)."""
    latest = int(population["census_year"].max())
    pop = population[population["census_year"] == latest].groupby("level")["population"].sum()
    return {
        "territories": {str(k): int(v) for k, v in territories["level"].value_counts().items()},
        "scot_carriers": int(scot["structures"]) if scot else 0,
        "population_year": latest,
        "population": {str(k): int(v) for k, v in pop.items()},
    }


def compare_headline(previous: dict[str, Any] | None, current: dict[str, Any],
                     tolerances: dict[str, float]) -> list[str]:
    """French descriptions of the headline counts that moved beyond their tolerance (empty: none)."""
    if not previous:
        return []
    out: list[str] = []

    def moved(label: str, before: float, after: float, tol: float) -> None:
        if before == after:
            return
        rel = abs(after - before) / max(abs(before), 1.0)
        if rel > tol:
            out.append(f"{label} : {fmt.integer(before)} → {fmt.integer(after)} "
                       f"({fmt.number(100 * rel, 1)} %, tolérance {fmt.number(100 * tol, 1)} %)")

    for level, n in sorted((previous.get("territories") or {}).items()):
        moved(f"territoires de niveau {level}", n, current["territories"].get(level, 0), tolerances.get("territories", 0.02))
    moved("structures porteuses de SCoT", previous.get("scot_carriers", 0), current["scot_carriers"],
          tolerances.get("scot_carriers", 0.05))
    if previous.get("population_year") == current["population_year"]:
        for level, n in sorted((previous.get("population") or {}).items()):
            moved(f"population {current['population_year']} au niveau {level}", n, current["population"].get(level, 0),
                  tolerances.get("population", 0.01))
    return out
