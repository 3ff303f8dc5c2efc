"""redis-py constructor arguments → the core's option names (conversion only).

Defaults live in the core; an argument left at None keeps the core's default.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import _redbridge
from .exceptions import RedbridgeWarning

# redis-py arguments that have no meaning here and are accepted for drop-in use.
IGNORED = {
    "socket_keepalive",
    "socket_keepalive_options",
    "health_check_interval",
    "single_connection_client",
    "connection_pool",
    "lib_name",
    "lib_version",
    "retry",
    "auto_close_connection_pool",
}
# Arguments a URL query may carry that the Python layer handles itself.
PYTHON_QUERY = {"decode_responses", "encoding", "encoding_errors"}


def _duration(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero (got {value!r})")
    return repr(float(value))


def _cert_reqs(value: Any) -> str:
    """redis-py's ssl_cert_reqs: "required"/"optional"/"none" or an ssl.VerifyMode."""
    import ssl as _ssl

    if isinstance(value, _ssl.VerifyMode) or (isinstance(value, int) and not isinstance(value, bool)):
        return "none" if int(value) == int(_ssl.CERT_NONE) else "required"
    if isinstance(value, str) and value.lower() in ("required", "optional", "none"):
        return value.lower()
    raise ValueError(f"ssl_cert_reqs must be 'required', 'optional', 'none' or an ssl.VerifyMode, not {value!r}")


def native_options(
    *,
    host: Optional[str] = None,
    port: Optional[int] = None,
    db: Optional[int] = None,
    username: Optional[str] = None,
    password: Optional[str] = None,
    socket_timeout: Optional[float] = None,
    socket_connect_timeout: Optional[float] = None,
    unix_socket_path: Optional[str] = None,
    retry_on_timeout: Optional[bool] = None,
    max_connections: Optional[int] = None,
    client_name: Optional[str] = None,
    protocol: Optional[int] = None,
    mode: Optional[str] = None,
    retries: Optional[int] = None,
    pool_timeout: Optional[float] = None,
    idle_timeout: Optional[float] = None,
    guard: Optional[str] = None,
    guard_threshold: Optional[int] = None,
    retry_unsafe: Optional[bool] = None,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    ssl: bool = False,
    ssl_ca_certs: Optional[str] = None,
    ssl_ca_data: Optional[str] = None,
    ssl_certfile: Optional[str] = None,
    ssl_keyfile: Optional[str] = None,
    ssl_cert_reqs: Any = None,
    ssl_check_hostname: Optional[bool] = None,
    cache_config: Any = None,
    cluster: Optional[bool] = None,
    cluster_nodes: Optional[List[Tuple[str, int]]] = None,
    read_from_replicas: Optional[bool] = None,
    sentinels: Optional[List[Tuple[str, int]]] = None,
    sentinel_service: Optional[str] = None,
    sentinel_role: Optional[str] = None,
    sentinel_username: Optional[str] = None,
    sentinel_password: Optional[str] = None,
    sentinel_options: Optional[List[Tuple[str, str]]] = None,
    **unknown: Any,
) -> List[Tuple[str, str]]:
    """The (name, value) option list the native client takes."""
    for name in list(unknown):
        if name in IGNORED:
            unknown.pop(name)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    if ssl_check_hostname is False:
        raise ValueError(
            "ssl_check_hostname=False is not supported: connect with a name the certificate was "
            "made for, or (tests only) ssl_cert_reqs='none' to skip verification"
        )
    if encoding.lower().replace("-", "").replace("_", "") != "utf8":
        raise ValueError(f"encoding={encoding!r} is not supported: redbridge encodes and decodes UTF-8 "
                         "(encoding_errors chooses how invalid bytes are decoded)")
    out: List[Tuple[str, str]] = []

    def put(name: str, value: Any) -> None:
        if value is not None:
            out.append((name, value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)))

    if unix_socket_path is not None:
        put("unix_socket_path", unix_socket_path)
    else:
        put("host", host)
        put("port", port)
    put("db", db)
    put("username", username)
    put("password", password)
    if socket_timeout is not None:
        put("response_timeout", _duration("socket_timeout", socket_timeout))
    if socket_connect_timeout is not None:
        put("connect_timeout", _duration("socket_connect_timeout", socket_connect_timeout))
    if pool_timeout is not None:
        put("pool_timeout", _duration("pool_timeout", pool_timeout))
    if idle_timeout is not None:
        put("idle_timeout", _duration("idle_timeout", idle_timeout))
    put("retry_on_timeout", retry_on_timeout)
    put("max_connections", max_connections)
    put("client_name", client_name)
    put("protocol", protocol)
    put("mode", mode)
    put("retries", retries)
    put("guard", guard)
    put("guard_threshold", guard_threshold)
    put("retry_unsafe", retry_unsafe)
    put("cluster", cluster)
    if cluster_nodes:
        put("cluster_nodes", ",".join(f"{h}:{int(p)}" for h, p in cluster_nodes))
    put("read_from_replicas", read_from_replicas)
    if sentinels:
        # Set by redbridge.sentinel.Sentinel's master_for / slave_for.
        put("sentinels", ",".join(f"{h}:{int(p)}" for h, p in sentinels))
    put("sentinel_service", sentinel_service)
    put("sentinel_role", sentinel_role)
    put("sentinel_username", sentinel_username)
    put("sentinel_password", sentinel_password)
    out.extend(sentinel_options or ())  # the sentinels' TLS, from redbridge.sentinel
    if ssl:
        put("tls", True)
    for name, value in (("ssl_ca_certs", ssl_ca_certs), ("ssl_ca_data", ssl_ca_data), ("ssl_certfile", ssl_certfile), ("ssl_keyfile", ssl_keyfile)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a path (str), not {type(value).__name__}")
        put({"ssl_ca_certs": "tls_ca_file", "ssl_ca_data": "tls_ca", "ssl_certfile": "tls_cert_file", "ssl_keyfile": "tls_key_file"}[name], None if value is None else os.fspath(value))
    if ssl_cert_reqs is not None:
        put("tls_verify", _cert_reqs(ssl_cert_reqs))
    if cache_config is not None:
        from .cache import CacheConfig

        if not isinstance(cache_config, CacheConfig):
            raise TypeError(f"cache_config must be a redbridge.CacheConfig, not {type(cache_config).__name__}")
        out.extend(cache_config.options())
    return out


def split_url(url: str) -> Tuple[str, Dict[str, str]]:
    """The URL without the query options the Python layer handles, and those options."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    parts = urlsplit(url)
    kept: List[Tuple[str, str]] = []
    python: Dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        (python.__setitem__(k, v) if k in PYTHON_QUERY else kept.append((k, v)))
    return urlunsplit(parts._replace(query=urlencode(kept))), python


def _truthy(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")


def warn_guard(message: str) -> None:
    """Guard warnings reach Python's warnings machinery."""
    warnings.warn(message, RedbridgeWarning, stacklevel=4)


def make_native(url: Optional[str], kwargs: Dict[str, Any]) -> Tuple[Any, bool]:
    """Builds the native client from a URL and/or redis-py keyword arguments."""
    decode = bool(kwargs.pop("decode_responses", False))
    if url is not None:
        url, from_query = split_url(url)
        if "decode_responses" in from_query:
            decode = _truthy(from_query.pop("decode_responses"))
        kwargs = {**from_query, **kwargs}
    errors = str(kwargs.get("encoding_errors", "strict"))
    options = native_options(**kwargs)
    warn: Callable[[str], None] = warn_guard
    return _redbridge.NativeClient(url, options, decode, warn, errors), decode
