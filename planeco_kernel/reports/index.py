"""``OUT/index.html``: every report of an output folder, searchable, failures shown first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planeco_kernel import fmt
from planeco_kernel.atomic import atomic_write
from planeco_kernel.levels import LEVEL

INDEX_FILE = "index.html"
STATUS_FR = {"ok": "à jour", "skipped": "inchangé (non réexécuté)", "failed": "échec"}

LEVEL_FR: dict[str, str] = {k: lv.title for k, lv in LEVEL.items()}
"""Level labels shown in the index."""


def _row(e: dict[str, Any]) -> dict[str, Any]:
    """What the index shows of one report entry (the template escapes every value)."""
    level, code = e["level"], e["code"]
    base = f"{level}/{code}/"
    files = e.get("files") or []
    links = [(base + name, label) for name, label in (("rapport.html", "rapport"), ("rapport.pdf", "PDF"),
                                                      ("annexe_chiffres.csv", "annexe CSV"), ("rapport.ipynb", "carnet"))
             if name in files]
    status = e.get("status", "")
    if status == "failed":
        links.append((f"_echecs/{level}/{code}.ipynb", "carnet en échec"))
    return {"status": status, "search": f"{e.get('name', '')} {code} {level}", "name": e.get("name", ""),
            "error": e.get("error") or "", "code": code, "level": LEVEL_FR.get(level, level),
            "status_text": STATUS_FR.get(status, status), "finished": _date_fr(e.get("finished_at")), "links": links}


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
    from planeco_kernel.apps import templates

    page = templates.render("report_index.html", title=title, summary=summary, rows=[_row(e) for e in ordered])
    return atomic_write(out / INDEX_FILE, page)
