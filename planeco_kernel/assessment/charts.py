"""Charts of the self-assessment: the radar of the fields (matplotlib, SVG)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

ACCENT = "#225ea8"
MUTED = "#9ecae1"


def radar_svg(labels: Sequence[str], values: Sequence[float | None], *, peers: Sequence[float | None] | None = None,
              title: str = "", peers_label: str = "médiane des structures comparables") -> str:
    """A radar chart (0–100 %) of per-field scores, optionally with the peers' median; SVG text.

    A field « non concerné » (None) is drawn at the centre and its label says so.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    n = len(labels)
    angles = [2 * math.pi * i / n for i in range(n)] + [0.0]
    shown = [f"{lab}\n(non concerné)" if v is None else lab for lab, v in zip(labels, values)]
    with rc_context({"svg.fonttype": "none", "font.size": 9}):
        fig = Figure(figsize=(6.2, 5.2))
        ax = fig.add_subplot(projection="polar")
        ax.set_theta_offset(math.pi / 2)
        ax.set_theta_direction(-1)
        ax.set_ylim(0, 100)
        ax.set_yticks([25, 50, 75, 100], ["25 %", "50 %", "75 %", "100 %"], color="#666", fontsize=7)
        ax.set_xticks(angles[:-1], shown)
        if peers is not None:
            pv = [0.0 if v is None else float(v) for v in peers] + [0.0 if peers[0] is None else float(peers[0])]
            ax.plot(angles, pv, color=MUTED, linewidth=1.5, linestyle="--", label=peers_label)
        vv = [0.0 if v is None else float(v) for v in values]
        vv.append(vv[0])
        ax.plot(angles, vv, color=ACCENT, linewidth=2, label="votre score")
        ax.fill(angles, vv, color=ACCENT, alpha=0.2)
        if title:
            ax.set_title(title, pad=18, fontsize=11)
        if peers is not None:
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize=8)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG is embedded in HTML
