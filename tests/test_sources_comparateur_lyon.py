"""INSEE comparateur de territoires and the Métropole de Lyon extract (Cerema, Sit@del): the real
mirror files, invented layouts for the failure cases, and what the cube makes of them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planeco_kernel import config
from planeco_kernel.errors import SchemaError

COMPARATEUR = "insee/base_cc_comparateur_csv_RP2018_COG2021.zip"
LYON = "cerema_lyon/conso_enaf_metropole_lyon_2009_2023.csv"
LYON_SITADEL = "cerema_lyon/sitadel_metropole_lyon_2019_2024.csv"


def _mirror_file(rel: str) -> Path:
    m = config.mirror_dir()
    if m is None or not (m / rel).is_file():
        pytest.skip(f"{rel} not in the mirror (PLANECO_MIRROR)")
    return m / rel


# --------------------------------------------------------------------------- comparateur: real file


@pytest.fixture(scope="module")
def comparateur():
    from planeco_kernel.sources import insee_comparateur as ic

    wide, cols = ic.parse(_mirror_file(COMPARATEUR))
    return wide, cols, ic.tidy(wide, cols)


ARRONDISSEMENTS = ({f"751{i:02d}" for i in range(1, 21)} | {f"6938{i}" for i in range(1, 10)}
                   | {f"132{i:02d}" for i in range(1, 17)})


def test_comparateur_reproduces_the_published_totals(comparateur):
    wide, cols, _ = comparateur
    assert len(wide) == 35_010 and wide["commune_code"].isin(ARRONDISSEMENTS).sum() == 45
    communes = wide[~wide["commune_code"].isin(ARRONDISSEMENTS)]
    assert communes["P18_POP"].sum() == pytest.approx(66_732_538, abs=0.5)
    assert communes["P18_LOG"].sum() == pytest.approx(36_220_594, abs=1)
    assert communes["P18_LOGVAC"].sum() / communes["P18_LOG"].sum() == pytest.approx(0.0816, abs=5e-5)
    assert communes["P18_EMPLT"].sum() == pytest.approx(26_599_318, abs=1)
    years = {v: sorted({y for c, (vv, _u, y) in cols.items() if vv == v}) for v in ("population", "niveau_vie_median_eur", "naissances")}
    assert years == {"population": [2013, 2018], "niveau_vie_median_eur": [2019], "naissances": [2020]}


def test_comparateur_tidy_keeps_mayotte_out_of_the_census_scope(comparateur):
    *_, t = comparateur
    mayotte = t[t["commune_code"].str.startswith("976")]
    assert set(mayotte["variable"]) == {"naissances", "deces", "naissances_5_ans", "deces_5_ans"}  # état civil only
    assert mayotte.loc[mayotte["variable"] == "naissances", "value"].notna().all()
    assert t.loc[(t["commune_code"] == "01001") & (t["variable"] == "niveau_vie_median_eur"), "value"].tolist() == [23_970.0]


# --------------------------------------------------------------------------- comparateur: invented layouts

HEADER = ("CODGEO;P21_POP;P15_POP;P21_MEN;P21_LOG;P21_RP;P21_RSECOCC;P21_LOGVAC;NAIS1521;DECE1521;MED21;ETTOT21")


def _zip(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    """INVENTED TEST DATA in the official layout of a later edition (census 2021)."""
    path = tmp_path / "base_cc_comparateur_csv.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("base_cc_comparateur.CSV", "\r\n".join([header, *rows]) + "\r\n")
    return path


def test_comparateur_reads_a_later_edition_by_its_column_years(tmp_path):
    from planeco_kernel.sources import insee_comparateur as ic

    path = _zip(tmp_path, ["01001;800;780;320;360;320;15;25;40;20;24000;14",
                           "01002;260;240;110;180;110;50;20;20;6;;5"])
    wide, cols = ic.parse(path)
    t = ic.tidy(wide, cols)
    pop = t[t["variable"] == "population"].groupby("year")["value"].sum()
    assert pop.to_dict() == {2015: 1020.0, 2021: 1060.0}
    assert set(t.loc[t["variable"] == "naissances_5_ans", "year"]) == {2021}
    assert t.loc[(t["variable"] == "niveau_vie_median_eur") & (t["commune_code"] == "01002"), "value"].isna().all()


@pytest.mark.parametrize(("rows", "header", "match"), [
    (["01001;800;780;320;360;320;15;25;40;20;24000;14"], HEADER.replace(";P21_LOGVAC", ""), "missing columns"),
    (["01001;800;780;320;360;200;15;25;40;20;24000;14"], HEADER, "main \\+ secondary \\+ vacant"),
    (["1001;800;780;320;360;320;15;25;40;20;24000;14"], HEADER, "re-saved by a spreadsheet"),
    (["01001;800;780;320;360;320;15;25;40;20;240000000;14"], HEADER, "out of their documented range"),
    (["01001;huit cents;780;320;360;320;15;25;40;20;24000;14"], HEADER, "non-numeric"),
])
def test_comparateur_refuses_broken_files(tmp_path, rows, header, match):
    from planeco_kernel.sources import insee_comparateur as ic

    with pytest.raises(SchemaError, match=match):
        ic.parse(_zip(tmp_path, rows, header))


# --------------------------------------------------------------------------- Lyon extract


def test_lyon_extract_destinations_communes_and_reference_period():
    from planeco_kernel.sources import cerema_lyon

    df = cerema_lyon.parse_conso(_mirror_file(LYON))
    com = df[df["land_type"] == "COMM"]
    assert com["land_id"].nunique() == 58
    np.testing.assert_allclose(com["total"], com[list(cerema_lyon.DESTINATIONS)].sum(axis=1))
    epci = df[df["land_type"] == "EPCI"].set_index("year")["total"]
    np.testing.assert_allclose(com.groupby("year")["total"].sum().reindex(epci.index), epci)
    t = cerema_lyon.tidy_conso(df)
    ref = t[(t["variable"] == "conso_naf_ha") & t["year"].between(2011, 2020)]["value"].sum()
    assert round(ref, 1) == 827.7
    s = cerema_lyon.parse_sitadel(_mirror_file(LYON_SITADEL))
    assert sorted(s["year"].unique()) == [2019, 2020, 2021, 2022, 2023, 2024]
    ts = cerema_lyon.tidy_sitadel(s)
    assert 2024 not in set(ts.loc[ts["variable"] == "logements_commences", "year"])  # provisional blank, not 0
    assert 2024 in set(ts.loc[ts["variable"] == "logements_autorises", "year"])


def _tampered(tmp_path: Path, src: Path, edit) -> Path:
    df = edit(pd.read_csv(src, dtype=str))
    out = tmp_path / src.name
    df.to_csv(out, index=False)
    return out


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d.assign(habitat=d["habitat"].where(d.index != 3, "999999")), "sum of the six destinations"),
    (lambda d: d.drop(index=[0, 1]), "do not sum to the EPCI"),
    (lambda d: d.drop(columns=["ferroviaire"]), "missing columns"),
])
def test_lyon_extract_refuses_inconsistent_files(tmp_path, edit, match):
    from planeco_kernel.sources import cerema_lyon

    with pytest.raises(SchemaError, match=match):
        cerema_lyon.parse_conso(_tampered(tmp_path, _mirror_file(LYON), edit))


def test_national_cerema_connector_on_the_official_layout(tmp_path):
    """INVENTED TEST DATA in the national file's official columns (naf<yy>art<yy+1>, art<yy><dest><yy+1>)."""
    from planeco_kernel.sources import cerema_conso

    years = range(2009, 2012)
    cols = ["idcom", "idcomtxt"]
    for y in years:
        a, b = f"{y % 100:02d}", f"{(y + 1) % 100:02d}"
        cols += [f"naf{a}art{b}", *[f"art{a}{d}{b}" for d in ("act", "hab", "mix", "rou", "fer", "inc")]]
    row = ["69123", "Lyon"]
    for _ in years:
        row += ["1000", "100", "700", "100", "50", "0", "50"]
    path = tmp_path / "conso2009_2024_resultats_com.csv"
    path.write_text(";".join(cols) + "\n" + ";".join(row) + "\n", encoding="utf-8")
    wide, ys = cerema_conso.parse(path)
    t = cerema_conso.tidy(wide, ys)
    assert ys == [2009, 2010, 2011]
    assert t.loc[t["variable"] == "conso_naf_ha", "value"].tolist() == [0.1, 0.1, 0.1]
    assert t.loc[t["variable"] == "conso_naf_habitat_ha", "value"].tolist() == [0.07, 0.07, 0.07]


# --------------------------------------------------------------------------- in the bundle


@pytest.fixture(scope="module")
def cube():
    from planeco_kernel.indicators.cube import load_cube

    return load_cube()


CENSUS = ["nombre_menages", "taille_moyenne_menages", "nombre_logements", "taux_vacance", "part_residences_secondaires",
          "part_residences_principales", "logements_pour_1000_habitants", "nombre_emplois", "taux_emploi_15_64",
          "taux_chomage_15_64", "taux_activite_15_64", "concentration_emploi_15_64", "solde_naturel_5ans",
          "part_proprietaires", "variation_population_recensements_5ans", "variation_emplois_recensements_5ans",
          "nombre_etablissements"]


@pytest.mark.bundle
@pytest.mark.parametrize("indicator", CENSUS)
def test_census_indicators_available_at_commune_level(cube, indicator):
    st = cube.status[indicator]
    assert st.available and 2018 in st.years, st.reason
    assert cube["commune"][indicator].sel(year=2018).notnull().sum() > 34_000


@pytest.mark.bundle
def test_census_totals_on_the_current_geography(cube):
    fr = cube["france"]
    assert float(fr["taux_vacance"].sel(territory="FR", year=2018)) == pytest.approx(8.16, abs=0.005)
    assert float(fr["variation_population_recensements_5ans"].sel(territory="FR", year=2018)) == pytest.approx(
        66_732_538 - 65_564_756, rel=2e-3)  # P18_POP − P13_POP over communes (France without Mayotte)
    lyon = cube["commune"]["niveau_vie_median"].sel(territory="69123", year=2019)
    assert float(lyon) == 24_150.0  # the commune's own row, not its arrondissements
    assert "insee_comparateur" in cube["commune"]["taux_vacance"].attrs["sources_used"]


@pytest.mark.bundle
def test_lyon_land_consumption_with_its_coverage(cube):
    st = cube.status["conso_naf_ha"]
    assert st.available and "données disponibles pour la Métropole de Lyon" in st.reason, st.reason
    epci = cube["epci"]["conso_naf_ha"].sel(territory="200046977", year=slice(2011, 2020))
    assert round(float(epci.sum()), 1) == 827.7  # communes sum to the EPCI
    assert cube["commune"]["conso_naf_ha"].sel(territory="69123", year=2015).notnull()
    assert cube["commune"]["conso_naf_ha"].sel(territory="01001", year=2015).isnull()
    assert cube["departement"]["conso_naf_ha"].sel(territory="69", year=2015).isnull()  # Rhône not covered
    assert cube["commune"]["logements_commences"].sel(territory="69123", year=2020).notnull()


@pytest.mark.bundle
def test_build_checks_are_in_the_manifest(bundle_dir):
    from planeco_kernel.bundle.reader import open_bundle

    checks = {c["id"]: c for c in open_bundle(bundle_dir).manifest.checks}
    assert checks["insee_comparateur.population_2018"]["status"] == "ok"
    assert checks["insee_comparateur.vacance_2018"]["status"] == "ok"
    assert checks["insee_comparateur.mediane_2019.75056"]["status"] == "ok"
    assert checks["cerema_lyon.conso_2011_2020"]["got"] == 827.7


def test_build_check_failure_is_a_clear_error():
    from planeco_kernel.bundle import checks
    from planeco_kernel.errors import BundleError
    from planeco_kernel.indicators.components import Components

    tidy = pd.DataFrame({"commune_code": ["01001", "01001"], "year": [2018, 2018],
                         "variable": ["population", "logements"], "value": [10.0, 5.0], "unit": ["p", "l"]})
    tidy = pd.concat([tidy, tidy.assign(variable="logements_vacants", value=1.0).head(1)])
    comps = Components(np.array(["01001"], dtype=object), [2018], {}, {})
    with pytest.raises(BundleError, match="publié : 66\u202f732\u202f538"):
        checks.source_checks({"insee_comparateur": tidy}, comps, pd.DataFrame({"code": [], "type": []}))


def test_indicators_list_says_which_file_brings_what_is_missing():
    from typer.testing import CliRunner

    from planeco_kernel.cli import app

    r = CliRunner().invoke(app, ["indicators", "list"])
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if "[non disponible" in ln]
    assert lines and all("planeco data build" in ln or "fichier" in ln for ln in lines), lines[:3]


