"""The publishers' own files of SRU, CatNat (GASPAR) and the ANCT programmes (``parse_official``,
``load_official``) and their official-first reading in the build's source step.

Every fixture (``tests/fixtures/sources/test-data_taux_logements_sociaux_communes.csv``,
``test-data_catnat_gaspar.csv``, ``test-data_liste-{acv-com,pvd-com,ort-communes}.csv``) and every
file written here is INVENTED test data in the documented official layouts (real INSEE codes,
made-up names, rates, decrees and dates). No network: the fetches are replaced by local files.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.bundle import sources_step
from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import anct_programmes as anct
from planeco_kernel.sources import catnat, fetch, sru
from planeco_kernel.sources.fetch import Artifact
from planeco_kernel.sources.gazetteer import PublishedTotalError

FIX = Path(__file__).parent / "fixtures" / "sources"
SRU_FIX = FIX / "test-data_taux_logements_sociaux_communes.csv"
CATNAT_FIX = FIX / "test-data_catnat_gaspar.csv"
ANCT_FIX = {p: FIX / f"test-data_{rel.filename}" for p, rel in anct.OFFICIAL_RELEASES.items()}
SRU_REL = dataclasses.replace(sru.OFFICIAL_RELEASE, filename=SRU_FIX.name, extra={})
CATNAT_REL = dataclasses.replace(catnat.OFFICIAL_RELEASE, filename=CATNAT_FIX.name)
ANCT_RELS = {p: dataclasses.replace(rel, filename=ANCT_FIX[p].name, extra={"floor": 1})
             for p, rel in anct.OFFICIAL_RELEASES.items()}


def _variables(tidy: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(tidy["variable"], tidy["unit"]))


def _rewrite(src: Path, dst: Path, old: str, new: str) -> Path:
    text = src.read_bytes().decode("utf-8")
    assert old in text
    dst.write_bytes(text.replace(old, new, 1).encode("utf-8"))
    return dst


# --------------------------------------------------------------------------- SRU


def test_sru_official_rates_comma_decimals_and_blank_rates():
    df = sru.parse_official(SRU_FIX, SRU_REL).set_index("commune_code")["rate_pct"]
    assert df["01001"] == 7.0 and df["01004"] == 30.5 and df["01002"] == 0.0 and df["2A004"] == 112.4
    assert pd.isna(df["01099"])  # empty rate: missing, never 0
    assert len(df) == 6  # the row without a code names no commune
    tidy = sru.tidy(sru.parse_official(SRU_FIX, SRU_REL))
    assert "01099" not in set(tidy["commune_code"])
    assert _variables(tidy) == {("taux_logements_sociaux_sru_pct", "%")} and (tidy["year"] == 2024).all()


@pytest.mark.parametrize("old, new, match", [
    ("Taux de logements sociaux (%)", "Taux (%)", r"test-data_taux_logements_sociaux_communes\.csv: missing columns \['Taux de logements sociaux \(%\)'\]"),
    ("Code Commune", "CODGEO", r"missing columns \['Code Commune'\]"),
    (";7.0;", ";n/a;", r"non-numeric values in columns Taux de logements sociaux \(%\)"),
    (";112.4;", ";212.4;", "Taux de logements sociaux"),
    ("01004;", "01001;", "duplicated 'Code Commune'"),
])
def test_sru_official_bad_files_name_the_file_and_column(tmp_path, old, new, match):
    with pytest.raises(SchemaError, match=match):
        sru.parse_official(_rewrite(SRU_FIX, tmp_path / SRU_FIX.name, old, new), SRU_REL)


def test_sru_official_total_of_the_declared_release_is_checked():
    with pytest.raises(PublishedTotalError, match="35,228"):  # the invented file is not the 2024 release
        sru.parse_official(SRU_FIX, dataclasses.replace(SRU_REL, extra=sru.OFFICIAL_RELEASE.extra))
    assert len(sru.parse_official(SRU_FIX, dataclasses.replace(SRU_REL, extra={"totals": {"communes": 5}}))) == 6


def test_sru_resolve_prefers_the_declared_resource():
    other = {"id": "x", "title": "Taux par commune", "format": "csv", "url": "https://example.invalid/other.csv"}
    mine = {"id": sru.RESOURCE_ID, "title": "export", "format": "csv", "url": "https://example.invalid/b0d.csv"}
    assert sru.resolve_official_url({"resources": [other, mine]}) == "https://example.invalid/b0d.csv"
    assert sru.resolve_official_url({"resources": [other]}) == "https://example.invalid/other.csv"
    with pytest.raises(SourceUnavailableError, match="logement/taux_logements_sociaux_communes.csv"):
        sru.resolve_official_url({"resources": [{"title": "notice", "format": "pdf", "url": "https://example.invalid/n.pdf"}]})


# --------------------------------------------------------------------------- CatNat


def test_catnat_official_counts_from_decree_rows():
    df, ref_year, window = catnat.parse_official(CATNAT_FIX, CATNAT_REL)
    assert (ref_year, window) == (2024, 10)
    got = df.set_index("commune_code").astype(int).to_dict("index")
    # 91471: one flood (1999), two droughts (2018, 2022: the corrected 2022 decree counts once), one ground movement (2024)
    assert got["91471"] == {"total": 4, "recent": 3, "inond": 1, "sech": 2, "mvt": 1, "temp": 0, "last_year": 2024}
    assert got["77001"] == {"total": 2, "recent": 0, "inond": 0, "sech": 0, "mvt": 0, "temp": 1, "last_year": 2010}
    assert got["2B033"] == {"total": 2, "recent": 1, "inond": 1, "sech": 0, "mvt": 1, "temp": 0, "last_year": 2015}
    # one decree naming floods and ground movements for a commune: once in the total, once in each category
    assert got["06088"] == {"total": 1, "recent": 1, "inond": 1, "sech": 0, "mvt": 1, "temp": 0, "last_year": 2020}
    assert got["06089"]["total"] == 1 and got["06089"]["inond"] == 0  # marine shocks: total only


def test_catnat_official_tidy_has_the_mirror_variables():
    df, ref_year, _ = catnat.parse_official(CATNAT_FIX, CATNAT_REL)
    tidy = catnat.tidy(df, ref_year)
    expected = {(v, "arrêtés") for v in catnat.COUNTS.values()} | {("catnat_derniere_annee", "année")}
    assert _variables(tidy) == expected and (tidy["year"] == 2024).all()


@pytest.mark.parametrize("label, key", [
    ("Inondations et/ou Coulées de Boue", "inond"), ("Inondations Remontée Nappe", "inond"), ("Sécheresse", "sech"),
    ("SÉCHERESSE", "sech"), ("Mouvement de Terrain", "mvt"), ("Glissement de Terrain", "mvt"),
    ("Eboulement et/ou Chute de Blocs", "mvt"), ("Tempête", "temp"), ("Vents Cycloniques", "temp"),
    ("Grêle", ""), ("Secousse Sismique", ""), ("Chocs Mécaniques liés à l'action des Vagues", ""),
])
def test_catnat_categories_are_the_mirrors(label, key):
    assert catnat.category(label) == key


@pytest.mark.parametrize("old, new, match", [
    ("lib_risque_jo", "libelle_risque", r"test-data_catnat_gaspar\.csv: missing columns \['lib_risque_jo'\]"),
    ("cod_commune", "code_insee", r"missing columns \['cod_commune'\]"),
    ("TEST1800003A;91471;", "TEST1800003A;;", "empty 'cod_commune'"),
    (";2018-01-01;", ";;", "empty 'dat_deb'"),
    (";2018-01-01;", ";01/01/2018;", "unreadable dates in column 'dat_deb'"),
    (";2018-01-01;", ";1975-01-01;", "outside 1982"),
    ("TEST1800003A;91471;", "TEST1800003A;9147;", "invalid codes in column 'cod_commune'"),
])
def test_catnat_official_bad_files_name_the_file_and_column(tmp_path, old, new, match):
    with pytest.raises(SchemaError, match=match):
        catnat.parse_official(_rewrite(CATNAT_FIX, tmp_path / CATNAT_FIX.name, old, new), CATNAT_REL)


def test_catnat_official_declared_totals_are_checked():
    ok = dataclasses.replace(CATNAT_REL, extra={"totals": {"communes": 5, "arretes": 10}})
    assert len(catnat.parse_official(CATNAT_FIX, ok)[0]) == 5
    with pytest.raises(PublishedTotalError, match="arrêtés CatNat = 10"):
        catnat.parse_official(CATNAT_FIX, dataclasses.replace(CATNAT_REL, extra={"totals": {"arretes": 11}}))


def test_catnat_official_read_inside_the_gaspar_zip(tmp_path):
    archive = tmp_path / "gaspar.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("risq_gaspar.csv", "cod_commune;lib_commune\n01001;X (TEST)\n")
        zf.write(CATNAT_FIX, "catnat_gaspar.csv")
    df, ref_year, _ = catnat.parse_official(archive, CATNAT_REL)
    assert ref_year == 2024 and len(df) == 5


# --------------------------------------------------------------------------- ANCT


def test_anct_official_lists_merge_into_the_mirror_frame():
    df = anct.parse_official(ANCT_FIX, ANCT_RELS).set_index("commune_code")
    assert df.loc["26362", ["acv", "pvd", "ort"]].tolist() == [True, False, True]
    assert df.loc["26362", "acv_signed_at"] == pd.Timestamp("2024-01-02")  # DD-MM-YYYY
    assert df.loc["01034", "pvd_signed_at"] == pd.Timestamp("2021-04-22")  # DD/MM/YYYY
    assert df.loc["75056", "pvd_signed_at"] == pd.Timestamp("2021-09-09")  # ISO
    assert df.loc["01034", "ort_signed_at"] == pd.Timestamp("2022-11-21")  # listed twice: earliest kept
    assert pd.isna(df.loc["75056", "acv_signed_at"]) and bool(df.loc["75056", "acv"])  # no date: member, no date
    assert pd.isna(df.loc["01053", "ort_signed_at"]) and bool(df.loc["01053", "ort"])
    assert "69123" not in df.index  # ended ORT convention only
    assert not df.loc["29019", "ort"]  # unsigned ORT; PVD member without a date


def test_anct_official_frame_is_the_mirror_frame(tmp_path):
    mirror_doc = {"meta": {}, "communes": {"26362": {"label": "Commune inventée A (TEST)", "acv": True, "acv_signed_at": "2024-01-02"}}}
    (tmp_path / "m.json").write_text(json.dumps(mirror_doc), encoding="utf-8")
    from_mirror = anct.parse(tmp_path / "m.json", dataclasses.replace(anct.RELEASE, extra={}))
    official = anct.parse_official(ANCT_FIX, ANCT_RELS)
    assert list(official.columns) == list(from_mirror.columns)
    for frame in (official, from_mirror):
        assert all(frame[p].dtype == bool and pd.api.types.is_datetime64_any_dtype(frame[f"{p}_signed_at"])
                   for p in anct.PROGRAMMES)
    assert pd.api.types.is_string_dtype(official["commune_code"])


def test_anct_official_tidy_and_badges():
    tidy = anct.tidy(anct.parse_official(ANCT_FIX, ANCT_RELS), year=2026)
    expected = {(f"programme_{p}", "commune") for p in anct.PROGRAMMES} | {(f"programme_{p}_signature", "date") for p in anct.PROGRAMMES}
    assert _variables(tidy) == expected
    signature = tidy[(tidy["commune_code"] == "75056") & (tidy["variable"] == "programme_acv_signature")]
    assert signature.empty  # an empty date gives no row, never 0
    badges = anct.badges(tidy[tidy["commune_code"] == "01034"])
    assert [(b.key, str(b.signed_at)) for b in badges] == [("pvd", "2021-04-22"), ("ort", "2022-11-21")]


@pytest.mark.parametrize("programme, old, new, match", [
    ("pvd", '"date_signature"', '"date_signature_convention"', r"test-data_liste-pvd-com\.csv: missing columns \['date_signature'\]"),
    ("acv", '"insee_com"', '"code_insee"', r"test-data_liste-acv-com\.csv: missing columns \['insee_com'\]"),
    ("ort", "Signée ?", "Statut convention", r"test-data_liste-ort-communes\.csv: missing columns \['Signée \?'\]"),
    ("acv", '"25-01-2024"', '"25 janvier 2024"', "unreadable dates in column 'date_signature'"),
    ("ort", "2020-02-27", "2012-02-27", "outside 2017"),
    ("pvd", '"01034"', '"1034"', "invalid codes in column 'insee_com'"),
])
def test_anct_official_bad_files_name_the_file_and_column(tmp_path, programme, old, new, match):
    paths = {**ANCT_FIX, programme: _rewrite(ANCT_FIX[programme], tmp_path / ANCT_FIX[programme].name, old, new)}
    with pytest.raises(SchemaError, match=match):
        anct.parse_official(paths, ANCT_RELS)


def test_anct_official_narrowed_list_stops_like_a_wrong_total():
    rels = {**ANCT_RELS, "ort": dataclasses.replace(ANCT_RELS["ort"], extra={})}  # default floor: 1,800 ORT communes
    with pytest.raises(PublishedTotalError, match="3 communes ORT only"):
        anct.parse_official(ANCT_FIX, rels)


# --------------------------------------------------------------------------- online: the publishers, fetch replaced


def _fake_fetch(monkeypatch, tmp_path, routes: dict[str, Path | dict]):
    """Replace every fetch: URL → local file (a dict is written as the data.gouv.fr dataset JSON)."""
    def fake(url, *, sha256=None, cache=None, **kw):
        if url.startswith("file://"):
            return real(url, sha256=sha256, cache=cache)
        if url not in routes:
            raise SourceUnavailableError(f"Source injoignable : {url} (test)")
        target = routes[url]
        if isinstance(target, dict):
            path = tmp_path / f"api-{len(list(tmp_path.glob('api-*')))}.json"
            path.write_text(json.dumps(target), encoding="utf-8")
            target = path
        return Artifact(path=Path(target), origin=url, sha256=fetch.sha256_file(Path(target)))

    real = fetch.fetch_url
    monkeypatch.setattr(fetch, "fetch_url", fake)


def test_sru_online_resolves_through_the_api_and_checks_the_total(tmp_path, monkeypatch):
    csv_url = "https://static.data.gouv.fr/resources/test/taux.csv"
    _fake_fetch(monkeypatch, tmp_path, {sru.DATASET_API: {"resources": [{"id": sru.RESOURCE_ID, "format": "csv", "url": csv_url}]},
                                        csv_url: SRU_FIX})
    (tmp_path / "mirror").mkdir()
    with pytest.raises(PublishedTotalError):  # the invented file does not hold the 35,228 communes of 2024
        sru.load_official(mirror=tmp_path / "mirror")
    monkeypatch.setattr(sru, "OFFICIAL_RELEASE", dataclasses.replace(sru.OFFICIAL_RELEASE, extra={}))
    tidy = sru.load_official(mirror=tmp_path / "mirror")
    assert tidy.set_index("commune_code").loc["01004", "value"] == 30.5


def test_catnat_online_resolves_through_the_api(tmp_path, monkeypatch):
    csv_url = "https://static.data.gouv.fr/resources/test/catnat_gaspar.csv"
    dataset = {"resources": [{"title": "risq_gaspar.csv", "format": "csv", "url": "https://example.invalid/risq.csv"},
                             {"title": "catnat_gaspar.csv", "format": "csv", "url": csv_url}]}
    _fake_fetch(monkeypatch, tmp_path, {catnat.DATASET_API: dataset, csv_url: CATNAT_FIX})
    (tmp_path / "mirror").mkdir()
    tidy = catnat.load_official(mirror=tmp_path / "mirror")
    assert tidy.set_index(["commune_code", "variable"]).loc[("91471", "catnat_secheresse"), "value"] == 2


def test_anct_online_resolves_acv_pvd_through_the_api_and_reads_the_ort_export(tmp_path, monkeypatch):
    acv, pvd = "https://static.data.gouv.fr/r/liste-acv-com2025-20250704.csv", "https://static.data.gouv.fr/r/liste-pvd-com2025-20260427.csv"
    routes = {anct.OFFICIAL_RELEASES["acv"].url: {"resources": [{"title": "Liste ACV", "format": "csv", "url": acv}]},
              anct.OFFICIAL_RELEASES["pvd"].url: {"resources": [{"title": "Liste PVD", "format": "csv", "url": pvd}]},
              acv: ANCT_FIX["acv"], pvd: ANCT_FIX["pvd"], anct.ORT_URL: ANCT_FIX["ort"]}
    _fake_fetch(monkeypatch, tmp_path, routes)
    for p in anct.PROGRAMMES:
        monkeypatch.setitem(anct.OFFICIAL_FLOORS, p, 1)
    (tmp_path / "mirror").mkdir()
    tidy = anct.load_official(mirror=tmp_path / "mirror")
    flags = tidy[tidy["variable"] == "programme_ort"].set_index("commune_code")["value"]
    assert flags["26362"] == 1 and flags["29019"] == 0
    with pytest.raises(SourceUnavailableError, match="anct/liste-pvd-com.csv"):
        anct.resolve_official_url("pvd", {"resources": [{"title": "Notice", "format": "pdf", "url": "https://example.invalid/n.pdf"}]})


UNAVAILABLE = {sid: {"status": "unavailable", "reason": "fichier absent du miroir", "location": "x"} for sid in ("sru", "catnat", "anct_programmes")}


@pytest.mark.parametrize("sid, module", [("sru", sru), ("catnat", catnat), ("anct_programmes", anct)])
def test_source_step_reads_the_publisher_first(tmp_path, monkeypatch, sid, module):
    frame = pd.DataFrame({"commune_code": ["61214"], "year": [2024], "variable": ["x"], "value": [1.0], "unit": ["u"]})
    monkeypatch.setattr(module, "load_official", lambda **kw: frame)
    got = sources_step.load_source(sid, mirror=tmp_path, network=True, availability=UNAVAILABLE)
    assert got.frames[sid] is frame and got.origin.startswith("éditeur")


@pytest.mark.parametrize("sid, module", [("sru", sru), ("catnat", catnat), ("anct_programmes", anct)])
def test_source_step_neither_file_gives_both_reasons(tmp_path, monkeypatch, sid, module):
    def down(**kw):
        raise SourceUnavailableError("data.gouv.fr ne répond pas")

    monkeypatch.setattr(module, "load_official", down)
    with pytest.raises(SourceUnavailableError, match="(?s)ne répond pas.*agrégat du miroir absent"):
        sources_step.load_source(sid, mirror=tmp_path, network=True, availability=UNAVAILABLE)
    monkeypatch.setattr(module, "load_official", lambda **kw: pytest.fail("no fetch offline"))
    with pytest.raises(SourceUnavailableError, match="absent du miroir"):
        sources_step.load_source(sid, mirror=tmp_path, network=False, availability=UNAVAILABLE)


def test_source_step_offline_reads_a_mirror_copy_of_the_official_file(tmp_path):
    (tmp_path / "georisques").mkdir()
    (tmp_path / "georisques" / "catnat_gaspar.csv").write_bytes(CATNAT_FIX.read_bytes())
    mirrored = {"catnat": {"status": "mirror", "reason": "", "location": "x"}}
    got = sources_step.load_source("catnat", mirror=tmp_path, network=False, availability=mirrored)
    assert got.origin.startswith("miroir : ") and "catnat_gaspar.csv" in got.origin
    assert set(got.frames["catnat"]["commune_code"]) == {"91471", "77001", "2B033", "06088", "06089"}


def test_source_step_offline_without_official_copy_keeps_the_mirror_aggregate(tmp_path, monkeypatch):
    frame = pd.DataFrame({"commune_code": ["01001"]})
    monkeypatch.setattr(sources_step, "_aggregate_or_explain", lambda sid, mirror, why: frame)
    monkeypatch.setattr(sru, "load_official", lambda **kw: pytest.fail("no official read offline"))
    got = sources_step.load_source("sru", mirror=tmp_path, network=False,
                                   availability={"sru": {"status": "mirror", "reason": "", "location": "agrégat"}})
    assert got.frames["sru"] is frame and got.origin == "mirror : agrégat" and "hors ligne" in got.notes[0]


def test_registry_declares_the_official_files_the_connectors_read():
    import yaml

    registry = yaml.safe_load((Path(sources_step.__file__).parents[1] / "sources" / "registry.yaml").read_text(encoding="utf-8"))
    releases = {"sru": [sru.OFFICIAL_RELEASE], "catnat": [catnat.OFFICIAL_RELEASE],
                "anct_programmes": list(anct.OFFICIAL_RELEASES.values())}
    for sid, rels in releases.items():
        declared = registry[sid]["official_files"]
        assert [f["mirror_path"] for f in declared] == [r.mirror_path for r in rels]
        assert [f["url"] for f in declared] == [r.url for r in rels]
        assert all("non compar" in f["verified"] for f in declared)  # never claimed verified on a real file


def test_catnat_official_counts_match_a_naive_count(tmp_path):
    """Invented random decree rows (repeats, several perils per decree) counted by a plain loop."""
    import random

    rng = random.Random(17)
    labels = ["Inondations et/ou Coulées de Boue", "Sécheresse", "Mouvement de Terrain", "Tempête", "Grêle", "Avalanche"]
    communes = ["01001", "01002", "2A004", "97411", "75056"]
    rows = []
    for i in range(400):
        decree, commune = f"TEST{rng.randrange(60):04d}A", rng.choice(communes)
        year = 1982 + int(decree[4:8]) % 43  # a decree has one event year
        rows.append((decree, commune, rng.choice(labels), f"{year}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}"))
    header = "cod_nat_catnat;cod_commune;lib_commune;num_risque_jo;lib_risque_jo;dat_deb;dat_fin;dat_pub_arrete;dat_pub_jo;dat_maj"
    path = tmp_path / "catnat_gaspar.csv"
    path.write_text("\n".join([header, *(f"{d};{c};X (TEST);R;{lab};{deb};;;;" for d, c, lab, deb in rows)]) + "\n", encoding="utf-8")
    df, ref_year, window = catnat.parse_official(path, CATNAT_REL)
    got = df.set_index("commune_code").astype(int).to_dict("index")

    keys = {"Inondations et/ou Coulées de Boue": "inond", "Sécheresse": "sech", "Mouvement de Terrain": "mvt", "Tempête": "temp"}
    years: dict[tuple[str, str], int] = {}
    cats: dict[tuple[str, str], set[str]] = {}
    for decree, commune, lab, deb in rows:
        years[(commune, decree)] = int(deb[:4])
        cats.setdefault((commune, decree), set()).update({keys[lab]} if lab in keys else set())
    assert ref_year == max(years.values())
    for commune in communes:
        mine = [k for k in years if k[0] == commune]
        if not mine:
            assert commune not in got
            continue
        want = {"total": len(mine), "recent": sum(years[k] > ref_year - window for k in mine),
                "last_year": max(years[k] for k in mine),
                **{c: sum(c in cats[k] for k in mine) for c in ("inond", "sech", "mvt", "temp")}}
        assert got[commune] == want
