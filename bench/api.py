"""API cost on a real `safehold serve` (gunicorn, SQLite): an authenticated read
against the API's hello ceiling, in the same run.

Starts Safehold in a fresh data directory on 127.0.0.1, creates one server key,
then times, sequentially from one client over one kept-alive connection, in
alternation: ``GET /api/v1/health`` (the ceiling: no key, no database, but the
whole middleware stack and the per-IP rate limit) and ``GET /api/v1/me`` with the
key (key lookup, hash check, scope check, per-key and per-IP rate limits in the
cache). Prints medians, p90s and the ratio to the ceiling.

    python bench/api.py [--rounds 500]

The rate limits stay on (they are part of the cost) but are raised above what the
run sends.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import time

from _common import free_port, fresh_instance, print_timings, wait_until_serving


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()

    env, cmd, token = fresh_instance("keys:read")
    port = free_port()
    server = subprocess.Popen(
        [*cmd, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        wait_until_serving(connection)

        def get(path: str, headers: dict[str, str]) -> float:
            start = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            return elapsed

        requests = {
            "health (ceiling)": ("/api/v1/health", {}),
            "me (key)": ("/api/v1/me", {"Authorization": f"Bearer {token}"}),
        }
        for path, headers in requests.values():  # warm up
            for _ in range(20):
                get(path, headers)
        results: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(args.rounds):
            for name, (path, headers) in requests.items():
                results[name].append(get(path, headers))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print_timings(results, "health (ceiling)", "ceiling", args.rounds, digits=2)


if __name__ == "__main__":
    main()
