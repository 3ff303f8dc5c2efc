"""Lua scripts run by their SHA1, as redis-py's ``register_script``: EVALSHA first, and
EVAL's script loaded only when the server does not know it (NOSCRIPT), also in pipelines."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterable, Optional

from .exceptions import NoScriptError

if TYPE_CHECKING:  # pragma: no cover
    from ._base import ClientBase


def sha1_of(script: "str | bytes") -> str:
    return hashlib.sha1(script.encode() if isinstance(script, str) else script).hexdigest()


class Script:
    """A script registered with a client: call it with keys and args; it runs by SHA1 and
    is loaded on the first NOSCRIPT. In a pipeline it is loaded before the pipeline runs."""

    def __init__(self, registered_client: "ClientBase", script: "str | bytes") -> None:
        self.registered_client: Any = registered_client
        self.script = script
        self.sha = sha1_of(script)

    def __call__(self, keys: Iterable[Any] = (), args: Iterable[Any] = (), client: Optional[Any] = None) -> Any:
        client = self.registered_client if client is None else client
        keys = list(keys)
        argv = [*keys, *args]
        scripts = getattr(client, "_scripts", None)
        if scripts is not None:  # a pipeline: loaded before it is sent
            scripts[self.sha] = self.script
            return client.evalsha(self.sha, len(keys), *argv)
        try:
            return client.evalsha(self.sha, len(keys), *argv)
        except NoScriptError:
            self.sha = client.script_load(self.script)
            return client.evalsha(self.sha, len(keys), *argv)


class AsyncScript(Script):
    """``Script`` for redbridge.asyncio clients: calling it gives a coroutine."""

    async def __call__(self, keys: Iterable[Any] = (), args: Iterable[Any] = (), client: Optional[Any] = None) -> Any:
        client = self.registered_client if client is None else client
        keys = list(keys)
        argv = [*keys, *args]
        scripts = getattr(client, "_scripts", None)
        if scripts is not None:
            scripts[self.sha] = self.script
            return client.evalsha(self.sha, len(keys), *argv)
        try:
            return await client.evalsha(self.sha, len(keys), *argv)
        except NoScriptError:
            self.sha = await client.script_load(self.script)
            return await client.evalsha(self.sha, len(keys), *argv)
