"""Benchmark 6: what a ballot of k candidates costs against one passage, beside the model's floor.

All on the default embedded writer, on this machine's threads, in one process:

- **floor**: llama.cpp evaluating k tokens in one batch (one per sequence, after a 64-token
  prompt) ÷ one token: the least k candidates written together can cost, in solo passages;
- **passages**: `generate_many` of k prompts that share a story and differ in their beat ÷
  `generate` of one, every answer exactly `--tokens` long (its end is held back), as the median
  of pairs timed in alternation; with the total tokens per second;
- **ballots**: `/next` in vote mode (`Engine.candidates`: the beats planned, the candidates
  written, judged and any rewritten) ÷ a solo `/next` (`Engine.next`), in alternation on one
  story;
- the **passages** ratio for the OpenAI-compatible backend against llama.cpp's own server on
  loopback, started on the same GGUF and threads with one parallel slot per candidate and a
  unified KV cache (`llama-server`, built by bench/llama_server.sh; skipped, and said so, when
  there is none), or against any server given with `--server URL`.

    .venv/bin/python -m bench.ballots [--pairs 5] [--k 2 3 5] [--tokens 200] [--quick]
                                      [--llama-server PATH | --server URL --server-model NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS,
    default_models,
    default_settings,
    machine,
    table,
    write_results,
)
from bot.engine import Engine, EngineConfig
from bot.judge import longest_shared_run
from bot.llm import Message, Model, Prompt, Sampling
from bot.llm.base import generate_together
from bot.llm.batched import Batch
from bot.llm.llama import LocalModel
from bot.llm.openai_compat import OpenAICompatible
from bot.llm.packaged import cache_dir
from bot.store import Store

OPENINGS = Path(__file__).parent / "openings"
BEATS = (
    "A stranger knocked at the door just after midnight.",
    "The lights went out all at once.",
    "A letter arrived with no name on it.",
    "Someone screamed outside in the street.",
    "The floor gave way beneath the table.",
)
"""Each candidate's beat, its first words."""
FLOOR_PROMPT = 64
FLOOR_REPEATS = 30
TARGET = 1.2
"""A k-candidate ballot costs at most 1.2 × the model's floor for k, in solo passages."""


LLAMA_SERVER = cache_dir() / "llama-server"
"""Where bench/llama_server.sh puts llama.cpp's server."""


@contextmanager
def llama_server(binary: Path, gguf: Path, slots: int) -> Iterator[str]:
    """llama.cpp's server on loopback serving `gguf` with `slots` parallel slots over one
    unified KV cache, on this machine's threads; yields its /v1 URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    threads = str(os.cpu_count() or 1)
    command = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port)]
    command += ["-np", str(slots), "-kvu", "-c", str(4096 * slots), "-t", threads]
    command += ["-tb", threads, "-a", "qwen", "--no-webui"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"llama-server exited:\n{log.read().decode()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                        break
                except OSError:
                    time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def openings() -> list[str]:
    return [path.read_text(encoding="utf-8").strip() for path in sorted(OPENINGS.glob("*.txt"))]


def prompts(opening: str, k: int) -> list[Prompt]:
    """k chats that share `opening` and differ in the beat their answer begins with."""
    ask = Message(
        role="user",
        content=f"Continue this story with its next passage of about 200 words.\n\n{opening}",
    )
    return [[ask, Message(role="assistant", content=beat)] for beat in BEATS[:k]]


def batch_floor(model: LocalModel, ks: Sequence[int]) -> dict[int, float]:
    """For each k: the median time of one llama_decode of k tokens, one per sequence, ÷ that of
    one token, after a 64-token prompt shared by every sequence."""
    from llama_cpp import llama_cpp

    llama = model.loaded()
    ctx = llama._ctx.ctx
    memory = llama_cpp.llama_get_memory(ctx)
    llama_cpp.llama_memory_clear(memory, True)
    llama.n_tokens = 0
    prompt = llama.tokenize(openings()[0].encode(), add_bos=True)[:FLOOR_PROMPT]
    llama.eval(prompt)
    for sequence in range(1, max(ks)):
        llama_cpp.llama_memory_seq_cp(memory, 0, sequence, 0, len(prompt))
    batch = Batch(max(ks))
    times: dict[int, list[float]] = {k: [] for k in (1, *ks)}
    try:
        for _ in range(FLOOR_REPEATS):
            for k in times:
                batch.fill([(prompt[-1], len(prompt), s, True) for s in range(k)])
                started = time.perf_counter()
                if llama_cpp.llama_decode(ctx, batch.batch) != 0:
                    raise SystemExit("llama_decode failed while measuring the floor.")
                times[k].append(time.perf_counter() - started)
                llama_cpp.llama_memory_seq_rm(memory, -1, len(prompt), -1)
    finally:
        batch.close()
        llama_cpp.llama_memory_clear(memory, True)
        llama.n_tokens = 0
    one = statistics.median(times[1])
    return {k: statistics.median(times[k]) / one for k in ks}


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def passage_pairs(
    model: Model, ks: Sequence[int], pairs: int, tokens: int, exact: bool
) -> dict[int, dict[str, Any]]:
    """Solo and k-candidate generations timed in alternation, a new opening each pair. With
    `exact`, every answer is held to `tokens` tokens (the embedded backend's steering)."""
    found: dict[int, dict[str, list[float]]] = {
        k: {"ratios": [], "solo": [], "ballot": [], "tokens_per_s": []} for k in ks
    }
    stories = openings()
    warm = prompts(stories[-1], max(ks))
    await generate_together(model, warm, [Sampling(max_tokens=8, seed=0)] * len(warm))
    for pair in range(pairs):
        opening = stories[pair % len(stories)]
        for k in ks:
            chats = prompts(opening, k)
            sampling = Sampling(temperature=0.8, max_tokens=tokens, seed=pair)
            if exact:
                sampling = sampling.but(min_tokens=tokens)
            samplings = [sampling.but(seed=pair * 10 + n) for n in range(k)]
            solo, _ = await timed(lambda c=chats, s=samplings: model.generate(c[0], s[0]))
            ballot, answers = await timed(
                lambda c=chats, s=samplings: generate_together(model, c, s)
            )
            written = sum(answer.completion_tokens for answer in answers)
            entry = found[k]
            entry["ratios"].append(ballot / solo)
            entry["solo"].append(solo)
            entry["ballot"].append(ballot)
            entry["tokens_per_s"].append(written / ballot)
            print(f"  pair {pair + 1} k={k}: solo {solo:.1f} s, ballot {ballot:.1f} s", flush=True)
    return {k: medians(entry) for k, entry in found.items()}


async def ballot_pairs(ks: Sequence[int], pairs: int) -> dict[int, dict[str, Any]]:
    """`Engine.next` and `Engine.candidates(k)` timed in alternation on one story, as the bot
    runs them on the default models (each solo passage's summary and next beat untimed)."""
    models = default_models()
    settings = default_settings(models)
    found: dict[int, dict[str, list[float]]] = {
        k: {
            "ratios": [],
            "solo": [],
            "ballot": [],
            "solo_calls": [],
            "ballot_calls": [],
            "longest_shared_run": [],
            "same_beats": [],
        }
        for k in ks
    }

    async def written() -> int:
        return sum(call.purpose == "passage" for call in await store.calls(story.id))

    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "ballots.db")
        engine = Engine(store, models, EngineConfig(story_defaults=settings, seed=1))
        try:
            story = await engine.start(opening=openings()[1], settings=settings)
            for pair in range(pairs):
                for k in ks:
                    before = await written()
                    solo, _ = await timed(lambda: engine.next(story.id, summarize=False))
                    between = await written()
                    await engine.summarize(story.id)
                    ballot, options = await timed(lambda k=k: engine.candidates(story.id, k))
                    entry = found[k]
                    entry["longest_shared_run"].append(shared_run([o.text for o in options]))
                    beats = [o.beat for o in options]
                    entry["same_beats"].append(len(beats) - len(set(beats)))
                    entry["ratios"].append(ballot / solo)
                    entry["solo"].append(solo)
                    entry["ballot"].append(ballot)
                    entry["solo_calls"].append(between - before)
                    entry["ballot_calls"].append((await written() - between) / k)
                    print(
                        f"  pair {pair + 1} k={k}: /next {solo:.1f} s, ballot {ballot:.1f} s;"
                        f" passage calls {entry['solo_calls'][-1]}, per candidate"
                        f" {entry['ballot_calls'][-1]:.1f}; longest shared run"
                        f" {entry['longest_shared_run'][-1]} words",
                        flush=True,
                    )
        finally:
            await store.close()
            await models.close()
    return {k: medians(entry) for k, entry in found.items()}


def shared_run(texts: Sequence[str]) -> int:
    """The most words in a row that two of `texts` share."""
    return max(
        (
            len(longest_shared_run(text, texts[n + 1 :]).split())
            for n, text in enumerate(texts[:-1])
        ),
        default=0,
    )


def medians(entry: dict[str, list[float]]) -> dict[str, Any]:
    return {**{f"median_{key}": statistics.median(v) for key, v in entry.items()}, **entry}


def report(data: dict[str, Any]) -> None:
    """The table: per k, the floor, and each measured ratio beside it (÷ floor: the target)."""

    def median(part: str, k: int, key: str = "median_ratios") -> float | None:
        return data.get(part, {}).get(str(k), {}).get(key)

    def over(value: float | None, floor: float | None) -> float | str:
        return value / floor if value is not None and floor else "—"

    rows = []
    for k in data["ks"]:
        floor = data.get("floor", {}).get(str(k))
        passages, ballots, served = (median(part, k) for part in ("passages", "ballots", "server"))
        rows.append(
            [
                k,
                floor or "—",
                passages or "—",
                over(passages, floor),
                median("passages", k, "median_tokens_per_s") or "—",
                ballots or "—",
                over(ballots, floor),
                served or "—",
                median("server", k, "median_tokens_per_s") or "—",
            ]
        )
    headers = ["k", "floor (k tokens ÷ 1)", "passages ÷ solo", "÷ floor", "tokens/s"]
    headers += ["ballot ÷ /next", "÷ floor", "server passages ÷ solo", "server tokens/s"]
    print(table(headers, rows))
    print(f"target: a ballot ≤ {TARGET} × the floor for its k")
    for k in data["ks"]:
        ballots = data.get("ballots", {}).get(str(k), {})
        if ballots.get("longest_shared_run"):
            print(
                f"k={k}: at most {max(ballots['longest_shared_run'])} words in a row shared by"
                f" two candidates (target < 10); {sum(ballots['same_beats'])} repeated beats"
            )


PARTS = ("floor", "passages", "server", "ballots")


async def measure(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """Run the chosen parts, each replacing its own figures in `data`."""
    models = default_models()
    writer = models.passage
    if not isinstance(writer, LocalModel):
        raise SystemExit("The default writer is not the embedded model.")
    data.update(ks=args.k, pairs=args.pairs, tokens=args.tokens, model=writer.name)
    if "floor" in args.parts:
        await writer.load()
        print(f"floor on {writer.name}", flush=True)
        data["floor"] = {str(k): v for k, v in batch_floor(writer, args.k).items()}
    if "passages" in args.parts:
        print("passages, embedded", flush=True)
        passages = await passage_pairs(writer, args.k, args.pairs, args.tokens, exact=True)
        data["passages"] = {str(k): v for k, v in passages.items()}
    await models.close()
    if "server" in args.parts and args.server:
        data["server"] = await served(args, args.server, args.server_model)
        data["server_is"] = args.server
    elif "server" in args.parts and args.llama_server.is_file():
        with llama_server(args.llama_server, writer.path, max(args.k)) as url:
            data["server"] = await served(args, url, "qwen")
        data["server_is"] = f"llama-server, {max(args.k)} slots, unified KV cache"
    elif "server" in args.parts:
        print(f"no llama-server at {args.llama_server}: run bench/llama_server.sh", flush=True)
    if "ballots" in args.parts:
        print("ballots through the engine", flush=True)
        ballots = await ballot_pairs(args.k, args.pairs)
        data["ballots"] = {str(k): v for k, v in ballots.items()}


async def served(args: argparse.Namespace, url: str, name: str) -> dict[str, Any]:
    """The passages ratio through the OpenAI-compatible backend against the server at `url`."""
    print(f"passages, OpenAI-compatible server {url}", flush=True)
    server = OpenAICompatible(name, base_url=url, timeout=600)
    try:
        found = await passage_pairs(server, args.k, args.pairs, args.tokens, exact=False)
    finally:
        await server.close()
    return {str(k): v for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="pairs timed per k (5)")
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 5], help="ballot sizes")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per passage (200)")
    parser.add_argument("--quick", action="store_true", help="2 pairs, k 2 and 3, 100 tokens")
    parser.add_argument(
        "--llama-server", type=Path, default=LLAMA_SERVER, help="llama.cpp's server binary"
    )
    parser.add_argument("--server", help="measure this OpenAI-compatible /v1 URL instead")
    parser.add_argument("--server-model", default="qwen", help="the model name it serves")
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure (all)"
    )
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.k, args.tokens = 2, [2, 3], 100
    name = "ballots_quick" if args.quick else "ballots"
    path = RESULTS / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if data.get("ks") != args.k:
        data = {}
    started = time.perf_counter()
    asyncio.run(measure(args, data))
    data.update(machine=machine(), seconds=time.perf_counter() - started, target=TARGET)
    report(data)
    print(f"results: {write_results(name, data)}; took {data['seconds']:.0f} s")


if __name__ == "__main__":
    main()
