"""Settings of the analysis stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AnalysisSettings(BaseModel):
    model_dir: str | None = Field(None, description="Directory of retrained models; default: shipped ones")
    english_transformer: Literal["off", "uncertain", "all"] = Field(
        "uncertain",
        description="English sentiment by the shipped transformer: for every mention (all: most accurate, "
        "~100 mentions/s per core), only where the n-gram model is unsure (uncertain), or never (off)",
    )
    english_transformer_below: float = Field(
        0.8,
        gt=0,
        le=1,
        description="With english_transformer = uncertain: the n-gram model's top probability under which "
        "the transformer decides",
    )
