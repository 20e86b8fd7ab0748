"""A PostgreSQL server that goes away after start-up: one sentence, never a stack trace."""

from __future__ import annotations

import asyncio
import sys

import pytest
from aiohttp import web

from bot.store import Store, StoreError
from tests.postgres_server import PostgresServer
from tests.servers import HOST
from tests.test_cli_errors import cli_environment


async def test_a_server_gone_after_start_up_is_one_sentence() -> None:
    server = PostgresServer().start()
    try:
        store = await Store.open(await server.new_database())
        assert await store.stories() == []
        server.stop()
        with pytest.raises(StoreError) as lost:
            await store.stories()
        with pytest.raises(StoreError):
            await store.remove_lore(1, "Lamp")
    finally:
        server.stop()
    assert str(lost.value).startswith("The database ")
    assert "cannot be reached" in str(lost.value) and "\n" not in str(lost.value)
    await store.close()


async def test_a_server_stopped_mid_write_keeps_the_story_and_says_so_in_one_line(tmp_path) -> None:
    """`automuse write` against PostgreSQL that stops while the opening's summary is being
    written: the opening is kept and announced, and the error says what was kept."""
    server = PostgresServer().start()
    try:
        url = await server.new_database()

        async def answer_once_the_server_is_gone(request: web.Request) -> web.Response:
            await asyncio.get_running_loop().run_in_executor(None, server.stop)
            message = {"role": "assistant", "content": "The keeper lit the lamp at dusk."}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return web.json_response(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [choice],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            )

        app = web.Application()
        app.router.add_post("/v1/chat/completions", answer_once_the_server_is_gone)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = runner.addresses[0][1]
        environ = cli_environment(f"http://{HOST}:{port}/v1")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--db", url, "write", "-n", "2",
            "--opening", "The lamp on Ness Island went dark at midnight.",
            cwd=tmp_path, env=environ,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 120)
        await runner.cleanup()
    finally:
        server.stop()
    assert process.returncode == 2
    lines = [line for line in err.decode().splitlines() if not line.startswith("· ")]
    assert len(lines) == 1, err.decode()
    [line] = lines
    assert line.startswith("automuse: The database ") and "cannot be reached" in line
    assert "the change in progress was not made" in line and "nothing was changed" not in line
    assert line.endswith("story 1 is kept as far as it is printed, go on with"
                         " `automuse write --story 1`.")  # fmt: skip
    assert "§1\nThe lamp on Ness Island went dark at midnight." in out.decode()
