"""The `automuse` command: run the bot, write a story in the terminal, list, show, export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.ballots.service import ballot_choices
from bot.cli_input import (
    UsageError,
    check_arguments,
    check_new_file,
    json_for_terminal,
    read_text_file,
)
from bot.config import ConfigError, Secret, Settings, database_url, load_settings, read_shards
from bot.engine import Engine, EngineConfig
from bot.errors import StoryError
from bot.export import finetune_rows, jsonl, markdown, preference_rows
from bot.inert import terminal_safe
from bot.llm import ModelError, open_models
from bot.lookups import find_story
from bot.prompts import template
from bot.settings import LIMITS, STYLES, StorySettings, beginning
from bot.store import Store, StoreError, transfer

DEMO_PASSAGES = 5
DEMO_TITLE = "The Door Below the Lamp"


class Terminal:
    """What the terminal commands share: settings, the store, the models when needed."""

    def __init__(self, settings: Settings, out: TextIO, err: TextIO) -> None:
        self.settings = settings
        self.out = out
        self.err = err

    async def write(
        self,
        *,
        opening: str,
        premise: str,
        title: str,
        passages: int,
        style: str | None,
        planner: bool | None = None,
    ) -> int:
        """Start a story and write `passages` more, printing each as soon as it is written;
        `planner` turns the story's planner on or off (None: the configured default)."""
        beginning(opening, premise, title)
        if not self.settings.database_url:
            check_new_file(self.settings.db_path, "database")
        models = open_models(self.settings)
        store = await Store.open(self.settings.database)
        try:
            engine = Engine(store, models, EngineConfig.from_settings(self.settings, style, models))
            self.progress(f"model: {models.passage.name}; database: {store.name}")
            started = time.perf_counter()
            self.progress("writing the opening…" if not opening else "reading the opening…")
            story = await engine.start(
                opening=opening, premise=premise, title=title, summarize=False
            )
            self.progress(f"story {story.id}: {terminal_safe(story.title)}")
            self.print_passage(1, (await engine.stories.line(story.id))[-1].text)
            try:
                if planner is not None:
                    await engine.edits.update_settings(story.id, planner=planner)
                await self.write_passages(engine, story.id, passages, after=1)
            except (StoreError, StoryError, ModelError) as error:
                raise Interrupted(
                    f"{str(error).rstrip('.')}; story {story.id} is kept as far as it is"
                    f" printed, go on with `automuse write --story {story.id}`."
                ) from None
            seconds = time.perf_counter() - started
            self.progress(
                f"done in {seconds:.0f} s: story {story.id} has {passages + 1} passages."
                f" Show it with `automuse show {story.id}`."
            )
            return story.id
        finally:
            await models.close()
            await store.close()

    async def extend(
        self, story_id: int, passages: int, style: str | None, planner: bool | None = None
    ) -> None:
        """Write `passages` more passages of an existing story, printing each as it comes;
        `planner` turns the story's planner on or off for good."""
        store = await Store.open(self.settings.database, create=False)
        try:
            story = await find_story(store, story_id)
            models = open_models(self.settings)
            try:
                config = EngineConfig.from_settings(self.settings, style, models)
                engine = Engine(store, models, config)
                self.progress(f"story {story.id}: {terminal_safe(story.title)}")
                if planner is not None:
                    await engine.edits.update_settings(story.id, planner=planner)
                after = len(await engine.stories.line(story.id))
                await self.write_passages(engine, story.id, passages, after=after)
            finally:
                await models.close()
        finally:
            await store.close()

    async def write_passages(
        self, engine: Engine, story_id: int, passages: int, after: int
    ) -> None:
        """Write `passages` passages after the story's first `after`, printing each."""
        for number in range(1, passages + 1):
            self.progress(f"[{number}/{passages}] writing…")
            passage = await engine.next(story_id)
            self.print_passage(after + number, passage.text)

    def print_passage(self, number: int, text: str) -> None:
        print(f"\n§{number}\n{terminal_safe(text)}", file=self.out, flush=True)

    def progress(self, message: str) -> None:
        print(f"· {message}", file=self.err, flush=True)

    async def stories(self) -> None:
        store = await Store.open(self.settings.database, create=False)
        try:
            rows = await store.stories()
        finally:
            await store.close()
        if not rows:
            print("No stories yet. Write one with `automuse write`.", file=self.out)
            return
        print(f"{'id':>4}  {'passages':>8}  {'status':<6}  title", file=self.out)
        for story, count in rows:
            title = terminal_safe(story.title)
            print(f"{story.id:>4}  {count:>8}  {story.status:<6}  {title}", file=self.out)

    async def export(
        self, story_id: int, form: str, chat: bool, output: str | None, beats: bool = False
    ) -> None:
        """Print the story, or write it to `output`, in `form` (Markdown with each passage's
        beat above it when `beats`). Printed text has its control characters made visible
        (Markdown) or escaped (JSONL); a file gets the text as it is."""
        if output:
            check_new_file(Path(output), "output file")
        store = await Store.open(self.settings.database, create=False)
        try:
            story = await find_story(store, story_id)
            line = await store.line(story.head_id)
            threads = await store.threads(story_id, closed=True)
            choices = await ballot_choices(store, story_id)
        finally:
            await store.close()
        length = StorySettings.of(story).length
        if form == "md":
            text = markdown(story, line, beats=beats, threads=threads)
        elif form == "preferences":
            text = jsonl(preference_rows(choices, length))
        else:
            text = jsonl(finetune_rows(line, "chat" if chat else "completion", length))
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as error:
                raise UsageError(f"{output} cannot be written ({error.strerror}).") from None
            self.progress(f"wrote {output}")
        else:
            self.out.write(terminal_safe(text) if form == "md" else json_for_terminal(text))


async def migrate_db(source: str, target: str, out: TextIO) -> None:
    """Copy every table of the database at `source` into the empty one at `target`."""
    old = await Store.open(source, create=False)
    try:
        new = await Store.open(target)
        try:
            counts = await transfer(old, new)
        finally:
            await new.close()
    finally:
        await old.close()
    copied = ", ".join(f"{rows} {table}" for table, rows in counts.items())
    print(f"Copied {old.name} to {new.name}: {copied}.", file=out)


REQUEST_LOGGERS = ("httpx", "httpx2")
"""The HTTP clients under the openai SDK, which log a line per request: kept for the bot's
log, left out of a terminal command's output."""


class Interrupted(Exception):
    """A story was started and kept, but writing it stopped on an error."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automuse",
        description="AutoMuse co-writes fiction: a Discord bot and a terminal story writer.",
    )
    parser.add_argument(
        "--db",
        help="a SQLite file or a postgresql:// URL"
        " (default: AUTOMUSE_DATABASE_URL, else AUTOMUSE_DB, else automuse.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the Discord bot, or write a demo story when no DISCORD_TOKEN is set",
    )
    run.add_argument(
        "--shard-count",
        metavar="N",
        help="the bot's total number of shards (default: AUTOMUSE_SHARD_COUNT, else Discord's)",
    )
    run.add_argument(
        "--shards",
        metavar="IDS",
        help="the shards this process runs, e.g. 0-3 or 0,2 (default: AUTOMUSE_SHARD_IDS or all)",
    )
    write = commands.add_parser("write", help="write a story in the terminal")
    source = write.add_mutually_exclusive_group()
    source.add_argument("--opening", help=f"the opening text (at most {LIMITS.opening} characters)")
    source.add_argument("--opening-file", metavar="PATH", help="read the opening from a UTF-8 file")
    source.add_argument(
        "--story", type=int, metavar="ID", help="continue story ID instead of starting one"
    )
    write.add_argument(
        "--premise",
        default="",
        help=f"a premise (at most {LIMITS.premise} characters); alone, the model writes an opening",
    )
    write.add_argument(
        "-n", "--passages", type=int, default=5, help="passages to write (default 5)"
    )
    write.add_argument("--title", default="", help="the story's title")
    write.add_argument("--style", choices=STYLES, help="prompt style")
    write.add_argument(
        "--planner",
        choices=("on", "off"),
        help="on: AutoMuse decides what happens in each passage; off: the model just goes on"
        " (default: AUTOMUSE_PLANNER, on)",
    )
    commands.add_parser("stories", help="list the stories in the database")
    show = commands.add_parser("show", help="print a story")
    show.add_argument("id", type=int)
    show.add_argument(
        "--beats",
        action="store_true",
        help="print above each passage what it was to make happen, and the story's threads",
    )
    export = commands.add_parser("export", help="export a story as Markdown or JSONL")
    export.add_argument("id", type=int)
    export.add_argument(
        "--format",
        choices=("md", "finetune", "preferences"),
        default="md",
        dest="form",
        help="md: the story; finetune: prompt/completion JSONL;"
        " preferences: OpenAI preference (DPO) JSONL from the channel's ballots",
    )
    export.add_argument(
        "--chat", action="store_true", help="finetune: chat messages instead of prompt/completion"
    )
    export.add_argument("-o", "--output", help="write to this file instead of standard output")
    export.add_argument(
        "--beats", action="store_true", help="md: each passage's beat above it, quoted"
    )
    migrate = commands.add_parser(
        "migrate-db", help="copy a whole database into an empty one, e.g. SQLite to PostgreSQL"
    )
    migrate.add_argument("--from", dest="source", required=True, metavar="URL", help="copy from")
    migrate.add_argument("--to", dest="target", required=True, metavar="URL", help="copy into")
    return parser


async def dispatch(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> None:
    terminal = Terminal(settings, out, err)
    if args.command == "run":
        if settings.discord_token:
            from bot.client import run_bot

            await run_bot(settings)
            return
        print(
            "No DISCORD_TOKEN is set, so here is a demo story in the terminal;"
            " set DISCORD_TOKEN in .env to run the Discord bot (see README).",
            file=err,
        )
        await terminal.write(
            opening=template("demo_opening"),
            premise=template("demo_premise"),
            title=DEMO_TITLE,
            passages=DEMO_PASSAGES,
            style=None,
        )
    elif args.command == "write":
        opening = read_text_file(args.opening_file) if args.opening_file else args.opening or ""
        if args.opening_file and not opening.strip():
            raise UsageError(f"The file {args.opening_file} is empty.")
        if args.passages < 1 or args.passages > 100:
            raise UsageError("Write between 1 and 100 passages.")
        planner = None if args.planner is None else args.planner == "on"
        if args.story is not None:
            if args.premise or args.title:
                raise UsageError("A continued story keeps its own premise and title.")
            await terminal.extend(args.story, args.passages, args.style, planner)
            return
        await terminal.write(
            opening=opening,
            premise=args.premise,
            title=args.title,
            passages=args.passages,
            style=args.style,
            planner=planner,
        )
    elif args.command == "stories":
        await terminal.stories()
    elif args.command == "show":
        await terminal.export(args.id, "md", False, None, beats=args.beats)
    elif args.command == "export":
        if args.beats and args.form != "md":
            raise UsageError("--beats goes with the md format only.")
        await terminal.export(args.id, args.form, args.chat, args.output, beats=args.beats)
    elif args.command == "migrate-db":
        await migrate_db(args.source, args.target, out)


def with_shard_flags(settings: Settings, count: str | None, ids: str | None) -> Settings:
    """`settings` with `run --shard-count/--shards` over the environment's shard settings."""
    if count is None and ids is None:
        return settings
    env_ids = ",".join(map(str, settings.shard_ids or ()))
    shard_count, shard_ids = read_shards(
        str(settings.shard_count or "") if count is None else count,
        env_ids if ids is None else ids,
        ("--shard-count", "--shards"),
    )
    return replace(settings, shard_count=shard_count, shard_ids=shard_ids)


def with_database(settings: Settings, target: str) -> Settings:
    """`settings` with the database `--db` names: a URL, or else a SQLite path."""
    url = database_url(target) if "://" in target else ""
    path = settings.db_path if url else Path(target)
    return replace(settings, db_path=path, database_url=Secret(url))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error is one sentence on standard error and exit code 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        check_arguments(argv)
    except UsageError as error:
        print(f"automuse: {error}", file=sys.stderr)
        return 2
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.db:
            settings = with_database(settings, args.db)
        if args.command == "run":
            settings = with_shard_flags(settings, args.shard_count, args.shards)
        logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
        if args.command != "run":
            for name in REQUEST_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
        asyncio.run(dispatch(args, settings, sys.stdout, sys.stderr))
    except ConfigError as error:
        print(f"automuse: configuration error: {error}", file=sys.stderr)
        return 2
    except (StoreError, StoryError, ModelError, UsageError, Interrupted) as error:
        print(f"automuse: {terminal_safe(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
