"""TLS (redis-py's ssl_* arguments, rediss:// URLs) and ACL users, on real servers."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Dict

import pytest
import redis

import redbridge
import redbridge.asyncio
from redbridge.exceptions import AuthenticationError, ConnectionError, ResponseError


def exercise(r: redbridge.Redis) -> None:
    assert r.set("tls:k", "v") is True
    assert r.get("tls:k") == b"v"
    assert r.blpop(["tls:empty"], timeout=0.05) is None  # a leased connection
    with r.pipeline() as p:
        assert p.incr("tls:n").incr("tls:n").execute()[-1] >= 2


def test_ssl_arguments_as_in_redis_py(tls_server: Dict[str, Any]) -> None:
    s = tls_server
    r = redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs=s["ca"])
    exercise(r)
    r.close()
    # The URL form, with the CA as a keyword argument, and as a query option.
    r = redbridge.Redis.from_url(s["url"], ssl_ca_certs=s["ca"])
    exercise(r)
    r.close()
    r = redbridge.Redis.from_url(f"{s['url']}?ssl_ca_certs={s['ca']}")
    exercise(r)
    # The same data through redis-py over TLS: the servers agree.
    other = redis.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs=s["ca"])
    assert other.get("tls:k") == b"v"
    other.close()
    r.close()


def test_ssl_cert_reqs_none_skips_verification(tls_server: Dict[str, Any]) -> None:
    s = tls_server
    for reqs in ("none", ssl.CERT_NONE):
        r = redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_cert_reqs=reqs)
        exercise(r)
        r.close()


def test_tls_errors_say_what_failed(tls_server: Dict[str, Any]) -> None:
    s = tls_server
    for ca in (None, s["other_ca"]):
        r = redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs=ca, socket_connect_timeout=1)
        with pytest.raises(ConnectionError, match="not signed by a CA"):
            r.ping()
    r = redbridge.Redis(host="localhost", port=s["port"], ssl=True, ssl_ca_certs=s["ca"], socket_connect_timeout=1)
    with pytest.raises(ConnectionError, match='not valid for the host name "localhost"'):
        r.ping()
    with pytest.raises(ValueError, match="tls_ca_file.*/no/such.pem"):
        redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs="/no/such.pem")
    with pytest.raises(ValueError, match="ssl_check_hostname=False"):
        redbridge.Redis(ssl=True, ssl_check_hostname=False)
    with pytest.raises(ValueError, match="ssl_cert_reqs"):
        redbridge.Redis(ssl=True, ssl_cert_reqs="sometimes")
    with pytest.raises(TypeError, match="ssl_ca_certs must be a path"):
        redbridge.Redis(ssl=True, ssl_ca_certs=42)  # type: ignore[arg-type]


def test_mutual_tls(mtls_server: Dict[str, Any]) -> None:
    s = mtls_server
    r = redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs=s["ca"], socket_connect_timeout=1)
    with pytest.raises(ConnectionError, match="client certificate"):
        r.ping()
    r = redbridge.Redis(host=s["host"], port=s["port"], ssl=True, ssl_ca_certs=s["ca"], ssl_certfile=s["cert"], ssl_keyfile=s["key"])
    exercise(r)
    assert "BEGIN" not in repr(r)
    r.close()


def test_tls_asyncio(tls_server: Dict[str, Any]) -> None:
    s = tls_server

    async def main() -> Any:
        r = redbridge.asyncio.Redis.from_url(s["url"], ssl_ca_certs=s["ca"])
        await r.set("tls:a", "1")
        got = await asyncio.gather(*(r.incr("tls:a") for _ in range(100)))
        await r.aclose()
        return got

    assert sorted(asyncio.run(main())) == list(range(2, 102))


def test_acl_user(own_server: Dict[str, Any]) -> None:
    admin = redbridge.Redis.from_url(own_server["url"])
    admin.execute_command("ACL", "SETUSER", "app", "on", ">pw-1234", "~*", "+@all", "-keys")
    r = redbridge.Redis.from_url(own_server["url"], username="app", password="pw-1234")
    exercise(r)
    assert r.execute_command("ACL", "WHOAMI") == b"app"
    with pytest.raises(ResponseError, match="(?i)noperm.*keys"):
        r.keys("*")
    # Every connection the client opens authenticates: kill them all, then use it again.
    admin.execute_command("CLIENT", "KILL", "USER", "app")
    assert r.get("tls:k") == b"v"
    bad = redbridge.Redis.from_url(own_server["url"], username="app", password="wrong-pw", socket_connect_timeout=1)
    with pytest.raises(AuthenticationError) as info:
        bad.ping()
    assert "wrong-pw" not in str(info.value) and "wrong-pw" not in repr(info.value)
    r.close()
    admin.close()
