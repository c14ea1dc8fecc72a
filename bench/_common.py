"""What the benchmarks share: a free port, Django on a fresh data directory, result tables."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_instance(
    scopes: str, *, kind: str = "server", settings: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str], str]:
    """A new data directory with an API key of ``kind`` holding ``scopes``, rate limits out
    of the way (and any other ``settings``): the environment, the ``safehold`` command,
    and the key."""
    import subprocess

    data_dir = Path(tempfile.mkdtemp(prefix="safehold-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEHOLD_")}
    env |= {
        "SAFEHOLD_DATA_DIR": str(data_dir),
        "SAFEHOLD_API_RATE_KEY": "1000000/m",
        "SAFEHOLD_API_RATE_IP": "1000000/m",
        **(settings or {}),
    }
    cmd = [sys.executable, "-m", "safehold"]
    subprocess.run([*cmd, "init"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*cmd, "apikey", "create", "--name", "bench", "--kind", kind, "--scopes", scopes],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return env, cmd, created.stdout.strip().splitlines()[-1]


def wait_until_serving(connection: http.client.HTTPConnection) -> None:
    """Poll the health endpoint until the server answers (at most about 20 s)."""
    import time

    for _ in range(200):
        try:
            connection.request("GET", "/api/v1/health")
            connection.getresponse().read()
            return
        except OSError:
            connection.close()
            time.sleep(0.1)


def setup_django(prefix: str, database_url: str | None = None) -> Path:
    """Set Django up in this process on a fresh data directory (production settings,
    SQLite unless ``database_url``), migrated; return the data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    for name in list(os.environ):
        if name.startswith("SAFEHOLD_") and name != "SAFEHOLD_BENCH_PG":
            del os.environ[name]
    os.environ["SAFEHOLD_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["SAFEHOLD_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "safehold.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from safehold import conf

    conf.ensure_data_dir(data_dir)
    (data_dir / "static").mkdir()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def print_timings(
    results: dict[str, list[float]], baseline: str, label: str, rounds: int, digits: int = 1
) -> None:
    """A median / p90 / ratio table of request timings (ms) against ``results[baseline]``."""
    reference = statistics.median(results[baseline])
    print(f"rounds: {rounds}, python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print(f"| request | median ms | p90 ms | ratio to {label} |")
    print("| --- | ---: | ---: | ---: |")
    for name, samples in results.items():
        samples.sort()
        p90 = samples[int(len(samples) * 0.9) - 1]
        median = statistics.median(samples)
        print(f"| {name} | {median:.{digits}f} | {p90:.{digits}f} | {median / reference:.1f}x |")
