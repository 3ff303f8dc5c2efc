"""The command methods, with redis-py's names and arguments, written once.

Each method builds the argument list and calls ``self.execute_command(*args, **options)``.
The sync client returns the shaped reply, the asyncio client an awaitable of it, and a
pipeline queues the command and returns itself for chaining: one code path for all.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from ._args import (
    AbsExpiryT,
    EncodableT,
    ExpiryT,
    KeyT,
    ResponseT,
    _at_millis,
    _at_seconds,
    _expire_args,
    _expiry_flags,
    _list,
    _millis,
    _one_of,
    _seconds,
    _trim_args,
)
from ._generated import GeneratedCommands
from .exceptions import DataError, RedisError

__all__ = ["AbsExpiryT", "BitFieldOperation", "Commands", "EncodableT", "ExpiryT", "KeyT", "ResponseT"]


class Commands(GeneratedCommands):
    """Mixin of every command method; the class that uses it provides execute_command."""

    def execute_command(self, *args: Any, **options: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    # ---- server -------------------------------------------------------------------
    def ping(self) -> ResponseT:
        """PING: True when the server answers."""
        return self.execute_command("PING")

    def echo(self, value: EncodableT) -> ResponseT:
        return self.execute_command("ECHO", value)

    def time(self) -> ResponseT:
        """(seconds, microseconds) of the server clock."""
        return self.execute_command("TIME")

    def info(self, section: Optional[str] = None, *args: str) -> ResponseT:
        """INFO parsed into a dict."""
        if section is None:
            return self.execute_command("INFO")
        return self.execute_command("INFO", section, *args)

    def dbsize(self) -> ResponseT:
        return self.execute_command("DBSIZE")

    def flushdb(self, asynchronous: bool = False) -> ResponseT:
        return self.execute_command("FLUSHDB", *(["ASYNC"] if asynchronous else []))

    def flushall(self, asynchronous: bool = False) -> ResponseT:
        return self.execute_command("FLUSHALL", *(["ASYNC"] if asynchronous else []))

    # ---- strings ------------------------------------------------------------------
    def get(self, name: KeyT) -> ResponseT:
        return self.execute_command("GET", name)

    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        ifeq: Optional[EncodableT] = None,
        ifne: Optional[EncodableT] = None,
        ifdeq: Optional[str] = None,
        ifdne: Optional[str] = None,
    ) -> ResponseT:
        """SET: True, or None when NX/XX (or IFEQ…) prevented it; with get=True the old
        value. ``ifeq``/``ifne``/``ifdeq``/``ifdne`` need Redis 8.4."""
        _one_of("nx, xx, ifeq, ifne, ifdeq, ifdne", nx, xx, ifeq is not None, ifne is not None, ifdeq is not None,
                ifdne is not None)
        pieces: List[Any] = [name, value, *_expire_args(ex, px, exat, pxat, keepttl, "keepttl")]
        options: Dict[str, Any] = {}
        if nx:
            pieces.append("NX")
        elif xx:
            pieces.append("XX")
        for word, given in (("IFEQ", ifeq), ("IFNE", ifne), ("IFDEQ", ifdeq), ("IFDNE", ifdne)):
            if given is not None:
                pieces += [word, given]
        if get:
            pieces.append("GET")
            options["get"] = True
        return self.execute_command("SET", *pieces, **options)

    def increx(
        self,
        name: KeyT,
        *,
        byfloat: Optional[EncodableT] = None,
        byint: Optional[EncodableT] = None,
        lbound: Optional[EncodableT] = None,
        ubound: Optional[EncodableT] = None,
        saturate: bool = False,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
        enx: bool = False,
    ) -> ResponseT:
        """INCREX (Redis 8.6): increments within bounds and sets the expiry; [new value,
        increment]."""
        _one_of("byfloat, byint", byfloat is not None, byint is not None)
        expiry = _expire_args(ex, px, exat, pxat, persist, "persist")
        if enx and (not expiry or expiry == ["PERSIST"]):
            raise DataError("``enx`` requires one of ``ex``, ``px``, ``exat``, or ``pxat``.")
        pieces: List[Any] = [name]
        if byfloat is not None:
            pieces += ["BYFLOAT", byfloat]
        elif byint is not None:
            pieces += ["BYINT", byint]
        for word, bound in (("LBOUND", lbound), ("UBOUND", ubound)):
            if bound is not None:
                pieces += [word, bound]
        if saturate:
            pieces.append("SATURATE")
        pieces += expiry
        if enx:
            pieces.append("ENX")
        return self.execute_command("INCREX", *pieces)

    def msetex(
        self,
        mapping: Mapping[KeyT, EncodableT],
        data_persist_option: Any = None,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        keepttl: bool = False,
    ) -> ResponseT:
        """MSETEX (Redis 8.4): sets the pairs of ``mapping`` with one expiry; NX or XX
        (``data_persist_option``) for all or none."""
        expiry = _expire_args(ex, px, exat, pxat, keepttl, "keepttl")
        pieces: List[Any] = [len(mapping)]
        for pair in mapping.items():
            pieces.extend(pair)
        if data_persist_option:
            pieces.append(getattr(data_persist_option, "value", data_persist_option))
        return self.execute_command("MSETEX", *pieces, *expiry)

    def mget(self, keys: Any, *args: KeyT) -> ResponseT:
        """MGET: the values of the keys (None for a missing one); no keys give []."""
        names = _list(keys, args)
        if not names:  # the server refuses MGET of nothing: redis-py answers []
            return self.execute_command("MGET", EMPTY_RESPONSE=[])
        return self.execute_command("MGET", *names)

    def mset(self, mapping: Mapping[KeyT, EncodableT]) -> ResponseT:
        items: List[Any] = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSET", *items)

    def msetnx(self, mapping: Mapping[KeyT, EncodableT]) -> ResponseT:
        items: List[Any] = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSETNX", *items)

    def setnx(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("SETNX", name, value)

    def setex(self, name: KeyT, time: ExpiryT, value: EncodableT) -> ResponseT:
        return self.execute_command("SETEX", name, _seconds(time), value)

    def psetex(self, name: KeyT, time_ms: ExpiryT, value: EncodableT) -> ResponseT:
        return self.execute_command("PSETEX", name, _millis(time_ms), value)

    def getset(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("GETSET", name, value)

    def getdel(self, name: KeyT) -> ResponseT:
        return self.execute_command("GETDEL", name)

    def getex(
        self,
        name: KeyT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
    ) -> ResponseT:
        """GETEX: the value, setting or removing (``persist``) its expiry."""
        return self.execute_command("GETEX", name, *_expire_args(ex, px, exat, pxat, persist, "persist"))

    def incr(self, name: KeyT, amount: int = 1) -> ResponseT:
        return self.execute_command("INCRBY", name, amount)

    def incrby(self, name: KeyT, amount: int = 1) -> ResponseT:
        return self.execute_command("INCRBY", name, amount)

    def incrbyfloat(self, name: KeyT, amount: float = 1.0) -> ResponseT:
        return self.execute_command("INCRBYFLOAT", name, amount)

    def decr(self, name: KeyT, amount: int = 1) -> ResponseT:
        return self.execute_command("DECRBY", name, amount)

    def decrby(self, name: KeyT, amount: int = 1) -> ResponseT:
        return self.execute_command("DECRBY", name, amount)

    def append(self, key: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("APPEND", key, value)

    def strlen(self, name: KeyT) -> ResponseT:
        return self.execute_command("STRLEN", name)

    def getrange(self, key: KeyT, start: int, end: int) -> ResponseT:
        return self.execute_command("GETRANGE", key, start, end)

    def setrange(self, name: KeyT, offset: int, value: EncodableT) -> ResponseT:
        return self.execute_command("SETRANGE", name, offset, value)

    # ---- keys ---------------------------------------------------------------------
    def delete(self, *names: KeyT) -> ResponseT:
        return self.execute_command("DEL", *names)

    def unlink(self, *names: KeyT) -> ResponseT:
        return self.execute_command("UNLINK", *names)

    def exists(self, *names: KeyT) -> ResponseT:
        return self.execute_command("EXISTS", *names)

    def expire(self, name: KeyT, time: ExpiryT, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False) -> ResponseT:
        return self.execute_command("EXPIRE", name, _seconds(time), *_expiry_flags(nx, xx, gt, lt))

    def pexpire(self, name: KeyT, time: ExpiryT, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False) -> ResponseT:
        return self.execute_command("PEXPIRE", name, _millis(time), *_expiry_flags(nx, xx, gt, lt))

    def expireat(self, name: KeyT, when: AbsExpiryT, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False) -> ResponseT:
        return self.execute_command("EXPIREAT", name, _at_seconds(when), *_expiry_flags(nx, xx, gt, lt))

    def pexpireat(self, name: KeyT, when: AbsExpiryT, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False) -> ResponseT:
        return self.execute_command("PEXPIREAT", name, _at_millis(when), *_expiry_flags(nx, xx, gt, lt))

    def ttl(self, name: KeyT) -> ResponseT:
        return self.execute_command("TTL", name)

    def pttl(self, name: KeyT) -> ResponseT:
        return self.execute_command("PTTL", name)

    def persist(self, name: KeyT) -> ResponseT:
        return self.execute_command("PERSIST", name)

    def type(self, name: KeyT) -> ResponseT:
        return self.execute_command("TYPE", name)

    def rename(self, src: KeyT, dst: KeyT) -> ResponseT:
        return self.execute_command("RENAME", src, dst)

    def renamenx(self, src: KeyT, dst: KeyT) -> ResponseT:
        return self.execute_command("RENAMENX", src, dst)

    def keys(self, pattern: KeyT = "*", **kwargs: Any) -> ResponseT:
        """KEYS walks the whole keyspace: the guard warns (or refuses); prefer scan_iter."""
        return self.execute_command("KEYS", pattern, **kwargs)

    def randomkey(self, **kwargs: Any) -> ResponseT:
        return self.execute_command("RANDOMKEY", **kwargs)

    def scan(self, cursor: int = 0, match: Optional[KeyT] = None, count: Optional[int] = None, _type: Optional[str] = None, **kwargs: Any) -> ResponseT:
        """One SCAN page: (next_cursor, keys). scan_iter walks every page lazily."""
        pieces: List[Any] = [cursor]
        if match is not None:
            pieces += ["MATCH", match]
        if count is not None:
            pieces += ["COUNT", count]
        if _type is not None:
            pieces += ["TYPE", _type]
        return self.execute_command("SCAN", *pieces, **kwargs)

    # ---- hashes -------------------------------------------------------------------
    def hset(
        self,
        name: KeyT,
        key: Optional[KeyT] = None,
        value: Optional[EncodableT] = None,
        mapping: Optional[Mapping[Any, Any]] = None,
        items: Optional[List[Any]] = None,
    ) -> ResponseT:
        if key is None and not mapping and not items:

            raise DataError("'hset' with no key value pairs")
        pieces: List[Any] = []
        if items:
            pieces.extend(items)
        if key is not None:
            pieces.extend((key, value))
        if mapping:
            for pair in mapping.items():
                pieces.extend(pair)
        return self.execute_command("HSET", name, *pieces)

    def hmset(self, name: KeyT, mapping: Mapping[Any, Any]) -> ResponseT:
        """HMSET, deprecated (as in redis-py): use hset(name, mapping=…)."""
        warnings.warn("Redis.hmset() is deprecated. Use Redis.hset() instead.", DeprecationWarning, stacklevel=2)
        if not mapping:
            raise DataError("'hmset' with 'mapping' of length 0")
        items: List[Any] = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("HMSET", name, *items)

    def hsetex(
        self,
        name: KeyT,
        key: Optional[KeyT] = None,
        value: Optional[EncodableT] = None,
        mapping: Optional[Mapping[Any, Any]] = None,
        items: Optional[List[Any]] = None,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        data_persist_option: Any = None,
        keepttl: bool = False,
    ) -> ResponseT:
        """HSETEX (Redis 8.0): sets fields with one expiry; FNX or FXX
        (``data_persist_option``)."""
        if key is None and not mapping and not items:
            raise DataError("'hsetex' with no key value pairs")
        if items and len(items) % 2 != 0:
            raise DataError("'hsetex' with odd number of items. 'items' must contain a list of key/value pairs.")
        options = _expire_args(ex, px, exat, pxat, keepttl, "keepttl")
        if data_persist_option:
            options.insert(0, getattr(data_persist_option, "value", data_persist_option))
        pieces: List[Any] = list(items or [])
        if key is not None:
            pieces.extend((key, value))
        for pair in (mapping or {}).items():
            pieces.extend(pair)
        return self.execute_command("HSETEX", name, *options, "FIELDS", len(pieces) // 2, *pieces)

    def hgetex(
        self,
        name: KeyT,
        *keys: KeyT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
    ) -> ResponseT:
        """HGETEX (Redis 8.0): the values of fields, setting or removing their expiry."""
        options = _expire_args(ex, px, exat, pxat, persist, "persist")
        return self.execute_command("HGETEX", name, *options, "FIELDS", len(keys), *keys)

    def hsetnx(self, name: KeyT, key: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("HSETNX", name, key, value)

    def hget(self, name: KeyT, key: KeyT) -> ResponseT:
        return self.execute_command("HGET", name, key)

    def hmget(self, name: KeyT, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("HMGET", name, *_list(keys, args))

    def hgetall(self, name: KeyT) -> ResponseT:
        return self.execute_command("HGETALL", name)

    def hdel(self, name: KeyT, *keys: KeyT) -> ResponseT:
        return self.execute_command("HDEL", name, *keys)

    def hexists(self, name: KeyT, key: KeyT) -> ResponseT:
        return self.execute_command("HEXISTS", name, key)

    def hincrby(self, name: KeyT, key: KeyT, amount: int = 1) -> ResponseT:
        return self.execute_command("HINCRBY", name, key, amount)

    def hincrbyfloat(self, name: KeyT, key: KeyT, amount: float = 1.0) -> ResponseT:
        return self.execute_command("HINCRBYFLOAT", name, key, amount)

    def hlen(self, name: KeyT) -> ResponseT:
        return self.execute_command("HLEN", name)

    def hkeys(self, name: KeyT) -> ResponseT:
        return self.execute_command("HKEYS", name)

    def hvals(self, name: KeyT) -> ResponseT:
        return self.execute_command("HVALS", name)

    def hstrlen(self, name: KeyT, key: KeyT) -> ResponseT:
        return self.execute_command("HSTRLEN", name, key)

    def hscan(self, name: KeyT, cursor: int = 0, match: Optional[KeyT] = None, count: Optional[int] = None, no_values: Optional[bool] = None) -> ResponseT:
        pieces: List[Any] = [name, cursor]
        if match is not None:
            pieces += ["MATCH", match]
        if count is not None:
            pieces += ["COUNT", count]
        if no_values:
            pieces.append("NOVALUES")
        return self.execute_command("HSCAN", *pieces, no_values=no_values)

    # ---- lists --------------------------------------------------------------------
    def lpush(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("LPUSH", name, *values)

    def rpush(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("RPUSH", name, *values)

    def lpushx(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("LPUSHX", name, *values)

    def rpushx(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("RPUSHX", name, *values)

    def lpop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        return self.execute_command("LPOP", name, *([count] if count is not None else []))

    def rpop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        return self.execute_command("RPOP", name, *([count] if count is not None else []))

    def lrange(self, name: KeyT, start: int, end: int) -> ResponseT:
        return self.execute_command("LRANGE", name, start, end)

    def llen(self, name: KeyT) -> ResponseT:
        return self.execute_command("LLEN", name)

    def lindex(self, name: KeyT, index: int) -> ResponseT:
        return self.execute_command("LINDEX", name, index)

    def lset(self, name: KeyT, index: int, value: EncodableT) -> ResponseT:
        return self.execute_command("LSET", name, index, value)

    def lrem(self, name: KeyT, count: int, value: EncodableT) -> ResponseT:
        return self.execute_command("LREM", name, count, value)

    def ltrim(self, name: KeyT, start: int, end: int) -> ResponseT:
        return self.execute_command("LTRIM", name, start, end)

    def linsert(self, name: KeyT, where: str, refvalue: EncodableT, value: EncodableT) -> ResponseT:
        return self.execute_command("LINSERT", name, where, refvalue, value)

    def lpos(self, name: KeyT, value: EncodableT, rank: Optional[int] = None, count: Optional[int] = None, maxlen: Optional[int] = None) -> ResponseT:
        pieces: List[Any] = [name, value]
        if rank is not None:
            pieces += ["RANK", rank]
        if count is not None:
            pieces += ["COUNT", count]
        if maxlen is not None:
            pieces += ["MAXLEN", maxlen]
        return self.execute_command("LPOS", *pieces)

    def lmove(self, first_list: KeyT, second_list: KeyT, src: str = "LEFT", dest: str = "RIGHT") -> ResponseT:
        return self.execute_command("LMOVE", first_list, second_list, src, dest)

    def blmove(self, first_list: KeyT, second_list: KeyT, timeout: float, src: str = "LEFT", dest: str = "RIGHT") -> ResponseT:
        """Blocking: runs on a dedicated pooled connection; others are not held up."""
        return self.execute_command("BLMOVE", first_list, second_list, src, dest, timeout)

    def blpop(self, keys: Any, timeout: Optional[float] = 0) -> ResponseT:
        """Blocking: runs on a dedicated pooled connection; others are not held up."""
        return self.execute_command("BLPOP", *_list(keys), 0 if timeout is None else timeout)

    def brpop(self, keys: Any, timeout: Optional[float] = 0) -> ResponseT:
        return self.execute_command("BRPOP", *_list(keys), 0 if timeout is None else timeout)

    def brpoplpush(self, src: KeyT, dst: KeyT, timeout: Optional[float] = 0) -> ResponseT:
        return self.execute_command("BRPOPLPUSH", src, dst, 0 if timeout is None else timeout)

    # ---- sets ---------------------------------------------------------------------
    def sadd(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("SADD", name, *values)

    def srem(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("SREM", name, *values)

    def smembers(self, name: KeyT) -> ResponseT:
        return self.execute_command("SMEMBERS", name)

    def sismember(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("SISMEMBER", name, value)

    def smismember(self, name: KeyT, values: Any, *args: EncodableT) -> ResponseT:
        return self.execute_command("SMISMEMBER", name, *_list(values, args))

    def scard(self, name: KeyT) -> ResponseT:
        return self.execute_command("SCARD", name)

    def spop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        return self.execute_command("SPOP", name, *([count] if count is not None else []))

    def srandmember(self, name: KeyT, number: Optional[int] = None) -> ResponseT:
        return self.execute_command("SRANDMEMBER", name, *([number] if number is not None else []))

    def sunion(self, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SUNION", *_list(keys, args))

    def sinter(self, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SINTER", *_list(keys, args))

    def sdiff(self, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SDIFF", *_list(keys, args))

    def sunionstore(self, dest: KeyT, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SUNIONSTORE", dest, *_list(keys, args))

    def sinterstore(self, dest: KeyT, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SINTERSTORE", dest, *_list(keys, args))

    def sdiffstore(self, dest: KeyT, keys: Any, *args: KeyT) -> ResponseT:
        return self.execute_command("SDIFFSTORE", dest, *_list(keys, args))

    def smove(self, src: KeyT, dst: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("SMOVE", src, dst, value)

    def sscan(self, name: KeyT, cursor: int = 0, match: Optional[KeyT] = None, count: Optional[int] = None) -> ResponseT:
        pieces: List[Any] = [name, cursor]
        if match is not None:
            pieces += ["MATCH", match]
        if count is not None:
            pieces += ["COUNT", count]
        return self.execute_command("SSCAN", *pieces)

    # ---- sorted sets --------------------------------------------------------------
    def zadd(
        self,
        name: KeyT,
        mapping: Mapping[Any, Any],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
        incr: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:

        if not mapping:
            raise DataError("ZADD requires at least one element/score pair")
        if nx and xx:
            raise DataError("ZADD allows either 'nx' or 'xx', not both")
        if gt and lt:
            raise DataError("ZADD allows either 'gt' or 'lt', not both")
        if incr and len(mapping) != 1:
            raise DataError("ZADD option 'incr' only works when passing a single element/score pair")
        if nx and (gt or lt):
            raise DataError("Only one of 'nx', 'lt', or 'gr' may be defined.")
        pieces: List[Any] = [name]
        pieces += [flag for flag, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt), ("CH", ch), ("INCR", incr)) if on]
        for member, score in mapping.items():
            pieces += [score, member]
        options = {"as_score": True} if incr else {}
        return self.execute_command("ZADD", *pieces, **options)

    def zrem(self, name: KeyT, *values: EncodableT) -> ResponseT:
        return self.execute_command("ZREM", name, *values)

    def zscore(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("ZSCORE", name, value)

    def zmscore(self, key: KeyT, members: List[Any]) -> ResponseT:
        if not members:

            raise DataError("ZMSCORE members must be a non-empty list")
        return self.execute_command("ZMSCORE", key, *members)

    def zincrby(self, name: KeyT, amount: float, value: EncodableT) -> ResponseT:
        return self.execute_command("ZINCRBY", name, amount, value)

    def zcard(self, name: KeyT) -> ResponseT:
        return self.execute_command("ZCARD", name)

    def zcount(self, name: KeyT, min: Union[float, str], max: Union[float, str]) -> ResponseT:
        return self.execute_command("ZCOUNT", name, min, max)

    def zrank(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("ZRANK", name, value)

    def zrevrank(self, name: KeyT, value: EncodableT) -> ResponseT:
        return self.execute_command("ZREVRANK", name, value)

    def zrange(
        self,
        name: KeyT,
        start: Any,
        end: Any,
        desc: bool = False,
        withscores: bool = False,
        score_cast_func: Any = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """ZRANGE: members by index, score (``byscore``) or name (``bylex``); with scores
        as (member, score) pairs."""
        if bylex and withscores:
            raise DataError("``withscores`` not supported in combination with ``bylex``.")
        pieces = self._zrange_args(name, start, end, desc, byscore, bylex, offset, num)
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command("ZRANGE", *pieces, withscores=withscores, score_cast_func=score_cast_func)

    def zrangestore(self, dest: KeyT, name: KeyT, start: Any, end: Any, byscore: bool = False, bylex: bool = False,
                    desc: bool = False, offset: Optional[int] = None, num: Optional[int] = None) -> ResponseT:
        """ZRANGESTORE: ZRANGE's selection stored in ``dest``; how many members it holds."""
        return self.execute_command("ZRANGESTORE", dest, *self._zrange_args(name, start, end, desc, byscore, bylex,
                                                                            offset, num))

    def _zrange_args(self, name: KeyT, start: Any, end: Any, desc: bool, byscore: bool, bylex: bool,
                     offset: Optional[int], num: Optional[int]) -> List[Any]:
        """ZRANGE's and ZRANGESTORE's key, range, BYSCORE/BYLEX, REV and LIMIT."""
        if byscore and bylex:
            raise DataError("``byscore`` and ``bylex`` can not be specified together.")
        if (offset is None) != (num is None):
            raise DataError("``offset`` and ``num`` must both be specified.")
        pieces: List[Any] = [name, start, end]
        if byscore:
            pieces.append("BYSCORE")
        if bylex:
            pieces.append("BYLEX")
        if desc:
            pieces.append("REV")
        if offset is not None:
            pieces += ["LIMIT", offset, num]
        return pieces

    def zrevrange(self, name: KeyT, start: int, end: int, withscores: bool = False, score_cast_func: Any = float) -> ResponseT:
        pieces: List[Any] = [name, start, end]
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command("ZREVRANGE", *pieces, withscores=withscores, score_cast_func=score_cast_func)

    def _range_by_score(self, command: str, name: KeyT, a: Any, b: Any, start: Optional[int], num: Optional[int], withscores: bool, score_cast_func: Any) -> ResponseT:

        if (start is not None and num is None) or (num is not None and start is None):
            raise DataError("``start`` and ``num`` must both be specified")
        pieces: List[Any] = [name, a, b]
        if start is not None and num is not None:
            pieces += ["LIMIT", start, num]
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command(command, *pieces, withscores=withscores, score_cast_func=score_cast_func)

    def zrangebyscore(
        self, name: KeyT, min: Any, max: Any, start: Optional[int] = None, num: Optional[int] = None, withscores: bool = False, score_cast_func: Any = float
    ) -> ResponseT:
        return self._range_by_score("ZRANGEBYSCORE", name, min, max, start, num, withscores, score_cast_func)

    def zrevrangebyscore(
        self, name: KeyT, max: Any, min: Any, start: Optional[int] = None, num: Optional[int] = None, withscores: bool = False, score_cast_func: Any = float
    ) -> ResponseT:
        return self._range_by_score("ZREVRANGEBYSCORE", name, max, min, start, num, withscores, score_cast_func)

    def zremrangebyrank(self, name: KeyT, min: int, max: int) -> ResponseT:
        return self.execute_command("ZREMRANGEBYRANK", name, min, max)

    def zremrangebyscore(self, name: KeyT, min: Any, max: Any) -> ResponseT:
        return self.execute_command("ZREMRANGEBYSCORE", name, min, max)

    def zpopmin(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        if count is None:
            return self.execute_command("ZPOPMIN", name)
        return self.execute_command("ZPOPMIN", name, count, count=count)

    def zpopmax(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        if count is None:
            return self.execute_command("ZPOPMAX", name)
        return self.execute_command("ZPOPMAX", name, count, count=count)

    def bzpopmin(self, keys: Any, timeout: float = 0) -> ResponseT:
        """Blocking: runs on a dedicated pooled connection."""
        return self.execute_command("BZPOPMIN", *_list(keys), timeout)

    def bzpopmax(self, keys: Any, timeout: float = 0) -> ResponseT:
        """Blocking: runs on a dedicated pooled connection."""
        return self.execute_command("BZPOPMAX", *_list(keys), timeout)

    def zscan(self, name: KeyT, cursor: int = 0, match: Optional[KeyT] = None, count: Optional[int] = None, score_cast_func: Any = float) -> ResponseT:
        pieces: List[Any] = [name, cursor]
        if match is not None:
            pieces += ["MATCH", match]
        if count is not None:
            pieces += ["COUNT", count]
        return self.execute_command("ZSCAN", *pieces, score_cast_func=score_cast_func)

    # ---- sorted sets: aggregates --------------------------------------------------
    def _zaggregate(self, command: str, dest: Optional[KeyT], keys: Any, aggregate: Optional[str], **options: Any) -> ResponseT:
        """ZUNION/ZINTER[STORE]: keys as a list, or a mapping of key → weight."""
        pieces: List[Any] = [] if dest is None else [dest]
        if isinstance(keys, Mapping):
            weights = list(keys.values())
            keys = list(keys.keys())
        else:
            keys = list(keys)
            weights = None
        pieces += [len(keys), *keys]
        if weights:
            pieces += ["WEIGHTS", *weights]
        if aggregate:
            if aggregate.upper() not in ("SUM", "MIN", "MAX"):

                raise DataError("aggregate can be sum, min or max.")
            pieces += ["AGGREGATE", aggregate]
        if options.get("withscores"):
            pieces.append("WITHSCORES")
        return self.execute_command(command, *pieces, **options)

    def zunionstore(self, dest: KeyT, keys: Any, aggregate: Optional[str] = None) -> ResponseT:
        return self._zaggregate("ZUNIONSTORE", dest, keys, aggregate)

    def zinterstore(self, dest: KeyT, keys: Any, aggregate: Optional[str] = None) -> ResponseT:
        return self._zaggregate("ZINTERSTORE", dest, keys, aggregate)

    def zunion(self, keys: Any, aggregate: Optional[str] = None, withscores: bool = False, score_cast_func: Any = float) -> ResponseT:
        return self._zaggregate("ZUNION", None, keys, aggregate, withscores=withscores, score_cast_func=score_cast_func)

    def zinter(self, keys: Any, aggregate: Optional[str] = None, withscores: bool = False) -> ResponseT:
        return self._zaggregate("ZINTER", None, keys, aggregate, withscores=withscores)

    # ---- sort -----------------------------------------------------------------------
    def _sort(self, command: str, name: KeyT, start: Optional[int], num: Optional[int], by: Optional[str],
              get: Any, desc: bool, alpha: bool, store: Optional[KeyT], groups: Optional[bool]) -> ResponseT:

        if (start is not None and num is None) or (num is not None and start is None):
            raise DataError("``start`` and ``num`` must both be specified")
        pieces: List[Any] = [name]
        if by is not None:
            pieces += ["BY", by]
        if start is not None and num is not None:
            pieces += ["LIMIT", start, num]
        gets = [get] if isinstance(get, (bytes, str)) else list(get or [])
        for g in gets:
            pieces += ["GET", g]
        if desc:
            pieces.append("DESC")
        if alpha:
            pieces.append("ALPHA")
        if store is not None:
            pieces += ["STORE", store]
        if groups and (not gets or len(gets) < 2):
            raise DataError('when using "groups" the "get" argument must be specified and contain at least two keys')
        return self.execute_command(command, *pieces, groups=len(gets) if groups else None)

    def sort(self, name: KeyT, start: Optional[int] = None, num: Optional[int] = None, by: Optional[str] = None,
             get: Any = None, desc: bool = False, alpha: bool = False, store: Optional[KeyT] = None,
             groups: Optional[bool] = False) -> ResponseT:
        """SORT (BY, LIMIT, GET…, DESC, ALPHA, STORE); ``groups`` groups each row's GET values."""
        return self._sort("SORT", name, start, num, by, get, desc, alpha, store, groups)

    def sort_ro(self, key: KeyT, start: Optional[int] = None, num: Optional[int] = None, by: Optional[str] = None,
                get: Any = None, desc: bool = False, alpha: bool = False) -> ResponseT:
        return self._sort("SORT_RO", key, start, num, by, get, desc, alpha, None, False)

    # ---- geo ------------------------------------------------------------------------
    def geoadd(self, name: KeyT, values: Any, nx: bool = False, xx: bool = False, ch: bool = False) -> ResponseT:
        """GEOADD: ``values`` is longitude, latitude, member, … flat."""

        if nx and xx:
            raise DataError("GEOADD allows either 'nx' or 'xx', not both")
        values = list(values)
        if len(values) % 3 != 0:
            raise DataError("GEOADD requires places with lon, lat and name values")
        flags = [f for f, on in (("NX", nx), ("XX", xx), ("CH", ch)) if on]
        return self.execute_command("GEOADD", name, *flags, *values)

    def _georadius(self, command: str, name: KeyT, where: List[Any], radius: float, unit: Optional[str],
                   withdist: bool, withcoord: bool, withhash: bool, count: Optional[int], sort: Optional[str],
                   store: Optional[KeyT], store_dist: Optional[KeyT], any: bool) -> ResponseT:

        if unit and unit not in ("m", "km", "mi", "ft"):
            raise DataError("GEORADIUS invalid unit")
        pieces: List[Any] = [name, *where, radius, unit or "m"]
        pieces += [w for w, on in (("WITHDIST", withdist), ("WITHCOORD", withcoord), ("WITHHASH", withhash)) if on]
        if count is not None:
            pieces += ["COUNT", count] + (["ANY"] if any else [])
        elif any:
            raise DataError("``any`` can't be provided without ``count``")
        if sort is not None:
            if sort not in ("ASC", "DESC"):
                raise DataError("GEORADIUS invalid sort")
            pieces.append(sort)
        if store is not None and store_dist is not None:
            raise DataError("GEORADIUS store and store_dist cant be set together")
        if store is not None:
            pieces += ["STORE", store]
        if store_dist is not None:
            pieces += ["STOREDIST", store_dist]
        return self.execute_command(command, *pieces, withdist=withdist, withcoord=withcoord, withhash=withhash,
                                    store=store, store_dist=store_dist)

    def georadius(self, name: KeyT, longitude: float, latitude: float, radius: float, unit: Optional[str] = None,
                  withdist: bool = False, withcoord: bool = False, withhash: bool = False, count: Optional[int] = None,
                  sort: Optional[str] = None, store: Optional[KeyT] = None, store_dist: Optional[KeyT] = None,
                  any: bool = False) -> ResponseT:
        return self._georadius("GEORADIUS", name, [longitude, latitude], radius, unit, withdist, withcoord, withhash,
                               count, sort, store, store_dist, any)

    def georadiusbymember(self, name: KeyT, member: EncodableT, radius: float, unit: Optional[str] = None,
                          withdist: bool = False, withcoord: bool = False, withhash: bool = False,
                          count: Optional[int] = None, sort: Optional[str] = None, store: Optional[KeyT] = None,
                          store_dist: Optional[KeyT] = None, any: bool = False) -> ResponseT:
        return self._georadius("GEORADIUSBYMEMBER", name, [member], radius, unit, withdist, withcoord, withhash,
                               count, sort, store, store_dist, any)

    def _geosearch_args(self, member: Any, longitude: Any, latitude: Any, unit: str, radius: Any, width: Any,
                        height: Any, sort: Optional[str], count: Optional[int], any: bool) -> List[Any]:

        if (member is None) == (longitude is None and latitude is None):
            raise DataError("GEOSEARCH must have exactly one of ``member`` or ``longitude`` and ``latitude``")
        if (longitude is None) != (latitude is None):
            raise DataError("GEOSEARCH must have both ``longitude`` and ``latitude``")
        if (radius is None) == (width is None and height is None):
            raise DataError("GEOSEARCH must have exactly one of ``radius`` or ``width`` and ``height``")
        if (width is None) != (height is None):
            raise DataError("GEOSEARCH must have both ``width`` and ``height``")
        if unit not in ("m", "km", "mi", "ft"):
            raise DataError("GEOSEARCH invalid unit")
        pieces: List[Any] = ["FROMMEMBER", member] if member is not None else ["FROMLONLAT", longitude, latitude]
        pieces += ["BYRADIUS", radius, unit] if radius is not None else ["BYBOX", width, height, unit]
        if sort is not None:
            if sort not in ("ASC", "DESC"):
                raise DataError("GEOSEARCH invalid sort")
            pieces.append(sort)
        if count is not None:
            pieces += ["COUNT", count] + (["ANY"] if any else [])
        elif any:
            raise DataError("GEOSEARCH ``any`` can't be provided without ``count``")
        return pieces

    def geosearch(self, name: KeyT, member: Optional[EncodableT] = None, longitude: Optional[float] = None,
                  latitude: Optional[float] = None, unit: str = "m", radius: Optional[float] = None,
                  width: Optional[float] = None, height: Optional[float] = None, sort: Optional[str] = None,
                  count: Optional[int] = None, any: bool = False, withcoord: bool = False, withdist: bool = False,
                  withhash: bool = False) -> ResponseT:
        pieces = self._geosearch_args(member, longitude, latitude, unit, radius, width, height, sort, count, any)
        pieces += [w for w, on in (("WITHCOORD", withcoord), ("WITHDIST", withdist), ("WITHHASH", withhash)) if on]
        return self.execute_command("GEOSEARCH", name, *pieces, withdist=withdist, withcoord=withcoord,
                                    withhash=withhash)

    def geosearchstore(self, dest: KeyT, name: KeyT, member: Optional[EncodableT] = None,
                       longitude: Optional[float] = None, latitude: Optional[float] = None, unit: str = "m",
                       radius: Optional[float] = None, width: Optional[float] = None, height: Optional[float] = None,
                       sort: Optional[str] = None, count: Optional[int] = None, any: bool = False,
                       storedist: bool = False) -> ResponseT:
        pieces = self._geosearch_args(member, longitude, latitude, unit, radius, width, height, sort, count, any)
        if storedist:
            pieces.append("STOREDIST")
        return self.execute_command("GEOSEARCHSTORE", dest, name, *pieces)

    # ---- streams --------------------------------------------------------------------
    def xadd(self, name: KeyT, fields: Mapping[Any, Any], id: Any = "*", maxlen: Optional[int] = None,
             approximate: bool = True, nomkstream: bool = False, minid: Any = None,
             limit: Optional[int] = None) -> ResponseT:
        """XADD: appends ``fields`` as an entry; returns its id."""

        if maxlen is not None and minid is not None:
            raise DataError("Only one of ```maxlen``` or ```minid``` may be specified")
        if maxlen is not None and (not isinstance(maxlen, int) or maxlen < 0):
            raise DataError("XADD maxlen must be non-negative integer")
        if not isinstance(fields, Mapping) or not fields:
            raise DataError("XADD fields must be a non-empty dict")
        pieces: List[Any] = [name]
        if nomkstream:
            pieces.append("NOMKSTREAM")
        pieces += _trim_args(maxlen, approximate, minid, limit)
        pieces.append(id)
        for pair in fields.items():
            pieces.extend(pair)
        return self.execute_command("XADD", *pieces)

    def xtrim(self, name: KeyT, maxlen: Optional[int] = None, approximate: bool = True, minid: Any = None,
              limit: Optional[int] = None) -> ResponseT:

        if maxlen is None and minid is None:
            raise DataError("One of ``maxlen`` or ``minid`` must be specified")
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ``maxlen`` or ``minid`` may be specified")
        return self.execute_command("XTRIM", name, *_trim_args(maxlen, approximate, minid, limit))

    def xrange(self, name: KeyT, min: Any = "-", max: Any = "+", count: Optional[int] = None) -> ResponseT:
        """XRANGE: entries as [(id, {field: value})]."""
        pieces: List[Any] = [name, min, max]
        if count is not None:
            pieces += ["COUNT", count]
        return self.execute_command("XRANGE", *pieces)

    def xrevrange(self, name: KeyT, max: Any = "+", min: Any = "-", count: Optional[int] = None) -> ResponseT:
        pieces: List[Any] = [name, max, min]
        if count is not None:
            pieces += ["COUNT", count]
        return self.execute_command("XREVRANGE", *pieces)

    def _streams(self, streams: Mapping[Any, Any]) -> List[Any]:

        if not isinstance(streams, Mapping) or not streams:
            raise DataError("XREAD streams must be a non empty dict")
        return ["STREAMS", *streams.keys(), *streams.values()]

    def _read_caps(self, cmd: str, count: Optional[int], max_count: Optional[int], max_size: Optional[int]) -> List[Any]:
        """MAXCOUNT/MAXSIZE of XREAD and XREADGROUP (Redis 8.9), checked as redis-py."""
        pieces: List[Any] = []
        if max_count is not None:
            if not isinstance(max_count, int) or max_count < 1:
                raise DataError(f"{cmd} max_count must be a positive integer")
            if count is not None and max_count < count:
                raise DataError(f"{cmd} max_count must be greater than or equal to count")
            pieces += ["MAXCOUNT", max_count]
        if max_size is not None:
            if not isinstance(max_size, int) or max_size < 1:
                raise DataError(f"{cmd} max_size must be a positive integer")
            pieces += ["MAXSIZE", max_size]
        return pieces

    def xread(self, streams: Mapping[Any, Any], count: Optional[int] = None, block: Optional[int] = None,
              max_count: Optional[int] = None, max_size: Optional[int] = None) -> ResponseT:
        """XREAD: [[stream, [(id, {field: value})]]] (redis-py's shape), None on timeout."""

        pieces: List[Any] = []
        if block is not None:
            if not isinstance(block, int) or block < 0:
                raise DataError("XREAD block must be a non-negative integer")
            pieces += ["BLOCK", block]
        if count is not None:
            if not isinstance(count, int) or count < 1:
                raise DataError("XREAD count must be a positive integer")
            pieces += ["COUNT", count]
        pieces += self._read_caps("XREAD", count, max_count, max_size)
        return self.execute_command("XREAD", *pieces, *self._streams(streams))

    def xreadgroup(self, groupname: str, consumername: str, streams: Mapping[Any, Any], count: Optional[int] = None,
                   block: Optional[int] = None, noack: bool = False, max_count: Optional[int] = None,
                   max_size: Optional[int] = None) -> ResponseT:

        pieces: List[Any] = ["GROUP", groupname, consumername]
        if count is not None:
            if not isinstance(count, int) or count < 1:
                raise DataError("XREADGROUP count must be a positive integer")
            pieces += ["COUNT", count]
        if block is not None:
            if not isinstance(block, int) or block < 0:
                raise DataError("XREADGROUP block must be a non-negative integer")
            pieces += ["BLOCK", block]
        pieces += self._read_caps("XREADGROUP", count, max_count, max_size)
        if noack:
            pieces.append("NOACK")
        return self.execute_command("XREADGROUP", *pieces, *self._streams(streams))

    def xpending(self, name: KeyT, groupname: str) -> ResponseT:
        """XPENDING summary: {pending, min, max, consumers: [{name, pending}]}."""
        return self.execute_command("XPENDING", name, groupname)

    def xpending_range(self, name: KeyT, groupname: str, min: Any, max: Any, count: int,
                       consumername: Optional[str] = None, idle: Optional[int] = None) -> ResponseT:
        """XPENDING with a range: [{message_id, consumer, time_since_delivered, times_delivered}]."""

        if min is None or max is None or count is None:
            raise DataError("XPENDING must be provided with min, max and count parameters, or none of them")
        if int(count) < 0:
            raise DataError("XPENDING count must be a integer >= 0")
        pieces: List[Any] = [name, groupname]
        if idle is not None:
            if int(idle) < 0:
                raise DataError("XPENDING idle must be a integer >= 0")
            pieces += ["IDLE", idle]
        pieces += [min, max, count]
        if consumername is not None:
            pieces.append(consumername)
        return self.execute_command("XPENDING", *pieces, parse_detail=True)

    def xclaim(self, name: KeyT, groupname: str, consumername: str, min_idle_time: int, message_ids: Any,
               idle: Optional[int] = None, time: Optional[int] = None, retrycount: Optional[int] = None,
               force: bool = False, justid: bool = False) -> ResponseT:

        if not isinstance(min_idle_time, int) or min_idle_time < 0:
            raise DataError("XCLAIM min_idle_time must be a non negative integer")
        if not isinstance(message_ids, (list, tuple)) or not message_ids:
            raise DataError("XCLAIM message_ids must be a non empty list or tuple of message IDs to claim")
        pieces: List[Any] = [name, groupname, consumername, min_idle_time, *message_ids]
        for word, value in (("IDLE", idle), ("TIME", time), ("RETRYCOUNT", retrycount)):
            if value is not None:
                pieces += [word, value]
        if force:
            pieces.append("FORCE")
        if justid:
            pieces.append("JUSTID")
        return self.execute_command("XCLAIM", *pieces, parse_justid=justid)

    def xautoclaim(self, name: KeyT, groupname: str, consumername: str, min_idle_time: int, start_id: Any = "0-0",
                   count: Optional[int] = None, justid: bool = False) -> ResponseT:
        if int(min_idle_time) < 0:
            raise DataError("XAUTOCLAIM min_idle_time must be a non negative integer")
        pieces: List[Any] = [name, groupname, consumername, min_idle_time, start_id]
        if count is not None:
            if int(count) < 0:
                raise DataError("XPENDING count must be a integer >= 0")
            pieces += ["COUNT", count]
        if justid:
            pieces.append("JUSTID")
        return self.execute_command("XAUTOCLAIM", *pieces, parse_justid=justid)

    def xinfo_stream(self, name: KeyT, full: bool = False) -> ResponseT:
        """XINFO STREAM: a dict (str keys); its first and last entries as (id, {field: value})."""
        return self.execute_command("XINFO STREAM", name, *(["FULL"] if full else []), full=full)

    def xinfo_groups(self, name: KeyT) -> ResponseT:
        return self.execute_command("XINFO GROUPS", name)

    def xinfo_consumers(self, name: KeyT, groupname: str) -> ResponseT:
        return self.execute_command("XINFO CONSUMERS", name, groupname)

    # ---- clients, ACL, slow log -----------------------------------------------------
    def client_list(self, _type: Optional[str] = None, client_id: Iterable[Any] = ()) -> ResponseT:
        """CLIENT LIST [TYPE t] [ID id…]: one dict of str per connection."""
        return self.execute_command("CLIENT LIST", *self._client_list_args(_type, client_id))

    def client_list_iter(self, _type: Optional[str] = None, client_id: Iterable[Any] = (), **kwargs: Any) -> ResponseT:
        """CLIENT LIST as client_list(), the dicts as an iterator."""
        return self.execute_command("CLIENT LIST", *self._client_list_args(_type, client_id), as_iter=True, **kwargs)

    def _client_list_args(self, _type: Optional[str], client_id: Iterable[Any]) -> List[Any]:
        pieces: List[Any] = []
        if _type is not None:
            if _type.lower() not in ("normal", "master", "replica", "pubsub"):
                raise DataError("CLIENT LIST _type must be one of 'normal', 'master', 'replica', 'pubsub'")
            pieces += ["TYPE", _type]
        ids = list(client_id)
        if ids:
            pieces += ["ID", *ids]
        return pieces

    def client_info(self) -> ResponseT:
        """CLIENT INFO: this connection's fields as a dict."""
        return self.execute_command("CLIENT INFO")

    def client_kill_filter(self, _id: Optional[str] = None, _type: Optional[str] = None, addr: Optional[str] = None,
                           skipme: Optional[bool] = None, laddr: Optional[str] = None, user: Optional[str] = None,
                           maxage: Optional[int] = None) -> ResponseT:
        """CLIENT KILL with filters: how many connections were closed."""

        pieces: List[Any] = []
        if _type is not None:
            if _type.lower() not in ("normal", "master", "slave", "replica", "pubsub"):
                raise DataError("CLIENT KILL type must be one of 'normal', 'master', 'slave', 'replica', 'pubsub'")
            pieces += ["TYPE", _type]
        if skipme is not None:
            if not isinstance(skipme, bool):
                raise DataError("CLIENT KILL skipme must be a bool")
            pieces += ["SKIPME", "yes" if skipme else "no"]
        for word, value in (("ID", _id), ("ADDR", addr), ("LADDR", laddr), ("USER", user), ("MAXAGE", maxage)):
            if value is not None:
                pieces += [word, value]
        if not pieces:
            raise DataError("CLIENT KILL <filter> <value> ... ... <filter> <value> must specify at least one filter")
        return self.execute_command("CLIENT KILL", *pieces)

    def client_pause(self, timeout: int, all: bool = True) -> ResponseT:
        """CLIENT PAUSE ms [WRITE]: holds other clients' commands (only writes when not all)."""

        if not isinstance(timeout, int):
            raise DataError("CLIENT PAUSE timeout must be an integer")
        return self.execute_command("CLIENT PAUSE", timeout, *([] if all else ["WRITE"]))

    def client_unpause(self) -> ResponseT:
        return self.execute_command("CLIENT UNPAUSE")

    def acl_setuser(self, username: str, enabled: bool = False, nopass: bool = False, passwords: Any = None,
                    hashed_passwords: Any = None, categories: Optional[Iterable[str]] = None,
                    commands: Optional[Iterable[str]] = None, keys: Optional[Iterable[KeyT]] = None,
                    channels: Optional[Iterable[Any]] = None, selectors: Optional[Iterable[Any]] = None,
                    reset: bool = False, reset_keys: bool = False, reset_channels: bool = False,
                    reset_passwords: bool = False) -> ResponseT:
        """ACL SETUSER with redis-py's arguments: rules built from flags and lists."""

        def listed(v: Any) -> List[Any]:
            return [v] if isinstance(v, (str, bytes)) else list(v or [])

        pieces: List[Any] = [username]
        if reset:
            pieces.append("reset")
        if reset_keys:
            pieces.append("resetkeys")
        if reset_channels:
            pieces.append("resetchannels")
        if reset_passwords:
            pieces.append("resetpass")
        pieces.append("on" if enabled else "off")
        if (passwords or hashed_passwords) and nopass:
            raise DataError('Cannot set "nopass" and supply "passwords" or "hashed_passwords"')
        for i, p in enumerate(listed(passwords)):
            p = p.decode() if isinstance(p, bytes) else str(p)
            if p[:1] not in ("+", "-"):
                raise DataError(f'Password {i} must be prefixed with a "+" to add or a "-" to remove')
            pieces.append(f"{'>' if p[0] == '+' else '<'}{p[1:]}")
        for i, p in enumerate(listed(hashed_passwords)):
            p = p.decode() if isinstance(p, bytes) else str(p)
            if p[:1] not in ("+", "-"):
                raise DataError(f'Hashed password {i} must be prefixed with a "+" to add or a "-" to remove')
            pieces.append(f"{'#' if p[0] == '+' else '!'}{p[1:]}")
        if nopass:
            pieces.append("nopass")
        for c in listed(categories):
            c = c.decode() if isinstance(c, bytes) else c
            if c.startswith("+@") or c.startswith("-@"):
                pieces.append(c)
            elif c.startswith("+") or c.startswith("-"):
                pieces.append(f"{c[0]}@{c[1:]}")
            else:
                raise DataError(f'Category "{c}" must be prefixed with "+" or "-"')
        for c in listed(commands):
            c = c.decode() if isinstance(c, bytes) else c
            if c[:1] not in ("+", "-"):
                raise DataError(f'Command "{c}" must be prefixed with "+" or "-"')
            pieces.append(c)
        for k in listed(keys):
            k = k.decode() if isinstance(k, bytes) else k
            pieces.append(k if k.startswith(("~", "%")) else f"~{k}")
        for ch in listed(channels):
            ch = ch.decode() if isinstance(ch, bytes) else ch
            pieces.append(ch if ch.startswith("&") else f"&{ch}")
        for kind, key in selectors or []:
            kind = kind.decode() if isinstance(kind, bytes) else kind
            key = key.decode() if isinstance(key, bytes) else key
            if kind[:1] not in ("+", "-"):
                raise DataError(f'Command "{kind}" must be prefixed with "+" or "-"')
            pieces.append(f"({kind} {key if key.startswith(('%', '~')) else '~' + key})")
        return self.execute_command("ACL SETUSER", *pieces)

    def acl_getuser(self, username: str) -> ResponseT:
        """ACL GETUSER: the user's rules as a dict (flags, passwords, commands, categories,
        keys, channels, enabled), or None."""
        return self.execute_command("ACL GETUSER", username)

    def acl_log(self, count: Optional[int] = None) -> ResponseT:
        """ACL LOG [count]: recent refusals as dicts (client-info parsed)."""
        return self.execute_command("ACL LOG", *([] if count is None else [count]))

    def acl_log_reset(self) -> ResponseT:
        return self.execute_command("ACL LOG", "RESET")

    def slowlog_get(self, num: Optional[int] = None) -> ResponseT:
        """SLOWLOG GET [num]: entries as dicts (id, start_time, duration, command, …)."""
        return self.execute_command("SLOWLOG GET", *([] if num is None else [num]))

    # ---- sorted sets: pops from the first non-empty key -----------------------------
    def _mpop_args(self, num_keys: int, keys: Any, min: Optional[bool], max: Optional[bool],
                   count: Optional[int]) -> List[Any]:
        if bool(min) == bool(max):
            raise DataError("Either min or max, but not both must be set")
        pieces: List[Any] = [num_keys, *_list(keys), "MIN" if min else "MAX"]
        return pieces + (["COUNT", count] if count is not None else [])

    def zmpop(self, num_keys: int, keys: List[KeyT], min: Optional[bool] = False, max: Optional[bool] = False,
              count: Optional[int] = 1) -> ResponseT:
        """ZMPOP: [key, [[member, score], …]] popped from the first non-empty key, or None."""
        return self.execute_command("ZMPOP", *self._mpop_args(num_keys, keys, min, max, count))

    def bzmpop(self, timeout: float, numkeys: int, keys: List[KeyT], min: Optional[bool] = False,
               max: Optional[bool] = False, count: Optional[int] = 1) -> ResponseT:
        """BZMPOP: ZMPOP that waits up to ``timeout`` seconds; None on timeout."""
        return self.execute_command("BZMPOP", timeout, *self._mpop_args(numkeys, keys, min, max, count))

    # ---- bits ---------------------------------------------------------------------
    def setbit(self, name: KeyT, offset: int, value: int) -> ResponseT:
        """SETBIT: the bit's old value; ``value`` is 0/1 or a bool."""
        return self.execute_command("SETBIT", name, offset, 1 if value else 0)

    def bitpos(self, key: KeyT, bit: int, start: Optional[int] = None, end: Optional[int] = None,
               mode: Optional[str] = None) -> ResponseT:
        """BITPOS: the position of the first ``bit`` (0 or 1) in the range, -1 if none."""
        if bit not in (0, 1):
            raise DataError("bit must be 0 or 1")
        if start is None and end is not None:
            raise DataError("start argument is not set, when end is specified")
        pieces: List[Any] = [key, bit]
        pieces += [x for x in (start, end, mode) if x is not None]
        return self.execute_command("BITPOS", *pieces)

    def bitfield(self, key: KeyT, default_overflow: Optional[str] = None) -> "BitFieldOperation":
        """A BITFIELD builder: chain ``set``/``get``/``incrby``/``overflow``, then
        ``execute()`` (on a pipeline that queues it)."""
        return BitFieldOperation(self, key, default_overflow=default_overflow)

    def bitfield_ro(self, key: KeyT, encoding: str, offset: Any, items: Optional[List[Any]] = None) -> ResponseT:
        """BITFIELD_RO: the GET of ``encoding`` at ``offset``, then of each (encoding,
        offset) in ``items``."""
        pieces: List[Any] = [key, "GET", encoding, offset]
        for enc, off in items or []:
            pieces += ["GET", enc, off]
        return self.execute_command("BITFIELD_RO", *pieces)

    # ---- keys: serialized values -----------------------------------------------------
    def dump(self, name: KeyT) -> ResponseT:
        """DUMP: the serialized value (bytes even with decode_responses), or None."""
        return self.execute_command("DUMP", name, NEVER_DECODE=[])

    def restore(self, name: KeyT, ttl: float, value: EncodableT, replace: bool = False, absttl: bool = False,
                idletime: Optional[int] = None, frequency: Optional[int] = None) -> ResponseT:
        """RESTORE a DUMP'ed value under ``name`` (``ttl`` ms, 0 for none)."""
        pieces: List[Any] = [name, ttl, value]
        if replace:
            pieces.append("REPLACE")
        if absttl:
            pieces.append("ABSTTL")
        if idletime is not None:
            if not isinstance(idletime, int) or isinstance(idletime, bool):
                raise DataError("idletimemust be an integer")
            pieces += ["IDLETIME", idletime]
        if frequency is not None:
            if not isinstance(frequency, int) or isinstance(frequency, bool):
                raise DataError("frequency must be an integer")
            pieces += ["FREQ", frequency]
        return self.execute_command("RESTORE", *pieces)

    def function_dump(self) -> ResponseT:
        """FUNCTION DUMP: every library serialized (bytes even with decode_responses)."""
        return self.execute_command("FUNCTION DUMP", NEVER_DECODE=[])

    def function_list(self, library: Optional[str] = "*", withcode: Optional[bool] = False) -> ResponseT:
        """FUNCTION LIST: the libraries (matching ``library``) and their functions."""
        pieces: List[Any] = []
        if library is not None:
            pieces += ["LIBRARYNAME", library]
        if withcode:
            pieces.append("WITHCODE")
        return self.execute_command("FUNCTION LIST", *pieces)

    # ---- server: what needs a word or a check ------------------------------------------
    def acl_genpass(self, bits: Optional[int] = None) -> ResponseT:
        """ACL GENPASS: a random password of ``bits`` bits (1 to 4096; default 256)."""
        if bits is None:
            return self.execute_command("ACL GENPASS")
        try:
            valid = 0 < int(bits) <= 4096
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise DataError("genpass optionally accepts a bits argument, between 0 and 4096.")
        return self.execute_command("ACL GENPASS", int(bits))

    def script_flush(self, sync_type: Optional[str] = None) -> ResponseT:
        """SCRIPT FLUSH [ASYNC|SYNC]: empties the script cache."""
        if sync_type not in ("ASYNC", "SYNC", None):
            raise DataError("SCRIPT FLUSH defaults to SYNC in redis > 6.2, or accepts SYNC/ASYNC. For older versions, "
                            "of redis leave as None.")
        return self.execute_command("SCRIPT FLUSH", *([] if sync_type is None else [sync_type]))

    def lolwut(self, *version_numbers: Any) -> ResponseT:
        """LOLWUT [VERSION v …]: the server's art and version."""
        if version_numbers:
            return self.execute_command("LOLWUT", "VERSION", *version_numbers)
        return self.execute_command("LOLWUT")

    def command_list(self, module: Optional[str] = None, category: Optional[str] = None,
                     pattern: Optional[str] = None) -> ResponseT:
        """COMMAND LIST [FILTERBY MODULE|ACLCAT|PATTERN x]: command names (the server
        takes one filter)."""
        pieces: List[Any] = []
        for word, value in (("MODULE", module), ("ACLCAT", category), ("PATTERN", pattern)):
            if value is not None:
                pieces += ["FILTERBY", word, value]
        return self.execute_command("COMMAND LIST", *pieces)

    def module_loadex(self, path: str, options: Optional[List[str]] = None, args: Optional[List[str]] = None) -> ResponseT:
        """MODULE LOADEX path [CONFIG name value …] [ARGS …]."""
        pieces: List[Any] = [path]
        for name_value in options or []:
            pieces += ["CONFIG", name_value] if not isinstance(name_value, (list, tuple)) else ["CONFIG", *name_value]
        if args:
            pieces += ["ARGS", *args]
        return self.execute_command("MODULE LOADEX", *pieces)

    def migrate(self, host: str, port: int, keys: Any, destination_db: int, timeout: int, copy: bool = False,
                replace: bool = False, auth: Optional[str] = None, **kwargs: Any) -> ResponseT:
        """MIGRATE ``keys`` to another server (``timeout`` ms); COPY keeps them here."""
        names = _list(keys)
        if not names:
            raise DataError("MIGRATE requires at least one key")
        pieces: List[Any] = ["COPY"] if copy else []
        if replace:
            pieces.append("REPLACE")
        if auth:
            pieces += ["AUTH", auth]
        return self.execute_command("MIGRATE", host, port, "", destination_db, timeout, *pieces, "KEYS", *names)

    def slaveof(self, host: Optional[str] = None, port: Optional[int] = None) -> ResponseT:
        """SLAVEOF host port; with no host, SLAVEOF NO ONE (see also replicaof)."""
        if host is None and port is None:
            return self.execute_command("SLAVEOF", "NO", "ONE")
        return self.execute_command("SLAVEOF", host, port)

    def shutdown(self, save: bool = False, nosave: bool = False, now: bool = False, force: bool = False,
                 abort: bool = False, **kwargs: Any) -> None:
        """SHUTDOWN [SAVE|NOSAVE] [NOW] [FORCE] [ABORT]; the server closing the connection
        is its success, as in redis-py."""
        if save and nosave:
            raise DataError("SHUTDOWN save and nosave cannot both be set")
        words = [w for w, on in (("SAVE", save), ("NOSAVE", nosave), ("NOW", now), ("FORCE", force),
                                 ("ABORT", abort)) if on]
        from .exceptions import ConnectionError as _Gone

        try:
            self.execute_command("SHUTDOWN", *words)
        except _Gone:
            return None
        raise RedisError("SHUTDOWN seems to have failed.")

    def debug_object(self, key: KeyT, **kwargs: Any) -> ResponseT:
        """DEBUG OBJECT: the value's encoding, refcount, size… as a dict."""
        return self.execute_command("DEBUG OBJECT", key, **kwargs)

    def cluster(self, cluster_arg: str, *args: Any, **kwargs: Any) -> ResponseT:
        """CLUSTER <subcommand> …, any subcommand by name."""
        return self.execute_command(f"CLUSTER {cluster_arg.upper()}", *args, **kwargs)


class BitFieldOperation:
    """BITFIELD's sub-operations chained, sent by ``execute()`` (redis-py's class)."""

    def __init__(self, client: Any, key: KeyT, default_overflow: Optional[str] = None) -> None:
        self.client = client
        self.key = key
        self._default_overflow = default_overflow
        self.operations: List[Any] = []
        self._last_overflow = "WRAP"
        self.reset()

    def reset(self) -> None:
        """Drops the queued operations (and restores the default overflow)."""
        self.operations = []
        self._last_overflow = "WRAP"
        self.overflow(self._default_overflow or self._last_overflow)

    def overflow(self, overflow: str) -> "BitFieldOperation":
        """OVERFLOW WRAP|SAT|FAIL for the operations after it."""
        overflow = overflow.upper()
        if overflow != self._last_overflow:
            self._last_overflow = overflow
            self.operations.append(("OVERFLOW", overflow))
        return self

    def incrby(self, fmt: str, offset: Any, increment: int, overflow: Optional[str] = None) -> "BitFieldOperation":
        """INCRBY the field of type ``fmt`` at ``offset``."""
        if overflow is not None:
            self.overflow(overflow)
        self.operations.append(("INCRBY", fmt, offset, increment))
        return self

    def get(self, fmt: str, offset: Any) -> "BitFieldOperation":
        """GET the field of type ``fmt`` at ``offset``."""
        self.operations.append(("GET", fmt, offset))
        return self

    def set(self, fmt: str, offset: Any, value: int) -> "BitFieldOperation":
        """SET the field of type ``fmt`` at ``offset`` to ``value``."""
        self.operations.append(("SET", fmt, offset, value))
        return self

    @property
    def command(self) -> List[Any]:
        """The BITFIELD command these operations make."""
        cmd: List[Any] = ["BITFIELD", self.key]
        for ops in self.operations:
            cmd.extend(ops)
        return cmd

    def execute(self) -> ResponseT:
        """Sends it (a pipeline queues it); the operations are then dropped."""
        command = self.command
        self.reset()
        return self.client.execute_command(*command)
