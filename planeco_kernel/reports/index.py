"""``OUT/index.html``: every report of an output folder, searchable, failures shown first."""

from __future__ import annotations

import html
import os
import uuid
from pathlib import Path
from typing import Any

from planeco_kernel import fmt
from planeco_kernel.levels import LEVEL

INDEX_FILE = "index.html"
STATUS_FR = {"ok": "à jour", "skipped": "inchangé (non réexécuté)", "failed": "échec"}

_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.92em; }}
th, td {{ text-align: left; border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top; }}
th {{ background: #f3f6fa; }}
tr.failed td {{ background: #fdecea; }}
.err {{ color: #a50f15; font-family: monospace; font-size: 0.9em; white-space: pre-wrap; }}
input {{ font-size: 1em; padding: 4px 8px; width: 24em; margin: 0.5em 0 1em; }}
</style></head><body>
<h1>{title}</h1>
<p>{summary}</p>
<label for="q">Rechercher un territoire (nom ou code) : </label>
<input id="q" type="search" placeholder="ex. Lyon, 200046977" autofocus>
<table id="reports"><thead><tr><th>Territoire</th><th>Code</th><th>Niveau</th><th>État</th><th>Mis à jour</th>
<th>Fichiers</th></tr></thead><tbody>
{rows}
</tbody></table>
<script>
const q = document.getElementById("q");
const norm = s => s.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase();
q.addEventListener("input", () => {{
  const v = norm(q.value.trim());
  for (const tr of document.querySelectorAll("#reports tbody tr")) {{
    tr.style.display = !v || norm(tr.dataset.search).includes(v) ? "" : "none";
  }}
}});
</script>
</body></html>
"""


LEVEL_FR: dict[str, str] = {k: lv.title for k, lv in LEVEL.items()}
"""Level labels shown in the index."""


def _row(e: dict[str, Any]) -> str:
    level, code = e["level"], e["code"]
    base = f"{level}/{code}/"
    files = e.get("files") or []
    links = []
    for name, label in (("rapport.html", "rapport"), ("rapport.pdf", "PDF"), ("annexe_chiffres.csv", "annexe CSV"),
                        ("rapport.ipynb", "carnet")):
        if name in files:
            links.append(f'<a href="{html.escape(base + name)}">{label}</a>')
    status = e.get("status", "")
    if status == "failed":
        links.append(f'<a href="_echecs/{html.escape(level)}/{html.escape(code)}.ipynb">carnet en échec</a>')
    err = f'<div class="err">{html.escape(e["error"])}</div>' if e.get("error") else ""
    search = html.escape(f"{e.get('name', '')} {code} {level}")
    return (f'<tr class="{html.escape(status)}" data-search="{search}"><td>{html.escape(e.get("name", ""))}{err}</td>'
            f"<td>{html.escape(code)}</td><td>{html.escape(LEVEL_FR.get(level, level))}</td><td>{STATUS_FR.get(status, status)}</td>"
            f"<td>{html.escape(_date_fr(e.get('finished_at')))}</td><td>{' · '.join(links)}</td></tr>")


def _date_fr(iso: str | None) -> str:
    """``2026-11-24T01:15:03+00:00`` → ``24/11/2026 01:15 UTC``."""
    from datetime import datetime

    if not iso:
        return ""
    try:
        d = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return d.strftime("%d/%m/%Y %H:%M") + (" UTC" if d.utcoffset() is not None and not d.utcoffset() else "")


def write_index(out: Path, entries: list[dict[str, Any]], title: str = "Rapports territoriaux planeco") -> Path:
    """Write ``OUT/index.html`` (atomically) listing ``entries``, failures first, then by name."""
    ordered = sorted(entries, key=lambda e: (e.get("status") != "failed", e.get("level", ""), e.get("name", "")))
    n_fail = sum(e.get("status") == "failed" for e in entries)
    summary = fmt.plural(len(entries), "rapport")
    summary += f", dont {fmt.number(n_fail)} en échec (en rouge, avec le message d'erreur)." if n_fail else "."
    page = _PAGE.format(title=html.escape(title), summary=summary, rows="\n".join(_row(e) for e in ordered))
    p = out / INDEX_FILE
    tmp = out / f".{INDEX_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, p)
    return p
