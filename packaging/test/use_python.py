"""What make test-dist runs in a fresh virtualenv with the wheel (or the sdist) installed:
the package imported from site-packages and used sync and asyncio on REDBRIDGE_TEST_URL."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys

import redbridge
import redbridge.asyncio

URL = os.environ["REDBRIDGE_TEST_URL"]
where = pathlib.Path(redbridge.__file__).resolve().parent
assert "site-packages" in where.parts, f"redbridge imported from {where}, not the virtualenv"
assert (where / "py.typed").exists(), "py.typed missing: type checkers would ignore the package"

r = redbridge.Redis.from_url(URL, decode_responses=True)
r.delete("dist:py:counter")
r.set("dist:py", "sync", ex=60)
assert r.get("dist:py") == "sync"
with r.pipeline(transaction=False) as pipe:
    pipe.incr("dist:py:counter").incr("dist:py:counter")
    assert pipe.execute() == [1, 2]
r.close()


async def main() -> int:
    async with redbridge.asyncio.Redis.from_url(URL) as ar:
        counts = await asyncio.gather(*(ar.incr("dist:py:counter") for _ in range(100)))
        assert await ar.get("dist:py") == b"sync"
        return max(counts)


assert asyncio.run(main()) == 102
native = next(where.glob("_redbridge*.so")).name
print(f"Python {sys.version.split()[0]}: redbridge {redbridge.__version__} ({native}) sync and asyncio: ok")
