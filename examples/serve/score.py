"""The scoring script ``examples/demo.py`` deploys: the model that ``examples/src/train.py`` trained.

``init()`` runs once per replica, ``run(raw_data)`` once per request with the request's JSON body as text.
"""

from __future__ import annotations

import json
import math
from typing import Any

import ember

model: dict[str, float] = {}

input_schema = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "array", "items": {"type": "number"}, "description": "x1 values"}},
}


def init() -> None:
    with open(ember.Model.get_model_path("demo-logreg"), encoding="utf-8") as f:
        model.update(json.load(f))


def run(raw_data: str) -> dict[str, Any]:
    values = json.loads(raw_data)["data"]
    probabilities = [1 / (1 + math.exp(-(model["w"] * float(x) + model["b"]))) for x in values]
    return {
        "probability": [round(p, 4) for p in probabilities],
        "label": [int(p > 0.5) for p in probabilities],
    }
