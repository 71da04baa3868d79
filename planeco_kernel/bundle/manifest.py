"""``manifest.json``: what the bundle was built from, and whether it is up to date.

This module imports no pandas: ``planeco data build --if-needed`` must answer in a few
milliseconds when the bundle is complete.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from planeco_kernel.errors import BundleError

MANIFEST = "manifest.json"  # = planeco_kernel.bundle.schema.MANIFEST_PATH (no pandas import here)
FORMAT = 1
_PKG = Path(__file__).resolve().parent.parent


def fingerprint() -> dict[str, str]:
    """Checksums of what a bundle depends on in the code: the pinned registry, the schema, and the
    indicator catalogue (its components are assembled at build time: a new component needs a rebuild)."""
    out = {}
    for key, rel in (("registry_sha256", "sources/registry.yaml"), ("schema_sha256", "bundle/schema.py"),
                     ("catalogue_sha256", "indicators/catalogue.yaml")):
        out[key] = hashlib.sha256((_PKG / rel).read_bytes()).hexdigest()
    return out


def read(data_dir: Path) -> dict[str, Any]:
    """The manifest of a bundle.

    Raises
    ------
    BundleError
        No bundle there, or an unreadable manifest.
    """
    path = Path(data_dir) / MANIFEST
    if not path.is_file():
        raise BundleError(f"Aucun paquet de données dans {data_dir} : lancez `planeco data build`.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} est illisible ({exc}) : relancez `planeco data build --force`.") from exc


def write(data_dir: Path, manifest: dict[str, Any]) -> Path:
    from planeco_kernel.atomic import atomic_write

    path = Path(data_dir) / MANIFEST
    return atomic_write(path, json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def problems(data_dir: Path, *, scot_perimeters: str | None = None, require_complete: bool = True) -> list[str]:
    """Why the bundle in ``data_dir`` is not complete and current (empty list: it is).

    Cheap checks only: manifest present and readable, same format, registry and schema
    checksums, no skipped source, every table file present with its recorded size, same user
    SCoT perimeters.
    """
    try:
        m = read(data_dir)
    except BundleError as exc:
        return [str(exc)]
    out = []
    if m.get("format") != FORMAT:
        out.append("format de manifeste différent")
    fp = fingerprint()
    if m.get("registry_sha256") != fp["registry_sha256"]:
        out.append("les versions épinglées (registry.yaml) ont changé")
    if m.get("schema_sha256") != fp["schema_sha256"]:
        out.append("le schéma des tables (schema.py) a changé")
    if m.get("catalogue_sha256") != fp["catalogue_sha256"]:
        out.append("le catalogue des indicateurs (catalogue.yaml) a changé")
    # optional sources (reachable only online) do not force a rebuild; core ones do
    retry = [s["source"] for s in m.get("skipped") or [] if not s.get("optional")]
    if require_complete and retry:
        out.append("sources ignorées : " + ", ".join(retry))
    for name, t in (m.get("tables") or {}).items():
        p = Path(data_dir) / t["path"]
        if not p.is_file() or p.stat().st_size != t.get("bytes"):
            out.append(f"table {name} absente ou modifiée ({t['path']})")
    index = m.get("territory_index")  # derived by the build (bundle/territory_index.py)
    if isinstance(index, dict) and not _same_size(Path(data_dir) / str(index.get("path")), index.get("bytes")):
        out.append(f"index des territoires absent ou modifié ({index.get('path')})")
    if not m.get("tables"):
        out.append("aucune table")
    if (m.get("scot_perimeters") or None) != (scot_perimeters or None):
        out.append("périmètres de SCoT utilisateur différents")
    return out



def _same_size(path: Path, size: Any) -> bool:
    return path.is_file() and path.stat().st_size == size


def _json_default(obj: Any) -> Any:
    """numpy scalars/arrays, paths and sets in the geometry report."""
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def age_seconds(m: dict[str, Any]) -> float | None:
    """Seconds since the bundle was built."""
    try:
        return time.time() - float(m["built_at_epoch"])
    except (KeyError, TypeError, ValueError):
        return None
