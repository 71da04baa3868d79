"""The « Comparateur territorial » deep link: the state its URL carries, read and written back.

``?territoire=…&theme=…&indicateur=…&comparer=…`` (:data:`DEEP_LINK_KEYS`) opens the app on a
territory, a theme, a map indicator and compared territories; :func:`parse_state` reads it and says
in French what it could not use. Re-exported by :mod:`planeco_kernel.apps.comparateur_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

MAX_COMPARED = 4
"""Territories the user may add to the side-by-side comparison."""

DEEP_LINK_KEYS = ("territoire", "theme", "indicateur", "comparer")
"""Query parameters of the app's URL."""


@dataclass
class AppState:
    """What the URL carries: territory, theme, map indicator, compared territories."""

    territory: str | None = None
    theme: str | None = None
    indicator: str | None = None
    compared: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)

    def query(self) -> str:
        """The query string (without ``?``) that reopens this state."""
        params: dict[str, str] = {}
        if self.territory:
            params["territoire"] = self.territory
        if self.theme:
            params["theme"] = self.theme
        if self.indicator:
            params["indicateur"] = self.indicator
        if self.compared:
            params["comparer"] = ",".join(self.compared)
        return urlencode(params, safe=":,")


def parse_state(params: dict[str, str], themes: dict[str, str], indicators: dict[str, Any]) -> AppState:
    """Read the app state from query parameters; unknown theme or indicator → ``problems`` (French).

    The theme may be given by id (``revenus_pauvrete``) or label, accents optional
    (``revenus``, ``Démographie``).
    """
    from planeco_kernel.territory.names import normalize

    st = AppState(territory=(params.get("territoire") or None))
    theme = params.get("theme")
    if theme:
        wanted = normalize(theme).replace(" ", "_").replace("-", "_")
        match = [t for t, lab in themes.items()
                 if wanted in (t, normalize(lab).replace(" ", "_").replace("-", "_"))
                 or t.startswith(wanted) or normalize(lab).startswith(normalize(theme))]
        if match:
            st.theme = match[0]
        else:
            st.problems.append(f"Thème inconnu « {theme} » : thèmes possibles : {', '.join(themes.values())}.")
    ind = params.get("indicateur")
    if ind:
        if ind in indicators:
            st.indicator = ind
        else:
            st.problems.append(f"Indicateur inconnu « {ind} » : choisissez-en un dans la liste sous la carte.")
    comp = params.get("comparer")
    if comp:
        st.compared = tuple(c.strip() for c in comp.split(",") if c.strip())[:MAX_COMPARED]
    return st
