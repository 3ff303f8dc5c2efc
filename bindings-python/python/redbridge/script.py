"""Lua scripts run by their SHA1, as redis-py's ``register_script``.

Calling a script hands it to the core (``eval_script``), which sends EVALSHA and, only
when the server answers NOSCRIPT, EVAL with the body (which caches it there): one request,
with the core's admission, guard, timeouts and retry rule. Queued on a pipeline, a script
is an EVALSHA slot, and the pipeline loads the scripts the server lacks before it sends
(a pipeline cannot resend one of its slots)."""

from __future__ import annotations

import hashlib
import importlib
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Tuple

from ._base import ClientBase, shape

if TYPE_CHECKING:  # pragma: no cover
    from ._base import Encoder


def sha1_of(script: "str | bytes") -> str:
    """The SHA1 the server knows ``script`` by (as ``SCRIPT LOAD`` answers)."""
    return hashlib.sha1(script.encode() if isinstance(script, str) else script).hexdigest()


# What a script's reply goes through: EVALSHA's response callback (none built in; one set
# with set_response_callback("EVALSHA", …) applies, as in redis-py).
_SHAPED_AS = ("EVALSHA",)


class Script:
    """A script registered with a client (``register_script``): call it with keys and
    args; it runs by SHA1 and its body is sent only when the server lacks it. With
    ``client=`` a pipeline, it is queued there (loaded before the pipeline runs)."""

    def __init__(self, registered_client: Any, script: "str | bytes") -> None:
        self.registered_client: Any = registered_client
        self.script = script
        self.sha = sha1_of(script)

    def get_encoder(self) -> "Encoder":
        """The encoder of the registered client (redis-py's)."""
        encoder: "Encoder" = self.registered_client.get_encoder()
        return encoder

    def _target(self, keys: Iterable[Any], args: Iterable[Any], client: Optional[Any]) -> Tuple[Any, List[Any], List[Any]]:
        client = self.registered_client if client is None else client
        return client, list(keys), list(args)

    def _queue(self, pipe: Any, keys: List[Any], args: List[Any]) -> Any:
        """On a pipeline: an EVALSHA slot, the script loaded before the pipeline is sent."""
        pipe._scripts[self.sha] = self.script
        return pipe.evalsha(self.sha, len(keys), *keys, *args)

    def __call__(self, keys: Iterable[Any] = (), args: Iterable[Any] = (), client: Optional[Any] = None) -> Any:
        client, keys, args = self._target(keys, args, client)
        if getattr(client, "_scripts", None) is not None:
            return self._queue(client, keys, args)
        native = _native_of(client)
        return shape(_SHAPED_AS, native.eval_script(self.script, keys, args), {}, client._callbacks)


class AsyncScript(Script):
    """``Script`` for redbridge.asyncio clients: calling it gives a coroutine. It takes the
    client's batched crossing when its loop owns it, else the per-request path (as
    ``execute_command`` does)."""

    async def __call__(self, keys: Iterable[Any] = (), args: Iterable[Any] = (), client: Optional[Any] = None) -> Any:
        client, keys, args = self._target(keys, args, client)
        if getattr(client, "_scripts", None) is not None:
            return self._queue(client, keys, args)
        # The asyncio client's bridge to a future; imported late (that module imports this
        # one), by name (its typed stub lists only the public surface).
        _await = importlib.import_module(".asyncio.client", __package__)._await
        native = _native_of(client)
        batch = client._batched() if hasattr(client, "_batched") else None
        if batch is not None:
            reply = await batch._enqueue(batch._native.submit_script, self.script, keys, args)
        else:
            reply = await _await(native.eval_script_async, self.script, keys, args)
        return shape(_SHAPED_AS, reply, {}, client._callbacks)


def _native_of(client: Any) -> Any:
    """The core client behind a redbridge client (opened again after close())."""
    if not isinstance(client, ClientBase):
        raise TypeError(f"a script runs on a redbridge client or pipeline, not {type(client).__name__}")
    return client._live()
