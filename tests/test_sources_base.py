"""Unit tests of the shared connector helpers (planeco_kernel.sources.base)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base, energy
from planeco_kernel.sources.base import Release, TruncatedFileError

FIX = Path(__file__).parent / "fixtures" / "sources"


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("01001", True), ("2A004", True), ("2B033", True), ("97411", True), ("75056", True),
        (" 01001 ", True),  # stripped
        ("1001", False), ("010010", False), ("2C004", False), ("01.00", False), ("", False), (None, False),
    ],
)
def test_check_codes(code, ok: bool) -> None:
    s = pd.Series([code], dtype="object")
    if ok:
        assert base.check_codes(s, name="f.csv", column="CODGEO").tolist() == [code.strip()]
    else:
        with pytest.raises(SchemaError, match=r"f.csv: 1 invalid codes in column 'CODGEO'"):
            base.check_codes(s, name="f.csv", column="CODGEO")


@pytest.mark.parametrize(
    ("siren", "ok"), [("200000172", True), ("20000017", False), ("2000001720", False), ("20000017A", False)]
)
def test_check_epci_codes(siren: str, ok: bool) -> None:
    s = pd.Series([siren])
    if ok:
        base.check_codes(s, name="e.csv", column="CODGEO", pattern=base.EPCI_SIREN_PATTERN)
    else:
        with pytest.raises(SchemaError, match="invalid codes"):
            base.check_codes(s, name="e.csv", column="CODGEO", pattern=base.EPCI_SIREN_PATTERN)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a;b\n1;2\n", None),
        ("a;b\n1;2", None),  # complete last line without final newline
        ("a;b\n1;2\n3", TruncatedFileError),  # cut inside the last record
        ('a;b\n1;2\n3;"x', TruncatedFileError),  # cut inside a quoted field
        ("", TruncatedFileError),
        ("a;b\n1;2;3\n", SchemaError),  # more fields than the header
    ],
)
def test_read_csv_text_truncation(text: str, error) -> None:
    if error is None:
        df = base.read_csv_text(text, name="t.csv", sep=";")
        assert df.to_dict("list") == {"a": ["1"], "b": ["2"]}
    else:
        with pytest.raises(error, match="t.csv"):
            base.read_csv_text(text, name="t.csv", sep=";")


def test_required_columns_message() -> None:
    with pytest.raises(SchemaError, match=r"^t.csv: missing columns \['MED16'\] \(expected \['CODGEO', 'MED16'\]"):
        base.read_csv_text("CODGEO;MEDIANE16\n01001;1\n", name="t.csv", sep=";", required=["CODGEO", "MED16"])


def test_codes_keep_leading_zeros_and_empty_is_missing() -> None:
    df = base.read_csv_text("CODGEO;V\n01001;\n2A004;3\n", name="t.csv", sep=";")
    assert df["CODGEO"].tolist() == ["01001", "2A004"]
    assert df["V"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("values", "decimal_comma", "expected"),
    [(["1.5", "", "-2"], False, [1.5, None, -2.0]), (["1,5", "2"], True, [1.5, 2.0])],
)
def test_to_numeric(values, decimal_comma: bool, expected) -> None:
    out = base.to_numeric(pd.DataFrame({"v": values}), ["v"], name="t.csv", decimal_comma=decimal_comma)["v"]
    assert [None if pd.isna(x) else x for x in out] == expected


def test_to_numeric_names_the_column() -> None:
    with pytest.raises(SchemaError, match=r"t.csv: non-numeric values in columns v \['n/a'\]"):
        base.to_numeric(pd.DataFrame({"v": ["1", "n/a"]}), ["v"], name="t.csv")


def test_check_ranges_names_file_and_column() -> None:
    df = pd.DataFrame({"TP6016": [10.0, 150.0, None]})
    with pytest.raises(SchemaError, match=r"t.csv: column 'TP6016' fails in_range.*\[150.0\]"):
        base.check_ranges(df, {"TP6016": (0, 100)}, name="t.csv")


def _tidy(**over) -> pd.DataFrame:
    row = {"commune_code": "01001", "year": 2016, "variable": "population", "value": 1.0, "unit": "personnes"}
    row.update(over)
    return pd.DataFrame([row])


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.concat([_tidy(), _tidy()]), r"1 duplicated keys \(commune_code, year, variable\)"),
        (_tidy(variable="Population totale"), r"column 'variable'"),
        (_tidy(commune_code="1001"), r"column 'commune_code'"),
        (_tidy(year=1850), r"column 'year'"),
        (_tidy().drop(columns="unit"), r"missing columns \['unit'\]"),
    ],
)
def test_validate_tidy_rejects(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        base.validate_tidy(frame, name="t")


def test_validate_tidy_normalises_dtypes() -> None:
    out = base.validate_tidy(_tidy(), name="t")
    assert list(out.columns) == list(base.TIDY_COLUMNS)
    assert out.dtypes.astype(str).tolist() == ["string", "int16", "string", "float64", "string"]


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.csv", "a;b\n" + "".join(f"{i};{i * 7919 % 104729}\n" for i in range(30_000)))
    return buf.getvalue()


def test_truncated_zip(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    p.write_bytes(_zip_bytes()[:-200])
    with pytest.raises(TruncatedFileError, match=r"x.zip: archive ZIP tronquée"):
        base.TableFile(p, name="x.zip", member="x.csv")


def test_corrupt_zip_member_is_detected_while_streaming(tmp_path: Path) -> None:
    """A damaged byte inside the compressed member: the CRC check fails during the read."""
    data = bytearray(_zip_bytes())
    data[int(len(data) * 0.8)] ^= 0xFF  # beyond the 64 KiB header peek: caught while pandas streams
    p = tmp_path / "x.zip"
    p.write_bytes(bytes(data))
    rel = Release("t", 2020, "https://example.invalid/x.zip", "x.zip", member="x.csv")
    with pytest.raises((TruncatedFileError, SchemaError), match=r"x.zip"):
        base.read_csv(p, rel, required=["a", "b"])


def test_streamed_read_keeps_only_wanted_columns(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    p.write_bytes(_zip_bytes())
    rel = Release("t", 2020, "https://example.invalid/x.zip", "x.zip", member="x.csv")
    df = base.read_csv(p, rel, required=["a"], usecols=["a"])
    assert list(df.columns) == ["a"] and len(df) == 30_000 and df["a"].iloc[7] == "7"
    assert df.attrs["source_name"] == "x.zip!x.csv"


def test_cp1252_file_is_decoded(tmp_path: Path, isolated_cache) -> None:
    """Publishers switch encodings: a CP1252 export (« Electricité ») is read like the UTF-8 one."""
    text = (FIX / "test-data_conso-elec-gaz-annuelle-par-secteur-dactivite-agregee-commune.csv").read_text(encoding="utf-8")
    p = tmp_path / "export.csv"
    p.write_bytes(text.encode("cp1252"))
    df = energy.load(url=p.as_uri())
    assert "conso_elec_residentiel_mwh" in set(df["variable"])


def test_obtain_prefers_the_mirror(tmp_path: Path, isolated_cache) -> None:
    mirror = tmp_path / "m"
    (mirror / "x").mkdir(parents=True)
    (mirror / "x" / "f.csv").write_text("a\n1\n")
    rel = Release("t", 2020, "https://unreachable.invalid/f.csv", "f.csv", mirror_path="x/f.csv")
    art = base.obtain(rel, mirror=mirror)
    assert art.path == (mirror / "x" / "f.csv").resolve()


def test_obtain_explains_how_to_fix(tmp_path: Path, isolated_cache, monkeypatch) -> None:
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    rel = Release("t", 2020, "https://unreachable.invalid/f.csv", "f.csv", mirror_path="x/f.csv")
    from planeco_kernel.errors import SourceUnavailableError

    with pytest.raises(SourceUnavailableError, match=r"placez le fichier officiel « f.csv » dans le miroir \(x/f.csv\)"):
        base.obtain(rel, mirror=tmp_path)
