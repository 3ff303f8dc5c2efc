"""Construction, bad input, errors, stats, lifecycle."""

from __future__ import annotations

import pytest

import redbridge
from redbridge import exceptions

from .conftest import start_server, stop_server


def test_bad_urls_and_options_say_what_is_wrong(url: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        redbridge.Redis.from_url("http://localhost")
    with pytest.raises(ValueError, match="database number"):
        redbridge.Redis.from_url("redis://localhost/notadb")
    with pytest.raises(ValueError, match="colour"):
        redbridge.Redis.from_url("redis://localhost/?colour=red")
    with pytest.raises(TypeError, match="bogus"):
        redbridge.Redis(bogus=1)
    with pytest.raises(ValueError, match="socket_timeout"):
        redbridge.Redis(socket_timeout=-1)
    with pytest.raises(TypeError, match="url must be a str"):
        redbridge.Redis.from_url(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_connections"):
        redbridge.Redis(max_connections=0)


def test_unencodable_values_are_data_errors(r: redbridge.Redis) -> None:
    for bad, name in ((None, "NoneType"), ({"a": 1}, "dict"), (True, "bool"), ([1], "list")):
        with pytest.raises(exceptions.DataError, match=f"'{name}'"):
            r.set("k", bad)  # type: ignore[arg-type]
    r.set("k", bytearray(b"ba"))
    assert r.get("k") == b"ba"
    r.set("k", memoryview(b"mv"))
    assert r.get("k") == b"mv"
    r.set("k", 3.25)
    assert r.get("k") == b"3.25"


def test_binary_and_unicode_round_trip(url: str) -> None:
    raw = redbridge.Redis.from_url(url)
    raw.set("bin", b"\x00\xff\xfe\r\n")
    assert raw.get("bin") == b"\x00\xff\xfe\r\n"
    text = redbridge.Redis.from_url(url, decode_responses=True)
    text.set("uni", "héllo ✓")
    assert text.get("uni") == "héllo ✓"
    with pytest.raises(UnicodeDecodeError):
        text.get("bin")


def test_server_errors_keep_their_code_and_class(r: redbridge.Redis) -> None:
    r.set("s", "x")
    with pytest.raises(exceptions.ResponseError) as info:
        r.lpush("s", "y")
    assert info.value.code == "WRONGTYPE"
    assert info.value.kind == "response"
    with pytest.raises(exceptions.ResponseError):
        r.execute_command("NOSUCHCOMMAND")


def test_state_commands_are_refused_with_the_option_to_use(r: redbridge.Redis) -> None:
    # CLIENT REPLY cannot be shared: refused, naming why.
    with pytest.raises(exceptions.DataError, match="CLIENT REPLY"):
        r.execute_command("CLIENT", "REPLY", "OFF")
    # SELECT through execute_command switches every connection, as select() does.
    home = r.client_info()["db"]
    other = 1 if home != 1 else 2
    r.set("db:probe", "home")
    assert r.execute_command("SELECT", other) is True
    assert r.client_info()["db"] == other
    assert r.get("db:probe") is None
    assert r.select(home) is True
    assert r.get("db:probe") == b"home"


def test_wrong_password_is_an_authentication_error_without_the_password() -> None:
    info = start_server("--requirepass", "the-right-one")
    try:
        client = redbridge.Redis(host="127.0.0.1", port=info["port"], password="hunter2-secret")
        assert "hunter2" not in repr(client)
        with pytest.raises(exceptions.AuthenticationError) as err:
            client.ping()
        assert "hunter2" not in str(err.value)
        assert isinstance(err.value, exceptions.ConnectionError)
        good = redbridge.Redis.from_url(f"redis://:the-right-one@127.0.0.1:{info['port']}")
        assert good.ping() is True
    finally:
        stop_server(info)


def test_unreachable_server_is_a_connection_error() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = redbridge.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.2)
    with pytest.raises(exceptions.ConnectionError, match=f"127.0.0.1:{port}|localhost:{port}"):
        client.get("x")


def test_stats_close_and_context_manager(url: str) -> None:
    with redbridge.Redis.from_url(url) as client:
        client.set("a", 1)
        client.get("a")
        stats = client.stats()
        assert stats["requests"] >= 2
        assert stats["direct_requests"] >= 2
        assert "errors_timeout" in stats and "pool_size" in stats
    # As redis-py (issue #16): a closed client connects again on its next command.
    assert client.get("a") == b"1"
    client.close()


def test_from_url_query_options(url: str) -> None:
    client = redbridge.from_url(url + "?decode_responses=true&socket_timeout=2&client_name=py-test")
    client.set("q", "v")
    assert client.get("q") == "v"
    assert client.execute_command("CLIENT", "GETNAME") == "py-test"


def test_typed_example_runs(url: str) -> None:
    import asyncio

    from .typing_example import async_usage, sync_usage

    value, requests, keys, results = sync_usage(url)
    assert value == "v" and requests > 0 and "k" in keys and results[1] == str(results[0])
    value, keys, results = asyncio.run(async_usage(url))
    assert value == b"v" and results == [True, b"1"]
