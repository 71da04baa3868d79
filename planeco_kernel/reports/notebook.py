"""What the report templates call: one object per report that computes, displays and stamps.

Templates stay thin (``parameterized/*.ipynb``): a ``parameters`` cell, then one call per
section, e.g.::

    from planeco_kernel.reports.notebook import DiagnosticReport
    report = DiagnosticReport(territory, level, vintage=vintage, peer_group=peer_group,
                              output_dir=output_dir, previous_figures=previous_figures, stamp=stamp)
    report.title()
    report.changes()
    ...

Every number displayed is registered (:mod:`planeco_kernel.reports.figures`) and written to the
CSV appendix by :meth:`DiagnosticReport.appendix`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from planeco_kernel.reports import changes as _changes
from planeco_kernel.reports import charts
from planeco_kernel.reports import diagnostic as _diag
from planeco_kernel.reports.figures import APPENDIX_FILE, read_csv
from planeco_kernel import fmt
from planeco_kernel.levels import LEVEL

_LEVEL_PLURAL = {k: lv.plural for k, lv in LEVEL.items()}

SHORT_LEVEL = {k: lv.short for k, lv in LEVEL.items()}


def _show(obj) -> None:
    from IPython.display import display

    display(obj)


def _md(text: str) -> None:
    from IPython.display import Markdown

    _show(Markdown(text))


def _png(data: bytes) -> None:
    from IPython.display import Image

    _show(Image(data=data, format="png"))


def _table(rows: list[list[str]], header: list[str], right: set[int] | None = None) -> str:
    right = right or set()
    head = "".join(f"<th style='text-align:{'right' if i in right else 'left'}'>{html.escape(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(
        f"<td style='text-align:{'right' if i in right else 'left'}'>{html.escape(str(c))}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table class='planeco-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(text: str) -> None:
    from IPython.display import HTML

    _show(HTML(text))


def _bar_label(name: str, level: str) -> str:
    """``"Rhône (département)"``; long names shortened so that the level stays visible."""
    if level == "france":
        return "France"
    short = name if len(name) <= 28 else name[:27] + "…"
    return f"{short} ({SHORT_LEVEL.get(level, level)})"


def _is_ratio(unit: str) -> bool:
    """Whether a unit is comparable across territories of different sizes (rate, share, density)."""
    u = (unit or "").lower()
    return "%" in u or "/" in u or " par " in u or u.startswith("par ")


def _esc(text: str) -> str:
    return html.escape(str(text))


def _source_short(cube, title: str) -> str:
    """The catalogue's short name of a source (« Insee, recensement ») from its title."""
    for src in cube.catalogue.sources.values():
        if src.title == title:
            return src.short or src.title
    return title or "source inconnue"


def _not_loaded(source: str) -> str:
    """« données Insee, recensement non chargées dans cette installation »."""
    return f"données « {source} » non chargées dans cette installation"


PARAMETER_LABELS: dict[str, str] = {"territory": "Territoire", "level": "Niveau", "vintage": "Millésime",
                                    "peer_group": "Groupe de comparaison", "show_map": "Carte",
                                    "themes": "Thèmes"}
"""French labels of the template parameters shown in the stamp."""


def _param_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "le plus récent" if key == "vintage" else "par défaut"
    if value == "auto":
        return "automatique"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key == "level":
        return LEVEL[str(value)].noun if str(value) in LEVEL else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def date_fr(iso: str | None) -> str:
    """``2026-11-24T01:55:48+00:00`` → ``24 novembre 2026 à 01 h 55 (UTC)``; unreadable text as is."""
    from datetime import datetime, timezone

    if not iso:
        return "date inconnue"
    try:
        d = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
    utc = d.tzinfo is not None
    if utc:
        d = d.astimezone(timezone.utc)
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {months[d.month - 1]} {d.year} à {d.hour:02d} h {d.minute:02d}" + (" (UTC)" if utc else "")


def _source_label(src: dict[str, Any]) -> str:
    """Publisher and dataset of a bundle source (« Insee — Code officiel géographique »), not a file path."""
    from planeco_kernel.sources.catalog import ALL, declared_identity

    title = str(src.get("title") or "").strip()
    name = str(src.get("name") or "")
    if name in ALL:  # the source registry's title and publisher, the same everywhere
        return ALL[name].label
    if title and "://" not in title and not title.startswith("pypi:"):
        return title
    declared = declared_identity(str(src.get("file") or ""))
    if declared is not None:
        return ALL[declared[0]].label
    return name.replace("_", " ")


class DiagnosticReport:
    """The territorial diagnostic of one territory (template ``diagnostic_territoire``).

    Parameters
    ----------
    territory, level, vintage, peer_group
        See :func:`planeco_kernel.reports.diagnostic.compute`.
    output_dir
        Where :meth:`appendix` writes the CSV appendix.
    previous_figures
        The previous run's appendix (CSV path) for "what changed"; empty for none.
    previous_sources
        ``{source: version}`` of the previous run.
    stamp
        What the runner knows about this run (template, hashes, run id); printed by :meth:`stamp`.
    """

    def __init__(self, territory: str, level: str | None = None, *, vintage: int | None = None,
                 peer_group: str = "auto", output_dir: str | Path = ".", previous_figures: str = "",
                 previous_sources: dict[str, str] | None = None, stamp: dict[str, Any] | None = None,
                 parameters: dict[str, Any] | None = None):
        self.d = _diag.compute(territory, level, vintage=vintage, peer_group=peer_group)
        self.t = self.d.territory
        self.output_dir = Path(output_dir)
        self.previous_figures = previous_figures
        self.previous_sources = previous_sources
        self.run_stamp = dict(stamp or {})
        self.parameters = dict(parameters or {})

    # -- indicator engine ------------------------------------------------------------------------
    def _comparison(self):
        """The indicator engine's comparison of this territory, or the reason it is unavailable."""
        if not hasattr(self, "_cmp"):
            from planeco_kernel.errors import PlanecoError
            from planeco_kernel.indicators.comparison import compare
            from planeco_kernel.indicators.cube import load_cube

            try:
                cube = load_cube()
            except (PlanecoError, FileNotFoundError) as exc:  # no indicator data in this bundle: said in the report
                self._cmp = (None, None, str(exc))
            else:
                self._cmp = (cube, compare(self.t.code, self.t.level, cube=cube), None)
        return self._cmp

    def themes(self, only: list[str] | None = None) -> None:
        """One section per indicator theme: values, evolutions and French sentences of the indicator engine.

        Parameters
        ----------
        only
            Theme ids (``logement``, ``energie_logements``…) to show; default all themes.
        """
        cube, comp, error = self._comparison()
        if comp is None:
            _md("## Indicateurs thématiques")
            _md("Les indicateurs thématiques ne sont pas chargés dans cette installation.")
            _html('<details class="planeco-annex"><summary>Annexe technique (pour l\'équipe technique)</summary>'
                  f"<p>{_esc(error)}</p><p>Reconstruisez le paquet de données (<code>planeco data build</code>) "
                  "pour les obtenir.</p></details>")
            return
        missing: dict[str, list] = {}
        for theme_id, label in cube.catalogue.themes.items():
            if only is not None and theme_id not in only:
                continue
            items = [i for i in comp.indicators if i.theme == theme_id]
            shown = [i for i in items if i.available]
            if not shown:
                if items:
                    missing[label] = items
                continue
            _md(f"## {label}")
            if theme_id == "demographie":
                _png(charts.series_chart(self.d.population, f"Population municipale de {self.t.name}"))
                _md(self._growth_sentence())
            self._theme_table(label, shown)
            lead = next((i for i in shown if _is_ratio(i.unit)), None)
            bars = [] if lead is None else [(_bar_label(self.t.name, self.t.level), lead.value)] + [
                (_bar_label(g.name or g.code, g.group), g.value) for g in lead.groups
                if g.group != "peers" and g.value is not None]
            if len(bars) > 1:
                _png(charts.bar_chart([b[0] for b in bars], [b[1] for b in bars],
                                      f"{lead.label} ({lead.year})", lead.unit, highlight=0))
            _md("\n".join(f"- {i.sentence}" for i in shown if i.sentence))
            absent = [i for i in items if not i.available]
            if absent:
                by_source: dict[str, list[str]] = {}
                for i in absent:
                    by_source.setdefault(_source_short(cube, i.source), []).append(i.label)
                _md("\n".join(f"Non disponibles ici : {', '.join(labels)} ({_not_loaded(src)})."
                               for src, labels in by_source.items()))
        if missing:
            _md("## Thèmes sans données dans cette installation")
            lines = []
            for label, its in missing.items():
                srcs = sorted({_source_short(cube, i.source) for i in its})
                lines.append(f"- **{label}** : {' ; '.join(_not_loaded(s_) for s_ in srcs)}.")
            _md("\n".join(lines))
        causes: dict[str, str] = {}
        for i in comp.indicators:
            if not i.available and (only is None or i.theme in only):
                causes.setdefault(_source_short(cube, i.source), i.reason or "source absente")
        if causes:
            _html('<details class="planeco-annex"><summary>Annexe technique : pourquoi ces données manquent '
                  "(pour l'équipe technique)</summary><ul>"
                  + "".join(f"<li><b>{_esc(k)}</b> : {_esc(v)}</li>" for k, v in causes.items())
                  + "</ul></details>")

    def _theme_table(self, label: str, shown: list) -> None:
        from types import SimpleNamespace

        reg, t = self.d.figures, self.t
        rows = []
        for i in shown:
            src = f"{i.source} ({i.vintage})" if i.vintage else i.source
            reg.add(label, i.label, t, i.value, i.unit, i.year, src)
            for g in i.groups:
                who = SimpleNamespace(code=g.code, level=g.group, name=g.name or g.code)
                reg.add(label, i.label, who, g.value, i.unit, i.year,
                        src if g.group != "peers" else f"{src}, médiane des communes comparables")
            evo = (i.evolution or {}).get("text", fmt.MISSING)
            if i.evolution:
                e = i.evolution
                reg.add(label, f"{i.label} : évolution {e['from_year']}-{e['to_year']}", t, e.get("difference"), i.unit,
                        e["to_year"], src)
                if e.get("annual_growth_pct") is not None:
                    reg.add(label, f"{i.label} : évolution annuelle {e['from_year']}-{e['to_year']}", t,
                            e["annual_growth_pct"], "%", e["to_year"], src)
            rows.append([i.label + (" (estimation)" if i.estimate else ""), i.value_text, str(i.year or ""), evo])
        _html(_table(rows, ["Indicateur", "Valeur", "Année", "Évolution"], right={1}))

    # -- sections -------------------------------------------------------------------------------
    def title(self, heading: str = "Diagnostic territorial") -> None:
        """Title (``heading — name``), level and parents of the territory."""
        t = self.t
        parents = " · ".join(p["territory"].name if p["territory"].level == "france"
                             else f"{p['territory'].level_label} : {p['territory'].name}" for p in self.d.parents)
        nature = f" ({t.nature})" if t.nature else ""
        _md(f"# {heading} — {t.name}\n\n**{t.level_label}{nature}**, code {t.code}."
            + (f"  \nAppartient à : {parents}." if parents else "")
            + "".join(f"\n\n> {n}" for n in self.d.notes))

    def changes(self) -> None:
        """« Ce qui a changé » since the previous run of this territory's report."""
        t = self.t
        _md("## Ce qui a changé depuis le rapport précédent")
        if not self.previous_figures or not Path(self.previous_figures).is_file():
            _md("Premier rapport pour ce territoire : aucune comparaison possible.")
            return
        previous = read_csv(self.previous_figures)
        found = _changes.compare(list(self.d.figures), previous, level=t.level, code=t.code,
                                 current_sources=_diag.source_versions(self._manifest()),
                                 previous_sources=self.previous_sources)
        if not found:
            _md("Aucun changement notable : mêmes millésimes, indicateurs stables.")
            return
        _md("\n".join(f"- {c.text}" for c in found[:12]) + (f"\n- … et {len(found) - 12} autres." if len(found) > 12 else ""))

    def key_figures(self) -> None:
        """Population, growth, area, density, members."""
        d, t = self.d, self.t
        rows = [["Population municipale", f"{fmt.number(d.population[d.vintage])} hab", str(d.vintage)],
                [f"Évolution annuelle moyenne {d.first_year}-{d.vintage}", fmt.rate(d.growth), f"{d.first_year}-{d.vintage}"],
                ["Superficie", f"{fmt.number(d.area_km2, 1)} km²" if d.area_km2 else "non disponible", ""],
                ["Densité", f"{fmt.number(d.density, 1)} hab/km²" if d.density else "non disponible", str(d.vintage)]]
        if t.level != "commune":
            rows.append(["Communes membres", fmt.number(t.members_count), ""])
        _md("## Chiffres clés")
        _html(_table(rows, ["Indicateur", "Valeur", "Année"], right={1}))

    def demography(self) -> None:
        """Theme « Démographie »: the population series with a short commentary."""
        d, t = self.d, self.t
        _md("## Démographie")
        _png(charts.series_chart(d.population, f"Population municipale de {t.name}"))
        _md(self._growth_sentence())

    def _growth_sentence(self) -> str:
        d, t = self.d, self.t
        if d.growth is None:
            return "L'évolution de la population ne peut pas être calculée (une seule année disponible)."
        trend = "augmente" if d.growth > 0.05 else "diminue" if d.growth < -0.05 else "est stable"
        text = (f"Entre {d.first_year} et {d.vintage}, la population de {t.name} {trend} "
                f"({fmt.rate(d.growth)} en moyenne")
        ref = next((p for p in reversed(d.parents) if p["territory"].level == "departement"), None)
        if ref is not None and ref["growth"] is not None:
            gap = d.growth - ref["growth"]
            faster = "au même rythme que" if abs(gap) < 0.005 else "plus vite que" if gap > 0 else "moins vite que"
            text += f" ; {ref['territory'].name} : {fmt.rate(ref['growth'])}, la population évolue donc {faster} le département"
        return text + ")."

    def land(self) -> None:
        """Theme « Occupation du territoire »: area and density, densest members."""
        d, t = self.d, self.t
        _md("## Occupation du territoire")
        if not d.area_km2:
            _md("Les contours de ce territoire ne sont pas dans le paquet de données : superficie et densité "
                "non disponibles.")
            return
        text = (f"{t.name} couvre {fmt.number(d.area_km2, 1)} km², soit une densité de "
                f"{fmt.number(d.density, 1)} habitants par km² en {d.vintage}.")
        _md(text)
        if not d.members.empty:
            top = d.members.dropna(subset=["densite"]).sort_values("densite", ascending=False).head(5)
            _md("Communes les plus denses : " + ", ".join(
                f"{r.nom} ({fmt.number(r.densite)} hab/km²)" for r in top.itertuples()) + ".")

    def position(self) -> None:
        """The territory's weight and growth within each parent."""
        d, t = self.d, self.t
        _md("## Position dans les territoires englobants")
        if not d.parents:
            _md(f"{t.name} n'appartient à aucun territoire englobant.")
            return
        rows = [[p["territory"].level_label, p["territory"].name, fmt.number(p["population"]),
                 fmt.percent(p["share"], 2), fmt.rate(p["growth"])] for p in d.parents]
        rows.insert(0, [t.level_label, t.name, fmt.number(d.population[d.vintage]), "100,00 %", fmt.rate(d.growth)])
        _html(_table(rows, ["Niveau", "Territoire", f"Population {d.vintage}", f"Part de {t.name}",
                            f"Évolution {d.first_year}-{d.vintage}"], right={2, 3, 4}))

    def peers(self, limit: int = 15) -> None:
        """Comparison with the commune's peer group of the catalogue (same size and density class), then with
        the territories of the same level in the same parent (named as such)."""
        if self.t.level == "commune":
            self._catalogue_peers(limit)
        self._parent_peers(limit)

    def _catalogue_peers(self, limit: int) -> None:
        """« Parmi les communes comparables »: the commune's peer group of the indicator catalogue."""
        d, t = self.d, self.t
        cube, _comp, _err = self._comparison()
        if cube is None:
            return
        from planeco_kernel.indicators.comparison import comparator

        tab = comparator(cube).tables("commune")
        i = tab.row.get(t.code)
        keys = tab.groups.get("peers")
        if i is None or keys is None or keys[i] is None:  # no peer group for this commune: the section is left out
            return
        key = keys[i]
        pool = [c for c, r in tab.row.items() if keys[r] == key]
        label = tab.peer_labels[i] if tab.peer_labels is not None else ""
        df = _diag.peer_table(t._m, "commune", pool, d.vintage, d.first_year, d.vintage)
        reg = d.figures
        section = "Parmi les communes comparables"
        who = "communes comparables"  # the group (size, density) is named in the text above
        _md(f"## {section}\n\nCommunes de France de même taille et de même densité que {t.name} ({label}), "
            "selon le groupe de comparaison du catalogue d'indicateurs.")
        self._peer_chart(df, who, limit)
        row = df.loc[df["code"] == t.code]
        med = df["evolution_annuelle"].median()
        if not row.empty:
            rp, rg = row["rang_population"].iloc[0], row["rang_evolution"].iloc[0]
            reg.add(section, f"Rang par population parmi {len(df)} communes comparables", t, int(rp), "rang",
                    d.vintage, d.pop_source)
            if rg == rg:
                reg.add(section, f"Rang par évolution annuelle parmi {len(df)} communes comparables", t, int(rg),
                        "rang", d.vintage, d.pop_source)
            _md(f"Parmi ces {fmt.number(len(df))} communes, {t.name} est au rang {fmt.number(rp)} par la population"
                + (f" et au rang {fmt.number(rg)} par l'évolution annuelle (médiane du groupe : {fmt.rate(med)})."
                   if rg == rg else "."))
        for r in df.itertuples():
            if r.code != t.code:
                reg.add(section, f"Évolution annuelle moyenne {d.first_year}-{d.vintage}", t._m.get(r.code, "commune"),
                        r.evolution_annuelle, "%", d.vintage, d.pop_source)

    def _peer_chart(self, peers, who: str, limit: int) -> None:
        d, t = self.d, self.t
        df = peers.dropna(subset=["evolution_annuelle"]).sort_values("evolution_annuelle", ascending=False)
        me = df.index[df["code"] == t.code]
        shown = df.head(limit)
        if len(me) and me[0] not in shown.index:
            import pandas as pd

            shown = pd.concat([shown, df.loc[me]])
        labels = [f"▶ {n}" if c == t.code else n for n, c in zip(shown["nom"], shown["code"])]
        hi = list(shown["code"]).index(t.code) if t.code in list(shown["code"]) else None
        first = "premières" if who.split()[0] in ("communes", "intercommunalités", "régions") else "premiers"
        part = (f"les {fmt.number(limit)} {first} sur {fmt.number(len(df))}"
                + (f", et {t.name}" if len(me) and me[0] not in df.head(limit).index else "")
                if len(df) > limit else f"{fmt.number(len(df))}")
        _png(charts.bar_chart(labels, list(shown["evolution_annuelle"]),
                              f"Évolution annuelle moyenne {d.first_year}-{d.vintage}\n{who[0].upper() + who[1:]} ({part})",
                              "%/an", highlight=hi))

    def _parent_peers(self, limit: int) -> None:
        """Comparison with the territories of the same level in the same parent (named as such)."""
        d, t = self.d, self.t
        anchor = t.parent(d.peer_level) if d.peer_level not in ("france", t.level) else None
        what = _LEVEL_PLURAL.get(t.level, "territoires")
        where = f"de {anchor.name}" if anchor is not None else "de France"
        _md(f"## Parmi les {what} {where}")
        if d.peers.empty:
            _md(f"Pas d'autres {what} dans ce groupe.")
            return
        self._peer_chart(d.peers, f"{what} {where}", limit)
        row = d.peers.loc[d.peers["code"] == t.code]
        if not row.empty:
            rp, rg = row["rang_population"].iloc[0], row["rang_evolution"].iloc[0]
            med = d.peers["evolution_annuelle"].median()
            _md(f"Parmi les {fmt.number(len(d.peers))} {what} {where}, {t.name} est au rang {fmt.number(rp)} "
                "par la population"
                + (f" et au rang {fmt.number(rg)} par l'évolution annuelle (médiane de ces {what} : "
                   f"{fmt.rate(med)})." if rg == rg else "."))

    def members_map(self, show_map: bool = True) -> None:
        """Map and table of the member communes (population growth by class)."""
        d, t = self.d, self.t
        if t.level == "commune":
            return
        _md("## Communes membres")
        mem = d.members
        if show_map:
            self._map(mem)
        rows = [[r.nom, r.code, fmt.number(r.population), fmt.rate(r.evolution_annuelle),
                 fmt.number(r.densite, 1)]
                for r in mem.head(20).itertuples()]
        more = f" (les 20 plus peuplées sur {len(mem)} ; toutes figurent dans l'annexe CSV)" if len(mem) > 20 else ""
        _md(f"Communes membres par population{more} :")
        _html(_table(rows, ["Commune", "Code", f"Population {d.vintage}", f"Évolution {d.first_year}-{d.vintage}",
                            "Densité (hab/km²)"], right={2, 3, 4}))

    def _map(self, mem) -> None:
        import numpy as np

        from planeco_kernel import geo

        try:
            shapes = geo.load_display("commune", list(mem["code"]))
            outline = geo.load_display(self.t.level, [self.t.code])
        except Exception as exc:  # bundle without contours: said, not hidden
            _md(f"Carte non disponible : {exc}")
            return
        if shapes.empty:
            _md("Carte non disponible : aucune commune membre n'a de contour dans le paquet de données.")
            return
        note = ""
        if self.t.level == "france":  # one frame cannot show metropolitan France and the DROM usefully
            shapes = shapes[~shapes["code"].str.startswith("97")]
            outline = outline.iloc[0:0]
            note = "La carte montre la France métropolitaine ; les communes des DROM figurent dans l'annexe CSV."
        values = shapes["code"].map(dict(zip(mem["code"], mem["evolution_annuelle"]))).astype(float).to_numpy()
        finite = values[np.isfinite(values)]
        k = int(min(5, max(1, len(np.unique(finite)))))
        breaks = geo.classify(finite, k=k) if len(finite) else [0.0, 0.0]
        colors = geo.colors_for(values, breaks)
        legend = geo.legend_items(breaks, "%/an")
        _png(charts.choropleth_map(list(shapes["geometry"]), list(colors), legend,
                                   f"Évolution annuelle moyenne de la population {self.d.first_year}-{self.d.vintage}",
                                   outline=outline["geometry"].iloc[0] if not outline.empty else None))
        if note:
            _md(note)

    def sources(self) -> None:
        """Sources and vintages of the data shown (publishers and datasets; technical provenance folded)."""
        _md("## Sources et millésimes")
        grouped: dict[str, tuple[list[str], str]] = {}
        for s_ in self.d.sources:
            years, _lic = grouped.setdefault(_source_label(s_), ([], str(s_["licence"] or "")))
            y = str(s_.get("census_year") or s_.get("vintage") or "")
            if y and y not in years:
                years.append(y)
        rows = [[label, ", ".join(years), lic] for label, (years, lic) in grouped.items()]
        _html(_table(rows, ["Source", "Millésime", "Licence"]))
        cube, comp, _err = self._comparison()
        if comp is not None:
            used = {}
            for i in comp.indicators:
                if i.available and i.source:
                    used.setdefault(i.source, set()).add(str(i.vintage or i.year or ""))
            if used:
                _md("Indicateurs thématiques : " + "; ".join(
                    f"{src} ({', '.join(sorted(v for v in vs if v))})" for src, vs in used.items()) + ".")
        _md(f"Population municipale : Insee, recensements {self.d.first_year} à {self.d.vintage}. "
            "Contours des territoires : IGN et Insee. "
            "Taux d'évolution annuels : taux composés entre la première et la dernière année affichées.")
        tech = "".join(f"<li>{_esc(s_['name'])} {_esc(s_['version'])} — {_esc(s_['origin'] or '')}</li>"
                       for s_ in self.d.sources)
        _html('<details class="planeco-annex"><summary>Provenance technique des fichiers (pour l\'équipe technique)'
              f"</summary><ul>{tech}<li>Population : {_esc(self.d.pop_source)}</li>"
              f"<li>Contours : {_esc(self.d.geo_source)}</li></ul></details>")

    def _manifest(self) -> dict[str, Any]:
        return self.t._m.manifest

    def stamp(self) -> None:
        """Data manifest, template, package version and parameters of this report."""
        from planeco_kernel import __version__
        from planeco_kernel.reports.stamp import data_fingerprint

        man = self._manifest()
        s = dict(self.run_stamp)
        rows = [["Version de planeco", __version__],
                ["Paquet de données", f"construit le {date_fr(man.get('built_at'))}, géographie (COG) "
                                      f"{man.get('current_cog', '?')}"],
                ["Empreinte des données", data_fingerprint(man)[:16]],
                ["Modèle de rapport", f"{s.get('template', 'inconnu')} ({str(s.get('template_sha256', ''))[:12]})"],
                ["Empreinte des entrées", str(s.get("inputs_hash", "non calculée (exécution hors lot)"))[:16]],
                ["Paramètres", " ; ".join(f"{PARAMETER_LABELS.get(k, k)} : {_param_value(k, v)}"
                                          for k, v in self.parameters.items()) or "–"]]
        _md("## Cachet du rapport")
        _html(_table(rows, ["", ""]))

    def appendix(self) -> Path:
        """Write the CSV appendix of every number shown; display where it is."""
        path = self.d.figures.to_csv(self.output_dir / APPENDIX_FILE)
        _md(f"## Annexe\n\nLes {fmt.number(len(self.d.figures))} chiffres de ce rapport (avec source et année) sont "
            f"dans [{APPENDIX_FILE}]({APPENDIX_FILE}).")
        return path
