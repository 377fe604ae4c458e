"""Many clients at once: nothing lost, nothing doubled, concurrency measured."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor

import httpx

from importer.sandbox import Sandbox, SandboxConfig
from test_sandbox_support import auth, contacts_url, create

THREADS, PER_THREAD, CUSTOMERS = 8, 15, 4


def test_threads_creating_at_once_lose_and_double_nothing():
    cfg = SandboxConfig(customers=CUSTOMERS, rate_per_minute=None, latency_ms=5)
    with Sandbox(cfg) as sb:

        def worker(t: int) -> list[int]:
            with httpx.Client(timeout=10) as client:
                return [
                    create(client, sb, 1 + i % CUSTOMERS, {"contact": f"t{t}-{i}@example.com", "type": "EMAIL"}).status_code
                    for i in range(PER_THREAD)
                ]

        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(itertools.chain.from_iterable(pool.map(worker, range(THREADS))))

        assert statuses == [200] * THREADS * PER_THREAD
        stored = [c for cs in sb.all_contacts().values() for c in cs]
        expected = {f"t{t}-{i}@example.com" for t in range(THREADS) for i in range(PER_THREAD)}
        assert sorted(c["contact"] for c in stored) == sorted(expected)
        assert len({c["id"] for c in stored}) == len(stored)
        for cid, contacts in sb.all_contacts().items():  # each landed on its own customer
            assert all(int(c["contact"].split("-")[1].split("@")[0]) % CUSTOMERS == cid - 1 for c in contacts)
        stats = sb.stats
        assert stats.creates_committed == THREADS * PER_THREAD
        assert 2 <= stats.max_in_flight <= THREADS
        assert stats.in_flight == 0


def test_async_clients_under_faults_store_exactly_what_was_committed():
    cfg = SandboxConfig(customers=1, rate_per_minute=None, latency_ms=10, fail_rate=0.2, cut_rate=0.2, seed=11)
    n = 60

    async def main(sb: Sandbox) -> list[str]:
        async with httpx.AsyncClient(timeout=10, headers=auth(sb.token)) as client:

            async def one(i: int) -> str:
                try:
                    r = await client.post(contacts_url(sb, 1), json={"contact": f"a{i}@example.com", "type": "EMAIL"})
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    return "cut"
                return "created" if r.status_code == 200 else "failed"

            return await asyncio.gather(*(one(i) for i in range(n)))

    with Sandbox(cfg) as sb:
        outcomes = asyncio.run(main(sb))
        stored = sorted(c["contact"] for c in sb.contacts(1))
        should_exist = sorted(f"a{i}@example.com" for i, o in enumerate(outcomes) if o != "failed")
        assert stored == should_exist  # created and cut ones, each exactly once
        stats = sb.stats
        assert stats.cuts == outcomes.count("cut") > 0
        assert stats.faults == outcomes.count("failed") > 0
        assert stats.creates_committed == len(stored)
        assert 2 <= stats.max_in_flight <= n
        assert stats.requests == n
