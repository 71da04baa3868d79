"""Where COP scenarios, ZAN key scenarios and COP editions are kept: the knowledge base's documents.

Each is a small YAML file saved with :meth:`KnowledgeBase.save_document` (kb15), one file per
version, so every version stays readable and git keeps who saved what::

    documents/cop/<région>/scenarios/<nom>/v001.yaml
    documents/cop/<région>/editions/<libellé>/v001.yaml
    documents/zan/<territoire>/repartitions/<nom>/v001.yaml

This module is the only place that knows the layout; callers save and load objects.
"""

from __future__ import annotations

import re
import unicodedata

_VERSION = re.compile(r"v(\d{3,})\.yaml$")


def lever_anchor(lever_id: str) -> str:
    """The knowledge-base anchor of a lever (``lever:augm_velotc`` for ``augm_vélotc``: keys are ASCII)."""
    ascii_id = unicodedata.normalize("NFKD", lever_id).encode("ascii", "ignore").decode()
    return f"lever:{ascii_id}"


def slug(text: str) -> str:
    """A path part from a name: ASCII letters, digits, ``._-``."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-.") or "sans-nom"
    return s[:80]


def _folder(kind: str, territory: str, name: str) -> str:
    root = {"scenario": f"documents/cop/{slug(territory)}/scenarios", "edition": f"documents/cop/{slug(territory)}/editions",
            "split": f"documents/zan/{slug(territory)}/repartitions"}[kind]
    return f"{root}/{slug(name)}"


def _versions(kb, kind: str, territory: str) -> dict[str, list[tuple[int, str]]]:
    """``{folder name: [(version, path), …]}`` sorted by version."""
    prefix = _folder(kind, territory, "x").rsplit("/", 1)[0] + "/"
    out: dict[str, list[tuple[int, str]]] = {}
    for path in kb.documents(prefix):
        rest = path[len(prefix):]
        name, _, file = rest.partition("/")
        m = _VERSION.fullmatch(file)
        if m:
            out.setdefault(name, []).append((int(m.group(1)), path))
    return {k: sorted(v) for k, v in out.items()}


def _save(kb, author: str, kind: str, territory: str, name: str, make_text, label: str) -> dict:
    existing = _versions(kb, kind, territory).get(slug(name), [])
    version = (existing[-1][0] + 1) if existing else 1
    path = f"{_folder(kind, territory, name)}/v{version:03d}.yaml"
    sha = kb.save_document(path, make_text(version), f"{label} « {name} », version {version}", author=author)
    return {"path": path, "version": version, "commit": sha}


def save_scenario(kb, author: str, scenario) -> dict:
    """Save a new version of a COP scenario (its ``version`` is set to the next number)."""
    def text(v: int) -> str:
        scenario.version = v
        scenario.author = scenario.author or author
        return scenario.to_yaml()

    return _save(kb, author, "scenario", scenario.territory, scenario.name, text, "Scénario COP")


def load_scenarios(kb, viewer: str | None, region_code: str, levers) -> dict:
    """``{name: [Scenario v1, v2, …]}`` stored for a région, parsed and validated."""
    from planeco_kernel.trajectories.scenarios import parse_scenario

    out = {}
    for _, versions in _versions(kb, "scenario", region_code).items():
        parsed = [parse_scenario(kb.read_document(p), levers, origin=p) for _, p in versions]
        if parsed:
            out[parsed[-1].name] = parsed
    return out


def save_split(kb, author: str, scenario) -> dict:
    """Save a new version of a key scenario (:class:`~planeco_kernel.trajectories.split.KeyScenario`)."""
    def text(v: int) -> str:
        scenario.version = v
        return scenario.to_yaml()

    return _save(kb, author, "split", scenario.territory, scenario.name, text, "Répartition ZAN")


def load_splits(kb, viewer: str | None, territory: str) -> dict:
    from planeco_kernel.trajectories.split import KeyScenario

    out = {}
    for _, versions in _versions(kb, "split", territory).items():
        parsed = [KeyScenario.from_yaml(kb.read_document(p), origin=p) for _, p in versions]
        if parsed:
            out[parsed[-1].name] = parsed
    return out


def save_edition(kb, author: str, region_code: str, label: str, yaml_text: str) -> dict:
    return _save(kb, author, "edition", region_code, label, lambda v: yaml_text, "Édition COP")


def load_editions(kb, viewer: str | None, region_code: str) -> dict[str, str]:
    """``{label: yaml text of its latest version}`` (label as written in the snapshot)."""
    from planeco_kernel.trajectories import edition

    out = {}
    for _, versions in _versions(kb, "edition", region_code).items():
        if versions:
            text = kb.read_document(versions[-1][1])
            out[str(edition.from_yaml(text).get("label"))] = text
    return out
