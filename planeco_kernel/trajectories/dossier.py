"""What the parameterized dossiers show (``parameterized/zan_scot.ipynb``, ``cop_region.ipynb``).

Each function displays one section (Markdown through the templates' Markdown-escaping environment,
charts as PNG, tables as HTML through the autoescaping one) and returns the numbers it showed, so
the notebooks stay one call per cell. A section whose data is missing says so and how to get it
instead of failing: a batch over all SCoT must not stop on one without data.
"""

from __future__ import annotations

import io

import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.errors import PlanecoError

STATUS_COLOURS = {"en bonne voie": "#18753c", "vont dépasser": "#c3992a", "déjà dépassé": "#ce0500",
                  "non disponible": "#cccccc"}


def _md(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def _resolve(territory: str, level: str | None):
    from planeco_kernel.territory import load_model

    return load_model().resolve(territory, level=level).territory


def zan_section(territory: str, level: str | None = None, pdata=None):
    """Title, trajectory figures and the chart of the path to 2050; returns the trajectory or None."""
    from planeco_kernel.apps import templates
    from planeco_kernel.cli.zan import render_zan
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.land import zan_for

    pdata = pdata or load_planning()
    ter = _resolve(territory, level)
    _md(f"# Trajectoire ZAN — {templates.markdown_escape(ter.name)}")
    try:
        t = zan_for(pdata, ter.level, ter.code)
    except PlanecoError as exc:
        _md(f"**Non disponible.** {templates.markdown_escape(str(exc))}")
        return None
    _md("\n".join(f"- {templates.markdown_escape(line)}" for line in render_zan(t).split("\n")[1:]))
    _chart(t)
    return t


def _chart(t) -> None:
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    from planeco_kernel.trajectories.zan import path_to_2050

    p = path_to_2050(t)
    fig = Figure(figsize=(8, 3.4), dpi=100)
    ax = fig.add_subplot()
    obs = p.dropna(subset=["observed_ha"])
    ax.bar(obs["year"], obs["observed_ha"], color="#6a6af4", label="consommation observée (ha/an)")
    allowed = p.dropna(subset=["allowed_ha"])
    ax.step(allowed["year"], allowed["allowed_ha"], where="mid", color="#ce0500",
            label="rythme permis par l'enveloppe (ha/an, garantie communale comprise)")
    ax.set_ylabel("ha par an")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{t.name} : consommation d'espaces et trajectoire jusqu'à 2050", fontsize=10)
    fig.text(0.01, 0.01, f"Source : {t.source}", fontsize=6)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    display(Image(buf.getvalue()))


def children_section(territory: str, level: str | None = None, pdata=None) -> pd.DataFrame | None:
    """The communes' dashboard: en bonne voie / vont dépasser / déjà dépassé, table and map."""
    from IPython.display import HTML, display

    from planeco_kernel.apps import templates
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.land import dashboard

    pdata = pdata or load_planning()
    ter = _resolve(territory, level)
    _md("## Les communes : où en est chacune ?")
    try:
        d = dashboard(pdata, ter.level, ter.code)
    except PlanecoError as exc:
        _md(f"**Non disponible.** {templates.markdown_escape(str(exc))}")
        return None
    counts = d["status"].value_counts()
    _md(" · ".join(f"{k} : {int(counts.get(k, 0))}" for k in STATUS_COLOURS))
    rows = [[r.code, r.name, fmt.number(r.envelope_ha, 1) + (" (garantie)" if r.garantie else ""),
             fmt.number(r.used_ha, 1), fmt.number(r.projection_2030_ha, 1), r.status] for r in d.itertuples()]
    display(HTML(templates.macro("cop.html", "table", ["Code", "Commune", "Enveloppe 2021–2030 (ha)",
                                                       f"Consommé 2021–{d.attrs['last_year']}", "Projection 2030", "Situation"], rows)))
    _map(d)
    return d


def _map(d: pd.DataFrame) -> None:
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    from planeco_kernel import geo

    try:
        frame = geo.load_display("commune", d["code"].tolist())
    except PlanecoError as exc:
        _md(f"Carte indisponible : {exc}")
        return
    status = d.set_index("code")["status"]
    fig = Figure(figsize=(6, 6), dpi=100)
    ax = fig.add_subplot()
    for code, g in zip(frame["code"], frame["geometry"]):
        colour = STATUS_COLOURS.get(status.get(code, "non disponible"), "#cccccc")
        for poly in getattr(g, "geoms", [g]):
            x, y = poly.exterior.xy
            ax.fill(x, y, color=colour, edgecolor="white", linewidth=0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    display(Image(buf.getvalue()))


def split_section(territory: str, level: str | None = None, keys: dict | None = None, pool_floors: bool = False, pdata=None):
    """The envelope split among the communes with the declared keys (default: prior consumption)."""
    from IPython.display import HTML, display

    from planeco_kernel.apps import templates
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.land import zan_for
    from planeco_kernel.trajectories.split import key_values, split_envelope

    pdata = pdata or load_planning()
    ter = _resolve(territory, level)
    keys = keys or {"conso_passee": 1.0}
    _md("## Répartition de l'enveloppe entre les communes\n\nClés : "
        + templates.markdown_escape(", ".join(f"{k} × {fmt.number(w, None)}" for k, w in keys.items())))
    try:
        t = zan_for(pdata, ter.level, ter.code)
        communes = pdata.communes_of(ter.level, ter.code)
        r = split_envelope(t.envelope_ha, key_values(pdata, communes, list(keys)), keys,
                           pools=communes.set_index("code")["epci_code"] if pool_floors else None,
                           names=communes.set_index("code")["name"])
    except PlanecoError as exc:
        _md(f"**Non disponible.** {templates.markdown_escape(str(exc))}")
        return None
    rows = [[x.code, x.name, fmt.number(x.envelope_rounded_ha, 2), "oui" if x.floor_applied else ""]
            for x in r.table.itertuples()]
    display(HTML(templates.macro("cop.html", "table", ["Code", "Commune", "Enveloppe (ha)", "Plancher de 1 ha"], rows)))
    sc = r.sum_check
    _md(f"Contrôle : Σ communes = {fmt.number(sc['sum_communes_ha'], 2)} ha pour une enveloppe de "
        f"{fmt.number(sc['envelope_ha'], 2)} ha — {'exact' if sc['ok'] else 'écart'}. "
        + templates.markdown_escape(" ".join(r.notes)))
    return r


def sans_consommer_section(territory: str, level: str | None = None):
    """The « sans consommer » panel (brownfields, long-term vacant homes, dwellings per hectare)."""
    from planeco_kernel.trajectories.land import sans_consommer_panel

    ter = _resolve(territory, level)
    _md("## Construire sans consommer : friches et logements vacants")
    panel = sans_consommer_panel(ter.level, ter.code)
    from IPython.display import display

    display(panel)
    return panel


def cop_section(region: str, extra_commitments=None, kb=None):
    """The COP dossier of a région: panorama treemap, coverage, commitments (the app's HTML dossier).

    The commitments include those of the socio-economic actors kept in the knowledge base
    (``kb``, default the configured one — ``PLANECO_KB`` — when there is one): action sheets and
    self-assessments with a lever and a quantity in the région.
    """
    from IPython.display import HTML, display

    from planeco_kernel.apps.cop_data import CopData
    from planeco_kernel.trajectories.data import load_planning

    if kb is None:
        from planeco_kernel.knowledge import open_kb

        try:
            kb = open_kb()
        except PlanecoError:  # no knowledge base configured: the dossier has the COP's own data only
            kb = None
    ter = _resolve(region, "region")
    data = CopData(load_planning(), ter.code, extra_commitments=extra_commitments, kb=kb)
    for note in data.kb_notes:
        display(note)  # plain text: it quotes actors' own words
    display(HTML(data.dossier_html()))
    return data


def national_section(pdata=None) -> pd.DataFrame:
    from IPython.display import HTML, display

    from planeco_kernel.apps import templates
    from planeco_kernel.trajectories.data import load_planning
    from planeco_kernel.trajectories.levers import national_sectors

    pdata = pdata or load_planning()
    n = national_sectors(pdata.table("barometre_indicators"))
    _md("## Trajectoire nationale par secteur (baromètre de la planification écologique)")
    rows = [[r["sector"], fmt.number(r.get("value_2019"), 1), f"{fmt.number(r.get('last_value'), 1)} ({r.get('last_year')})",
             fmt.number(r.get("target_2030"), 1), r.get("target_source") or "", r.get("source") or ""]
            for r in n.to_dict(orient="records")]
    display(HTML(templates.macro("cop.html", "table", ["Secteur", "2019 (MtCO₂e)", "Dernière valeur", "Cible 2030",
                                                       "Source de la cible", "Source"], rows)))
    return n
