"""Import and export of action inventories as CSV or XLSX, with a validated layout.

Layout: one row per action with the columns of :data:`~planeco_kernel.actions.schema.COLUMNS`
(``id``, ``titre``, ``statut`` and ``territoire`` are required; other columns may be left out),
and one row per indicator with :data:`~planeco_kernel.actions.schema.INDICATOR_COLUMNS`:

* XLSX: sheet ``actions`` (or the first sheet) and optional sheet ``indicateurs``; a sheet
  ``colonnes`` describing the layout is written on export and ignored on import;
* CSV (``;`` or ``,``, UTF-8 or Windows-1252): the actions file, and optionally
  ``<nom>_indicateurs.csv`` beside it.

An import is all or nothing: every problem of every row is reported (``actions.csv, ligne 4,
colonne « debut » : date invalide « 31/02/2025 »``) and nothing is written until the file is
clean.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from planeco_kernel.actions import schema as S
from planeco_kernel.actions.sheets import Resolver, to_record, validate_record
from planeco_kernel.assessment.levers import Lever
from planeco_kernel.assessment.yamldoc import DocumentError

Row = tuple[int, dict[str, Any]]
_FORMULA_START = ("=", "+", "-", "@")
_NUMERIC = {"engagement_quantite", "engagement_annee", "valeur_initiale", "annee_initiale", "cible", "annee_cible",
            "valeur_actuelle", "annee_actuelle"} | {c for c in S.COLUMNS if c.startswith("budget_")}


def _defuse(col: str, v: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written with a leading apostrophe."""
    if isinstance(v, str) and col not in _NUMERIC and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def _undefuse(v: Any) -> Any:
    if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in _FORMULA_START:
        return v[1:]
    return v


def _decode(data: bytes, where: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DocumentError([f"{where} : encodage illisible ; enregistrez le fichier en UTF-8."])


def _csv_rows(data: bytes, where: str) -> tuple[list[str], list[Row]]:
    text = _decode(data, where)
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise DocumentError([f"{where} : fichier vide (une ligne d'en-tête est attendue)."]) from None
    rows: list[Row] = []
    start = reader.line_num + 1
    for cells in reader:
        line = start
        start = reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            rows.append((line, {"__extra__": len(cells) - len(header)}))
            continue
        rows.append((line, {h: _undefuse(c) for h, c in zip([h.strip() for h in header], cells)}))
    return [h.strip() for h in header], rows


def _xlsx_rows(ws, where: str) -> tuple[list[str], list[Row]]:
    it = ws.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(it)]
    except StopIteration:
        raise DocumentError([f"{where} : feuille vide (une ligne d'en-tête est attendue)."]) from None
    while header and not header[-1]:
        header.pop()
    rows: list[Row] = []
    for n, cells in enumerate(it, start=2):
        if not any(c not in (None, "") for c in cells):
            continue
        rows.append((n, {h: _undefuse(c) for h, c in zip(header, cells) if h}))
    return header, rows


def _check_header(header: list[str], expected: dict[str, str], required: tuple[str, ...], where: str) -> list[str]:
    problems = []
    dup = sorted({h for h in header if header.count(h) > 1 and h})
    if dup:
        problems.append(f"{where}, ligne 1 : colonnes en double {dup}.")
    unknown = [h for h in header if h and h not in expected]
    missing = [c for c in required if c not in header]
    if unknown:
        problems.append(f"{where}, ligne 1 : colonnes inconnues {unknown} (colonnes possibles : {', '.join(expected)}).")
    if missing:
        problems.append(f"{where}, ligne 1 : colonnes obligatoires manquantes {missing}.")
    if any(not h for h in header):
        problems.append(f"{where}, ligne 1 : une colonne n'a pas de nom.")
    return problems


def read_table(path: str | Path, indicators: str | Path | None = None, *, data: bytes | None = None,
               name: str | None = None, indicators_data: bytes | None = None,
               indicators_name: str | None = None) -> tuple[str, list[Row], str, list[Row], list[str]]:
    """Rows of the actions table and of the indicator table, and header problems.

    ``data``/``name`` (and ``indicators_data``/``indicators_name``) read uploaded files instead of paths.
    """
    p = Path(path)
    where = name or p.name
    raw = data if data is not None else p.read_bytes()
    suffix = Path(where).suffix.lower()
    problems: list[str] = []
    ind_where, ind_rows = "", list[Row]()
    if suffix in (".xlsx", ".xlsm"):
        import zipfile

        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
            raise DocumentError([f"{where} : classeur Excel illisible ({type(exc).__name__})."]) from None
        ws = wb["actions"] if "actions" in wb.sheetnames else wb[wb.sheetnames[0]]
        header, rows = _xlsx_rows(ws, f"{where} [{ws.title}]")
        where = f"{where} [{ws.title}]"
        problems += _check_header(header, S.COLUMNS, S.REQUIRED_COLUMNS, where)
        if "indicateurs" in wb.sheetnames:
            ind_where = f"{name or p.name} [indicateurs]"
            ih, ind_rows = _xlsx_rows(wb["indicateurs"], ind_where)
            problems += _check_header(ih, S.INDICATOR_COLUMNS, ("action_id", "nom"), ind_where)
    elif suffix == ".csv":
        header, rows = _csv_rows(raw, where)
        problems += _check_header(header, S.COLUMNS, S.REQUIRED_COLUMNS, where)
        ip = Path(indicators) if indicators else (p.with_name(p.stem + "_indicateurs.csv") if data is None else None)
        if indicators_data is not None:
            ind_where = indicators_name or "indicateurs.csv"
            ih, ind_rows = _csv_rows(indicators_data, ind_where)
            problems += _check_header(ih, S.INDICATOR_COLUMNS, ("action_id", "nom"), ind_where)
        elif ip is not None and ip.is_file():
            ind_where = ip.name
            ih, ind_rows = _csv_rows(ip.read_bytes(), ind_where)
            problems += _check_header(ih, S.INDICATOR_COLUMNS, ("action_id", "nom"), ind_where)
    else:
        raise DocumentError([f"{where} : format non reconnu ; fournissez un fichier .csv ou .xlsx."])
    return where, rows, ind_where, ind_rows, problems


def import_table(path: str | Path, levers: dict[str, Lever], resolve: Resolver | None, *,
                 indicators: str | Path | None = None, data: bytes | None = None, name: str | None = None,
                 indicators_data: bytes | None = None, indicators_name: str | None = None) -> list[S.ActionSheet]:
    """Validate a CSV/XLSX inventory; return its sheets.

    Raises
    ------
    DocumentError
        Every problem of the layout and of every row (nothing is imported).
    """
    where, rows, ind_where, ind_rows, problems = read_table(path, indicators, data=data, name=name,
                                                            indicators_data=indicators_data, indicators_name=indicators_name)
    if problems:
        raise DocumentError(problems, where)
    by_action: dict[str, list[tuple[int, dict]]] = {}
    for line, r in ind_rows:
        by_action.setdefault(str(r.get("action_id") or "").strip(), []).append((line, r))
    sheets: list[S.ActionSheet] = []
    seen: dict[str, int] = {}
    for line, r in rows:
        loc = f"{where}, ligne {line}"
        if "__extra__" in r:
            by_action.pop(str(r.get("id") or "").strip(), None)
            problems.append(f"{loc} : {r['__extra__']} cellule(s) de plus que de colonnes (un « ; » dans un texte ? "
                            "mettez le texte entre guillemets).")
            continue
        aid = str(r.get("id") or "").strip()
        if aid in seen:
            problems.append(f"{loc}, colonne « id » : identifiant « {aid} » déjà utilisé ligne {seen[aid]}.")
            continue
        seen[aid] = line
        rec = dict(r)
        rec["indicateurs"] = []
        sheet, probs = validate_record(rec, loc, levers, resolve)
        for iline, ir in by_action.pop(aid, []):
            from planeco_kernel.actions.sheets import validate_indicator

            ind, ip = validate_indicator(ir, f"{ind_where}, ligne {iline}")
            probs += ip
            if sheet is not None and ind is not None:
                sheet.indicators.append(ind)
        problems += probs
        if sheet is not None and not probs:
            sheets.append(sheet)
    for aid, items in by_action.items():
        for iline, _ in items:
            problems.append(f"{ind_where}, ligne {iline}, colonne « action_id » : action « {aid} » absente du tableau des actions.")
    if problems:
        raise DocumentError(problems, where)
    return sheets


def _row(s: S.ActionSheet) -> dict[str, str]:
    rec = to_record(s)
    out = {}
    for col in S.COLUMNS:
        v = rec.get(col)
        if isinstance(v, list):
            out[col] = " ; ".join(v)
        elif isinstance(v, dict):
            out[col] = S.format_budget(v)
        elif v is None:
            out[col] = ""
        elif isinstance(v, float):
            out[col] = S._num(v)
        else:
            out[col] = str(v)
    return out


def _indicator_rows(sheets: list[S.ActionSheet]) -> list[dict[str, Any]]:
    rows = []
    for s in sheets:
        for i in s.indicators:
            rows.append({"action_id": s.id, "nom": i.name, "unite": i.unit, "valeur_initiale": i.baseline,
                         "annee_initiale": i.baseline_year, "cible": i.target, "annee_cible": i.target_year,
                         "valeur_actuelle": i.current, "annee_actuelle": i.current_year})
    return rows


def export_table(sheets: list[S.ActionSheet], path: str | Path) -> list[Path]:
    """Write the inventory to ``path`` (.csv: plus ``<nom>_indicateurs.csv``; .xlsx: sheets); return the files."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        p.write_bytes(to_xlsx(sheets))
        return [p]
    if p.suffix.lower() != ".csv":
        raise DocumentError([f"{p.name} : format non reconnu ; choisissez .csv ou .xlsx."])
    p.write_bytes(to_csv(sheets))
    ip = p.with_name(p.stem + "_indicateurs.csv")
    ip.write_bytes(indicators_csv(sheets))
    return [p, ip]


def _csv_bytes(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else S._num(v) if isinstance(v, float) else _defuse(k, v)) for k, v in r.items()})
    return buf.getvalue().encode("utf-8-sig")  # BOM: Excel opens UTF-8 correctly


def indicators_csv(sheets: list[S.ActionSheet]) -> bytes:
    """The indicator table as CSV bytes (``;``, UTF-8 with BOM)."""
    return _csv_bytes(list(S.INDICATOR_COLUMNS), _indicator_rows(sheets))


def to_csv(sheets: list[S.ActionSheet]) -> bytes:
    """The actions table as CSV bytes (``;``, UTF-8 with BOM)."""
    return _csv_bytes(list(S.COLUMNS), [_row(s) for s in sheets])


def to_xlsx(sheets: list[S.ActionSheet]) -> bytes:
    """The inventory as an XLSX workbook: ``actions``, ``indicateurs`` and ``colonnes`` (the layout)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "actions"
    ws.append(list(S.COLUMNS))
    for s in sheets:
        r = _row(s)
        ws.append([_defuse(c, r[c]) for c in S.COLUMNS])
    wi = wb.create_sheet("indicateurs")
    wi.append(list(S.INDICATOR_COLUMNS))
    for r in _indicator_rows(sheets):
        wi.append([_defuse(c, r[c]) for c in S.INDICATOR_COLUMNS])
    wc = wb.create_sheet("colonnes")
    wc.append(["feuille", "colonne", "contenu", "obligatoire"])
    for c, d in S.COLUMNS.items():
        wc.append(["actions", c, d, "oui" if c in S.REQUIRED_COLUMNS else "non"])
    for c, d in S.INDICATOR_COLUMNS.items():
        wc.append(["indicateurs", c, d, "oui" if c in ("action_id", "nom") else "non"])
    for sheet in (ws, wi):
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
