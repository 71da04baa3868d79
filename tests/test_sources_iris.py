"""The census IRIS population base connector (``insee_iris_pop``) on TEST DATA served over local HTTP.

The fixture ``tests/fixtures/sources/test-data_base-ic-evol-struct-pop-2021.csv`` copies the
official layout (76 columns, ``;``, weighted decimals, Paris by arrondissement) with invented
values whose commune sums match the dossier complet fixture. The tests fetch it through
``fetch_url`` (checksummed cache), check the commune sums against a naive reading of the text,
break it in the ways a publisher or a download can (renamed column, truncated archive, shifted
values, bad codes) and run it through the data build's sources step into the indicator cube.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from test_sources_connectors import Served, served  # noqa: F401 - the local HTTP server fixture

from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import base, insee_iris_pop
from planeco_kernel.sources.base import TruncatedFileError

FIX = Path(__file__).parent / "fixtures" / "sources"
TEXT = (FIX / "test-data_base-ic-evol-struct-pop-2021.csv").read_text(encoding="utf-8")
ZIP_NAME = "base-ic-evol-struct-pop-2021_csv.zip"
MEMBER = "base-ic-evol-struct-pop-2021.CSV"


def _zip(text: str, member: str = MEMBER) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text.encode("utf-8"))
        zf.writestr(f"meta_{member}", "COD_VAR;LIB_VAR;TYPE_VAR\n")  # the dictionary beside the data
    return buf.getvalue()


def _publish(served: Served, text: str = TEXT, name: str = ZIP_NAME, member: str = MEMBER) -> str:  # noqa: F811
    return served.publish(name, _zip(text, member))


def _naive_sums(text: str, year: int = 2021) -> dict[tuple[str, str], float]:
    """Reference: commune sums read with the csv module, one IRIS row at a time."""
    yy = f"{year % 100:02d}"
    names = {f"P{yy}_{stem}": var for stem, (var, _) in insee_iris_pop.VARIABLES.items()}
    out: dict[tuple[str, str], float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(text), delimiter=";"):
        for col, var in names.items():
            out[(row["COM"], var)] += float(row[col])
    return dict(out)


def _value(df: pd.DataFrame, code: str, var: str, year: int = 2021) -> float:
    hit = df[(df["commune_code"] == code) & (df["year"] == year) & (df["variable"] == var)]
    assert len(hit) == 1, (code, var, len(hit))
    return float(hit["value"].iloc[0])


def test_end_to_end_over_http_matches_a_naive_sum(served: Served, isolated_cache: Path) -> None:  # noqa: F811
    url = _publish(served)
    df = insee_iris_pop.load(url=url)
    assert tuple(df.columns) == base.TIDY_COLUMNS
    assert str(df["year"].dtype) == "int16" and set(df["year"]) == {2021}
    assert set(df["unit"]) == {"personnes"}
    expected = _naive_sums(TEXT)
    assert len(df) == len(expected)
    for (code, var), value in expected.items():
        assert _value(df, code, var) == pytest.approx(value), (code, var)
    # values the dossier complet fixture also gives (census 2021, same communes): the two files agree
    assert _value(df, "01004", "population_65_ans_plus") == pytest.approx(2800.0)
    assert _value(df, "01004", "population_0_19_ans") == pytest.approx(3500.0)
    assert _value(df, "01004", "population_75_ans_plus") == pytest.approx(1350.0 + 150.0)  # 75-89 + 90+
    assert _value(df, "01004", "population_somme_iris") == pytest.approx(15000.0)
    assert "75056" not in set(df["commune_code"]) and {"75101", "75102"} <= set(df["commune_code"])
    assert any(isolated_cache.rglob("*.sha256")), "the download went through the checksummed cache"
    before = len(served.hits)
    pd.testing.assert_frame_equal(insee_iris_pop.load(url=url), df)
    assert len(served.hits) == before, "the second load is served by the cache"


def test_census_year_comes_from_the_column_prefix(served: Served) -> None:  # noqa: F811
    text = TEXT.replace("P21_", "P22_").replace("C21_", "C22_")
    df = insee_iris_pop.load(url=_publish(served, text, "base-ic-evol-struct-pop-2022_csv.zip",
                                          "base-ic-evol-struct-pop-2022.CSV"))
    assert set(df["year"]) == {2022}
    with pytest.raises(SchemaError, match=r"holds census 2022 .*not 2021"):
        insee_iris_pop.load(2021, url=_publish(served, text))


@pytest.mark.parametrize("column", ["IRIS", "COM", "P21_POP0019", "P21_POP2064", "P21_POP65P", "P21_POP75P"])
def test_renamed_column_names_file_and_column(served: Served, column: str) -> None:  # noqa: F811
    header, rest = TEXT.split("\n", 1)
    broken = re.sub(rf"(?<![A-Z_]){column}(?=;|$)", f"{column}_RENAMED", header, count=1) + "\n" + rest
    assert broken != TEXT
    with pytest.raises(SchemaError, match=rf"{ZIP_NAME}!{re.escape(MEMBER)}: missing columns \['{column}'\]"):
        insee_iris_pop.load(url=_publish(served, broken))


def test_no_census_year_column_is_a_layout_change(served: Served) -> None:  # noqa: F811
    broken = TEXT.replace("P21_POP;", "POPULATION;", 1)
    with pytest.raises(SchemaError, match=r"expected one column P<yy>_POP .*layout of the IRIS population base changed"):
        insee_iris_pop.load(url=_publish(served, broken))


def test_truncated_archive_is_detected(served: Served) -> None:  # noqa: F811
    data = _zip(TEXT)
    url = served.publish(ZIP_NAME, data[: int(len(data) * 0.6)])
    with pytest.raises(TruncatedFileError, match=r"archive ZIP tronquée"):
        insee_iris_pop.load(url=url)


def test_archive_without_the_data_member(served: Served) -> None:  # noqa: F811
    url = _publish(served, TEXT, member="autre_fichier.CSV")
    with pytest.raises(SchemaError, match=r"0 members matching"):
        insee_iris_pop.load(url=url)


def _row(iris: str) -> str:
    return next(line for line in TEXT.splitlines() if line.startswith(iris + ";"))


def _cell(line: str, column: str) -> str:
    header = TEXT.split("\n", 1)[0].split(";")
    return line.split(";")[header.index(column)]


def _set(line: str, column: str, value: str) -> str:
    header = TEXT.split("\n", 1)[0].split(";")
    cells = line.split(";")
    cells[header.index(column)] = value
    return ";".join(cells)


@pytest.mark.parametrize(
    ("iris", "column", "value", "message"),
    [
        ("010010000", "P21_POP65P", "-150", r"column 'P21_POP65P' fails in_range"),
        ("010010000", "P21_POP0019", "19O", r"non-numeric values in columns P21_POP0019"),
        # a shifted value: the three bands no longer add up to the total
        ("010040102", "P21_POP65P", "1289.75", r"P21_POP0019 \+ P21_POP2064 \+ P21_POP65P != P21_POP .*010040102"),
        ("010010000", "P21_POP75P", "151", r"P21_POP75P > P21_POP65P"),
        ("010040101", "COM", "01001", r"IRIS codes do not start with their COM.*010040101"),
        ("010040101", "COM", "1004", r"invalid codes in column 'COM'.*\['1004'\]"),
        ("010040101", "IRIS", "10040101", r"invalid codes in column 'IRIS'.*\['10040101'\]"),
        ("010040102", "IRIS", "010040101", r"duplicated IRIS.*010040101"),
    ],
)
def test_bad_values_are_refused_naming_the_column(served: Served, iris: str, column: str, value: str,  # noqa: F811
                                                  message: str) -> None:
    line = _row(iris)
    assert _cell(line, column) != value
    broken = TEXT.replace(line, _set(line, column, value))
    with pytest.raises(SchemaError, match=message):
        insee_iris_pop.load(url=_publish(served, broken))


def test_a_missing_iris_value_makes_its_commune_missing_not_smaller(served: Served) -> None:  # noqa: F811
    line = _row("010040201")
    broken = TEXT.replace(line, _set(_set(line, "P21_POP75P", ""), "P21_POP65P", _cell(line, "P21_POP65P")))
    df = insee_iris_pop.load(url=_publish(served, broken))
    assert math.isnan(_value(df, "01004", "population_75_ans_plus"))
    assert _value(df, "01004", "population_65_ans_plus") == pytest.approx(2800.0)
    assert _value(df, "2B033", "population_75_ans_plus") == pytest.approx(4500.0)


def test_unknown_edition_is_refused() -> None:
    with pytest.raises(SourceUnavailableError, match=r"millésime 2019 inconnu.*2021, 2022"):
        insee_iris_pop.load(2019)


def test_the_newest_mirrored_edition_is_read_offline(tmp_path: Path, isolated_cache: Path, monkeypatch) -> None:
    from planeco_kernel.sources import catalog

    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    mirror = tmp_path / "mirror"
    (mirror / "insee").mkdir(parents=True)
    (mirror / "insee" / ZIP_NAME).write_bytes(_zip(TEXT))
    assert insee_iris_pop.pick_release(mirror) is insee_iris_pop.RELEASES[2021]
    df = insee_iris_pop.load(mirror=mirror)
    assert set(df["year"]) == {2021}
    status = catalog.available(mirror, network=False)["insee_iris_pop"]
    assert status["status"] == "mirror" and "millésime ancien 2021" in status["reason"], status
    (mirror / "insee" / "base-ic-evol-struct-pop-2022_csv.zip").write_bytes(_zip(TEXT))  # a 2021 file misnamed 2022
    with pytest.raises(SchemaError, match=r"holds census 2021 .*not 2022"):
        insee_iris_pop.load(mirror=mirror)


def test_catalogue_bands_come_from_this_connector() -> None:
    from planeco_kernel.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    produced = {var for var, _ in insee_iris_pop.VARIABLES.values()}
    for name in ("population_65_ans_plus", "population_0_19_ans"):
        assert cat.components[name].source == "insee_iris_pop" and name in produced
    assert cat.get("indice_vieillissement").components <= produced
    # 75+ stays exact from the dossier complet's 15-year bands
    assert cat.get("part_75_ans_plus").components == {"population_75_89_ans", "population_90_ans_plus", "population"}


# --------------------------------------------------------------------------- end to end on the bundle


@pytest.mark.bundle
def test_fixture_through_the_bundle_build_makes_the_ageing_indicators(bundle_dir, tmp_path, monkeypatch):
    """TEST DATA IRIS base and dossier complet (without the 65+/0-19 bands, as INSEE publishes it) in a
    mirror → data build's sources step → cube: part_65_ans_plus and indice_vieillissement are
    available and equal a naive computation; Paris is the sum of its arrondissements."""
    import shutil

    from planeco_kernel.bundle.sources_step import build_sources
    from planeco_kernel.indicators.cube import load_cube

    mirror = tmp_path / "mirror"
    (mirror / "insee").mkdir(parents=True)
    (mirror / "insee" / ZIP_NAME).write_bytes(_zip(TEXT))
    census = (FIX / "test-data_dossier_complet.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(census), sep=";", dtype=str).drop(columns=["P21_POP65P", "P21_POP0019"])
    with zipfile.ZipFile(mirror / "insee" / "dossier_complet.zip", "w") as zf:
        zf.writestr("dossier_complet.csv", frame.to_csv(sep=";", index=False))
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    monkeypatch.setenv("PLANECO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "bundle"
    out.mkdir()
    for name in ("territories.parquet", "population.parquet", "code_history.parquet", "manifest.json"):
        shutil.copy(bundle_dir / name, out / name)
    (out / "cog").mkdir()
    shutil.copy(bundle_dir / "cog" / "communes.parquet", out / "cog" / "communes.parquet")

    entries = build_sources(out, mirror)
    iris = next(e for e in entries if e["source"] == "insee_iris_pop")
    assert iris["included"] and iris["years"] == [2021] and iris["origin"].startswith("mirror")
    assert (out / "sources" / "insee_iris_pop.parquet").is_file()

    sums = _naive_sums(TEXT)
    population = {r["CODGEO"]: float(r["P21_POP"]) for r in csv.DictReader(io.StringIO(census), delimiter=";")}
    cube = load_cube(out, refresh=True)
    assert cube.status["part_65_ans_plus"].available and cube.status["indice_vieillissement"].available
    commune = cube.dataset("commune")

    def got(ind: str, code: str) -> float:
        return float(commune[ind].sel(territory=code, year=2021))

    assert got("part_65_ans_plus", "01004") == pytest.approx(
        100 * sums[("01004", "population_65_ans_plus")] / population["01004"])
    assert got("indice_vieillissement", "2B033") == pytest.approx(
        100 * sums[("2B033", "population_65_ans_plus")] / sums[("2B033", "population_0_19_ans")])
    paris = [c for c, v in sums if c.startswith("751") and v == "population_65_ans_plus"]
    assert got("indice_vieillissement", "75056") == pytest.approx(
        100 * sum(sums[(c, "population_65_ans_plus")] for c in paris)
        / sum(sums[(c, "population_0_19_ans")] for c in paris))
    # a commune of the bundle absent from the fixture has no value, not zero
    assert math.isnan(got("indice_vieillissement", "01002"))
