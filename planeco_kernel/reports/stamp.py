"""What a report depends on, as hashes: data manifest, template, parameters, package version.

The *inputs hash* of a report decides whether the batch runner can skip it
(:mod:`planeco_kernel.reports.runner`); the *stamp* is printed at the end of every report.
Volatile manifest fields (build times and durations) are left out of the data fingerprint, so
rebuilding an identical bundle does not rerun every report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

VOLATILE_MANIFEST_KEYS = frozenset({"built_at", "built_at_epoch", "build_seconds", "seconds"})
RUNTIME_PARAMETERS = frozenset({"output_dir", "previous_figures", "previous_sources", "stamp"})
"""Parameters injected by the runner that do not change a report's content."""


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE_MANIFEST_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(data_dir: str | Path | None = None) -> dict[str, Any]:
    """The bundle's ``manifest.json`` (``{}`` when absent)."""
    from planeco_kernel import config

    p = Path(data_dir if data_dir is not None else config.data_dir()) / "manifest.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def data_fingerprint(manifest: dict[str, Any]) -> str:
    """SHA-256 of the data manifest without its volatile fields (build times)."""
    return sha256_text(canonical_json(_strip(manifest)))


def content_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters that change a report's content (runtime ones removed)."""
    return {k: v for k, v in parameters.items() if k not in RUNTIME_PARAMETERS}


def inputs_hash(template_sha256: str, parameters: dict[str, Any], data_fp: str, package_version: str) -> str:
    """The hash that decides whether a report must be rerun."""
    return sha256_text(canonical_json({
        "template": template_sha256,
        "parameters": content_parameters(parameters),
        "data": data_fp,
        "planeco": package_version,
    }))
