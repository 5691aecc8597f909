from pylot.server.result_cache import ModelCache, cache_key


def test_lru_evicts_the_least_recently_used() -> None:
    cache: ModelCache[str] = ModelCache(max_entries=2, ttl_s=60)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"  # a is now the most recent
    cache.put("c", "3")
    assert cache.get("b") is None
    assert cache.get("a") == "1" and cache.get("c") == "3"


def test_entries_expire_after_ttl() -> None:
    now = [100.0]
    cache: ModelCache[str] = ModelCache(max_entries=10, ttl_s=5, clock=lambda: now[0])
    cache.put("k", "v")
    now[0] += 4.9
    assert cache.get("k") == "v"
    now[0] += 0.2
    assert cache.get("k") is None
    assert len(cache) == 0


def test_stats_count_hits_and_misses() -> None:
    cache: ModelCache[int] = ModelCache()
    cache.get("x")
    cache.put("x", 1)
    cache.get("x")
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)
    assert stats.hit_rate == 0.5


def test_cache_key_is_stable_and_sensitive() -> None:
    assert cache_key("m", {"a": 1, "b": 2}) == cache_key("m", {"b": 2, "a": 1})
    assert cache_key("m", "x") != cache_key("m", "y")
