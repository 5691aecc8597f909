"""Settings that are more than fields: generation parameters from the configured defaults."""

from __future__ import annotations

import dataclasses

import pytest

from pylot.config.settings import GenerationSettings
from pylot.types import GenerationParams


def test_the_defaults_are_written_once() -> None:
    params, settings = GenerationParams(), GenerationSettings()
    for f in dataclasses.fields(GenerationParams):
        if f.name in GenerationSettings.model_fields:
            assert getattr(settings, f.name) == getattr(params, f.name), f.name
    assert settings.params() == params


def test_every_configured_value_reaches_the_parameters() -> None:
    g = GenerationSettings(
        max_tokens=7, temperature=0.5, top_p=0.5, top_k=3, min_p=0.2, repeat_penalty=1.3, stop=["#"], time_limit_s=2.0
    )
    p = g.params()
    assert (p.max_tokens, p.temperature, p.top_p, p.top_k, p.min_p, p.repeat_penalty) == (7, 0.5, 0.5, 3, 0.2, 1.3)
    assert (p.stop, p.time_limit_s, p.seed) == (["#"], 2.0, None)


def test_a_request_overrides_what_it_sets_and_adds_its_stops() -> None:
    g = GenerationSettings(temperature=0.5, stop=["#"])
    p = g.params(temperature=0.0, max_tokens=None, stop="\n\n", seed=3)
    assert (p.temperature, p.max_tokens, p.seed) == (0.0, g.max_tokens, 3)  # None keeps the default
    assert p.stop == ["#", "\n\n"]
    assert g.params(stop=["a", "b"]).stop == ["#", "a", "b"]
    with pytest.raises(TypeError):
        g.params(tempreature=0.1)  # a misspelt name is a bug, not silently ignored
