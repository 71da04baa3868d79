"""Rates of merged communes and of Paris / Lyon / Marseille (:mod:`planeco_kernel.sources.merged_communes`).

The first tests use INVENTED tiny frames (codes are real INSEE codes, values are made up for the
test and are not real data). The tests marked ``bundle`` read the REAL mirrored files (SRU 2024,
census RP 2021 housing, LOVAC 2025, Filosofi 2021) and the real bundle's ``code_history``.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from planeco_kernel.sources import merged_communes as mc
from planeco_kernel.sources.merged_communes import RateRule, fold_rates

VAR = "taux_logements_sociaux_sru_pct"


def _history(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "vintage", "type", "current_code"])


def _tidy(values: dict[str, float | None], var: str = VAR, year: int = 2024) -> pd.DataFrame:
    return pd.DataFrame({"commune_code": list(values), "year": year, "variable": var,
                         "value": [float("nan") if v is None else v for v in values.values()], "unit": "%"})


# Invented: A (00001) absorbs B (00002) after the file's geography (2024); C (00003) absorbed D (00004)
# long before (D is a commune déléguée in 2024, listed by the file with a placeholder 0 %).
HISTORY = _history([
    ("00001", 2024, "commune-actuelle", "00001"), ("00002", 2024, "commune-actuelle", "00001"),
    ("00001", 2025, "commune-actuelle", "00001"), ("00002", 2025, "commune-deleguee", "00001"),
    ("00003", 2024, "commune-actuelle", "00003"), ("00004", 2024, "commune-deleguee", "00003"),
    ("00003", 2025, "commune-actuelle", "00003"), ("00004", 2025, "commune-deleguee", "00003"),
    ("00005", 2024, "commune-actuelle", "00005"), ("00005", 2025, "commune-actuelle", "00005"),
])
CURRENT = {"00001", "00003", "00005"}
WEIGHTS = pd.Series({"00001": 300.0, "00002": 100.0, "00003": 50.0, "00005": 10.0})


def _fold(values, rules=None, history=HISTORY, current=CURRENT):
    rules = rules or [RateRule(VAR, "share", WEIGHTS, "résidences principales")]
    return fold_rates(_tidy(values), history, file_vintage=2024, current=current, rules=rules)


def _value(folded, code):
    got = folded.tidy.loc[folded.tidy["commune_code"] == code, "value"]
    return None if got.empty else float(got.iloc[0])


def test_merged_after_the_file_is_the_mean_weighted_by_the_denominator():
    folded = _fold({"00001": 10.0, "00002": 30.0, "00005": 5.0})
    assert _value(folded, "00001") == pytest.approx((10 * 300 + 30 * 100) / 400)  # 15, not the plain mean 20
    assert _value(folded, "00002") is None  # the absorbed piece is folded away
    assert _value(folded, "00005") == 5.0  # untouched
    assert "estimation" in folded.computed[("00001", VAR)]
    assert any("00001" in n for n in folded.notes("sru"))


def test_placeholder_rows_of_old_communes_deleguees_are_dropped_not_averaged():
    folded = _fold({"00003": 20.0, "00004": 0.0})
    assert _value(folded, "00003") == 20.0
    assert _value(folded, "00004") is None
    assert not folded.unavailable


def test_only_an_old_commune_deleguee_row_is_not_the_current_commune():
    folded = _fold({"00004": 0.0})
    assert _value(folded, "00003") is None and _value(folded, "00004") is None
    assert "déléguées" in folded.unavailable[("00003", VAR)]


@pytest.mark.parametrize("values, reason", [
    ({"00001": 10.0, "00002": None}, "secret statistique"),  # a missing piece: never the partial rate
    ({"00001": 10.0}, "secret statistique"),
])
def test_a_missing_piece_makes_the_merged_rate_unavailable(values, reason):
    folded = _fold(values)
    assert _value(folded, "00001") is None
    assert reason in folded.unavailable[("00001", VAR)]


def test_missing_weight_and_missing_denominator_say_why():
    folded = _fold({"00001": 10.0, "00002": 30.0},
                   rules=[RateRule(VAR, "share", WEIGHTS.drop("00002"), "résidences principales")])
    assert "00002" in folded.unavailable[("00001", VAR)] and _value(folded, "00001") is None
    folded = _fold({"00001": 10.0, "00002": 30.0},
                   rules=[RateRule(VAR, "share", None, missing_why="le fichier ne donne pas le parc privé")])
    assert "le fichier ne donne pas le parc privé" in folded.unavailable[("00001", VAR)]
    assert "moyenne non pondérée" in folded.unavailable[("00001", VAR)]


PLM_HISTORY = _history([("75056", 2024, "commune-actuelle", "75056"),
                        ("75101", 2024, "arrondissement-municipal", "75056"),
                        ("75102", 2024, "arrondissement-municipal", "75056")])


def test_plm_median_from_arrondissements_is_never_computed():
    rules = [RateRule("niveau_vie_median_eur", "median")]
    tidy = _tidy({"75101": 30_000.0, "75102": 28_000.0}, var="niveau_vie_median_eur", year=2021)
    folded = fold_rates(tidy, PLM_HISTORY, file_vintage=2024, current={"75056"}, rules=rules)
    assert folded.tidy.empty
    assert folded.unavailable[("75056", "niveau_vie_median_eur")].startswith(
        "non disponible à l'échelle de la commune, voir les arrondissements")


def test_plm_share_from_arrondissements_with_weights_and_own_row_wins():
    rules = [RateRule(VAR, "share", pd.Series({"75101": 1000.0, "75102": 3000.0}), "résidences principales")]
    folded = fold_rates(_tidy({"75101": 20.0, "75102": 10.0}), PLM_HISTORY, file_vintage=2024,
                        current={"75056"}, rules=rules)
    assert _value(folded, "75056") == pytest.approx((20 * 1000 + 10 * 3000) / 4000)
    folded = fold_rates(_tidy({"75056": 13.0, "75101": 20.0, "75102": 10.0}), PLM_HISTORY, file_vintage=2024,
                        current={"75056"}, rules=rules)
    assert _value(folded, "75056") == 13.0 and len(folded.tidy) == 1  # arrondissements are not summed in too


def test_rules_for_reports_a_missing_weight_frame():
    vintage, rules = mc.rules_for("sru", {})
    assert vintage == 2024 and rules[0].weights is None and "ne sont pas dans le paquet" in rules[0].missing_why
    assert mc.rules_for("catnat", {}) is None


# --------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def real(bundle_dir):
    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.sources import filosofi_2021, insee_rp_logement, lovac, sru

    b = Bundle(bundle_dir)
    terr = b.read("territories", ["level", "code"])
    current = set(terr.loc[terr["level"] == "commune", "code"].astype(str))
    history = b.read("code_history", ["code", "vintage", "type", "current_code"])
    frames = {"insee_rp_logement": insee_rp_logement.load(), "sru": sru.load(), "lovac": lovac.load(),
              "filosofi_2021": filosofi_2021.load()}
    out = {}
    for sid in ("sru", "lovac", "filosofi_2021"):
        vintage, rules = mc.rules_for(sid, frames)
        out[sid] = fold_rates(frames[sid], history, file_vintage=vintage, current=current, rules=rules)
    return frames, out


@pytest.mark.bundle
def test_real_merged_commune_sru_rate_weighted_by_main_residences(real):
    """01330 was merged into 01187 on 1 January 2025; the SRU inventory 2024 lists both."""
    frames, out = real
    raw = frames["sru"].set_index("commune_code")["value"]
    rp = frames["insee_rp_logement"]
    rp = rp[rp["variable"] == "residences_principales"].set_index("commune_code")["value"]
    assert {"01187", "01330"} <= set(raw.index)
    expected = (raw["01187"] * rp["01187"] + raw["01330"] * rp["01330"]) / (rp["01187"] + rp["01330"])
    assert _value(out["sru"], "01187") == pytest.approx(expected)
    assert _value(out["sru"], "01330") is None
    assert not math.isclose(expected, (raw["01187"] + raw["01330"]) / 2)


@pytest.mark.bundle
def test_real_old_merger_keeps_its_own_rate_not_the_placeholders(real):
    """Valserhône (01033, created 2019) is listed with 30 %, its communes déléguées 01091, 01205 with 0 %."""
    frames, out = real
    raw = frames["sru"].set_index("commune_code")["value"]
    assert raw["01091"] == 0 and raw["01205"] == 0
    assert _value(out["sru"], "01033") == raw["01033"]
    assert not out["sru"].tidy["commune_code"].isin(["01091", "01205"]).any()
    assert out["sru"].redundant[VAR] >= 2 and any("communes déléguées" in n for n in out["sru"].notes("sru"))


ARRONDISSEMENTS = {"75056": [f"751{i:02d}" for i in range(1, 21)], "69123": [f"6938{i}" for i in range(1, 10)],
                   "13055": [f"132{i:02d}" for i in range(1, 17)]}


@pytest.mark.bundle
@pytest.mark.parametrize("code", ["75056", "69123", "13055"])
def test_real_plm_lovac_and_filosofi_say_see_the_arrondissements(real, code):
    _frames, out = real
    for sid, var in (("lovac", "taux_vacance_lovac_pct"), ("filosofi_2021", "niveau_vie_median_eur")):
        assert _value(out[sid], code) is None
        assert out[sid].unavailable[(code, var)].startswith("non disponible à l'échelle de la commune, voir les arrondissements")
        # no arrondissement row is left for the indicator layer to pick up as the commune's value
        assert not out[sid].tidy.loc[out[sid].tidy["variable"] == var, "commune_code"].isin(ARRONDISSEMENTS[code]).any()


@pytest.mark.bundle
def test_real_lovac_merged_commune_rate_is_unavailable_with_the_reason(real):
    _frames, out = real
    reason = out["lovac"].unavailable[("01187", "taux_vacance_lovac_pct")]
    assert "parc privé" in reason and "01330" in reason
