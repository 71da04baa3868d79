"""Search-as-you-type for a territory: a text field, a level filter and result buttons.

Shared by the apps (Fiche territoire, Comparateur). Accents and case are optional (the
territory model's name index normalises them). Clicking a result calls ``on_pick(territory)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from planeco_kernel import fmt
from planeco_kernel.apps import templates

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

SEARCH_LEVELS: list[tuple[str, str]] = [
    ("Tous les niveaux", ""), ("Commune", "commune"), ("Intercommunalité (EPCI)", "epci"),
    ("SCoT", "scot"), ("Département", "departement"), ("Région", "region"),
]
MAX_RESULTS = 8


class TerritorySearch:
    """Search field + level filter + result buttons.

    Parameters
    ----------
    model : TerritoryModel
        Territory model to search.
    on_pick : callable
        Called with the chosen :class:`~planeco_kernel.territory.Territory`.
    description, placeholder, tooltip_prefix : str
        French texts of the field and of the result buttons (``"Afficher la fiche de"``).
    css_class : str
        Class of the text field (``planeco-search``; another class for a second search box).

    Attributes
    ----------
    text, level, results, status : ipywidgets
        The parts, exposed so that apps and tests can drive them.
    widget : ipywidgets.VBox
        The whole search box.
    """

    def __init__(self, model: Any, on_pick: Callable[[Territory], None], *,
                 description: str = "Rechercher un territoire (nom ou code)",
                 placeholder: str = "ex. Saint-Étienne, Métropole de Lyon, 42218…",
                 tooltip_prefix: str = "Afficher la fiche de", css_class: str = "planeco-search",
                 max_results: int = MAX_RESULTS):
        self.model = model
        self.on_pick = on_pick
        self.tooltip_prefix = tooltip_prefix
        self.max_results = max_results
        lay = W.Layout
        self.text = W.Text(placeholder=placeholder, continuous_update=True, description=description,
                           style={"description_width": "initial"}, layout=lay(flex="1 1 320px", max_width="560px"))
        self.text.add_class(css_class)
        if css_class != "planeco-search":
            self.text.add_class("planeco-search-field")
        self.level = W.Dropdown(options=SEARCH_LEVELS, value="", description="Niveau",
                                style={"description_width": "initial"}, layout=lay(width="260px"))
        self.level.add_class("planeco-search-level")
        self.results = W.VBox(layout=lay(width="100%", max_width="820px"))
        self.results.add_class("planeco-results")
        self.status = W.HTML()
        self.status.add_class("planeco-search-status")
        self.text.observe(self.update, names="value")
        self.level.observe(self.update, names="value")
        row = W.HBox([self.text, self.level], layout=lay(flex_flow="row wrap", align_items="flex-end"))
        row.add_class("planeco-row")
        self.widget = W.VBox([row, self.status, self.results])
        self.widget.add_class("planeco-search-box")

    def update(self, _change=None) -> None:
        """Refresh the result buttons for the current text and level."""
        from planeco_kernel.apps.fiche_data import latest_population, level_label

        text = self.text.value.strip()
        if len(text) < 2:
            self.clear()
            return
        found = self.model.search(text, level=self.level.value or None, limit=self.max_results)
        buttons = []
        for t in found:
            pop = latest_population(t)
            extra = f" — {fmt.integer(pop)} hab." if pop is not None else ""
            b = W.Button(description=f"{t.name} · {level_label(t)} ({t.code}){extra}",
                         tooltip=f"{self.tooltip_prefix} {t.name}", layout=W.Layout(width="auto", max_width="100%"))
            b.add_class("planeco-result")
            b.on_click(lambda _b, t=t: self._pick(t))
            buttons.append(b)
        self.results.children = tuple(buttons)
        if found:
            n = len(found)
            text_n = (f"{n} premiers résultats — précisez votre recherche" if n >= self.max_results
                      else f"{n} résultat{'s' if n > 1 else ''}")
            self.status.value = templates.macro("common.html", "search_status", text_n)
        else:
            self.status.value = templates.macro(
                "common.html", "search_status",
                f"Aucun territoire ne correspond à « {text} ». Vérifiez l'orthographe ou tapez un code INSEE / SIREN.")

    def clear(self) -> None:
        """Remove the results and the status line (the text stays)."""
        self.results.children = ()
        self.status.value = ""

    def _pick(self, t: Territory) -> None:
        self.clear()
        self.on_pick(t)
