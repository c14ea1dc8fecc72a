"""Consent: the embed's compressed size, and recording choices over HTTP at 32 clients.

1. Size: consent.js + consent.css as served, gzip -9 (and brotli if installed).
2. Throughput and latency of ``POST /api/v1/consent/choices`` with a site key against
   the production server as it ships (``safehold serve --workers 2``: gunicorn, 2
   workers x its default 16 threads) on a fresh data directory, with
   ``GET /api/v1/health`` (no key, no database) as the ceiling in the same run. 32
   clients on kept-alive connections (one asyncio loop, so the load generator itself
   stays light), alternating phases: health, choices, health, choices. Each choice is a
   real one: key check, a consent record and its audit event, on disk before the 201
   (many choices share a transaction: safehold.consent.fastpath).

    python bench/consent.py                                  # SQLite (the embedded default)
    python bench/consent.py --without-fast-path-too          # + the full stack alone
    python bench/consent.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \\
        [--redis redis://127.0.0.1:6379/4]                   # + PostgreSQL (a fresh database)

Rate limits stay on but are raised above what the run sends.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import free_port, fresh_instance, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src/safehold/consent/static/consent"
CLIENTS = 32


def sizes() -> dict[str, int]:
    js = (STATIC / "consent.js").read_bytes()
    css = (STATIC / "consent.css").read_bytes()
    result = {
        "raw": len(js) + len(css),
        "gzip": len(gzip.compress(js, 9)) + len(gzip.compress(css, 9)),
    }
    try:
        import brotli  # type: ignore[import-not-found]  # optional

        result["brotli"] = len(brotli.compress(js)) + len(brotli.compress(css))
    except ImportError:
        pass
    return result


async def _client(
    port: int, request: bytes, until: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if status >= 300:
                errors.append(status)
    finally:
        writer.close()


def _requests(token: str) -> dict[str, list[bytes]]:
    health = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    choices = []
    for _ in range(CLIENTS):
        body = json.dumps(
            {
                "visitor_id": secrets.token_urlsafe(18),
                "choices": {"preferences": True, "analytics": False, "marketing": False},
                "method": "banner",
            }
        ).encode()
        choices.append(
            b"POST /api/v1/consent/choices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return {"health": [health] * CLIENTS, "choice": choices}


async def _phase(
    port: int, requests: list[bytes], seconds: float
) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(_client(port, r, until, latencies, errors) for r in requests))
    return len(latencies) / (time.perf_counter() - start), latencies, errors


def run_server(
    label: str, env_extra: dict[str, str], seconds: float, rounds: int
) -> dict[str, object]:
    env, cmd, token = fresh_instance(
        "consent:write",
        kind="site",
        settings={
            "SAFEHOLD_API_RATE_KEY": "100000000/m",
            "SAFEHOLD_API_RATE_IP": "100000000/m",
            **env_extra,
        },
    )
    port = free_port()
    server = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_serving(http.client.HTTPConnection("127.0.0.1", port, timeout=2))
        requests = _requests(token)
        results: dict[str, dict[str, list]] = {
            name: {"rate": [], "lat": [], "errors": []} for name in requests
        }
        for reqs in requests.values():  # warm up
            asyncio.run(_phase(port, reqs, 2.0))
        for _ in range(rounds):
            for name, reqs in requests.items():
                rate, lat, errors = asyncio.run(_phase(port, reqs, seconds))
                results[name]["rate"].append(rate)
                results[name]["lat"].extend(lat)
                results[name]["errors"].extend(errors)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(env["SAFEHOLD_DATA_DIR"], ignore_errors=True)
    summary: dict[str, object] = {"label": label}
    for name, r in results.items():
        lat = sorted(r["lat"])
        summary[name] = {
            "rate": statistics.median(r["rate"]),
            "rates": r["rate"],
            "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99) - 1] * 1000,
            "errors": len(r["errors"]),
            "error_codes": sorted(set(r["errors"]))[:5],
        }
    return summary


def _pg_database(url: str) -> tuple[str, str]:
    import psycopg

    name = f"bench_consent_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name


def _pg_drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--redis", help="Redis URL for cache and rate limits in the PostgreSQL run")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--without-fast-path-too",
        action="store_true",
        help="also run each database with SAFEHOLD_CONSENT_FAST_PATH=false (every choice "
        "through the full stack, one transaction each)",
    )
    parser.add_argument(
        "--without-audit-too",
        action="store_true",
        help="also run each database with SAFEHOLD_CONSENT_AUDIT_CHOICES=false",
    )
    args = parser.parse_args()
    variants = [({}, "")]
    if args.without_fast_path_too:
        variants.append(({"SAFEHOLD_CONSENT_FAST_PATH": "false"}, ", full stack only"))
    if args.without_audit_too:
        variants.append(({"SAFEHOLD_CONSENT_AUDIT_CHOICES": "false"}, ", no audit event"))

    size = sizes()
    print(f"consent.js + consent.css: {size}")
    runs = []
    for variant, suffix in variants:
        if not args.skip_sqlite:
            label = "SQLite, file cache" + suffix
            runs.append(run_server(label, variant, args.seconds, args.rounds))
        if args.postgres:
            url, name = _pg_database(args.postgres)
            try:
                extra = {"SAFEHOLD_DATABASE_URL": url, "SAFEHOLD_VAULT_KEYSTORE": url, **variant}
                if args.redis:
                    extra["SAFEHOLD_REDIS_URL"] = args.redis
                label = "PostgreSQL" + (", Redis" if args.redis else ", file cache") + suffix
                runs.append(run_server(label, extra, args.seconds, args.rounds))
            finally:
                _pg_drop(args.postgres, name)
    print(
        f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, {CLIENTS} clients, "
        f"{args.rounds} x {args.seconds:.0f} s per request kind"
    )
    print(
        "| database | request | requests/s (median of rounds) | p50 ms | p99 ms | errors | ratio to ceiling |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        ceiling = run["health"]["rate"]  # type: ignore[index]
        for name in ("health", "choice"):
            r = run[name]  # type: ignore[index]
            print(
                f"| {run['label']} | {name} | {r['rate']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                f"{r['errors']} | {r['rate'] / ceiling:.2f}x |"
            )


if __name__ == "__main__":
    main()
