"""Step 3 of the COP app, *Déclinaison*: a lever's regional objective split to départements or EPCI
by a visible key, sums checked, on a map and in a table. A part of
:class:`planeco_kernel.apps.cop.CopApp`.
"""

from __future__ import annotations

import ipywidgets as W
import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.cop_common import _m, _notice
from planeco_kernel.errors import PlanecoError


DECL_KEYS = {"population": "Population", "logements": "Parc de logements", "surface": "Surface",
             "inventaire": "Inventaire de l'observatoire (chargé)"}


class DeclensionStep:
    """The declension of a lever's objective, its sum check, map and table (widgets on the app)."""

    def _build_step3(self) -> None:
        self.decl_lever = W.Dropdown(description="Levier", layout=W.Layout(width="520px"))
        self.decl_level = W.ToggleButtons(options=[("Départements", "departement"), ("EPCI", "epci")])
        self.decl_key = W.Dropdown(options=[(v, k) for k, v in DECL_KEYS.items()], description="Clé")
        self.inventory_upload = W.FileUpload(accept=".csv", description="Inventaire (CSV)")
        self.inventory: pd.DataFrame | None = None
        self.decl_lever.observe(lambda ch: self._default_key(), names="value")
        for w in (self.decl_lever, self.decl_level, self.decl_key):
            w.observe(lambda ch: self.draw_declension(), names="value")
        self.inventory_upload.observe(lambda ch: self._load_inventory(), names="value")
        self.decl_check = W.HTML()
        self.decl_check.add_class("cop-decl-check")
        self.decl_table = W.HTML()
        self.decl_table.add_class("cop-declension")
        self.decl_map = W.Box()
        self.step3 = W.VBox([_notice(), self.decl_lever, self.decl_level, self.decl_key, self.inventory_upload,
                             self.decl_check, self.decl_map, self.decl_table])

    def _default_key(self) -> None:
        """The key declared for the lever (LEVER_DEFAULT_KEY), population when its data are missing."""
        from planeco_kernel.trajectories.levers import LEVER_DEFAULT_KEY

        lid = self.decl_lever.value
        if not lid or not hasattr(self, "data"):
            return
        key = LEVER_DEFAULT_KEY.get(lid, "population")
        try:
            self.data.key_series(self.decl_level.value, key)
        except PlanecoError:
            key = "population"
        self.decl_key.value = key

    def _load_inventory(self) -> None:
        import io

        files = self.inventory_upload.value
        if not files:
            return
        f = files[0]
        try:
            self.inventory = pd.read_csv(io.BytesIO(bytes(f["content"])), sep=None, engine="python",
                                         dtype={"territory_code": str})
        except (ValueError, UnicodeDecodeError) as exc:
            self.say(f"Inventaire illisible ({exc}) : CSV territory_code, sector, year, tco2e attendu.", "alert")
            return
        self.decl_key.value = "inventaire"
        self.draw_declension()
        self.say(f"Inventaire chargé : {len(self.inventory)} lignes.")  # once the declension shows it

    def draw_declension(self) -> None:
        lid = self.decl_lever.value
        if not lid:
            return
        lv = self.data.by_id[lid]
        try:
            d = self.data.declension(lid, self.decl_level.value, self.decl_key.value, inventory=self.inventory,
                                     sector=lv.sector)
        except PlanecoError as exc:
            self.decl_check.value = templates.macro("common.html", "message", str(exc), kind="alert")
            self.decl_table.value = ""
            return
        sc = d.attrs["sum_check"]
        self.decl_check.value = _m("sum_check", d.attrs["method"], fmt.number(sc["sum_kt"], 1), fmt.number(sc["objective_kt"], 1),
                                   abs(sc["difference_kt"]) < 1e-6)
        rows = [[r["code"], r["name"], fmt.number(r["key_value"], 0), fmt.percent(100 * r["share"], 1),
                 fmt.number(r["obj_kt"], 1)] for r in d.to_dict(orient="records")]
        self.decl_table.value = _m("table", ["Code", "Territoire", DECL_KEYS[self.decl_key.value], "Part", "Objectif (ktCO₂e)"], rows)
        self._draw_map(d)

    def _draw_map(self, d: pd.DataFrame) -> None:
        try:
            import ipyleaflet as IL

            from planeco_kernel import geo
            from planeco_kernel.apps.maps import base_map

            frame = geo.load_display(self.decl_level.value, d["code"].tolist())
            breaks = geo.classify(d["obj_kt"].to_numpy(), k=5)
            colours = dict(zip(d["code"], geo.colors_for(d["obj_kt"].to_numpy(), breaks)))
            gj = geo.to_geojson(frame, properties=d.set_index("code")[["name"]], style=colours)
            m = base_map(380)
            m.add(IL.GeoJSON(data=gj, style_callback=lambda f: f["properties"]["style"]))
            b = geo.bbox(self.decl_level.value, d["code"].tolist())
            m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
            self.decl_map.children = [m]
        except Exception as exc:  # noqa: BLE001 - a missing contour layer leaves the table, with a note
            self.decl_map.children = [W.HTML(templates.macro("common.html", "map_unavailable", str(exc)))]
