"""Response callbacks: redis-py's Python types for the core's replies.

Keyed by command name, applied by ``execute_command`` (as in redis-py), so
``r.execute_command("SET", "k", "v")`` returns ``True`` just like ``r.set("k", "v")``.
The core hands every reply in its normal form, one shape under RESP2 and RESP3 (HGETALL
a dict, scores as ``[member, float]`` pairs, scan pages with paired items; see
docs/architecture.md, "Reply normal forms"), so these only convert types.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

Callback = Callable[..., Any]


def _str(x: Any) -> Any:
    return x.decode() if isinstance(x, bytes) else x


def bool_ok(r: Any, **_: Any) -> bool:
    return bool(_str(r) == "OK")


def to_bool(r: Any, **_: Any) -> Any:
    return None if r is None else bool(r)


def to_float(r: Any, **_: Any) -> Optional[float]:
    return None if r is None else float(r)


def parse_set(r: Any, **options: Any) -> Any:
    if options.get("get"):
        return r
    return r and _str(r) == "OK"


def ping(r: Any, **_: Any) -> bool:
    return bool(_str(r) == "PONG")


def to_set(r: Any, **_: Any) -> Set[Any]:
    return set(r) if r else set()


def score_text(score: Any, like: Any = b"") -> Any:
    """A score as the RESP2 wire writes it (b"1", b"2.5", b"inf"): what redis-py hands a
    ``score_cast_func`` and leaves in flat replies; str when ``like`` (a member) is."""
    text = format(float(score), ".17g")
    return text if isinstance(like, str) else text.encode()


def _caster(options: Dict[str, Any]) -> Callable[[Any, Any], Any]:
    """(score, member) -> the score as ``score_cast_func`` makes it, fed the wire text as
    in redis-py (and the float when it refuses the text)."""
    cast = options.get("score_cast_func", float)
    if cast is float:
        return lambda s, _m: float(s)

    def apply(s: Any, m: Any) -> Any:
        try:
            return cast(score_text(s, m))
        except (ValueError, TypeError):
            return cast(float(s))

    return apply


def score_tuples(r: Any, **options: Any) -> List[Tuple[Any, Any]]:
    """The core's ``[[member, score], …]`` as redis-py's ``[(member, score)]``."""
    cast = _caster(options)
    return [(m, cast(s, m)) for m, s in r] if r else []


def flat_scores(r: Any, **options: Any) -> Any:
    """ZDIFF and ZRANDMEMBER with scores: redis-py leaves them flat, scores as text."""
    if not options.get("withscores") or not isinstance(r, list):
        return r
    return [x for m, s in r for x in (m, score_text(s, m))]


def rank_score(r: Any, **options: Any) -> Any:
    """ZRANK/ZREVRANK WITHSCORE: [rank, score]."""
    if isinstance(r, list) and len(r) == 2:
        return [r[0], _caster(options)(r[1], b"")]
    return r


def zmpop(r: Any, **_: Any) -> Any:
    """ZMPOP/BZMPOP: [key, [[member, score text], …]] as on the RESP2 wire."""
    if not r:
        return r
    return [r[0], [[m, score_text(s, m)] for m, s in r[1]]]


def resp2_shape(r: Any, **_: Any) -> Any:
    """A RESP3 reply in the shape the RESP2 wire gives (maps as flat lists, sets as
    lists), for the commands redis-py leaves unparsed (LCS IDX, FUNCTION LIST, …)."""
    if isinstance(r, dict):
        return [y for k, v in r.items() for y in (k, resp2_shape(v))]
    if isinstance(r, (list, set, frozenset, tuple)):
        return [resp2_shape(x) for x in r]
    return r


def str_keys(r: Any) -> Any:
    """A map (or RESP2's flat pairs) as a dict with str keys."""
    if isinstance(r, list):
        it = iter(r)
        r = dict(zip(it, it))
    return {str_if_bytes(k): v for k, v in r.items()} if isinstance(r, dict) else r


def memory_stats(r: Any, **_: Any) -> Any:
    """MEMORY STATS: a dict with str keys; each db.N a dict too."""
    stats = str_keys(r)
    for key, value in stats.items():
        if key.startswith("db.") and isinstance(value, (list, dict)):
            stats[key] = str_keys(value)
    return stats


def command_table(r: Any, **_: Any) -> Dict[str, Any]:
    """COMMAND: each command's name, arity, flags and key positions, by name."""
    out: Dict[str, Any] = {}
    for c in r or []:
        name = str_if_bytes(c[0])
        item: Dict[str, Any] = {"name": name, "arity": int(c[1]), "flags": [str_if_bytes(f) for f in c[2]],
                                "first_key_pos": c[3], "last_key_pos": c[4], "step_count": c[5]}
        if len(c) > 7:
            item.update(tips=c[7], key_specifications=c[8], subcommands=c[9])
        out[name] = item
    return out


def client_kill(r: Any, **_: Any) -> Any:
    """CLIENT KILL: True for the address form's OK, the count for the filter form's."""
    return r if isinstance(r, int) else str_if_bytes(r) == "OK"


def debug_object(r: Any, **_: Any) -> Dict[str, Any]:
    """DEBUG OBJECT: its key:value words as a dict (the first, the type, unnamed)."""
    fields: Dict[str, Any] = {}
    for word in ("type:" + str_if_bytes(r)).split():
        key, _, value = word.partition(":")
        fields[key] = int(value) if key in ("refcount", "serializedlength", "lru", "lru_seconds_idle") else value
    return fields


def always_true(r: Any, **_: Any) -> bool:
    """BGSAVE / BGREWRITEAOF: redis-py answers True once the server accepted it."""
    return True


def with_scores(r: Any, **options: Any) -> Any:
    """ZRANGE and its family: tuples when scores were asked for."""
    return score_tuples(r, **options) if options.get("withscores") else r


def key_member_score(r: Any, **_: Any) -> Optional[Tuple[Any, Any, float]]:
    return (r[0], r[1], r[2]) if r else None


def blpop(r: Any, **_: Any) -> Optional[Tuple[Any, Any]]:
    return (r[0], r[1]) if r else None


def zadd(r: Any, **options: Any) -> Any:
    if options.get("as_score"):
        return None if r is None else float(r)
    return int(r)


def zmscore(r: Any, **_: Any) -> List[Optional[float]]:
    return [None if s is None else float(s) for s in r]


def time(r: Any, **_: Any) -> Tuple[int, int]:
    return int(r[0]), int(r[1])


def scan(r: Any, **_: Any) -> Tuple[int, List[Any]]:
    cursor, items = r
    return int(cursor), list(items)


def pairs_page(r: Any, **options: Any) -> Tuple[int, Any]:
    """HSCAN: the core pairs the items; redis-py gives a dict (a list with no_values)."""
    cursor, items = r
    if options.get("no_values"):
        return int(cursor), list(items)
    return int(cursor), dict(items)


def scored_page(r: Any, **options: Any) -> Tuple[int, List[Tuple[Any, Any]]]:
    cursor, items = r
    return int(cursor), score_tuples(items, **options)


def _info_value(v: str) -> Any:
    if "," not in v or "=" not in v:
        try:
            return float(v) if "." in v else int(v)
        except ValueError:
            return v
    sub: Dict[str, Any] = {}
    for item in v.split(","):
        if "=" in item:
            k, val = item.split("=", 1)
            sub[k] = _info_value(val)
    return sub


def info(r: Any, **_: Any) -> Dict[str, Any]:
    text = _str(r)
    out: Dict[str, Any] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if ":" in line:
            key, value = line.split(":", 1)
            out[key] = _info_value(value)
        else:
            out.setdefault("__raw__", []).append(line)
    return out


def str_if_bytes(r: Any, **_: Any) -> Any:
    """redis-py returns some names as str whatever decode_responses says."""
    return r.decode("utf-8", "replace") if isinstance(r, bytes) else r


def str_list(r: Any, **_: Any) -> Any:
    return [str_if_bytes(x) for x in r] if isinstance(r, list) else r


def str_dict(r: Any, **_: Any) -> Any:
    """CONFIG GET: the core's map (its normal form), keys and values as str."""
    items = r.items() if isinstance(r, dict) else []
    return {str_if_bytes(k): str_if_bytes(v) for k, v in items}


def flat_pairs(r: Any, **_: Any) -> Any:
    """HRANDFIELD WITHVALUES: RESP3 nests the pairs; redis-py returns them flat."""
    if isinstance(r, list) and r and isinstance(r[0], list):
        return [x for pair in r for x in pair]
    return r


def geopos(r: Any, **_: Any) -> Any:
    return [(float(p[0]), float(p[1])) if p is not None else None for p in r]


def pairs_as_tuples(r: Any, **_: Any) -> List[Tuple[Any, Any]]:
    """PUBSUB NUMSUB: channel, count, channel, count… as [(channel, count)] (a map, as
    a cluster's merged reply is, the same)."""
    if isinstance(r, dict):
        return list(r.items())
    it = iter(r)
    return list(zip(it, it))


def to_datetime(r: Any, **_: Any) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(int(r))


def bools(r: Any, **_: Any) -> List[bool]:
    return [bool(x) for x in r]


def geo_results(r: Any, **options: Any) -> Any:
    """GEORADIUS/GEOSEARCH: members, or with WITHDIST/WITHHASH/WITHCOORD each member's
    [member, dist (float), hash (int), (lon, lat)] in that order, as redis-py."""
    if options.get("store") or options.get("store_dist"):
        return r
    casts: List[Callable[[Any], Any]] = []
    if options.get("withdist"):
        casts.append(float)
    if options.get("withhash"):
        casts.append(int)
    if options.get("withcoord"):
        casts.append(lambda ll: (float(ll[0]), float(ll[1])))
    if not casts:
        return r
    return [[item[0], *(cast(v) for cast, v in zip(casts, item[1:]))] for item in r]


def sort_groups(r: Any, **options: Any) -> Any:
    """SORT with groups=True: each row's GET values as a tuple."""
    n = options.get("groups")
    if not n or not isinstance(r, list):
        return r
    return list(zip(*[r[i::n] for i in range(n)]))


def _entry(e: Any) -> Any:
    """One stream entry [id, [field, value, …]] as (id, {field: value}); a deleted
    entry's fields as {}, a missing entry as (None, None), as redis-py."""
    if e is None:
        return (None, None)
    entry_id, fields = e[0], e[1]
    if isinstance(fields, dict):
        return (entry_id, fields)
    it = iter(fields or ())
    return (entry_id, dict(zip(it, it)))


def stream_entries(r: Any, **_: Any) -> Any:
    return [_entry(e) for e in r] if r is not None else r


def xread(r: Any, **_: Any) -> Any:
    """XREAD: the core's map of stream → entries as redis-py's [[stream, entries]]; a
    timeout gives []."""
    if r is None:
        return []
    items = r.items() if isinstance(r, dict) else r
    return [[stream, stream_entries(entries)] for stream, entries in items]


def xpending(r: Any, **options: Any) -> Any:
    if options.get("parse_detail"):
        return [
            {"message_id": m[0], "consumer": m[1], "time_since_delivered": int(m[2]), "times_delivered": int(m[3])}
            for m in r
        ]
    consumers = [{"name": name, "pending": int(count)} for name, count in (r[3] or [])]
    return {"pending": r[0], "min": r[1], "max": r[2], "consumers": consumers}


def xclaim(r: Any, **options: Any) -> Any:
    return r if options.get("parse_justid") else stream_entries(r)


def xautoclaim(r: Any, **options: Any) -> Any:
    if options.get("parse_justid"):
        return r[1]
    return [r[0], stream_entries(r[1]), r[2]] if len(r) > 2 else [r[0], stream_entries(r[1])]


def xinfo_dict(r: Any, **options: Any) -> Any:
    """XINFO STREAM: the core's map with str keys; first/last entries parsed; with
    FULL, entries as {id: fields} and groups and their consumers as dicts."""
    if not isinstance(r, dict):
        return r
    out = {str_if_bytes(k): v for k, v in r.items()}
    if not options.get("full"):
        for key in ("first-entry", "last-entry"):
            if out.get(key) is not None:
                out[key] = _entry(out[key])
        return out
    out["entries"] = dict(_entry(e) for e in out.get("entries") or [])
    groups = [str_keys(g) for g in out.get("groups") or []]
    for g in groups:
        g["consumers"] = [str_keys(c) for c in g.get("consumers") or []]
    out["groups"] = groups
    return out


def xinfo_list(r: Any, **_: Any) -> Any:
    return [{str_if_bytes(k): v for k, v in m.items()} if isinstance(m, dict) else m for m in r]


_CLIENT_INT_FIELDS = {"id", "age", "idle", "db", "sub", "psub", "multi", "qbuf", "qbuf-free", "obl", "argv-mem",
                      "oll", "omem", "tot-mem"}


def client_fields(line: str) -> Dict[str, Any]:
    """One CLIENT LIST / CLIENT INFO line of key=value fields (a value may hold '=' or,
    for a Unix socket path, spaces)."""
    fields: Dict[str, Any] = {}
    last = None
    for token in line.split(" "):
        if "=" in token:
            key, value = token.split("=", 1)
            fields[key] = value
            last = key
        elif last is not None:
            fields[last] += " " + token
    return fields


def client_list(r: Any, **options: Any) -> Any:
    """CLIENT LIST: a list of dicts (an iterator of them for client_list_iter)."""
    rows = [f for f in (client_fields(line) for line in str_if_bytes(r).splitlines()) if f]
    return iter(rows) if options.get("as_iter") else rows


def client_info(r: Any, **_: Any) -> Dict[str, Any]:
    info = client_fields(str_if_bytes(r).strip())
    for key in _CLIENT_INT_FIELDS & info.keys():
        info[key] = int(info[key])
    return info


def acl_getuser(r: Any, **_: Any) -> Any:
    if r is None:
        return None
    data = {str_if_bytes(k): v for k, v in r.items()} if isinstance(r, dict) else {}
    # RESP3 sends the flags as a set: its order is the set's (sort to compare).
    data["flags"] = [str_if_bytes(f) for f in data.get("flags") or []]
    data["passwords"] = [str_if_bytes(p) for p in data.get("passwords") or []]
    for key in ("keys", "channels"):
        if isinstance(data.get(key), (bytes, str)):
            data[key] = [x for x in str_if_bytes(data[key]).split(" ") if x]
    if data.get("selectors"):
        data["selectors"] = [
            {str_if_bytes(k): str_if_bytes(v) for k, v in sel.items()} if isinstance(sel, dict)
            else [str_if_bytes(x) for x in sel]
            for sel in data["selectors"]
        ]
    words = str_if_bytes(data.get("commands") or "").split(" ")
    data["commands"] = [w for w in words if w and "@" not in w]
    data["categories"] = [w for w in words if "@" in w]
    data["enabled"] = "on" in data["flags"]
    return data


def acl_log(r: Any, **_: Any) -> Any:
    if not isinstance(r, list):
        return bool_ok(r)
    out = []
    for entry in r:
        item = {str_if_bytes(k): str_if_bytes(v) if isinstance(v, bytes) else v for k, v in entry.items()}
        item["client-info"] = client_info(item.get("client-info", ""))
        item["age-seconds"] = float(item["age-seconds"])
        out.append(item)
    return out


def slowlog_get(r: Any, **options: Any) -> List[Dict[str, Any]]:
    out = []
    for item in r:
        entry: Dict[str, Any] = {"id": item[0], "start_time": int(item[1]), "duration": int(item[2])}
        words = item[3]
        space: Any = " " if words and isinstance(words[0], str) else b" "
        entry["command"] = space.join(words)
        if len(item) >= 6:
            entry["client_address"] = item[4]
            entry["client_name"] = item[5]
        out.append(entry)
    return out


# A sentinel's reports (SENTINEL MASTER/MASTERS/SLAVES/SENTINELS): field → value, these
# fields as int, flags also as is_master/is_slave/… booleans.
_SENTINEL_INTS = frozenset((
    "can-failover-its-master config-epoch down-after-milliseconds failover-timeout info-refresh "
    "last-hello-message last-ok-ping-reply last-ping-reply last-ping-sent master-link-down-time master-port "
    "num-other-sentinels num-slaves o-down-time pending-commands parallel-syncs port quorum role-reported-time "
    "s-down-time slave-priority slave-repl-offset voted-leader-epoch").split())
_SENTINEL_FLAGS = (("is_master", "master"), ("is_slave", "slave"), ("is_sdown", "s_down"), ("is_odown", "o_down"),
                   ("is_sentinel", "sentinel"), ("is_disconnected", "disconnected"), ("is_master_down", "master_down"))


def sentinel_state(r: Any, flags_as_set: bool = False) -> Dict[str, Any]:
    """One sentinel report (RESP2's flat pairs or RESP3's map): str keys and values, the
    numeric fields as int; flags a str (redis-py's RESP2 shape) or a set (its RESP3 one)."""
    items = r.items() if isinstance(r, dict) else zip(r[::2], r[1::2])
    out: Dict[str, Any] = {}
    for k, v in items:
        key, value = str_if_bytes(k), str_if_bytes(v)
        if key in _SENTINEL_INTS:
            try:
                value = int(value)
            except (TypeError, ValueError):
                pass
        out[key] = value
    flags = set(out["flags"].split(","))
    if flags_as_set:
        out["flags"] = flags
    for name, flag in _SENTINEL_FLAGS:
        out[name] = flag in flags
    return out


def sentinel_master(r: Any, **_: Any) -> Dict[str, Any]:
    return sentinel_state(r)


def sentinel_masters(r: Any, **_: Any) -> Dict[str, Any]:
    return {s["name"]: s for s in map(sentinel_state, r)}


def sentinel_list(r: Any, **_: Any) -> List[Dict[str, Any]]:
    return [sentinel_state(x) for x in r]


def sentinel_addr(r: Any, **_: Any) -> Any:
    """SENTINEL GET-MASTER-ADDR-BY-NAME: (host, port), None for an unknown service."""
    return (r[0], int(r[1])) if r else None


def as_list(r: Any, **_: Any) -> Any:
    """SPOP/SRANDMEMBER with a count: RESP3 sends a set, redis-py returns a list."""
    return list(r) if isinstance(r, (set, frozenset)) else r


CALLBACKS: Dict[str, Callback] = {
    "SET": parse_set,
    "PING": ping,
    "TIME": time,
    "INFO": info,
    "SCAN": scan,
    "SSCAN": scan,
    "HSCAN": pairs_page,
    "ZSCAN": scored_page,
    "ZADD": zadd,
    "ZMSCORE": zmscore,
    "BZPOPMIN": key_member_score,
    "BZPOPMAX": key_member_score,
    "BLPOP": blpop,
    "BRPOP": blpop,
    "ZPOPMIN": score_tuples,
    "ZPOPMAX": score_tuples,
    "ZRANK": rank_score,
    "ZREVRANK": rank_score,
    "ZMPOP": zmpop,
    "BZMPOP": zmpop,
    "ZDIFF": flat_scores,
    "ZRANDMEMBER": flat_scores,
    "BGSAVE": always_true,
    "BGREWRITEAOF": always_true,
    "LCS": resp2_shape,
    "FUNCTION LIST": resp2_shape,
    "CLIENT TRACKINGINFO": resp2_shape,
    "COMMAND GETKEYSANDFLAGS": resp2_shape,
    "COMMAND": command_table,
    "MEMORY STATS": memory_stats,
    "GEOHASH": str_list,
    "RESET": str_if_bytes,
    "CLIENT GETNAME": str_if_bytes,
    "READONLY": bool_ok,
    "READWRITE": bool_ok,
    "MODULE LOADEX": bool_ok,
    "SPOP": as_list,
    "SRANDMEMBER": as_list,
    "HRANDFIELD": flat_pairs,
    "GEORADIUS": geo_results,
    "GEORADIUSBYMEMBER": geo_results,
    "GEOSEARCH": geo_results,
    "SORT": sort_groups,
    "XRANGE": stream_entries,
    "XREVRANGE": stream_entries,
    "XREAD": xread,
    "XREADGROUP": xread,
    "XPENDING": xpending,
    "XCLAIM": xclaim,
    "XAUTOCLAIM": xautoclaim,
    "XINFO STREAM": xinfo_dict,
    "CLIENT LIST": client_list,
    "CLIENT KILL": client_kill,
    "DEBUG OBJECT": debug_object,
    "CONFIG REWRITE": bool_ok,
    "CLIENT INFO": client_info,
    "CLIENT PAUSE": bool_ok,
    "ACL SETUSER": bool_ok,
    "ACL GETUSER": acl_getuser,
    "ACL LOG": acl_log,
    "SLOWLOG GET": slowlog_get,
    "XINFO GROUPS": xinfo_list,
    "XINFO CONSUMERS": xinfo_list,
    "CONFIG GET": str_dict,
    "CONFIG SET": bool_ok,
    "SCRIPT LOAD": str_if_bytes,
    "ACL WHOAMI": str_if_bytes,
    "ACL USERS": str_list,
    "FUNCTION DELETE": bool_ok,
    "FUNCTION FLUSH": bool_ok,
    "FUNCTION RESTORE": bool_ok,
    "ACL LIST": str_list,
    "ACL GENPASS": str_if_bytes,
    "ACL HELP": str_list,
    "MEMORY PURGE": bool_ok,
    "MODULE LOAD": bool_ok,
    "MODULE UNLOAD": bool_ok,
    "CLIENT SETINFO": bool_ok,
    "COMMAND GETKEYS": str_list,
    "ACL LOAD": bool_ok,
    "ACL SAVE": bool_ok,
    "CLIENT UNBLOCK": to_bool,
    "CONFIG RESETSTAT": bool_ok,
    "GEODIST": to_float,
    "GEOPOS": geopos,
    "LASTSAVE": to_datetime,
    "PUBSUB NUMSUB": pairs_as_tuples,
    "PUBSUB SHARDNUMSUB": pairs_as_tuples,
    "SCRIPT EXISTS": bools,
    "SCRIPT FLUSH": bool_ok,
    "SCRIPT KILL": bool_ok,
    "SLOWLOG RESET": bool_ok,
    "XGROUP CREATE": bool_ok,
    "XGROUP DESTROY": to_bool,
    "XGROUP SETID": bool_ok,
    "SENTINEL GET-MASTER-ADDR-BY-NAME": sentinel_addr,
    "SENTINEL MASTER": sentinel_master,
    "SENTINEL MASTERS": sentinel_masters,
    "SENTINEL SENTINELS": sentinel_list,
    "SENTINEL SLAVES": sentinel_list,
}
# redis-py answers these True only for an OK (RESET's count and CKQUORUM's "OK n usable
# Sentinels…" are False there too).
for _name in "CKQUORUM FAILOVER FLUSHCONFIG MONITOR RESET REMOVE SET".split():
    CALLBACKS["SENTINEL " + _name] = bool_ok
for _name in "AUTH COPY EXPIRE EXPIREAT PEXPIRE PEXPIREAT HEXISTS HMSET MOVE MSETNX PERSIST PSETEX RENAMENX SMOVE SETEX SETNX".split():
    CALLBACKS[_name] = to_bool
for _name in "HINCRBYFLOAT INCRBYFLOAT ZINCRBY ZSCORE".split():
    CALLBACKS[_name] = to_float
for _name in "FLUSHALL FLUSHDB LSET LTRIM MSET PFMERGE RENAME SAVE SLAVEOF SWAPDB".split():
    CALLBACKS[_name] = bool_ok
for _name in "SDIFF SINTER SMEMBERS SUNION".split():
    CALLBACKS[_name] = to_set
for _name in "ZINTER ZRANGE ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE ZUNION".split():
    CALLBACKS[_name] = with_scores



# redis-py 8.1 gives two families of Python shapes: without a ``protocol`` argument (its
# default) the legacy RESP2 ones above, whatever the wire; with ``protocol=3`` its RESP3
# callbacks' shapes, mostly the RESP3 reply as it comes (lists, not tuples). These are
# the entries that differ; a client made with protocol=3 lays them over CALLBACKS.
def _identity(r: Any, **_: Any) -> Any:
    return r


def score_lists(r: Any, **options: Any) -> Any:
    """ZRANGE family under protocol=3: [[member, score], …], the score cast as given."""
    if not options.get("withscores") or not r:
        return r
    cast = options.get("score_cast_func", float)
    return [[m, cast(s)] for m, s in r]


def rank_score_resp3(r: Any, **options: Any) -> Any:
    if isinstance(r, list) and len(r) == 2:
        return [r[0], options.get("score_cast_func", float)(r[1])]
    return r


def xread_resp3(r: Any, **_: Any) -> Any:
    """XREAD under protocol=3: {stream: [entries]} (redis-py nests the entries once more)."""
    if not r:
        return {}
    items = r.items() if isinstance(r, dict) else r
    return {stream: [stream_entries(entries)] for stream, entries in items}


def zpop_resp3(r: Any, **options: Any) -> Any:
    """ZPOPMIN/ZPOPMAX under protocol=3: without a count the server sends one flat
    [member, score] (the core pairs it; redis-py gives it as sent)."""
    if options.get("count") is None and isinstance(r, list) and len(r) == 1:
        return r[0]
    return r


def sets_as_lists(r: Any, **_: Any) -> Any:
    """FUNCTION LIST under protocol=3: the reply as sent, its sets (flags) as lists."""
    if isinstance(r, dict):
        return {k: sets_as_lists(v) for k, v in r.items()}
    if isinstance(r, (list, set, frozenset)):
        return [sets_as_lists(x) for x in r]
    return r


def geopos_lists(r: Any, **_: Any) -> Any:
    return [[float(p[0]), float(p[1])] if p is not None else None for p in r]


def acl_log_resp3(r: Any, **_: Any) -> Any:
    if not isinstance(r, list):
        return bool_ok(r)
    return [{str_if_bytes(k): str_if_bytes(v) for k, v in entry.items()} for entry in r]


def sentinel_master_resp3(r: Any, **_: Any) -> Dict[str, Any]:
    return sentinel_state(r, flags_as_set=True)


def sentinel_masters_resp3(r: Any, **_: Any) -> Dict[str, Any]:
    return {s["name"]: s for s in (sentinel_state(x, flags_as_set=True) for x in r)}


def sentinel_list_resp3(r: Any, **_: Any) -> List[Dict[str, Any]]:
    return [sentinel_state(x, flags_as_set=True) for x in r]


RESP3_SHAPES: Dict[str, Callback] = {
    "SENTINEL MASTER": sentinel_master_resp3,
    "SENTINEL MASTERS": sentinel_masters_resp3,
    "SENTINEL SENTINELS": sentinel_list_resp3,
    "SENTINEL SLAVES": sentinel_list_resp3,
    "XREAD": xread_resp3,
    "XREADGROUP": xread_resp3,
    "ZRANK": rank_score_resp3,
    "ZREVRANK": rank_score_resp3,
    "GEOPOS": geopos_lists,
    "ACL LOG": acl_log_resp3,
    "ZPOPMIN": zpop_resp3,
    "ZPOPMAX": zpop_resp3,
    "FUNCTION LIST": sets_as_lists,
}
for _name in "ZRANGE ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE ZUNION".split():
    RESP3_SHAPES[_name] = score_lists
for _name in ("ZINTER ZDIFF ZRANDMEMBER ZMPOP BZMPOP BZPOPMIN BZPOPMAX BLPOP BRPOP BGSAVE "
              "BGREWRITEAOF LCS HRANDFIELD GEOHASH RESET").split():
    RESP3_SHAPES[_name] = _identity
for _name in ("CLIENT TRACKINGINFO", "COMMAND GETKEYSANDFLAGS", "CLIENT GETNAME", "ACL CAT",
              "ACL GENPASS", "ACL HELP", "ACL LIST", "ACL USERS", "ACL WHOAMI", "COMMAND GETKEYS"):
    RESP3_SHAPES[_name] = _identity
