"""``r.monitor()``: redis-py's ``Monitor`` on a connection of its own.

MONITOR turns a connection into a feed of every command the server runs, so it never
goes on the client's shared connection: the core opens a new one with the client's
settings (address, TLS, credentials, db, protocol) and parses each line; this module
gives it redis-py's surface. Use it as a context manager (``with r.monitor() as m`` /
``async with r.monitor() as m``); ``next_command()`` returns one command as a dict,
``listen()`` yields them as they come; leaving the block closes the connection.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, AsyncIterator, Callable, Iterator, List, Optional, Tuple, Type, TypedDict

from . import _redbridge
from ._options import native_options, split_url

__all__ = ["AsyncMonitor", "Monitor", "MonitorCommandInfo"]


class MonitorCommandInfo(TypedDict):
    """One command the server ran: when (server time, seconds), in which database, from
    which client (``client_type`` is "tcp", "unix", "lua" or "unknown"), and the command
    with its arguments as the server quoted them (``\\x92`` for a non-printable byte)."""

    time: float
    db: int
    client_address: str
    client_port: str
    client_type: str
    command: str


def _native_args(client: Any) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """The URL and core options the client was made with (after ``select()`` or
    ``client_setname()``), without the reply-decoding ones a monitor has no use for."""
    url, kwargs = client._make
    kwargs = {k: v for k, v in kwargs.items() if k != "decode_responses"}
    if url is not None:
        url, python_only = split_url(url)
        kwargs = {**{k: v for k, v in python_only.items() if k != "decode_responses"}, **kwargs}
    return url, native_options(**kwargs)


class Monitor:
    """redis-py's Monitor: ``with r.monitor() as m: m.next_command()``.

    The connection opens when the block is entered (or at the first ``next_command()``)
    and is ready once the server acknowledged MONITOR: every command run afterwards is
    seen. Waiting releases the GIL; Ctrl-C interrupts it.
    """

    def __init__(self, client: Any) -> None:
        self._args = _native_args(client)
        self._native: Any = None

    def _open(self) -> Any:
        if self._native is None:
            self._native = _redbridge.NativeMonitor.open(*self._args)
        return self._native

    def __enter__(self) -> "Monitor":
        self._open()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def next_command(self, timeout: Optional[float] = None) -> Optional[MonitorCommandInfo]:
        """The next command the server runs. Waits as long as it takes, or at most
        ``timeout`` seconds (then None); ConnectionError once the connection is gone."""
        command: Optional[MonitorCommandInfo] = self._open().next(timeout)
        return command

    def listen(self) -> Iterator[MonitorCommandInfo]:
        """Every command the server runs, as it runs them (until the connection closes)."""
        native = self._open()
        while True:
            yield native.next()

    def close(self) -> None:
        """Closes the connection; the server stops the feed. Idempotent."""
        native, self._native = self._native, None
        if native is not None:
            native.close()


class AsyncMonitor:
    """redis-py's asyncio Monitor: ``async with r.monitor() as m: await m.next_command()``."""

    def __init__(self, client: Any, run: Callable[..., Any]) -> None:
        # ``run(start, *args)`` awaits a native call that settles an asyncio future.
        self._native: Any = _redbridge.NativeAsyncMonitor(*_native_args(client))
        self._run = run
        self._opened = False

    async def connect(self) -> None:
        """Opens the connection and sends MONITOR (once)."""
        if not self._opened:
            await self._run(self._native.open_async)
            self._opened = True

    async def __aenter__(self) -> "AsyncMonitor":
        await self.connect()
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()

    async def next_command(self) -> MonitorCommandInfo:
        """The next command the server runs; ConnectionError once the connection is
        gone. Cancelling the wait (``asyncio.wait_for``) loses no command."""
        await self.connect()
        command: MonitorCommandInfo = await self._run(self._native.next_async)
        return command

    async def listen(self) -> AsyncIterator[MonitorCommandInfo]:
        """``async for command in m.listen()``: every command, as the server runs it."""
        while True:
            yield await self.next_command()

    async def aclose(self) -> None:
        """Closes the connection (after a wait still in progress, if any, has its
        command). Idempotent."""
        self._native.close()
