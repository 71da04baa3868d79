"""Keyboard helpers shared by the browser tests."""

from __future__ import annotations


def tab_until(page, predicate_js: str, max_tabs: int = 25) -> None:
    """Press Tab until the JavaScript predicate on the focused element holds (at most ``max_tabs``)."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate(predicate_js):
            return
    raise AssertionError(f"keyboard focus never reached: {predicate_js}")
