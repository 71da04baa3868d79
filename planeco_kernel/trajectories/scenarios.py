"""COP scenarios: lever levels of a territory, as small versioned YAML files, and what they leave to do.

A scenario file::

    format: planeco-cop-scenario
    version: 1                      # the file's version (a new save increments it)
    name: Ambition mobilités
    territory: "84"                 # INSEE code of the région
    year: 2030
    levers:
      - lever: augm_voitelec
        value: 1500
        unit: ktCO2e                # or the lever's physical unit (its 2030 level)
      - lever: reduc_rgaz
        value: 700
        unit: milliers de résidences p. chauffées au gaz (en 2030)

Errors name the line of the file (``scénario.yaml, ligne 9 : levier inconnu « augm_foo »``):
negative value, unknown lever, year outside 2019–2050, wrong unit, missing field.
Levers a scenario does not list keep the SGPE objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories.levers import KT, Lever

FORMAT = "planeco-cop-scenario"
FORMAT_VERSION = 1


class ScenarioError(PlanecoError):
    """A scenario file is malformed; the message names the line."""


@dataclass
class LeverLevel:
    lever_id: str
    value: float
    unit: str
    line: int = 0


@dataclass
class Scenario:
    name: str
    territory: str
    levels: list[LeverLevel]
    year: int = 2030
    version: int = 1
    author: str = ""
    origin: str = ""
    notes: list[str] = field(default_factory=list)

    def kt(self, levers: dict[str, Lever]) -> dict[str, float]:
        """ktCO₂e per lever: the scenario's level, else the SGPE objective."""
        out = {lid: lv.obj_kt for lid, lv in levers.items()}
        for lvl in self.levels:
            lv = levers[lvl.lever_id]
            out[lvl.lever_id] = lvl.value if lvl.unit == KT else lv.phys_to_kt(lvl.value)
        return out

    def to_yaml(self) -> str:
        import yaml

        doc = {"format": FORMAT, "version": self.version, "name": self.name, "territory": self.territory,
               "year": self.year, "author": self.author or None,
               "levers": [{"lever": x.lever_id, "value": x.value, "unit": x.unit} for x in self.levels]}
        return yaml.safe_dump({k: v for k, v in doc.items() if v is not None}, allow_unicode=True, sort_keys=False)

    def copy(self, name: str) -> Scenario:
        return Scenario(name, self.territory, [LeverLevel(x.lever_id, x.value, x.unit) for x in self.levels],
                        self.year, 1, self.author)


def parse_scenario(text: str, levers: dict[str, Lever], *, origin: str = "scénario.yaml") -> Scenario:
    """Parse and validate a scenario file against the région's levers.

    Raises
    ------
    ScenarioError
        Naming the file and line.
    """
    import yaml

    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{origin}{line} : YAML invalide ({getattr(exc, 'problem', exc)}).") from exc
    if root is None or not isinstance(root, yaml.MappingNode):
        raise ScenarioError(f"{origin}, ligne 1 : attendu un dictionnaire (format, name, territory, levers).")
    top = {k.value: v for k, v in root.value}

    def line(node) -> int:
        return node.start_mark.line + 1

    def scalar(key: str, required: bool = True):
        node = top.get(key)
        if node is None:
            if required:
                raise ScenarioError(f"{origin}, ligne 1 : champ « {key} » manquant.")
            return None, 1
        if not isinstance(node, yaml.ScalarNode):
            raise ScenarioError(f"{origin}, ligne {line(node)} : « {key} » doit être une valeur simple.")
        return yaml.safe_load(yaml.serialize(node)), line(node)

    fmt, ln = scalar("format")
    if fmt != FORMAT:
        raise ScenarioError(f"{origin}, ligne {ln} : format « {fmt} » inconnu (attendu « {FORMAT} »).")
    version, ln = scalar("version")
    if not isinstance(version, int) or version < 1:
        raise ScenarioError(f"{origin}, ligne {ln} : version « {version} » invalide (entier ≥ 1).")
    name, _ = scalar("name")
    territory, _ = scalar("territory")
    year, ln = scalar("year", required=False)
    year = 2030 if year is None else year
    if not isinstance(year, int) or not 2019 <= year <= 2050:
        raise ScenarioError(f"{origin}, ligne {ln} : année {year!r} hors de 2019–2050.")
    author, _ = scalar("author", required=False)
    node = top.get("levers")
    if node is None or not isinstance(node, yaml.SequenceNode):
        raise ScenarioError(f"{origin}, ligne {line(node) if node is not None else 1} : « levers » doit être une liste.")
    levels, seen = [], set()
    for item in node.value:
        ln = line(item)
        if not isinstance(item, yaml.MappingNode):
            raise ScenarioError(f"{origin}, ligne {ln} : chaque levier est un dictionnaire lever/value/unit.")
        d = yaml.safe_load(yaml.serialize(item))
        for k in ("lever", "value", "unit"):
            if k not in d:
                raise ScenarioError(f"{origin}, ligne {ln} : champ « {k} » manquant.")
        lid = str(d["lever"])
        lv = levers.get(lid)
        if lv is None:
            raise ScenarioError(f"{origin}, ligne {ln} : levier inconnu « {lid} » pour la région {territory}.")
        if lid in seen:
            raise ScenarioError(f"{origin}, ligne {ln} : levier « {lid} » donné deux fois.")
        seen.add(lid)
        v = d["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ScenarioError(f"{origin}, ligne {ln} : valeur « {v} » non numérique.")
        if v < 0:
            raise ScenarioError(f"{origin}, ligne {ln} : valeur négative ({v}) pour « {lid} ».")
        unit = " ".join(str(d["unit"]).split())
        if unit != KT and not (lv.translatable and unit == lv.unit_phys):
            allowed = f"« {KT} »" + (f" ou « {lv.unit_phys} »" if lv.translatable else "")
            raise ScenarioError(f"{origin}, ligne {ln} : unité « {unit} » invalide pour « {lid} » (attendu {allowed}).")
        levels.append(LeverLevel(lid, float(v), unit, ln))
    return Scenario(str(name), str(territory), levels, year, version, str(author or ""), origin)


def gap_by_sector(scenario: Scenario, levers: dict[str, Lever]) -> pd.DataFrame:
    """Per sector: SGPE objective, scenario ktCO₂e, gap (objective − scenario, positive = short)."""
    kt = scenario.kt(levers)
    rows = [{"sector": lv.sector, "lever_id": lid, "lever": lv.name, "obj_kt": lv.obj_kt, "scenario_kt": kt[lid]}
            for lid, lv in levers.items()]
    df = pd.DataFrame(rows)
    out = df.groupby("sector", sort=False)[["obj_kt", "scenario_kt"]].sum().reset_index()
    out["gap_kt"] = out["obj_kt"] - out["scenario_kt"]
    return out


def closing_levers(scenario: Scenario, levers: dict[str, Lever]) -> pd.DataFrame:
    """Levers where the scenario exceeds the objective (they close other gaps), largest first."""
    kt = scenario.kt(levers)
    rows = [{"lever_id": lid, "lever": lv.name, "sector": lv.sector, "surplus_kt": kt[lid] - lv.obj_kt}
            for lid, lv in levers.items() if kt[lid] > lv.obj_kt]
    return pd.DataFrame(rows, columns=["lever_id", "lever", "sector", "surplus_kt"]).sort_values("surplus_kt", ascending=False)


def compare_scenarios(scenarios: list[Scenario], levers: dict[str, Lever]) -> pd.DataFrame:
    """One row per sector, one ktCO₂e column per scenario, plus the SGPE objective."""
    base = gap_by_sector(scenarios[0], levers)[["sector", "obj_kt"]]
    for s in scenarios:
        g = gap_by_sector(s, levers).set_index("sector")["scenario_kt"]
        base[s.name] = base["sector"].map(g)
    return base
