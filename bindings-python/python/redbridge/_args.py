"""What the command methods share: the argument types and redis-py's argument helpers
(used by the hand-written methods in _commands.py and the generated ones in
_generated.py)."""

from __future__ import annotations

import datetime
from typing import Any, Awaitable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .exceptions import DataError

EncodableT = Union[bytes, bytearray, memoryview, str, int, float]
KeyT = Union[bytes, str, memoryview]
ExpiryT = Union[int, float, datetime.timedelta]
AbsExpiryT = Union[int, datetime.datetime]
ResponseT = Union[Awaitable[Any], Any]


def _list(keys: Any, args: Sequence[Any] = ()) -> List[Any]:
    """redis-py's list_or_args: a single key, or an iterable of keys, plus extra args."""
    if isinstance(keys, (bytes, str, memoryview, bytearray)) or not hasattr(keys, "__iter__"):
        out = [keys]
    else:
        out = list(keys)
    out.extend(args)
    return out


def _seconds(t: ExpiryT) -> int:
    return int(t.total_seconds()) if isinstance(t, datetime.timedelta) else t  # type: ignore[return-value]


def _millis(t: ExpiryT) -> int:
    return int(t.total_seconds() * 1000) if isinstance(t, datetime.timedelta) else t  # type: ignore[return-value]


def _at_seconds(t: AbsExpiryT) -> int:
    return int(t.timestamp()) if isinstance(t, datetime.datetime) else t


def _at_millis(t: AbsExpiryT) -> int:
    return int(t.timestamp() * 1000) if isinstance(t, datetime.datetime) else t


def _whole(value: Any, name: str, per_second: int) -> Any:
    """A relative expiry as the whole number the command takes: an int, a str of digits,
    or a timedelta (in seconds, or milliseconds when ``per_second`` is 1000)."""
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * per_second)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return value
    raise DataError(f"{name} must be datetime.timedelta or int")


def _absolute(value: Any, name: str, per_second: int) -> Any:
    """An absolute expiry (unix time) as a whole number: an int or a datetime."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * per_second)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise DataError(f"{name} must be datetime.datetime or int")


def _expire_args(ex: Any, px: Any, exat: Any, pxat: Any, flag: bool = False, flag_name: str = "keepttl") -> List[Any]:
    """EX/PX/EXAT/PXAT and a KEEPTTL or PERSIST flag, at most one of them (redis-py's
    rule and message, for SET, GETEX, HGETEX, HSETEX, MSETEX and INCREX)."""
    if sum(x is not None for x in (ex, px, exat, pxat)) + bool(flag) > 1:
        raise DataError(f"``ex``, ``px``, ``exat``, ``pxat``, and ``{flag_name}`` are mutually exclusive.")
    if ex is not None:
        return ["EX", _whole(ex, "ex", 1)]
    if px is not None:
        return ["PX", _whole(px, "px", 1000)]
    if exat is not None:
        return ["EXAT", _absolute(exat, "exat", 1)]
    if pxat is not None:
        return ["PXAT", _absolute(pxat, "pxat", 1000)]
    return [flag_name.upper()] if flag else []


def _one_of(names: str, *given: bool) -> None:
    """DataError unless at most one of the options named (comma-separated) is given."""
    if sum(bool(g) for g in given) > 1:
        listed = ", ".join(f"``{n.strip()}``" for n in names.split(","))
        raise DataError(f"{listed} are mutually exclusive.")


def _expiry_flags(nx: bool, xx: bool, gt: bool, lt: bool) -> List[str]:
    return [flag for flag, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on]


def _trim_args(maxlen: Any, approximate: bool, minid: Any, limit: Any) -> List[Any]:
    """MAXLEN/MINID [~] threshold [LIMIT n] of XADD and XTRIM."""
    out: List[Any] = []
    if maxlen is not None or minid is not None:
        out += ["MAXLEN" if maxlen is not None else "MINID"]
        if approximate:
            out.append("~")
        out.append(maxlen if maxlen is not None else minid)
    if limit is not None:
        out += ["LIMIT", limit]
    return out
