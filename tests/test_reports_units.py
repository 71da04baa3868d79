"""Unit tests of the report machinery that need no kernel: formatting, schedule, hashes,
"what changed", appendix, index, templates' declared parameters, HTML export.

Figures and notebooks built here are invented test data.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from planeco_kernel.errors import ConfigError
from planeco_kernel.reports import changes, schedule, stamp, templates
from planeco_kernel.reports.figures import COLUMNS, Figure, FigureRegister, read_csv
from planeco_kernel.reports.index import write_index

ROOT = Path(__file__).resolve().parent.parent


# -- schedule ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "cron", "calendar"), [
    ("lundi 06:00", "0 6 * * 1", "Mon *-*-* 06:00:00"),
    ("Lundi à 6h", "0 6 * * 1", "Mon *-*-* 06:00:00"),
    ("chaque vendredi 18h30", "30 18 * * 5", "Fri *-*-* 18:30:00"),
    ("dimanche 7:05", "5 7 * * 0", "Sun *-*-* 07:05:00"),
    ("tous les jours 22h30", "30 22 * * *", "*-*-* 22:30:00"),
    ("06:15", "15 6 * * *", "*-*-* 06:15:00"),
])
def test_parse_when(text, cron, calendar):
    w = schedule.parse_when(text)
    assert (w.cron(), w.on_calendar()) == (cron, calendar)


@pytest.mark.parametrize(("text", "match"), [("lundi", "Horaire illisible"), ("lundi 25:00", "Heure impossible"),
                                             ("mardy 06:00", "Jour inconnu")])
def test_parse_when_errors(text, match):
    with pytest.raises(ConfigError, match=match):
        schedule.parse_when(text)


def test_cron_line_and_systemd_units(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", "/srv/planeco data")
    cmd = schedule.run_command(["--level", "scot", "--all", "--out", str(tmp_path)], tmp_path)
    assert "PLANECO_DATA_DIR='/srv/planeco data'" in cmd
    assert "-m planeco_kernel reports run --level scot --all" in cmd and "--no-progress" in cmd
    assert f"mkdir -p {tmp_path}" in cmd
    line = schedule.cron_line(schedule.parse_when("lundi 06:00"), cmd, "scot-diag")
    assert line.startswith("0 6 * * 1 ") and line.endswith("# planeco-reports:scot-diag")
    units = schedule.systemd_units(schedule.parse_when("lundi 06:00"), cmd, "scot-diag")
    assert set(units) == {"planeco-reports-scot-diag.service", "planeco-reports-scot-diag.timer"}
    assert "OnCalendar=Mon *-*-* 06:00:00" in units["planeco-reports-scot-diag.timer"]
    paths = schedule.install_systemd(units, tmp_path / "units", enable=False)
    assert all(p.is_file() for p in paths)


def test_install_cron_replaces_its_own_line(tmp_path, monkeypatch):
    """A fake `crontab` (test double) keeps the table in a file: installing twice leaves one tagged line."""
    store = tmp_path / "crontab.txt"
    store.write_text("MAILTO=x\n15 3 * * * backup.sh\n")
    fake = tmp_path / "bin" / "crontab"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-l" ]; then cat {store}; else cat > {store}; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    w = schedule.parse_when("lundi 06:00")
    schedule.install_cron(schedule.cron_line(w, "echo a", "n1"), "n1")
    schedule.install_cron(schedule.cron_line(schedule.parse_when("mardi 07:00"), "echo b", "n1"), "n1")
    lines = store.read_text().splitlines()
    assert lines[:2] == ["MAILTO=x", "15 3 * * * backup.sh"]
    assert [ln for ln in lines if "planeco-reports:n1" in ln] == ["0 7 * * 2 echo b # planeco-reports:n1"]


# -- hashes -------------------------------------------------------------------------------------------
def test_data_fingerprint_ignores_build_times():
    a = {"sources": [{"name": "cog", "version": "6.0.0", "built_at": "2026-01-01"}], "built_at": "x", "build_seconds": 3}
    b = {"sources": [{"name": "cog", "version": "6.0.0", "built_at": "2026-02-02"}], "built_at": "y", "build_seconds": 9}
    c = {"sources": [{"name": "cog", "version": "6.1.0", "built_at": "2026-02-02"}], "built_at": "y"}
    assert stamp.data_fingerprint(a) == stamp.data_fingerprint(b) != stamp.data_fingerprint(c)


@pytest.mark.parametrize(("change", "differs"), [
    ({"template": "t2"}, True),
    ({"params": {"territory": "2", "level": "epci"}}, True),
    ({"data": "d2"}, True),
    ({"version": "0.2.0"}, True),
    ({"params": {"territory": "1", "level": "epci", "output_dir": "/elsewhere", "stamp": {"run": 2}}}, False),
])
def test_inputs_hash(change, differs):
    base = {"template": "t1", "params": {"territory": "1", "level": "epci"}, "data": "d1", "version": "0.1.0"}
    other = {**base, **change}
    h = lambda d: stamp.inputs_hash(d["template"], d["params"], d["data"], d["version"])  # noqa: E731
    assert (h(base) != h(other)) is differs


# -- figures and "what changed" ---------------------------------------------------------------------
def _fig(ind, value, year=2022, unit="hab", code="X", section="S"):
    return Figure(section, ind, code, "epci", "Test", value, unit, year, "test")


def test_appendix_roundtrip(tmp_path):
    class T:  # minimal territory stand-in (test double)
        code, level, name = "200046977", "epci", "Métropole de Lyon"

    reg = FigureRegister()
    reg.add("Chiffres clés", "Population municipale", T, 1436354, "hab", 2023, "communes.json@6.0.0")
    reg.add("Chiffres clés", "Superficie", T, None, "km²", None, "x")
    reg.add("Chiffres clés", "Évolution", T, np.float64(0.5299485588), "%", 2023, "x")
    reg.add("Chiffres clés", "Communes", T, np.int64(58), "communes", None, "x")
    path = reg.to_csv(tmp_path / "a.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0] == ";".join(COLUMNS)
    back = read_csv(path)
    assert [(f.indicateur, f.valeur, f.annee) for f in back] == [
        ("Population municipale", 1436354.0, 2023), ("Superficie", None, None), ("Évolution", 0.529949, 2023),
        ("Communes", 58.0, None)]


def test_read_csv_rejects_other_files(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a;b\n1;2\n")
    with pytest.raises(ValueError, match="annexe de rapport planeco"):
        read_csv(p)


@pytest.mark.parametrize(("cur", "prev", "kinds", "text"), [
    ([_fig("Pop", 1000, 2023)], [_fig("Pop", 990, 2022)], ["vintage"], "Nouveau millésime pour Pop (S) : 2023 (au lieu de 2022)"),
    ([_fig("Pop", 1100)], [_fig("Pop", 1000)], ["move"], "+10,0 %"),
    ([_fig("Pop", 1005)], [_fig("Pop", 1000)], [], None),  # 0.5 %: not notable
    ([_fig("Taux", 1.5, unit="%")], [_fig("Taux", 1.2, unit="%")], ["move"], "+0,3 point"),
    ([_fig("Taux", 1.25, unit="%")], [_fig("Taux", 1.2, unit="%")], [], None),
    ([_fig("Pop", 1000), _fig("Neuf", 3)], [_fig("Pop", 1000)], ["new"], "Nouvel indicateur : Neuf"),
    ([_fig("Pop", 1000)], [_fig("Pop", 1000), _fig("Ancien", 1)], ["gone"], "Ancien"),
    ([_fig("Pop", 2000, code="Y")], [_fig("Pop", 1000, code="Y")], [], None),  # another territory: ignored
])
def test_compare(cur, prev, kinds, text):
    found = changes.compare(cur, prev, level="epci", code="X")
    assert [c.kind for c in found] == kinds
    if text:
        assert text in found[0].text


def test_compare_sources_and_first_run():
    assert changes.compare([_fig("Pop", 1)], None, level="epci", code="X") == []
    found = changes.compare([], [], level="epci", code="X", current_sources={"cog": "6.0.0", "dpe": "2025"},
                            previous_sources={"cog": "5.3.0"})
    assert [c.text for c in found] == ["Source mise à jour : cog 5.3.0 → 6.0.0.", "Nouvelle source : dpe (2025)."]


# -- index ---------------------------------------------------------------------------------------------
def test_index_lists_reports_failures_first(tmp_path):
    entries = [
        {"code": "1", "level": "epci", "name": "Alpha", "status": "ok", "files": ["rapport.html", "annexe_chiffres.csv"],
         "finished_at": "2026-11-24T01:15:03+00:00"},
        {"code": "2", "level": "epci", "name": "Béta <b>", "status": "failed", "error": "Échec dans la cellule 3"},
    ]
    page = write_index(tmp_path, entries).read_text(encoding="utf-8")
    assert page.index("Béta &lt;b&gt;") < page.index("Alpha")
    assert 'href="epci/1/rapport.html"' in page and "Échec dans la cellule 3" in page
    assert 'id="q" type="search"' in page and "dont 1 en échec" in page
    assert "24/11/2026 01:15 UTC" in page


# -- templates -------------------------------------------------------------------------------------------
TEMPLATES = sorted((ROOT / "parameterized").glob("*.ipynb"))


def test_there_are_at_least_two_templates():
    assert len(TEMPLATES) >= 2, [p.name for p in TEMPLATES]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_templates_declare_parameters(path):
    declared = templates.check_template(path)
    assert set(templates.RUNNER_PARAMETERS) <= set(declared)
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    import ast

    for stmt in ast.parse(nb.cells[tagged[0]].source).body:  # only `name = literal` defaults
        assert isinstance(stmt, ast.Assign), ast.dump(stmt)
        ast.literal_eval(stmt.value)


def test_template_missing_runner_parameters(tmp_path):
    nb = new_notebook(cells=[new_code_cell('territory = "x"', metadata={"tags": ["parameters"]})],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    p = tmp_path / "t.ipynb"
    nbformat.write(nb, p)
    with pytest.raises(ConfigError, match="ne déclare pas les paramètres level, output_dir"):
        templates.check_template(p)


def test_unknown_template():
    with pytest.raises(ConfigError, match="Modèle de rapport inconnu : « nope ». Modèles disponibles : .*diagnostic_territoire"):
        templates.template_path("nope")


# -- export ------------------------------------------------------------------------------------------------
def test_html_hides_code_and_errors():
    from planeco_kernel.reports.export import to_html

    code = new_code_cell("secret_code_here = 1", outputs=[
        new_output("display_data", data={"text/markdown": "Visible **texte**"}),
        new_output("stream", name="stderr", text="WarningNoise"),
        new_output("error", ename="ValueError", evalue="Boom", traceback=["Traceback line"]),
    ])
    nb = new_notebook(cells=[new_markdown_cell("# Titre"), code])
    page = to_html(nb, "T")
    page = page[page.index("<body"):]  # the stylesheet names every class; look at the content
    assert "Titre" in page and "Visible" in page
    for absent in ("secret_code_here", "WarningNoise", "Boom", "Traceback line", "highlight", 'class="input',
                   "output_stderr", "output_error"):
        assert absent not in page, absent
    assert page.count('class="cell') == 2 and '<html lang="fr">' in to_html(nb, "T")


def test_pdf_export(tmp_path):
    from planeco_kernel.reports.export import html_to_pdf, pdf_converter

    if pdf_converter() is None:
        pytest.skip("no Chromium: PDF export is optional (apt-get install chromium)")
    html = tmp_path / "r.html"
    html.write_text("<html><body><h1>Rapport de test</h1></body></html>", encoding="utf-8")
    assert html_to_pdf(html, tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_pdf_export_without_browser(tmp_path, monkeypatch):
    from planeco_kernel.reports import export

    monkeypatch.setattr(export, "pdf_converter", lambda: None)
    with pytest.raises(RuntimeError, match="apt-get install chromium"):
        export.html_to_pdf(tmp_path / "r.html", tmp_path / "r.pdf")


@pytest.mark.bundle
@pytest.mark.parametrize(("code", "level", "kwargs", "match"), [
    ("97611", "commune", {}, "aucune population municipale pour Mamoudzou .*not_censused"),
    ("01001", "commune", {"vintage": 2010}, "au plus tard en 2010 .*années disponibles : 2018, 2019"),
    ("99999", "commune", {}, "Territoire inconnu au niveau « commune »"),
])
def test_diagnostic_errors(bundle_dir, code, level, kwargs, match):
    from planeco_kernel.errors import TerritoryNotFoundError
    from planeco_kernel.reports.diagnostic import compute

    with pytest.raises((ValueError, TerritoryNotFoundError), match=match):
        compute(code, level, **kwargs)


@pytest.mark.bundle
def test_diagnostic_figures_match_the_territory_model(bundle_dir):
    """Cross-check against the territory model: shares, growth and members recomputed naively."""
    from planeco_kernel.reports.diagnostic import compute
    from planeco_kernel.territory import load_model

    d = compute("200046977", "epci")
    t = load_model().get("200046977", level="epci")
    pop = t.population
    first, last = min(pop), max(pop)
    assert d.population == pop and (d.first_year, d.vintage) == (first, last)
    assert d.growth == pytest.approx(((pop[last] / pop[first]) ** (1 / (last - first)) - 1) * 100)
    dep = next(p for p in d.parents if p["territory"].level == "departement")
    assert dep["share"] == pytest.approx(pop[last] / t.parent("departement").population[last] * 100)
    assert sorted(d.members["code"]) == sorted(c.code for c in t.members("commune"))
    assert len(d.members) == t.members_count == 58
    assert d.peers["code"].tolist().count("200046977") == 1


# -- executor helpers --------------------------------------------------------------------------------------
class _DeadKernelError(RuntimeError):
    pass


_DeadKernelError.__name__ = "DeadKernelError"


@pytest.mark.parametrize(("exc", "transient"), [
    (TimeoutError("kernel did not answer"), True),
    (_DeadKernelError("Kernel died"), True),
    (RuntimeError("Kernel died before replying to kernel_info"), True),
    (ValueError("bad parameter"), False),
    (RuntimeError("something else"), False),
])
def test_transient_kernel_failures(exc, transient):
    from planeco_kernel.reports.executor import _is_transient

    assert _is_transient(exc) is transient


def test_start_error_is_transient():
    from planeco_kernel.reports.executor import _is_transient
    from planeco_kernel.reports.pool import KernelStartError

    assert _is_transient(KernelStartError("x"))


def test_publish_replaces_a_report_whole(tmp_path):
    from planeco_kernel.reports.executor import publish

    final = tmp_path / "epci" / "1"
    final.mkdir(parents=True)
    (final / "old.txt").write_text("old")
    staging = tmp_path / ".staging" / "x"
    staging.mkdir(parents=True)
    (staging / "rapport.html").write_text("new")
    publish(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["rapport.html"]
    assert not staging.exists() and list((tmp_path / ".staging").iterdir()) == []


# -- plain-language report labels (UX review) ---------------------------------------------------
@pytest.mark.parametrize(("iso", "expected"), [
    ("2026-11-24T01:55:48+00:00", "24 novembre 2026 à 01 h 55 (UTC)"),
    ("2026-03-01T14:05:00+01:00", "1er mars 2026 à 13 h 05 (UTC)"),
    ("2026-08-09T07:00:00", "9 août 2026 à 07 h 00"),
    (None, "date inconnue"),
    ("hier", "hier"),
])
def test_date_fr(iso, expected):
    from planeco_kernel.reports.notebook import date_fr

    assert date_fr(iso) == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("diagnostic_territoire", "Diagnostic territorial — Saint-Étienne"),
    ("dossier_logement_energie", "Dossier logement et énergie — Saint-Étienne"),
    ("mon_modele", "Mon modele — Saint-Étienne"),
])
def test_page_title(template, expected):
    from planeco_kernel.reports.export import page_title

    assert page_title("Saint-Étienne", template) == expected


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("vintage", None, "le plus récent"), ("peer_group", "auto", "automatique"), ("level", "epci", "intercommunalité"),
    ("show_map", False, "non"), ("territory", "42218", "42218"),
])
def test_param_value(key, value, expected):
    from planeco_kernel.reports.notebook import _param_value

    assert _param_value(key, value) == expected


@pytest.mark.parametrize(("entries", "expected"), [(1, "1 rapport."), (0, "0 rapport."), (3, "3 rapports.")])
def test_index_summary_plural(tmp_path, entries, expected):
    from planeco_kernel.reports.index import write_index

    rows = [{"level": "commune", "code": f"4221{i}", "name": f"C{i}", "status": "ok", "files": ["rapport.ipynb"]}
            for i in range(entries)]
    page = write_index(tmp_path, rows).read_text(encoding="utf-8")
    assert expected in page
    if entries:
        assert ">carnet</a>" in page and "<td>Commune</td>" in page and ">notebook<" not in page


def test_series_chart_says_truncated_axis(monkeypatch):
    from planeco_kernel import charts

    titles = []
    monkeypatch.setattr(charts, "_png", lambda fig: titles.append(fig.axes[0].get_title(loc="left")) or b"")
    charts.series_chart({2018: 173089, 2023: 173136}, "Population")
    assert "+0,03\u202f% de 2018 à 2023" in titles[0] and "axe vertical tronqué" in titles[0]


@pytest.mark.bundle
def test_peer_table_ranks(bundle_dir):
    from planeco_kernel.reports.diagnostic import peer_table
    from planeco_kernel.territory import load_model

    m = load_model(bundle_dir)
    t = m.get("42218", level="commune")
    years = sorted(t.population)
    df = peer_table(m, "commune", ["42218", "42207", "69123"], None, years[0], years[-1])
    assert set(df["code"]) == {"42218", "42207", "69123"}
    assert df.iloc[0]["code"] == "69123" and df.iloc[0]["rang_population"] == 1  # Lyon, most populated


def test_cell_error_is_recognised_by_type():
    """papermill's cell error names the cell; any other error (even one with an ``ename``) only its type."""
    from papermill.exceptions import PapermillExecutionError

    from planeco_kernel.reports.executor import _cell_error

    exc = PapermillExecutionError(3, 4, "report.title()\nx", "ValueError", "boom", ["tb"])
    assert _cell_error(exc) == ("Échec dans la cellule 3 du notebook exécuté (« report.title() ») : ValueError : boom", 3)
    lookalike = RuntimeError("kernel died")
    lookalike.ename = "X"  # an attribute is not enough
    assert _cell_error(lookalike) == ("RuntimeError : kernel died", None)
