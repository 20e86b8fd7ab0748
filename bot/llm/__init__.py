"""Model backends behind one small async interface; `open_models` picks them from settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import ConfigError, Settings
from bot.llm.base import (
    Generation,
    Message,
    Model,
    ModelError,
    Prompt,
    Sampling,
    TextSink,
    prompt_text,
)

__all__ = [
    "Generation",
    "Message",
    "Model",
    "ModelError",
    "Models",
    "Prompt",
    "Sampling",
    "TextSink",
    "open_models",
    "prompt_text",
]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Models:
    """The model that writes passages and the one that rewrites the summary (often the same)."""

    passage: Model
    summary: Model

    async def close(self) -> None:
        for model in {id(self.passage): self.passage, id(self.summary): self.summary}.values():
            close = getattr(model, "close", None)
            if close is not None:
                await close()


def open_models(settings: Settings) -> Models:
    """Build the backend the settings choose; nothing is loaded or contacted yet."""
    if settings.resolved_backend == "openai":
        from bot.llm.openai_compat import OpenAICompatible

        def openai_model(name: str) -> Model:
            return OpenAICompatible(
                name,
                api_key=settings.openai_api_key.reveal(),
                base_url=settings.openai_base_url,
                timeout=settings.timeout,
                max_retries=settings.max_retries,
            )

        passage = openai_model(settings.model or DEFAULT_OPENAI_MODEL)
        summary_name = settings.summary_model or passage.name
        summary = passage if summary_name == passage.name else openai_model(summary_name)
        return Models(passage, summary)

    from bot.llm.local import LocalModel

    if settings.summary_model:
        raise ConfigError(
            "The embedded backend runs one model; leave AUTOMUSE_SUMMARY_MODEL empty."
        )
    local = LocalModel(settings.gguf_path or None, name=settings.model, threads=settings.threads)
    return Models(local, local)
