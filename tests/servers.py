"""A real llama-cpp-python OpenAI-compatible server, run as a subprocess on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` serving one GGUF on 127.0.0.1.

    `start()` waits until `GET /v1/models` answers; `stop()` terminates, then kills.
    Both can be called again: a restarted server keeps its port.
    """

    def __init__(
        self,
        model: Path,
        *,
        alias: str = "smollm2",
        port: int | None = None,
        context_tokens: int = 2048,
        threads: int = 1,
    ) -> None:
        self.model = Path(model)
        self.alias = alias
        self.port = port or free_port()
        self.context_tokens = context_tokens
        self.threads = threads
        self._process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        os.close(handle)
        self._log = Path(name)
        # Never go through a proxy, even if the environment names one.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            self.alias,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context_tokens),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--use_mlock",
            "False",
            "--verbose",
            "False",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers, or raise RuntimeError with its log."""
        if self.running:
            return
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"llama server exited with code {code}:\n{self.log()}")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"llama server did not answer within {timeout:g} s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with self._opener.open(f"{self.base_url}/models", timeout=1.0) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server, killing it if it has not exited after `timeout` seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def log(self) -> str:
        """What the server has written to stdout and stderr since it last started."""
        return self._log.read_bytes().decode(errors="replace")[-4000:]

    def close(self) -> None:
        self.stop()
        self._log.unlink(missing_ok=True)

    def __enter__(self) -> LlamaServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
