"""INSEE Filosofi on the REAL files of the offline mirror (vintages 2015 and 2016).

These tests read ``insee/filosofi_com_2015.csv``, ``filosofi_com_2016.csv`` and
``filosofi_epci_2016.csv`` from the shared mirror (``PLANECO_MIRROR``, else ``../shared/data``
beside the checkout) and check known values of the official files.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel import config
from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import base, filosofi


def _mirror() -> Path | None:
    env = config.mirror_dir()
    candidates = ([env] if env else []) + config.default_mirror_candidates()
    return next((p for p in candidates if p and (p / "insee" / "filosofi_com_2016.csv").is_file()), None)


MIRROR = _mirror()
needs_mirror = pytest.mark.skipif(MIRROR is None, reason="offline mirror with insee/filosofi_*.csv not found (set PLANECO_MIRROR)")


@pytest.fixture(scope="module")
def com2016() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", base.VintageWarning)
        return filosofi.load(2016, mirror=MIRROR)


@needs_mirror
@pytest.mark.parametrize(
    ("code", "variable", "expected"),
    [
        ("01004", "nb_menages_fiscaux", 6363.0),
        ("01004", "niveau_vie_median_eur", 19721.0),
        ("01004", "taux_pauvrete_pct", 17.0),
        ("01004", "part_impots_pct", -15.7),
        ("01004", "rapport_interdecile_d9_d1", 3.239962279688143),
        ("01001", "niveau_vie_median_eur", 22679.0),
    ],
)
def test_real_2016_values(com2016: pd.DataFrame, code: str, variable: str, expected: float) -> None:
    row = com2016[(com2016["commune_code"] == code) & (com2016["variable"] == variable)]
    assert row["year"].tolist() == [2016]
    assert row["value"].iloc[0] == pytest.approx(expected)


@needs_mirror
def test_real_2016_shape_and_secret(com2016: pd.DataFrame) -> None:
    """34,932 communes × 27 variables; small communes' poverty rate is withheld (missing, not 0)."""
    assert com2016["commune_code"].nunique() == 34_932
    assert com2016["variable"].nunique() == len(filosofi.WIDE_VARIABLES)
    assert len(com2016) == 34_932 * 27
    med = com2016[com2016["variable"] == "niveau_vie_median_eur"]["value"]
    assert med.notna().sum() == 31_405 and med.min() > 10_000 and med.max() < 50_000
    tp = com2016[(com2016["commune_code"] == "01001") & (com2016["variable"] == "taux_pauvrete_pct")]["value"]
    assert tp.isna().all()
    assert com2016["commune_code"].str.startswith("2A").any()  # Corsican codes kept as text


@needs_mirror
def test_real_values_match_a_naive_reading(com2016: pd.DataFrame) -> None:
    """Cross-check against a deliberately naive csv-module reading of the mirror file."""
    with open(MIRROR / "insee" / "filosofi_com_2016.csv", newline="", encoding="utf-8") as f:
        naive = {r["CODGEO"]: r for r in csv.DictReader(f)}
    med = com2016[com2016["variable"] == "niveau_vie_median_eur"].set_index("commune_code")["value"]
    for code in ["01004", "13055", "75056", "2A004", "97411"]:
        raw = naive[code]["MED16"]
        assert (pd.isna(med[code]) and raw == "") or med[code] == pytest.approx(float(raw)), code


@needs_mirror
def test_real_2015_and_epci() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", base.VintageWarning)
        c15 = filosofi.load(2015, mirror=MIRROR)
        e16 = filosofi.load(2016, level="epci", mirror=MIRROR)
    assert set(c15["year"]) == {2015} and c15["commune_code"].nunique() == 35_848
    assert list(e16.columns) == ["epci_siren", "year", "variable", "value", "unit"]
    assert e16["epci_siren"].nunique() == 1_244
    med = e16[(e16["epci_siren"] == "200000172") & (e16["variable"] == "niveau_vie_median_eur")]["value"]
    assert med.iloc[0] == pytest.approx(24129.52380952381)


@needs_mirror
def test_old_vintage_warns_and_names_the_latest() -> None:
    with pytest.warns(base.VintageWarning, match=r"millésime ancien \(revenus 2016\).*Filosofi 2023"):
        filosofi.load(2016, mirror=MIRROR)


@needs_mirror
def test_default_falls_back_to_the_mirror_when_offline(monkeypatch, isolated_cache) -> None:
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    with pytest.warns(base.VintageWarning, match="2016"):
        df = filosofi.load(mirror=MIRROR)
    assert set(df["year"]) == {2016}


def test_latest_release_points_at_insee() -> None:
    rel = filosofi.release()
    assert rel.vintage == filosofi.LATEST_VINTAGE == 2023
    assert rel.url == "https://www.insee.fr/fr/statistiques/fichier/8984752/FILOSOFI_CC_csv.zip"
    assert rel.note == ""  # the latest vintage carries no warning


def test_old_vintage_without_mirror_says_how_to_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("PLANECO_MIRROR", raising=False)
    with pytest.raises(SourceUnavailableError, match=r"miroir.*PLANECO_MIRROR"):
        filosofi.load(2016, mirror=tmp_path)


def test_unknown_vintage() -> None:
    with pytest.raises(ValueError, match=r"available: \[2015, 2016, 2023\]"):
        filosofi.release(2019)


@needs_mirror
def test_missing_column_in_a_real_file_copy(tmp_path) -> None:
    """The real header with MED16 renamed: the error names the file and the column."""
    text = (MIRROR / "insee" / "filosofi_com_2016.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    mirror = tmp_path / "m"
    (mirror / "insee").mkdir(parents=True)
    (mirror / "insee" / "filosofi_com_2016.csv").write_text(header.replace("MED16", "MEDIANE16") + "\n" + rest, encoding="utf-8")
    from planeco_kernel.sources import identity

    # the edited copy is not the declared edition: read it as another edition, the schema check catches it
    with identity.policy(accept_editions=True), pytest.raises(
            SchemaError, match=r"^filosofi_com_2016.csv: missing columns \['MED16'\] \(expected \['CODGEO', 'LIBGEO', 'NBMENFISC16'"):
        filosofi.load(2016, mirror=mirror)
