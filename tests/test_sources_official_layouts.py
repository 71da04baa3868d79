"""The publishers' own files of Sit@del per commune, census 2021 housing and Filosofi 2021
(``parse_official`` / ``load_official``), and the build reading them first when online.

The three ``tests/fixtures/sources/test-data_*`` files used here (``sitadel_dido_communes``,
``base-cc-logement-2021``, ``FILO2021_DISP_COM``) and every file written below are INVENTED test data
in the documented layouts (codes are real INSEE codes, counts and incomes are made up). No network:
the fetch is replaced by a function returning the fixture.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.parse
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.bundle import sources_step
from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import fetch, filosofi_2021, insee_rp_logement, sitadel_communes
from planeco_kernel.sources.gazetteer import PublishedTotalError

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
SITADEL = FIXTURES / "test-data_sitadel_dido_communes.csv"
RP = FIXTURES / "test-data_base-cc-logement-2021.csv"
FILO = FIXTURES / "test-data_FILO2021_DISP_COM.csv"


def _rel(module, path: Path, totals: dict | None = None):
    """The module's official release renamed after the fixture, with the fixture's totals (none by default)."""
    extra = {k: v for k, v in module.OFFICIAL_RELEASE.extra.items() if k != "totals"}
    return dataclasses.replace(module.OFFICIAL_RELEASE, filename=path.name, extra={**extra, "totals": totals or {}})


def _write(tmp_path: Path, path: Path, old: str, new: str) -> Path:
    out = tmp_path / path.name
    text = path.read_text(encoding="utf-8")
    assert old in text
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def _zip(tmp_path: Path, name: str, members: dict[str, bytes]) -> Path:
    out = tmp_path / name
    with zipfile.ZipFile(out, "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return out


# --------------------------------------------------------------------------- Sit@del (SDES DIDO)


def test_sitadel_official_gives_the_mirror_frame():
    df = sitadel_communes.parse_official(SITADEL, _rel(sitadel_communes, SITADEL)).set_index(["commune_code", "year"])
    assert list(df.columns) == ["a", "s", "c"]
    assert df.loc[("01004", 2024)].tolist() == [44, 30, 22]  # « Individuel pur » is not read
    assert pd.isna(df.loc[("01004", 2025), "s"]) and df.loc[("01004", 2025), "a"] == 50  # blank start: missing, not 0
    assert df.loc[("86194", 2024)].isna().all()  # a year without a row inside the span: missing
    assert pd.isna(df.loc[("86194", 2023), "c"])  # no « Collectif » row: missing
    assert df.loc[("02001", 2024)].tolist()[:2] == [0, 0]  # a real 0 stays 0 (the aggregate drops such communes)
    codes = set(df.index.get_level_values("commune_code"))
    assert "75101" not in codes and "75056" in codes  # arrondissements dropped, Paris as a whole kept
    assert "01" not in codes  # departmental row skipped
    tidy = sitadel_communes.tidy(df.reset_index())
    assert set(tidy["variable"]) == set(sitadel_communes.SERIES.values())


def test_sitadel_official_totals_are_checked():
    rel = _rel(sitadel_communes, SITADEL, {"communes_with_authorised": 4, "authorised": {2024: 44 + 3924 + 2402}})
    sitadel_communes.parse_official(SITADEL, rel)
    with pytest.raises(PublishedTotalError, match="logements autorisés 2024"):
        sitadel_communes.parse_official(SITADEL, _rel(sitadel_communes, SITADEL, {"authorised": {2024: 6371}}))
    with pytest.raises(PublishedTotalError, match="au moins un logement"):
        sitadel_communes.parse_official(SITADEL, _rel(sitadel_communes, SITADEL, {"communes_with_authorised": 5}))


@pytest.mark.parametrize("old, new, match", [
    ('"LOG_AUT"', '"NB_LOG_AUT"', r"test-data_sitadel_dido_communes.csv: missing columns \['LOG_AUT'\]"),
    ('"2023";"01004";"Tous', '"2023";"1004";"Tous', "'COMM'.*four-digit"),
    ('"2023";"01004";"Tous', '"23";"01004";"Tous', "'ANNEE'"),
    ('"Tous Logements"', '"Ensemble"', "'TYPE_LGT'"),  # every row renamed below
    ('"2024";"01004";"Tous Logements";44', '"2024";"01004";"Tous Logements";quarante', "non-numeric.*LOG_AUT"),
    ('"2024";"01004";"Collectif";22', '"2024";"01004";"Collectif";99', "collective dwellings exceed"),
    ('"2024";"75056";"Tous Logements";3924;1298;211594;74297\r\n"2024";"75056";"Collectif";3800;1200;200000;70000\r\n', "",
     "arrondissement rows without their commune"),
])
def test_sitadel_bad_official_files_are_refused(tmp_path, old, new, match):
    path = tmp_path / SITADEL.name
    text = SITADEL.read_bytes().decode("utf-8")
    path.write_bytes((text.replace(old, new) if old == '"Tous Logements"' else text.replace(old, new, 1)).encode("utf-8"))
    with pytest.raises(SchemaError, match=match):
        sitadel_communes.parse_official(path, _rel(sitadel_communes, SITADEL))


# --------------------------------------------------------------------------- census 2021, base communale logement

RP_MEMBERS = ("base-cc-logement-2021.CSV", "meta_base-cc-logement-2021.CSV")


def _rp_zip(tmp_path: Path, data: bytes | None = None) -> Path:
    meta = b"COD_VAR;LIB_VAR\r\nP21_LOG;Logements en 2021 (princ)\r\n"
    return _zip(tmp_path, "base-cc-logement-2021_csv.zip", {RP_MEMBERS[0]: data or RP.read_bytes(), RP_MEMBERS[1]: meta})


def test_rp_official_zip_gives_the_mirror_frame(tmp_path):
    df = insee_rp_logement.parse_official(_rp_zip(tmp_path), _rel(insee_rp_logement, RP)).set_index("commune_code")
    assert list(df.columns) == ["log", "rp", "rsec", "vac", "vacancy_rate_pct"]
    assert df.loc["01001", ["log", "rp", "rsec", "vac"]].tolist() == [372, 341, 14, 17]
    assert df.loc["01001", "vacancy_rate_pct"] == pytest.approx(round(17.087493855914 / 372.387493855914 * 100, 2))
    assert df.loc["01004", "log"] == 7400 and df.loc["2A004", "log"] == 1500  # rounded half to even, as the aggregate
    assert df.loc["97601"].isna().all()  # blank cells: missing, never 0
    tidy = insee_rp_logement.tidy(df.reset_index()).dropna(subset=["value"])
    assert set(tidy["variable"]) == set(insee_rp_logement.VARIABLES.values()) and "97601" not in set(tidy["commune_code"])


def test_rp_official_totals_are_checked(tmp_path):
    path = _rp_zip(tmp_path)
    without_arr = 372 + 7400 + 1500 + 1400000
    insee_rp_logement.parse_official(path, _rel(insee_rp_logement, RP, {"communes": 6, "logements_sans_arrondissements": without_arr}))
    with pytest.raises(PublishedTotalError, match="sans les arrondissements"):
        insee_rp_logement.parse_official(path, _rel(insee_rp_logement, RP, {"logements_sans_arrondissements": without_arr + 10000}))
    with pytest.raises(PublishedTotalError, match="lignes avec des logements"):
        insee_rp_logement.parse_official(path, _rel(insee_rp_logement, RP, {"communes": 7}))  # the blank row is not counted


@pytest.mark.parametrize("old, new, match", [
    ("P21_LOGVAC", "P22_LOGVAC", r"base-cc-logement-2021_csv.zip!base-cc-logement-2021.CSV: missing columns \['P21_LOGVAC'\]"),
    ("01001;372", "1001;372", "invalid codes in column 'CODGEO'"),
    ("01004;7400.5", "01004;7 400,5", "non-numeric.*P21_LOG"),
    ("01004;7400.5;6500.25", "01004;7400.5;7500.25", "differs from P21_LOG"),
    ("2A004;1500.5", "01004;1500.5", "duplicated CODGEO"),
])
def test_rp_bad_official_files_are_refused(tmp_path, old, new, match):
    text = RP.read_text(encoding="utf-8")
    with pytest.raises(SchemaError, match=match):
        insee_rp_logement.parse_official(_rp_zip(tmp_path, text.replace(old, new, 1).encode("utf-8")),
                                         dataclasses.replace(_rel(insee_rp_logement, RP), filename="base-cc-logement-2021_csv.zip"))


def test_rp_archive_without_its_data_member_is_refused(tmp_path):
    path = _zip(tmp_path, "base-cc-logement-2021_csv.zip", {RP_MEMBERS[1]: b"COD_VAR;LIB_VAR\r\n"})
    with pytest.raises(SchemaError, match="archive has 0 members"):
        insee_rp_logement.parse_official(path, _rel(insee_rp_logement, RP))


# --------------------------------------------------------------------------- Filosofi 2021, FILO2021_DISP_COM


def test_filosofi_official_gives_the_mirror_frame():
    df = filosofi_2021.parse_official(FILO, _rel(filosofi_2021, FILO)).set_index("commune_code")
    assert list(df.columns) == ["median_eur", "minima_pct"]
    assert df.loc["01001"].tolist() == [25820, pytest.approx(1.2)]  # decimal comma
    assert df.loc["01002"].isna().all()  # « s »: secret, missing, never 0
    assert df.loc["01004", "median_eur"] == 24480 and pd.isna(df.loc["01004", "minima_pct"])  # blank
    assert pd.isna(df.loc["2A004", "minima_pct"])  # « nd »
    tidy = filosofi_2021.tidy(df.reset_index())
    assert set(tidy["variable"]) == {"niveau_vie_median_eur", "part_minima_sociaux_pct"}
    assert "01002" not in set(tidy["commune_code"])


def test_filosofi_official_median_may_be_named_med_and_minima_may_be_absent(tmp_path):
    path = tmp_path / FILO.name
    lines = FILO.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(";".join(line.split(";")[:-1]) for line in lines).replace("Q221", "MED21") + "\n", encoding="utf-8")
    df = filosofi_2021.parse_official(path, _rel(filosofi_2021, FILO)).set_index("commune_code")
    assert df.loc["01001", "median_eur"] == 25820 and df["minima_pct"].isna().all()


def test_filosofi_official_totals_are_checked():
    filosofi_2021.parse_official(FILO, _rel(filosofi_2021, FILO, {"communes": 4, "national_median_eur": 25155}))  # (24480 + 25820) / 2, within 10 €
    with pytest.raises(PublishedTotalError, match="communes avec un revenu médian"):
        filosofi_2021.parse_official(FILO, _rel(filosofi_2021, FILO, {"communes": 5}))  # the secret row is not counted
    with pytest.raises(PublishedTotalError, match="médiane des revenus médians"):
        filosofi_2021.parse_official(FILO, _rel(filosofi_2021, FILO, {"national_median_eur": 22810}))


@pytest.mark.parametrize("old, new, match", [
    ("Q221", "Q222", r"test-data_FILO2021_DISP_COM.csv: expected CODGEO and one median column Q221"),
    ("Q3_Q1", "MED21", "found both"),
    ("01004;6200", "1004;6200", "invalid codes in column 'CODGEO'"),
    ("22000;35030", "22000;35 030 €", "column 'Q221' must hold numbers"),
    ("22000;35030", "22000;350300", "column 'Q221' fails"),
    ("0,7", "107", "column 'PPMINI21' fails"),
])
def test_filosofi_bad_official_files_are_refused(tmp_path, old, new, match):
    with pytest.raises(SchemaError, match=match):
        filosofi_2021.parse_official(_write(tmp_path, FILO, old, new), _rel(filosofi_2021, FILO))


# --------------------------------------------------------------------------- the build reads them first

UNAVAILABLE = {sid: {"status": "unavailable", "reason": "fichier absent du miroir", "location": "x"}
               for sid in ("sitadel_communes", "insee_rp_logement", "filosofi_2021")}


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Replace the fetch: the publisher's URL of each source serves its invented fixture (no network)."""
    files = {sitadel_communes.OFFICIAL_URL: SITADEL, insee_rp_logement.OFFICIAL_URL: _rp_zip(tmp_path), filosofi_2021.OFFICIAL_URL: FILO}
    asked: list[str] = []

    def fake_fetch(url, **kw):
        asked.append(url)
        if url.startswith("file://"):  # a mirror copy
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
            return fetch.Artifact(path, url, hashlib.sha256(path.read_bytes()).hexdigest())
        if url not in files:
            raise SourceUnavailableError(f"{url} : pas de réseau (test)")
        return fetch.Artifact(files[url], url, hashlib.sha256(files[url].read_bytes()).hexdigest())

    monkeypatch.setattr(fetch, "fetch_url", fake_fetch)
    for module, path in ((sitadel_communes, SITADEL), (insee_rp_logement, RP), (filosofi_2021, FILO)):
        monkeypatch.setattr(module, "OFFICIAL_RELEASE", _rel(module, path))  # the fixtures' own totals: none
    return asked


@pytest.mark.parametrize("module", [sitadel_communes, insee_rp_logement, filosofi_2021], ids=lambda m: m.SOURCE_ID)
def test_online_without_the_aggregate_the_publishers_file_is_read(tmp_path, served, module):
    sid = module.SOURCE_ID
    got = sources_step.load_source(sid, mirror=tmp_path, network=True, availability=UNAVAILABLE)
    assert served == [module.OFFICIAL_URL]
    assert got.origin == f"éditeur : {module.OFFICIAL_URL}"
    assert got.notes == [f"{sid} : {sources_step.OFFICIAL[sid].read}."]
    assert set(got.frames[sid]["variable"]) <= set(v if isinstance(v, str) else v[0] for v in
                                                    getattr(module, "SERIES", getattr(module, "VARIABLES", {})).values())
    assert got.frames[sid]["commune_code"].nunique() >= 3


def test_a_mirror_copy_of_the_official_file_is_read_before_the_publisher(tmp_path, served):
    (tmp_path / "insee").mkdir()
    (tmp_path / "insee" / "indic-struct-distrib-revenu-2021-COMMUNES_csv.zip").write_bytes(
        _zip(tmp_path, "x.zip", {"FILO2021_DISP_COM.csv": FILO.read_bytes()}).read_bytes())
    got = sources_step.load_source("filosofi_2021", mirror=tmp_path, network=False, availability={
        "filosofi_2021": {"status": "mirror", "reason": "", "location": "y"}})
    assert got.origin.startswith("miroir : ")
    assert served == [(tmp_path / "insee" / "indic-struct-distrib-revenu-2021-COMMUNES_csv.zip").resolve().as_uri()]
    assert 25820 in set(got.frames["filosofi_2021"]["value"])


def test_neither_file_gives_one_error_with_both_reasons(tmp_path, monkeypatch):
    def down(url, **kw):
        raise SourceUnavailableError("insee.fr ne répond pas")

    monkeypatch.setattr(fetch, "fetch_url", down)
    with pytest.raises(SourceUnavailableError, match="(?s)ne répond pas.*agrégat du miroir absent"):
        sources_step.load_source("insee_rp_logement", mirror=tmp_path, network=True, availability=UNAVAILABLE)


MIRROR = os.environ.get("PLANECO_MIRROR")


@pytest.mark.skipif(not MIRROR or not (Path(MIRROR) / "insee" / "filosofi_com_2021.json").is_file(), reason="needs the offline mirror")
def test_offline_the_mirror_aggregate_is_read_unchanged_and_the_note_says_so(monkeypatch):
    from planeco_kernel.sources import catalog

    monkeypatch.setattr(filosofi_2021, "load_official", lambda **kw: pytest.fail("no official read offline"))
    info = catalog.available(MIRROR, network=False)
    got = sources_step.load_source("filosofi_2021", mirror=MIRROR, network=False, availability=info)
    pd.testing.assert_frame_equal(got.frames["filosofi_2021"], filosofi_2021.load(mirror=MIRROR))
    assert got.notes == [f"filosofi_2021 : hors ligne : {sources_step.OFFICIAL['filosofi_2021'].fallback} (le fichier officiel est lu en ligne)."]
