"""What the command methods share: the argument types and redis-py's argument helpers
(used by the hand-written methods in _commands.py and the generated ones in
_generated.py)."""

from __future__ import annotations

import datetime
from typing import Any, Awaitable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

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
