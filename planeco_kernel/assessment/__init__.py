"""Self-assessment of a territory's socio-economic actors in the ecological transition.

From the Grand Poitiers scheme (Cerema, Efficacity, Abylon, Bastille; the ASSETT call extends
it): a référentiel of seven fields with maturity ladders (:mod:`.referentiel`, data in
``referentiel.yaml``), scores with « non concerné » redistribution (:mod:`.scoring`), answers
stored per actor in the knowledge-base repository (:mod:`.store`), a toolbox of actions and a
prioritised list (:mod:`.toolbox`), the territory view and the anonymised comparison
(:mod:`.territory`), the radar chart (:mod:`.charts`).

>>> from planeco_kernel.assessment import load_referentiel, score, Answer   # doctest: +SKIP
>>> ref = load_referentiel()
>>> score(ref, {"pil_strategie": Answer(level=2)}, "entreprise", "micro").percent
"""

from __future__ import annotations

from planeco_kernel.assessment.answers import (
    ActorProfile,
    Assessment,
    ChosenAction,
    new_assessment,
    parse_assessment,
)
from planeco_kernel.assessment.referentiel import (
    NOT_CONCERNED,
    Criterion,
    Field,
    Level,
    Referentiel,
    load_referentiel,
)
from planeco_kernel.assessment.scoring import (
    Answer,
    FieldScore,
    Score,
    method_text,
    score,
)
from planeco_kernel.assessment.territory import (
    MIN_ACTORS,
    peer_comparison,
    progress,
    territory_view,
)
from planeco_kernel.assessment.toolbox import (
    Toolbox,
    ToolboxAction,
    load_toolbox,
    recommend,
)
from planeco_kernel.assessment.yamldoc import DocumentError

__all__ = [
    "MIN_ACTORS", "NOT_CONCERNED", "ActorProfile", "Answer", "Assessment", "ChosenAction", "Criterion", "DocumentError",
    "Field", "FieldScore", "Level", "Referentiel", "Score", "Toolbox", "ToolboxAction", "load_referentiel", "load_toolbox",
    "method_text", "new_assessment", "parse_assessment", "peer_comparison", "progress", "recommend", "score",
    "territory_view",
]  # fmt: skip
