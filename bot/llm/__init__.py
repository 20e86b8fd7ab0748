"""Model backends behind one small async interface; `open_models` picks them from settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
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
    """The model that writes passages and the one that rewrites the summary (often the same),
    with the prompt styles they take: `style` for passages, `summary_style` for summaries
    (empty: each story's style)."""

    passage: Model
    summary: Model
    style: str = "chat"
    summary_style: str = ""

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

    return _embedded_models(settings)


def _embedded_models(settings: Settings) -> Models:
    """The embedded writer (AUTOMUSE_GGUF_PATH, or a model a package ships) and summariser."""
    from bot.llm.llama import LocalModel
    from bot.llm.packaged import DEFAULT_SUMMARIZER, DEFAULT_WRITER, embedded_model

    summarizer = embedded_model(settings.summary_model or DEFAULT_SUMMARIZER)
    summary_style = "completion" if summarizer.base else "chat"
    if settings.gguf_path:
        passage = LocalModel(
            settings.gguf_path,
            name=settings.model,
            threads=settings.threads,
            timeout=settings.timeout,
        )
        style = "chat"
    else:
        writer = embedded_model(settings.model or DEFAULT_WRITER)
        passage = LocalModel(
            writer.locate(), name=writer.name, threads=settings.threads, timeout=settings.timeout
        )
        style = writer.style
    if not settings.gguf_path and summarizer.name == passage.name:
        return Models(passage, passage, style, summary_style)
    summary = LocalModel(
        summarizer.locate(),
        name=summarizer.name,
        threads=settings.threads,
        timeout=settings.timeout,
    )
    return Models(passage, summary, style, summary_style)
