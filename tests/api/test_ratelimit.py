"""Rate limits per key and per IP: 429 with Retry-After, shared through Redis."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from safehold.api import ratelimit
from safehold.api.rates import Rate, parse_rate
from safehold.conf import ConfigError
from tests.api.conftest import bearer
from tests.api.test_errors import assert_problem
from tests.helpers import run_safehold, serving


def test_a_key_over_its_limit_gets_429_with_retry_after(client, make_key, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = Rate(3, 60)
    busy, quiet = make_key().token, make_key().token
    for _ in range(3):
        assert client.get("/api/v1/me", **bearer(busy)).status_code == 200
    response = client.get("/api/v1/me", **bearer(busy))
    body = assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in body["detail"]
    # Another key is counted on its own.
    assert client.get("/api/v1/me", **bearer(quiet)).status_code == 200


def test_an_ip_over_its_limit_gets_429_before_anything_else(db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_IP = Rate(5, 60)
    flooding = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [flooding.get("/api/v1/me").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    response = flooding.get("/api/v1/health")
    assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert Client(REMOTE_ADDR="203.0.113.10").get("/api/v1/health").status_code == 200
    # The rest of the site is not the API's business.
    assert flooding.get("/").status_code == 200


def test_a_site_key_is_limited_per_ip_not_per_key(db, make_key, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SAFEHOLD_API_RATE_KEY = Rate(2, 60)
    site = make_key("consent:read", kind="site").token
    for n in range(4):  # four visitors of the site, from four addresses
        visitor = Client(REMOTE_ADDR=f"198.51.100.{n}")
        # No consent route exists yet: 403 (key accepted, scope missing) is past the limit.
        assert visitor.get("/api/v1/me", **bearer(site)).status_code == 403


def test_windows_are_fixed_and_retry_after_counts_to_the_next(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rate = Rate(2, 60)
    monkeypatch.setattr(ratelimit, "_clock", lambda: 6000.5)  # 0.5 s into a window
    assert ratelimit.hit("test:window", rate) is None
    assert ratelimit.hit("test:window", rate) is None
    assert ratelimit.hit("test:window", rate) == 60
    monkeypatch.setattr(ratelimit, "_clock", lambda: 6059.2)
    assert ratelimit.hit("test:window", rate) == 1
    monkeypatch.setattr(ratelimit, "_clock", lambda: 6060.0)  # the next window
    assert ratelimit.hit("test:window", rate) is None


def test_a_large_limit_is_written_in_parts_and_refused_on_the_shared_count(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    rate = Rate(4 * ratelimit.FLUSH_PARTS, 60)  # written every 4 requests
    monkeypatch.setattr(ratelimit, "_clock", lambda: 12000.5)
    name = f"api:rl:test:parts:60:{12000 // 60}"
    for _ in range(3):
        assert ratelimit.hit("test:parts", rate) is None
    assert cache.get(name) is None  # three requests, not yet written
    assert ratelimit.hit("test:parts", rate) is None
    assert cache.get(name) == 4
    # Another process's requests, written to the shared counter meanwhile:
    cache.incr(name, rate.limit - 6)
    for _ in range(3):  # counted here, not yet written: at most 3 more than the limit
        assert ratelimit.hit("test:parts", rate) is None
    assert cache.get(name) == rate.limit - 2
    assert ratelimit.hit("test:parts", rate) == 60  # written: refused on the shared count
    assert cache.get(name) == rate.limit + 2
    # Past the limit, each request is written and refused at once.
    assert ratelimit.hit("test:parts", rate) == 60
    assert cache.get(name) == rate.limit + 3


@pytest.mark.parametrize(
    ("text", "rate"), [("600/m", Rate(600, 60)), ("1/s", Rate(1, 1)), (" 50 / h ", Rate(50, 3600))]
)
def test_rates_are_read_from_the_settings(text, rate) -> None:  # type: ignore[no-untyped-def]
    assert parse_rate("SAFEHOLD_API_RATE_KEY", text) == rate
    assert parse_rate("X", str(rate)) == rate


@pytest.mark.parametrize("text", ["", "600", "0/m", "-1/m", "600/w", "lots"])
def test_a_bad_rate_names_the_setting(text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="SAFEHOLD_API_RATE_IP"):
        parse_rate("SAFEHOLD_API_RATE_IP", text)


def test_a_bad_rate_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = run_safehold(tmp_path / "data", "check", SAFEHOLD_API_RATE_KEY="lots")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "safehold: error: SAFEHOLD_API_RATE_KEY must be a count per second, minute, hour or "
        "day, like 600/m, not 'lots'"
    ]


def _status(url: str, token: str) -> tuple[int, str | None, str | None]:
    """The status, Retry-After and problem code of a GET with the key."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), None, None
    except urllib.error.HTTPError as error:
        return int(error.code), error.headers["Retry-After"], json.loads(error.read())["code"]


def test_two_app_servers_share_the_counters_through_redis(tmp_path: Path, redis_url) -> None:  # type: ignore[no-untyped-def]
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    data_dir = tmp_path / "data"
    assert run_safehold(data_dir, "init").returncode == 0
    created = run_safehold(data_dir, "apikey", "create", "--name", "shop", "--scopes", "keys:read")
    token = created.stdout.strip().splitlines()[-1]
    # A day's window: the test does not straddle two of them.
    limits = {"SAFEHOLD_REDIS_URL": redis_url, "SAFEHOLD_API_RATE_KEY": "5/d"}
    with serving(data_dir, **limits) as server_a, serving(data_dir, **limits) as server_b:
        assert server_a != server_b
        answers = [_status(f"{base}/api/v1/me", token) for base in [server_a] * 3 + [server_b] * 2]
        assert [status for status, _, _ in answers] == [200] * 5
        # Each server has seen fewer than five requests, but together they have seen five.
        for server in (server_a, server_b):
            status, retry_after, code = _status(f"{server}/api/v1/me", token)
            assert (status, code) == (429, "rate_limited")
            assert int(retry_after or 0) >= 1
    assert redis.Redis.from_url(redis_url).keys("*api:rl:key:*")
