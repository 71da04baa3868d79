"""End-to-end tests of the source connectors on TEST DATA fixtures served over local HTTP.

Each connector fetches its fixture (official layout, invented values: tests/fixtures/sources/)
from a local HTTP server through ``fetch_url`` with an isolated ``PLANECO_CACHE``, then parses,
validates and tidies it. Broken variants — renamed column, truncated download, bad codes — must
fail with a clear error naming the file and the columns.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import threading
import urllib.parse
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import (
    ademe_dpe,
    base,
    cerema_conso,
    energy,
    filosofi,
    ghg,
    insee_rp,
    sitadel,
)
from planeco_kernel.sources.base import TruncatedFileError

FIX = Path(__file__).parent / "fixtures" / "sources"
DPE_POOL = json.loads((FIX / "test-data_dpe03existant_lines.json").read_text(encoding="utf-8"))["results"]
DPE_PAGE = 5

pytestmark = pytest.mark.filterwarnings("ignore::planeco_kernel.sources.base.VintageWarning")


class _Handler(SimpleHTTPRequestHandler):
    """Static files, plus ``/truncated/<file>`` (lies about its length) and a fake data-fair ``/lines`` API."""

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_HEAD(self) -> None:
        self.server.hits.append(self.path)
        super().do_HEAD()

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        parsed = urllib.parse.urlparse(self.path)
        if parsed.path.startswith("/truncated/"):
            data = (Path(self.directory) / parsed.path.removeprefix("/truncated/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        if parsed.path.endswith("/lines"):
            return self._lines(parsed)
        super().do_GET()

    def _lines(self, parsed) -> None:
        q = dict(urllib.parse.parse_qsl(parsed.query))
        codes = set(q.get("code_insee_ban_in", "").split(","))
        fields = q.get("select", "").split(",")
        after = int(q.get("after", 0))
        hits = [c for c in DPE_POOL if c["code_insee_ban"] in codes]
        page = [{k: c.get(k) for k in fields if k in c} for c in hits[after : after + DPE_PAGE]]
        if parsed.path.startswith("/nofield/"):
            page = [{k: v for k, v in c.items() if k != "code_insee_ban"} for c in page]
        body: dict = {"total": len(hits), "results": page}
        if after + DPE_PAGE < len(hits):
            q["after"] = str(after + DPE_PAGE)
            body["next"] = f"http://{self.headers['Host']}{parsed.path}?{urllib.parse.urlencode(q)}"
        data = json.dumps(body).encode()
        if parsed.path.startswith("/cut/"):
            data = data[: len(data) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Served:
    root: Path
    url: str
    server: ThreadingHTTPServer

    def publish(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return f"{self.url}/{urllib.parse.quote(name)}"

    @property
    def hits(self) -> list[str]:
        return self.server.hits


@pytest.fixture()
def served(tmp_path, isolated_cache, monkeypatch):
    monkeypatch.delenv("PLANECO_OFFLINE", raising=False)
    monkeypatch.delenv("PLANECO_MIRROR", raising=False)
    monkeypatch.setattr("planeco_kernel.sources.fetch.time.sleep", lambda s: None)  # no retry back-off
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Served(root, f"http://127.0.0.1:{server.server_address[1]}", server)
    finally:
        server.shutdown()
        server.server_close()


def _zip(member: str, text: str | bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text)
        zf.writestr("meta_test-data.csv", "COD_VAR;LIB_VAR\n")
    return buf.getvalue()


@dataclass(frozen=True)
class Case:
    """A connector, its fixture in official layout, and what its tidy output must contain."""

    id: str
    fixture: str
    served_name: str
    member: str | None
    load: Callable[[str], pd.DataFrame]
    expected: dict[tuple[str, int, str], float]
    renamed: str
    error_name: str
    encoding: str = "utf-8"

    def payload(self, text: str) -> bytes:
        return _zip(self.member, text.encode(self.encoding)) if self.member else text.encode(self.encoding)

    def text(self) -> str:
        return (FIX / self.fixture).read_text(encoding=self.encoding)


NAN = float("nan")
CASES = [
    Case(
        "filosofi_2016", "test-data_filosofi_com_2016.csv", "filosofi_com_2016.csv", None,
        lambda url: filosofi.load(2016, url=url),
        {("01004", 2016, "niveau_vie_median_eur"): 19500.0, ("01001", 2016, "taux_pauvrete_pct"): NAN,
         ("2A004", 2016, "rapport_interdecile_d9_d1"): 4.0, ("97411", 2016, "part_impots_pct"): -10.0},
        "MED16", "filosofi_com_2016.csv",
    ),
    Case(
        "filosofi_2023", "test-data_DS_FILOSOFI_CC_2023_data.csv", "FILOSOFI_CC_csv.zip", "DS_FILOSOFI_CC_2023_data.csv",
        lambda url: filosofi.load(2023, url=url),
        {("01004", 2023, "niveau_vie_median_eur"): 21500.0, ("2A004", 2023, "niveau_vie_median_eur"): 22300.5,
         ("01001", 2023, "taux_pauvrete_pct"): NAN, ("01004", 2023, "indice_gini"): 0.27},
        "OBS_VALUE", "FILOSOFI_CC_csv.zip",
    ),
    Case(
        "insee_rp", "test-data_dossier_complet.csv", "dossier_complet.zip", "dossier_complet.csv",
        lambda url: insee_rp.load(url=url),
        {("01004", 2021, "population"): 15000.0, ("01004", 2021, "logements_vacants"): 750.0,
         ("75056", 2021, "navetteurs_velo"): 21000.0, ("2B033", 2021, "menages"): 18900.0,
         ("01004", 2021, "population_65_ans_plus"): 2800.0, ("01004", 2021, "population_0_19_ans"): 3500.0,
         ("01004", 2015, "population"): 14990.0, ("01004", 2015, "menages"): 6000.0,
         ("75056", 2015, "emplois_au_lieu_de_travail"): 600000.0},
        "P21_LOGVAC", "dossier_complet.zip",
    ),
    Case(
        "cerema_conso", "test-data_conso2009_2024_resultats_com.csv", "conso2009_2024_resultats_com.csv", None,
        lambda url: cerema_conso.load(url=url),
        {("01001", 2009, "conso_naf_ha"): 1.27, ("01001", 2010, "conso_naf_inconnu_ha"): -0.0001,
         ("01001", 2009, "conso_naf_mixte_ha"): 0.35},
        "art15hab16", "conso2009_2024_resultats_com.csv",
    ),
    Case(
        "energy", "test-data_conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv",
        "conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv", None,
        lambda url: energy.load(url=url),
        {("01004", 2022, "conso_elec_residentiel_mwh"): 10000.0, ("01004", 2022, "conso_elec_industrie_mwh"): 3000.0,
         ("01004", 2022, "conso_elec_total_mwh"): 18445.75, ("01004", 2022, "conso_gaz_residentiel_mwh"): 12000.0,
         ("01004", 2022, "pdl_elec_residentiel"): 1000.0, ("2A004", 2022, "conso_elec_industrie_mwh"): NAN,
         ("01004", 2021, "conso_elec_residentiel_mwh"): 10100.0},
        "consor", "conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv",
    ),
    Case(
        "ghg", "test-data_IGT - Pouvoir de réchauffement global.csv", "IGT - Pouvoir de réchauffement global.csv", None,
        lambda url: ghg.load(url=url),
        {("01004", 2016, "ges_routier_tco2e"): 24000.0, ("01001", 2016, "ges_energie_tco2e"): NAN,
         ("01001", 2016, "ges_total_tco2e"): 8178.6, ("01001", 2016, "co2_biomasse_hors_total_tco2e"): 432.0},
        "Routier", "IGT - Pouvoir de réchauffement global.csv",
    ),
    Case(
        "sitadel", "test-data_PC_DP_creant_logements_2017_2023.csv", "PC_DP_creant_logements_2017_2023.zip",
        "PC_DP_creant_logements_2017_2023.csv",
        lambda url: sitadel.load(url=url),
        {("01004", 2022, "logements_autorises"): 25.0, ("01004", 2023, "logements_autorises"): 1.0,
         ("01004", 2022, "logements_commences"): 1.0, ("01004", 2023, "logements_commences"): 24.0,
         ("2A004", 2021, "logements_autorises"): 3.0, ("2A004", 2022, "logements_commences"): 3.0},
        "NB_LGT_TOT_CREES", "PC_DP_creant_logements_2017_2023.zip", encoding="latin-1",
    ),
]
IDS = [c.id for c in CASES]


def _value(df: pd.DataFrame, key: tuple[str, int, str]) -> float:
    code, year, var = key
    keycol = "epci_siren" if "epci_siren" in df.columns else "commune_code"
    hit = df[(df[keycol] == code) & (df["year"] == year) & (df["variable"] == var)]
    assert len(hit) == 1, f"{key}: {len(hit)} rows"
    return float(hit["value"].iloc[0])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_end_to_end_over_http(case: Case, served: Served, isolated_cache: Path) -> None:
    url = served.publish(case.served_name, case.payload(case.text()))
    df = case.load(url)
    assert tuple(df.columns) in {base.TIDY_COLUMNS, ("epci_siren", *base.TIDY_COLUMNS[1:])}
    assert str(df["year"].dtype) == "int16" and str(df["value"].dtype) == "float64"
    for key, expected in case.expected.items():
        got = _value(df, key)
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected), key
    assert any(isolated_cache.rglob("*.sha256")), "the download went through the checksummed cache"
    # A second load is served by the cache: no new request reaches the server.
    before = len(served.hits)
    pd.testing.assert_frame_equal(case.load(url), df)
    assert len(served.hits) == before


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_renamed_column_names_file_and_column(case: Case, served: Served) -> None:
    text = case.text()
    header, rest = text.split("\n", 1)
    assert case.renamed in next(csv.reader([header], delimiter=";" if header.count(";") > header.count(",") else ","))
    broken = re.sub(rf"\b{case.renamed}\b", f"{case.renamed}_RENAMED", header, count=1) + "\n" + rest
    url = served.publish(case.served_name, case.payload(broken))
    with pytest.raises(SchemaError, match=rf"{case.error_name}.*missing columns \['{case.renamed}'\]"):
        case.load(url)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_codes_are_refused(case: Case, served: Served) -> None:
    header, rest = case.text().split("\n", 1)
    broken = header + "\n" + rest.replace("01004", "1004")
    url = served.publish(case.served_name, case.payload(broken))
    with pytest.raises(SchemaError, match=r"invalid codes in column .*\['1004'"):
        case.load(url)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_truncated_file_is_detected(case: Case, served: Served) -> None:
    """A file cut in the middle (complete HTTP answer, truncated content) is refused, not half-read."""
    data = case.payload(case.text())
    url = served.publish(case.served_name, data[: int(len(data) * 0.6)])
    with pytest.raises(TruncatedFileError, match=r"tronqu|s'arrête au milieu"):
        case.load(url)


@pytest.mark.parametrize("case", CASES[:3], ids=IDS[:3])
def test_truncated_download_is_detected(case: Case, served: Served, isolated_cache: Path) -> None:
    """The server announces more bytes than it sends: the fetch fails clearly and caches nothing."""
    served.publish(case.served_name, case.payload(case.text()))
    url = f"{served.url}/truncated/{urllib.parse.quote(case.served_name)}"
    with pytest.raises(SourceUnavailableError, match=r"injoignable.*(truncated|IncompleteRead|incomplete)"):
        case.load(url)
    assert not list(isolated_cache.rglob("*.sha256"))


@pytest.mark.parametrize(
    ("fixture", "needle", "replacement", "message"),
    [
        ("test-data_filosofi_com_2016.csv", "19500.0", "19 500", r"non-numeric values in columns MED16"),
        ("test-data_filosofi_com_2016.csv", "17.5", "175.0", r"column 'TP6016' fails in_range"),
        ("test-data_IGT - Pouvoir de réchauffement global.csv", "24000.0", "-5000.0", r"column 'Routier' fails"),
    ],
)
def test_bad_values_name_the_column(served: Served, fixture: str, needle: str, replacement: str, message: str) -> None:
    text = (FIX / fixture).read_text(encoding="utf-8").replace(needle, replacement)
    case = next(c for c in CASES if c.fixture == fixture)
    url = served.publish(case.served_name, case.payload(text))
    with pytest.raises(SchemaError, match=message):
        case.load(url)


def test_cerema_yearly_flows_add_up_to_the_period_total(served: Served) -> None:
    """Naive cross-check: the sum of the tidy yearly flows equals the file's own 2009–2024 total."""
    case = next(c for c in CASES if c.id == "cerema_conso")
    df = case.load(served.publish(case.served_name, case.payload(case.text())))
    flows = df[df["variable"] == "conso_naf_ha"].groupby("commune_code")["value"].sum()
    reader = csv.DictReader(io.StringIO(case.text()), delimiter=";")
    period = {r["idcom"]: float(r["naf09art24"]) / 10_000 for r in reader}
    assert set(flows.index) == set(period)
    for code, total in period.items():
        assert flows[code] == pytest.approx(total)
    assert sorted(df["year"].unique()) == list(range(2009, 2024))


def test_cerema_shifted_column_is_caught(served: Served) -> None:
    case = next(c for c in CASES if c.id == "cerema_conso")
    header, rest = case.text().split("\n", 1)
    cols = header.split(";")
    i, j = cols.index("art12hab13"), cols.index("art12act13")
    cols[i], cols[j] = cols[j], cols[i]
    lines = rest.strip("\n").split("\n")
    broken = ";".join(cols) + "\n" + "\n".join(lines[:1] + [lines[1].replace(";", ";99", 20)] + lines[2:]) + "\n"
    with pytest.raises(SchemaError, match=r"differs from the sum of its destinations"):
        case.load(served.publish(case.served_name, case.payload(broken)))


def test_insee_rp_census_year_comes_from_the_file(served: Served) -> None:
    case = next(c for c in CASES if c.id == "insee_rp")
    text = case.text().replace("P21_", "P22_").replace("C21_", "C22_")
    df = insee_rp.load(url=served.publish("dossier_complet.zip", _zip("dossier_complet.csv", text)))
    assert set(df["year"]) == {2022}


def _rp_text(drop: tuple[str, ...] = (), replace: dict[str, str] | None = None) -> str:
    """The census fixture without the columns ``drop`` and with some values replaced."""
    case = next(c for c in CASES if c.id == "insee_rp")
    rows = list(csv.reader(io.StringIO(case.text()), delimiter=";"))
    keep = [i for i, name in enumerate(rows[0]) if name not in drop]
    text = "\n".join(";".join(r[i] for i in keep) for r in rows) + "\n"
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    return text


def _rp_load(served: Served, text: str) -> pd.DataFrame:
    return insee_rp.load(url=served.publish("dossier_complet.zip", _zip("dossier_complet.csv", text)))


def test_insee_rp_reads_the_earlier_census_of_the_same_file(served: Served) -> None:
    df = _rp_load(served, _rp_text())
    assert sorted(df["year"].unique()) == [2015, 2021]  # P10_POP is in the file but not read
    earlier = df[df["year"] == 2015]
    assert set(earlier["variable"]) == {v for _, v, _ in insee_rp.EARLIER_VARIABLES.values()}
    assert _value(df, ("01001", 2015, "menages")) == 320.0
    assert _value(df, ("2B033", 2015, "emplois_au_lieu_de_travail")) == 13000.0


@pytest.mark.parametrize("column", ["C15_MEN", "P15_EMPLT"])
def test_insee_rp_earlier_census_columns_are_required_once_it_is_there(served: Served, column: str) -> None:
    with pytest.raises(SchemaError, match=rf"dossier_complet.zip.*missing columns \['{column}'\]"):
        _rp_load(served, _rp_text(drop=(column,)))


def test_insee_rp_without_earlier_census_gives_the_current_year_only(served: Served) -> None:
    df = _rp_load(served, _rp_text(drop=("P15_POP", "C15_MEN", "P15_EMPLT")))
    assert set(df["year"]) == {2021}


def test_insee_rp_optional_bands_are_read_only_when_present(served: Served) -> None:
    df = _rp_load(served, _rp_text(drop=("P21_POP65P", "P21_POP0019")))
    assert not {"population_65_ans_plus", "population_0_19_ans"} & set(df["variable"])
    assert _value(df, ("01004", 2021, "population_75_89_ans")) == 1350.0


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        (";2800.0;3500.0;", ";1000.0;3500.0;", "P21_POP65P"),   # below 75+ (1 500)
        (";2800.0;3500.0;", ";4100.0;3500.0;", "P21_POP65P"),   # above 60+ (4 050)
        (";2800.0;3500.0;", ";2800.0;5200.0;", "P21_POP0019"),  # above 0-29 (5 100)
        (";2800.0;3500.0;", ";2800.0;2000.0;", "P21_POP0019"),  # below 0-14 (2 700)
    ],
)
def test_insee_rp_optional_band_outside_the_15_year_bands_is_refused(served: Served, old: str, new: str, column: str) -> None:
    with pytest.raises(SchemaError, match=rf"dossier_complet.zip!dossier_complet.csv: inconsistent columns \({column} outside"):
        _rp_load(served, _rp_text(replace={old: new}))


def test_insee_rp_layout_declares_each_part() -> None:
    header = ["CODGEO", *insee_rp.columns_for(2022), "P16_POP", "P22_POP65P"]
    lay = insee_rp.layout(header, name="dossier_complet.csv")
    assert (lay.year, lay.earlier_year) == (2022, 2016)
    assert set(lay.columns[2016]) == {"P16_POP", "C16_MEN", "P16_EMPLT"}
    assert "P22_POP65P" in lay.columns[2022] and "P22_POP0019" not in lay.columns[2022]


def test_zip_without_the_expected_member(served: Served) -> None:
    url = served.publish("dossier_complet.zip", _zip("autre_fichier.csv", "CODGEO;P21_POP\n01001;1\n"))
    with pytest.raises(SchemaError, match=r"dossier_complet.zip: the archive has 0 members matching 'dossier_complet.csv'"):
        insee_rp.load(url=url)


# --------------------------------------------------------------------------- ADEME DPE (paged API)


def _naive_counts(codes: set[str]) -> dict[tuple[str, int, str], int]:
    counts: dict[tuple[str, int, str], int] = {}
    for c in DPE_POOL:
        if c["code_insee_ban"] in codes:
            key = (c["code_insee_ban"], int(c["date_etablissement_dpe"][:4]), "nb_dpe_" + c["etiquette_dpe"].lower())
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_dpe_api_pages_are_followed_and_cached(served: Served) -> None:
    df = ademe_dpe.load(["01004", "01001"], url=f"{served.url}/api/lines")
    pages = [h for h in served.hits if "/lines" in h]
    assert len(pages) == 6  # 27 certificates, 5 per page
    assert set(df["commune_code"]) == {"01004", "01001"}
    assert df.loc[df["variable"] == "nb_dpe_total"].groupby("commune_code")["value"].sum().to_dict() == {"01001": 4, "01004": 23}
    for key, n in _naive_counts({"01004", "01001"}).items():
        assert _value(df, key) == n
    # One certificate has no climate label: counted in the total, not in the GES labels.
    ges = df[df["variable"].str.startswith("nb_dpe_ges_")]["value"].sum()
    assert ges == 26
    again = ademe_dpe.load(["01001", "01004"], url=f"{served.url}/api/lines")
    pd.testing.assert_frame_equal(again, df)
    assert len([h for h in served.hits if "/lines" in h]) == 6


def test_dpe_mirror_export_matches_the_api(served: Served, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "ademe").mkdir(parents=True)
    (mirror / "ademe" / "dpe03existant.csv").write_bytes((FIX / "test-data_dpe03existant.csv").read_bytes())
    from_mirror = ademe_dpe.load(["01004", "2A004"], mirror=mirror)
    from_api = ademe_dpe.load(["01004", "2A004"], url=f"{served.url}/api/lines")
    pd.testing.assert_frame_equal(from_mirror, from_api)


@pytest.mark.parametrize(
    ("prefix", "error", "message"),
    [
        ("/cut", TruncatedFileError, r"réponse JSON tronquée"),
        ("/nofield", SchemaError, r"dpe03existant.*missing columns \['code_insee_ban'\]"),
    ],
)
def test_dpe_broken_answers(served: Served, prefix: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        ademe_dpe.load(["01004"], url=f"{served.url}{prefix}/lines")


def test_dpe_refuses_bad_commune_codes() -> None:
    with pytest.raises(SchemaError, match=r"invalid codes"):
        ademe_dpe.load(["1004"], url="http://127.0.0.1:9/lines")
