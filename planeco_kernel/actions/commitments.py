"""Actors' COP commitments, in the shared frame the COP roadmap consumes.

One row per quantified commitment on an SGPE lever, from two places:

* the action inventory (« plan d'actions »): sheets with a lever, a quantity, a unit and a target
  year; abandoned actions are left out;
* the self-assessments (« auto-évaluation »): toolbox actions an actor chose with a lever and a
  quantity, from each actor's latest assessment.

Columns (the contract shared with ``planeco_kernel.trajectories``): ``territory_code``,
``lever_id``, ``quantity`` (float), ``unit`` (``ktCO2e`` or the lever's ``unitPhys``), ``year``
(int), ``actor``, ``actor_type`` (entreprise, association, etablissement_public, collectivite),
``source``, ``action_id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from planeco_kernel.knowledge import KnowledgeBase
    from planeco_kernel.territory import TerritoryModel

COLUMNS = ["territory_code", "lever_id", "quantity", "unit", "year", "actor", "actor_type", "source", "action_id"]
SOURCE_PLAN = "plan d'actions"
SOURCE_ASSESSMENT = "auto-évaluation"


def commitments(kb: KnowledgeBase, territory_code: str | None = None, *, model: TerritoryModel | None = None,
                levers: dict | None = None) -> pd.DataFrame:
    """The quantified commitments stored in ``kb``, optionally only those in ``territory_code``.

    Parameters
    ----------
    kb
        The knowledge base holding the action sheets and the assessments.
    territory_code
        A territory code (INSEE or SIREN, as the territory model resolves it): keep the
        commitments whose territory is this one or lies inside it. ``None`` keeps all.
    model
        The territory model (loaded from the bundle when a territory is given and none is passed).
    levers
        The SGPE levers (:func:`planeco_kernel.assessment.levers.load_levers` by default).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per commitment, sorted by territory, lever, source.
    """
    import pandas as pd

    from planeco_kernel.actions.sheets import load_all
    from planeco_kernel.assessment import load_referentiel
    from planeco_kernel.assessment.levers import load_levers, normalise_unit
    from planeco_kernel.assessment.store import all_assessments
    from planeco_kernel.assessment.territory import latest, within

    levers = load_levers() if levers is None else levers
    if territory_code is not None and model is None:
        from planeco_kernel.territory import load_model

        model = load_model()
    if territory_code is not None and model is not None:
        territory_code = model.resolve(territory_code).territory.code
    rows = []
    sheets, _ = load_all(kb, levers)
    for s in sheets:
        if s.lever and s.commitment_quantity is not None and s.commitment_year and s.status != "abandonne":
            rows.append([s.territory, s.lever, float(s.commitment_quantity), s.commitment_unit, int(s.commitment_year),
                         s.pilot, s.pilot_type, SOURCE_PLAN, s.id])
    ref = load_referentiel()
    assessments, _ = all_assessments(kb, ref)
    for a in latest(assessments):
        for c in a.chosen_actions:
            if not (c.lever and c.quantity is not None and c.year and c.lever in levers):
                continue
            unit = normalise_unit(levers[c.lever], c.unit)
            if unit is None:
                continue
            rows.append([a.actor.territory, c.lever, float(c.quantity), unit, int(c.year), a.actor.name, a.actor.type,
                         SOURCE_ASSESSMENT, c.action])
    df = pd.DataFrame(rows, columns=COLUMNS)
    if territory_code is not None:
        keep = pd.Series([within(model, t, territory_code) for t in df["territory_code"]], index=df.index, dtype=bool)
        df = df[keep]  # a boolean Series: an empty list would select no columns
    df = df.astype({"territory_code": str, "lever_id": str, "quantity": float, "unit": str, "year": int, "actor": str,
                    "actor_type": str, "source": str, "action_id": str})
    return df.sort_values(["territory_code", "lever_id", "source", "action_id"], kind="stable").reset_index(drop=True)
