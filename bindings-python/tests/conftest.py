"""Fixtures: a throwaway redis-server from the shared harness (tests/harness/redis_server.py),
stopped by PID after the session; REDBRIDGE_TEST_URL points the tests at another server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import redbridge

HARNESS = Path(__file__).resolve().parents[2] / "tests" / "harness" / "redis_server.py"


def start_server(*extra: str, tls: bool = False) -> Dict[str, Any]:
    cmd = [sys.executable, str(HARNESS), "start"] + (["--tls"] if tls else [])
    if extra:
        cmd += ["--", *extra]
    return json.loads(subprocess.check_output(cmd))


def stop_server(info: Dict[str, Any]) -> None:
    subprocess.run([sys.executable, str(HARNESS), "stop", info["pidfile"]], check=False)


@pytest.fixture(scope="session")
def server() -> Iterator[Dict[str, Any]]:
    url = os.environ.get("REDBRIDGE_TEST_URL")
    if url:
        yield {"url": url}
        return
    info = start_server()
    yield info
    stop_server(info)


@pytest.fixture
def url(server: Dict[str, Any]) -> str:
    return str(server["url"])


@pytest.fixture
def own_server() -> Iterator[Dict[str, Any]]:
    """A server of the test's own, for tests that stall, kill or restart it."""
    info = start_server()
    yield info
    stop_server(info)


def start_cluster() -> Dict[str, Any]:
    info: Dict[str, Any] = json.loads(subprocess.check_output([sys.executable, str(HARNESS), "cluster"]))
    return info


def stop_cluster(info: Dict[str, Any]) -> None:
    """Stops every process of a deployment the harness started (cluster or sentinel)."""
    for pidfile in info["pidfiles"]:
        subprocess.run([sys.executable, str(HARNESS), "stop", pidfile], check=False)


def sentinel_deployment(*extra: str) -> Iterator[Dict[str, Any]]:
    """A primary, two replicas and three sentinels (the harness), stopped by PID: the body
    of the sentinel test modules' fixtures (`extra`: e.g. "--tls")."""
    info: Dict[str, Any] = json.loads(subprocess.check_output([sys.executable, str(HARNESS), "sentinel", *extra]))
    yield info
    stop_cluster(info)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Dict[str, Any]]:
    """A local Redis Cluster: 3 primaries + 3 replicas (the harness), stopped by PID."""
    info = start_cluster()
    yield info
    stop_cluster(info)


@pytest.fixture
def own_cluster() -> Iterator[Dict[str, Any]]:
    """A cluster of the test's own, for tests that stop its nodes."""
    info = start_cluster()
    yield info
    stop_cluster(info)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Dict[str, Any]]:
    """A TLS-only server; its CA, client cert/key and an untrusted CA are in the dict."""
    info = start_server(tls=True)
    yield info
    stop_server(info)


@pytest.fixture(scope="module")
def mtls_server() -> Iterator[Dict[str, Any]]:
    """A TLS-only server that requires a client certificate."""
    info = start_server("--tls-auth-clients", "yes", tls=True)
    yield info
    stop_server(info)


@pytest.fixture
def r(url: str) -> Iterator[redbridge.Redis]:
    client = redbridge.Redis.from_url(url)
    client.flushdb()
    yield client
    client.close()
