"""``planeco indicators list|show|export`` and ``planeco compare``: output, files, French errors."""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from planeco_kernel.cli import app, main

runner = CliRunner()


def test_list_text_and_theme():
    r = runner.invoke(app, ["indicators", "list", "--theme", "logement"])
    assert r.exit_code == 0, r.output
    assert "taux_vacance" in r.output and "Logement" in r.output
    assert "taux_pauvrete" not in r.output


def test_list_json():
    r = runner.invoke(app, ["indicators", "list", "--json"])
    items = json.loads(r.output)
    assert len(items) >= 40
    assert {"id", "label", "unit", "theme", "source", "formula", "aggregation", "polarity", "reference"} <= set(items[0])


def test_show():
    r = runner.invoke(app, ["indicators", "show", "taux_vacance"])
    assert r.exit_code == 0
    assert "Logements vacants rapportés" in r.output and "rapport des sommes" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["indicators", "show", "taux_vacanse"], "Indicateur inconnu : « taux_vacanse ». Vouliez-vous dire : taux_vacance"),
        (["indicators", "list", "--theme", "astrologie"], "Thème inconnu"),
        (["indicators", "export", "--level", "departement", "--out", "x.txt"], "Extension « .txt » non prise en charge"),
    ],
)
def test_errors_are_french(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.bundle
def test_compare_unknown_territory(capsys, bundle_dir):
    assert main(["compare", "99999"]) == 2
    assert "Territoire inconnu" in capsys.readouterr().err


@pytest.mark.bundle
def test_compare_text_and_json(bundle_dir):
    r = runner.invoke(app, ["compare", "01004"])
    assert r.exit_code == 0, r.output
    assert "Ambérieu-en-Bugey" in r.output and "Votre commune" in r.output
    assert "valeur la plus" in r.output and "rang " not in r.output  # ranks say their direction
    assert "Communes comparables (taille et densité) : " in r.output and "Pairs" not in r.output
    assert not re.search(r"\bt\d+(-d\d+)?\b", r.output)  # no raw peer-group id such as t7-d3
    r = runner.invoke(app, ["compare", "01004", "--json"])
    data = json.loads(r.output)
    item = next(i for i in data["indicators"] if i["id"] == "population")
    assert item["value"] > 10000 and item["source"] and {g["group"] for g in item["groups"]} >= {"epci", "france", "peers"}
    assert all({"rank", "rank_from_top", "rank_from_bottom", "n", "percentile", "median", "value"} <= set(g)
               for g in item["groups"])
    for g in item["groups"]:
        if g["rank_from_top"] is not None:
            assert g["rank_from_top"] + g["rank_from_bottom"] <= g["n"] + 1  # ties share the better rank


@pytest.mark.bundle
@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".parquet"])
def test_export_formats(tmp_path, ext, bundle_dir):
    out = tmp_path / f"ain{ext}"
    r = runner.invoke(app, ["indicators", "export", "--level", "commune", "--within", "01", "--year", "2016",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    if ext == ".csv":
        df = pd.read_csv(out, sep=";", decimal=",", dtype={"code": str})
        defs = pd.read_csv(tmp_path / "ain.sources.csv", sep=";")
    elif ext == ".xlsx":
        wb = openpyxl.load_workbook(out, read_only=True)
        assert wb.sheetnames == ["indicateurs", "sources et définitions"]
        df = pd.read_excel(out, sheet_name="indicateurs", dtype={"code": str})
        defs = pd.read_excel(out, sheet_name="sources et définitions")
    else:
        df = pd.read_parquet(out)
        defs = pd.read_csv(tmp_path / "ain.sources.csv", sep=";")
    assert list(df.columns[:3]) == ["code", "nom", "annee"]
    assert "taux_pauvrete" in df.columns and "population" in df.columns
    assert df["code"].str.startswith("01").all() and (df["annee"] == 2016).all()
    assert len(df) > 300
    row = df.set_index("code").loc["01004"]
    assert row["taux_pauvrete"] == pytest.approx(17.0)
    assert {"indicateur", "définition", "source", "millésime", "statut"} <= set(defs.columns)
    assert len(defs) >= 40


@pytest.mark.bundle
def test_list_reports_availability_from_the_bundle(bundle_dir, monkeypatch, capsys):
    """Offline, population indicators are available and census ones are not, with the reason in `show`."""
    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))
    assert main(["indicators", "list", "--json"]) == 0
    items = {i["id"]: i for i in json.loads(capsys.readouterr().out)}
    assert items["population"]["available"] is True and 2023 in items["population"]["years"]
    assert items["part_65_ans_plus"]["available"] is False and items["part_65_ans_plus"]["reason"]
    assert main(["indicators", "show", "part_65_ans_plus"]) == 0
    assert "Disponible  : non" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("label", "unit", "shown"),
    [("Logements pour 1 000 habitants", "pour 1 000 habitants", "Logements pour 1 000 habitants"),
     ("Part des 15-29 ans", "%", "Part des 15-29 ans (%)"),
     ("Rapport interdécile", "", "Rapport interdécile (sans unité)"),
     ("Émissions de gaz à effet de serre", "t CO₂e", "Émissions de gaz à effet de serre (t CO₂e)")],
)
def test_label_with_unit_does_not_repeat_the_unit(label, unit, shown):
    from planeco_kernel.cli.indicators import label_with_unit

    assert label_with_unit(label, unit) == shown
