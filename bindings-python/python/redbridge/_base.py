"""What the sync and asyncio clients and pipelines share, beside the command mixin:
construction from redis-py's arguments or a URL, and a pipeline's queue and results."""

from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar
from urllib.parse import parse_qsl, urlsplit

from . import _parsers
from ._commands import Commands
from ._options import make_native
from .exceptions import DataError, RedisError, ResponseError

C = TypeVar("C", bound="ClientBase")


def command_name(args: Tuple[Any, ...]) -> str:
    name = args[0]
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return str(name).upper()


# Command name as given (str or bytes, any case) -> its callback or None. Bounded: names
# reach it from execute_command, so a program sending many odd names stops adding them.
_RESOLVED: Dict[Any, Optional[Callable[..., Any]]] = {}


def callback_for(name: Any) -> Optional[Callable[..., Any]]:
    """The response callback for a command name as the caller gave it (cached lookup:
    it runs once per reply, a pipeline's hot path)."""
    try:
        return _RESOLVED[name]
    except KeyError:
        pass
    except TypeError:  # an unhashable name (bytearray…): look it up each time
        return _parsers.CALLBACKS.get(command_name((name,)))
    callback = _parsers.CALLBACKS.get(command_name((name,)))
    if len(_RESOLVED) < 4096:
        _RESOLVED[name] = callback
    return callback


def shape(args: Tuple[Any, ...], reply: Any, options: Dict[str, Any], own: Optional[Dict[str, Callable[..., Any]]] = None) -> Any:
    """Applies the response callback of the command (redis-py's response_callbacks);
    ``own``: a client's callbacks from ``set_response_callback``, which take precedence."""
    if isinstance(reply, Exception):
        return reply
    callback = own.get(command_name(args), callback_for(args[0])) if own else callback_for(args[0])
    return callback(reply, **options) if callback else reply


# redis-py's option names for execute_command: the reply a command stands for when the
# server refuses it (MGET of no keys: []), and a reply kept as bytes whatever
# decode_responses says (DUMP's serialized value).
EMPTY_RESPONSE = "EMPTY_RESPONSE"
NEVER_DECODE = "NEVER_DECODE"


def annotate(error: Exception, index: int, args: Tuple[Any, ...]) -> Exception:
    """redis-py's wording for a failed pipeline command, naming the command but not its
    arguments (argument values never appear in redbridge's errors; redis-py shows them)."""
    message = error.args[0] if error.args else str(error)
    error.args = (f"Command # {index + 1} ({command_name(args)}) of pipeline caused error: {message}",) + error.args[1:]
    return error


def scan_kwargs(kind: str, name: Any, match: Any, count: Optional[int], _type: Optional[str] = None) -> Dict[str, Any]:
    return {"kind": kind, "key": name, "pattern": match, "count": count, "key_type": _type}


def _shapes_for(protocol: Any) -> Optional[Dict[str, Callable[..., Any]]]:
    """The reply shapes a client gives, as redis-py 8.1 chooses them: with protocol=3
    asked for, its RESP3 shapes (laid over the default ones as the client's own
    callbacks); otherwise (RESP3 on the wire all the same) its legacy RESP2 shapes."""
    if protocol is not None and str(protocol).lower() in ("3", "resp3"):
        return dict(_parsers.RESP3_SHAPES)
    return None


# Every client made, weakly: what redbridge.observability observes at each collection
# (the pool's idle/used connections, the cache's items).
_tracked: "weakref.WeakSet[ClientBase]" = weakref.WeakSet()


class ClientBase(Commands):
    """redis-py's constructor arguments; see redbridge.Redis for their meaning."""

    # Callbacks set with set_response_callback (None until one is: the hot path looks no
    # further), by upper-case command name.
    _callbacks: Optional[Dict[str, Callable[..., Any]]] = None

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        unix_socket_path: Optional[str] = None,
        decode_responses: bool = False,
        retry_on_timeout: bool = False,
        max_connections: Optional[int] = None,
        username: Optional[str] = None,
        client_name: Optional[str] = None,
        protocol: Optional[int] = None,
        ssl: bool = False,
        ssl_keyfile: Optional[str] = None,
        ssl_certfile: Optional[str] = None,
        ssl_cert_reqs: Any = "required",
        ssl_ca_certs: Optional[str] = None,
        ssl_ca_data: Optional[str] = None,
        ssl_check_hostname: bool = True,
        **kwargs: Any,
    ) -> None:
        if ssl:
            # redis-py's TLS arguments; they mean something only with ssl=True, as there.
            kwargs.update(ssl=True, ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile, ssl_cert_reqs=ssl_cert_reqs,
                          ssl_ca_certs=ssl_ca_certs, ssl_ca_data=ssl_ca_data, ssl_check_hostname=ssl_check_hostname)
        options = dict(
            host=host,
            port=port,
            db=db,
            password=password,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            unix_socket_path=unix_socket_path,
            decode_responses=decode_responses,
            retry_on_timeout=retry_on_timeout,
            max_connections=max_connections,
            username=username,
            client_name=client_name,
            protocol=protocol,
            **kwargs,
        )
        self._make: Tuple[Optional[str], Dict[str, Any]] = (None, dict(options))
        self._protocol: Any = protocol
        self._callbacks = _shapes_for(protocol)
        self._native, self._decode = make_native(None, options)
        _tracked.add(self)

    @classmethod
    def from_url(cls: "type[C]", url: str, **kwargs: Any) -> C:
        """``redis://[user:password@]host:port/db?option=value``, ``unix:///path``;
        keyword arguments override what the URL says."""
        self = cls.__new__(cls)
        self._make = (url, dict(kwargs))
        given = kwargs.get("protocol")
        if given is None and isinstance(url, str):
            given = dict(parse_qsl(urlsplit(url).query)).get("protocol")
        self._protocol = given
        self._callbacks = _shapes_for(given)
        self._native, self._decode = make_native(url, kwargs)
        _tracked.add(self)
        return self

    def _reopen_later(self) -> None:
        """After close(): the next use opens the client anew with the same options, as
        redis-py reconnects a closed client on its next command."""
        self._native = _Reopen(self)

    def _live(self) -> Any:
        """The native client, opened again first when close() was called."""
        native = self._native
        return native._open() if isinstance(native, _Reopen) else native

    # The Lock and Script classes of this client's flavour (sync or asyncio).
    _lock_class: Any = None
    _script_class: Any = None

    def register_script(self, script: "str | bytes") -> Any:
        """A Lua script called by its SHA1 (EVALSHA), loaded on the first NOSCRIPT."""
        return self._script_class(self, script)

    def lock(
        self,
        name: Any,
        timeout: Optional[float] = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: Optional[float] = None,
        lock_class: Optional[Any] = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ) -> Any:
        """A Lock on key ``name`` with redis-py's semantics (see redbridge.lock.Lock; the
        asyncio client's awaits); ``lock_class`` takes another class."""
        cls = self._lock_class if lock_class is None else lock_class
        return cls(self, name, timeout=timeout, sleep=sleep, blocking=blocking, blocking_timeout=blocking_timeout,
                   thread_local=thread_local, raise_on_release_error=raise_on_release_error)

    def get_encoder(self) -> "Encoder":
        """redis-py's encoder of this client: how values become the bytes sent."""
        return Encoder(self._decode)

    def set_response_callback(self, command: str, callback: Callable[..., Any]) -> None:
        """Shapes the replies of ``command`` with ``callback(reply, **options)`` on this
        client (and its pipelines) instead of the built-in conversion, as in redis-py."""
        own = dict(self._callbacks or {})
        own[command.upper()] = callback
        self._callbacks = own

    @property
    def response_callbacks(self) -> "ResponseCallbacks":
        """The reply callbacks by command name (case-insensitive), as redis-py's
        attribute; assigning an entry is ``set_response_callback``."""
        return ResponseCallbacks(self, {**_parsers.CALLBACKS, **(self._callbacks or {})})

    def _with_options(self, **changes: Any) -> None:
        """Remembers changed construction options (``select``'s db, ``client_setname``'s
        name) for the connections the client opens after it is closed."""
        url, options = self._make
        self._make = (url, {**options, **changes})

    def __repr__(self) -> str:
        return f"<{type(self).__module__.replace('.client', '')}.{type(self).__name__} decode_responses={self._decode}>"

    def stats(self) -> Dict[str, int]:
        """The core's counters: requests, errors_<kind>, retries, reconnects, pool_*, and
        cache_hits / cache_misses / cache_invalidations / cache_evictions / cache_entries /
        cache_bytes when the client-side cache is on."""
        return dict(self._native.stats())

    def node_stats(self) -> Dict[str, Dict[str, int]]:
        """On a cluster, each node's counters by ``host:port``: ``primary`` (1 while it
        serves slots), ``requests`` and ``errors`` (counted on the node of a command's
        first key), and its part of the client-side cache (``cache_*``) when the cache is
        on. Empty for a standalone server. ``stats()`` has the totals."""
        return {addr: dict(c) for addr, c in self._native.node_stats().items()}

    def cache_clear(self) -> None:
        """Empties the client-side cache (no-op when it is off)."""
        self._native.cache_clear()


class PipelineBase(Commands):
    """A pipeline's queue, its MULTI state and the shaping of its results."""

    def __init__(self, client: ClientBase, transaction: bool = True) -> None:
        self._client = client
        self.transaction = transaction
        # Scripts called in this pipeline, by SHA1: loaded before it is sent.
        self._scripts: Dict[str, Any] = {}
        self._stack: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = []
        self._lease: Any = None
        self._watching = False
        self._explicit = False
        self._discarded = False

    def __len__(self) -> int:
        return len(self._stack)

    def __bool__(self) -> bool:
        return True

    def _queue(self, args: Tuple[Any, ...], options: Dict[str, Any]) -> Any:
        self._stack.append((args, options))
        return self

    def _check_watch(self) -> None:
        if self._explicit:
            raise RedisError("Cannot issue a WATCH after a MULTI")

    def multi(self) -> None:
        if self._explicit:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._explicit = True

    @property
    def watching(self) -> bool:
        """True between ``watch()`` and the end of the transaction (redis-py's attribute)."""
        return self._watching

    def _take(self) -> Tuple[List[Tuple[Tuple[Any, ...], Dict[str, Any]]], List[Tuple[Any, ...]], bool]:
        """The queued commands, the argument tuples to send, and whether to wrap them in
        MULTI. A command with an EMPTY_RESPONSE (MGET of no keys) is not sent: its slot
        gets that value, as redis-py does in transactions."""
        if self._discarded:
            self._clear()
            raise ResponseError("EXEC without MULTI: the pipeline was discarded (discard()) before execute()")
        stack = self._stack
        return stack, [a for a, o in stack if not o or EMPTY_RESPONSE not in o], self.transaction or self._explicit

    def _aborted(self, stack: List[Tuple[Tuple[Any, ...], Dict[str, Any]]], error: Exception) -> Exception:
        """EXECABORT names the command the server refused while queuing: the error is
        annotated as that command's, as redis-py raises it."""
        sent = getattr(error, "command_index", None)
        if sent is None:
            return error
        indices = [i for i, (_, o) in enumerate(stack) if not o or EMPTY_RESPONSE not in o]
        index = indices[sent] if sent < len(indices) else sent
        return annotate(error, index, stack[index][0] if index < len(stack) else ("?",))

    def _results(self, stack: List[Tuple[Tuple[Any, ...], Dict[str, Any]]], slots: List[Any], raise_on_error: bool) -> List[Any]:
        # shape() inlined: this loop runs once per reply of every pipeline.
        own = self._client._callbacks
        results: List[Any] = []
        append = results.append
        first_error = -1
        if len(slots) != len(stack):  # commands with an EMPTY_RESPONSE were not sent
            sent = iter(slots)
            slots = [o[EMPTY_RESPONSE] if o and EMPTY_RESPONSE in o else next(sent) for _, o in stack]
        for (args, options), slot in zip(stack, slots):
            if isinstance(slot, Exception):
                if options and EMPTY_RESPONSE in options:
                    append(options[EMPTY_RESPONSE])
                    continue
                if first_error < 0:
                    first_error = len(results)
                append(slot)
                continue
            callback = own.get(command_name(args), callback_for(args[0])) if own else callback_for(args[0])
            append(callback(slot, **options) if callback else slot)
        if raise_on_error and first_error >= 0:
            raise annotate(results[first_error], first_error, stack[first_error][0])
        return results

    def close(self) -> Any:
        """Drops what is queued, as redis-py's ``Pipeline.close`` (``reset``)."""
        return self.reset()

    def discard(self) -> Any:
        """Drops what was queued, and ``execute()`` then raises ResponseError, as redis-py's
        queued DISCARD makes its EXEC fail; the pipeline is usable again after that."""
        self._stack = []
        self._discarded = True

    def reset(self) -> Any:  # pragma: no cover - each client's pipeline defines it
        raise NotImplementedError

    def _missing_scripts(self, exists: List[Any]) -> List[Any]:
        """The scripts of this pipeline the server does not know, from SCRIPT EXISTS."""
        return [script for script, known in zip(self._scripts.values(), exists) if not known]

    def _clear(self) -> None:
        self._scripts = {}
        self._stack = []
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._watching = False
        self._explicit = False
        self._discarded = False


class _Reopen:
    """Stands for a closed client's native object: the first use builds a new one from
    the options the client was made with (redis-py reconnects after close())."""

    def __init__(self, client: ClientBase) -> None:
        self._client = client

    def _open(self) -> Any:
        """The client's new native object (made once)."""
        client = self._client
        if client._native is self:
            url, options = client._make
            client._native, client._decode = make_native(url, dict(options))
        return client._native

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)


class ResponseCallbacks(Dict[str, Callable[..., Any]]):
    """A client's reply callbacks, keys case-insensitive; setting one sets it on the client."""

    def __init__(self, client: ClientBase, callbacks: Dict[str, Callable[..., Any]]) -> None:
        super().__init__(callbacks)
        self._client = client

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return super().__getitem__(name.upper())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.upper())

    def __setitem__(self, name: str, callback: Callable[..., Any]) -> None:
        super().__setitem__(name.upper(), callback)
        self._client.set_response_callback(name, callback)


class Encoder:
    """Values as the bytes a command sends (str as UTF-8, numbers as decimal text), and
    replies decoded when the client decodes (redis-py's ``Encoder``)."""

    def __init__(self, decode_responses: bool) -> None:
        self.decode_responses = decode_responses

    def encode(self, value: Any) -> bytes:
        if isinstance(value, (bytes, memoryview, bytearray)):
            return bytes(value)
        if isinstance(value, bool):
            raise DataError("Invalid input of type: 'bool'. Convert to a bytes, string, int or float first.")
        if isinstance(value, (int, float)):
            return repr(value).encode() if isinstance(value, float) else str(value).encode()
        if isinstance(value, str):
            return value.encode()
        raise DataError(f"Invalid input of type: '{type(value).__name__}'. Convert to a bytes, string, int or float first.")

    def decode(self, value: Any, force: bool = False) -> Any:
        if (self.decode_responses or force) and isinstance(value, (bytes, memoryview, bytearray)):
            return bytes(value).decode()
        return value
