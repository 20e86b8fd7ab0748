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
    """The model that writes passages, the one that rewrites the summary and the one that plans
    beats (often the same), with the prompt styles they take: `style` for passages,
    `summary_style` for summaries (empty: each story's style)."""

    passage: Model
    summary: Model
    style: str = "chat"
    summary_style: str = ""
    plan: Model | None = None
    """The planner's model; when None, the summary model plans."""

    @property
    def planner(self) -> Model:
        return self.plan or self.summary

    async def close(self) -> None:
        models = (self.passage, self.summary, self.planner)
        for model in {id(model): model for model in models}.values():
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

        chosen: dict[str, Model] = {}

        def named(name: str) -> Model:
            if name not in chosen:
                chosen[name] = openai_model(name)
            return chosen[name]

        passage = named(settings.model or DEFAULT_OPENAI_MODEL)
        summary = named(settings.summary_model or passage.name)
        plan = named(settings.plan_model or summary.name)
        return Models(passage, summary, plan=plan)

    return _embedded_models(settings)


def _embedded_models(settings: Settings) -> Models:
    """The embedded writer (AUTOMUSE_GGUF_PATH, or a model a package ships), summariser and
    planner; a model named twice is loaded once. Unless AUTOMUSE_PLAN_MODEL names one, a
    packaged writer that follows instructions plans its own beats (its stories' beats follow
    them more often than SmolLM2's, bench/README.md); otherwise the summariser plans."""
    from bot.llm.llama import LocalModel
    from bot.llm.packaged import DEFAULT_SUMMARIZER, DEFAULT_WRITER, embedded_model

    loaded: dict[str, Model] = {}

    def local(name: str) -> Model:
        model = embedded_model(name)
        if model.name not in loaded:
            loaded[model.name] = LocalModel(
                model.locate(), name=model.name, threads=settings.threads, timeout=settings.timeout
            )
        return loaded[model.name]

    planner = settings.plan_model
    if settings.gguf_path:
        passage: Model = LocalModel(
            settings.gguf_path,
            name=settings.model,
            threads=settings.threads,
            timeout=settings.timeout,
        )
        style = "chat"
    else:
        writer = embedded_model(settings.model or DEFAULT_WRITER)
        passage, style = local(writer.name), writer.style
        planner = planner or ("" if writer.base else writer.name)
    summarizer = embedded_model(settings.summary_model or DEFAULT_SUMMARIZER)
    summary_style = "completion" if summarizer.base else "chat"
    summary = local(summarizer.name)
    plan = local(planner or summarizer.name)
    return Models(passage, summary, style, summary_style, plan)
