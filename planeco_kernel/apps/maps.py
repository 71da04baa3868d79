"""The apps' base map: ipyleaflet, canvas renderer, no tiles (usable offline), attribution of the contours."""

from __future__ import annotations

ATTRIBUTION = "Leaflet | contours : IGN, INSEE (Licence Ouverte)"


def base_map(height_px: int):
    """An empty map of France for the apps: canvas rendering (thousands of shapes stay fast),
    no base tiles (an OpenStreetMap layer is added only on request), no scroll-wheel zoom."""
    import ipyleaflet as L
    import ipywidgets as W

    m = L.Map(center=(46.6, 2.4), zoom=5, prefer_canvas=True, layers=(), scroll_wheel_zoom=False,
              attribution_control=False, layout=W.Layout(width="100%", height=f"{height_px}px"))
    m.add(L.AttributionControl(position="bottomright", prefix=ATTRIBUTION))
    m.add_class("planeco-map")
    return m
