"""Where COP scenarios and edition snapshots are kept: the knowledge base, through its public API.

The knowledge base has no document store yet (kb15 is adding a ``save_document``-style method);
until it lands, each scenario (or edition) is a thread anchored ``app:cop-<région>`` whose posts are
its versions, each body a fenced YAML block. This module is the only place that knows it: switch it
to the document method without touching the callers.
"""

from __future__ import annotations

import re
import unicodedata

from planeco_kernel.errors import PlanecoError

_FENCE = re.compile(r"```yaml\n(.*?)\n```", re.S)
SCENARIO_PREFIX = "Scénario COP : "
EDITION_PREFIX = "Édition COP : "
SPLIT_PREFIX = "Répartition ZAN : "


def lever_anchor(lever_id: str) -> str:
    """The knowledge-base anchor of a lever (``lever:augm_velotc`` for ``augm_vélotc``: keys are ASCII)."""
    ascii_id = unicodedata.normalize("NFKD", lever_id).encode("ascii", "ignore").decode()
    return f"lever:{ascii_id}"


def cop_anchor(region_code: str) -> str:
    return f"app:cop-{region_code}"


def _body(yaml_text: str, comment: str) -> str:
    head = f"{comment}\n\n" if comment else ""
    return f"{head}```yaml\n{yaml_text.rstrip()}\n```"


def _save(kb, author: str, region_code: str, title: str, yaml_text: str, comment: str) -> dict:
    anchor = cop_anchor(region_code)
    existing = [t for t in kb.threads(author, anchor=anchor) if t.title == title]
    if existing:
        post = kb.reply(author, existing[0].id, _body(yaml_text, comment))
        return {"thread": existing[0].id, "post": post.id}
    post = kb.start_thread(author, kind="discussion", title=title, body=_body(yaml_text, comment), anchor=anchor,
                           territory=region_code, themes=["cop"])
    return {"thread": post.thread, "post": post.id}


def _versions(kb, viewer: str | None, region_code: str, prefix: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for t in kb.threads(viewer, anchor=cop_anchor(region_code)):
        if not t.title.startswith(prefix):
            continue
        th = kb.thread(t.id, viewer)
        texts = []
        for p in th.posts:
            m = _FENCE.search(p.body or "")
            if m:
                texts.append((str(p.created), m.group(1)))
        out[t.title[len(prefix):]] = texts
    return out


def save_scenario(kb, author: str, scenario) -> dict:
    """Save a new version of ``scenario`` (its ``version`` is set to the next number)."""
    prev = _versions(kb, author, scenario.territory, SCENARIO_PREFIX).get(scenario.name, [])
    scenario.version = len(prev) + 1
    scenario.author = scenario.author or author
    return _save(kb, author, scenario.territory, SCENARIO_PREFIX + scenario.name, scenario.to_yaml(),
                 f"Version {scenario.version} du scénario « {scenario.name} ».")


def load_scenarios(kb, viewer: str | None, region_code: str, levers) -> dict:
    """``{name: [Scenario v1, v2, …]}`` stored for a région, parsed and validated."""
    from planeco_kernel.trajectories.scenarios import parse_scenario

    out = {}
    for name, versions in _versions(kb, viewer, region_code, SCENARIO_PREFIX).items():
        out[name] = [parse_scenario(text, levers, origin=f"base de connaissances, scénario « {name} » ({when})")
                     for when, text in versions]
    return out


def save_edition(kb, author: str, region_code: str, label: str, yaml_text: str) -> dict:
    return _save(kb, author, region_code, EDITION_PREFIX + label, yaml_text, f"Édition « {label} » de la COP.")


def load_editions(kb, viewer: str | None, region_code: str) -> dict[str, str]:
    """``{label: yaml text of its latest version}``."""
    out = {}
    for label, versions in _versions(kb, viewer, region_code, EDITION_PREFIX).items():
        if versions:
            out[label] = versions[-1][1]
    return out


def save_split(kb, author: str, scenario) -> dict:
    """Save a new version of a key scenario (:class:`~planeco_kernel.trajectories.split.KeyScenario`)."""
    prev = _versions(kb, author, scenario.territory, SPLIT_PREFIX).get(scenario.name, [])
    scenario.version = len(prev) + 1
    return _save(kb, author, scenario.territory, SPLIT_PREFIX + scenario.name, scenario.to_yaml(),
                 f"Version {scenario.version} de la répartition « {scenario.name} ».")


def load_splits(kb, viewer: str | None, territory: str) -> dict:
    from planeco_kernel.trajectories.split import KeyScenario

    return {name: [KeyScenario.from_yaml(text, origin=f"répartition « {name} » ({when})") for when, text in versions]
            for name, versions in _versions(kb, viewer, territory, SPLIT_PREFIX).items()}


class StoreError(PlanecoError):
    pass
