import pytest

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


def test_the_specifications_form_max_size_ttl_get_and_set() -> None:
    now = [0.0]
    cache: ModelCache[str] = ModelCache(max_size=2, ttl=10, clock=lambda: now[0])
    assert (cache.max_size, cache.ttl) == (2, 10)
    cache.set("a", "1")
    cache.set("b", "2")
    cache.set("c", "3")  # the size is bounded on set: the least recently used one goes
    assert len(cache) == 2 and cache.get("a") is None
    assert cache.get("b") == "2"
    now[0] = 10.5  # the TTL is checked on get
    assert cache.get("b") is None and cache.get("c") is None
    assert len(cache) == 0


def test_defaults_and_the_config_files_spelling_are_the_same_settings() -> None:
    spec: ModelCache[int] = ModelCache()
    assert (spec.max_size, spec.ttl) == (100, 3600)
    assert (spec.max_entries, spec.ttl_s) == (100, 3600)
    assert ModelCache(max_entries=7, ttl_s=5).max_size == 7
    with pytest.raises(TypeError, match="max_size or max_entries, not both"):
        ModelCache(max_size=1, max_entries=2)
    with pytest.raises(TypeError, match="ttl or ttl_s"):
        ModelCache(ttl=1, ttl_s=2)
