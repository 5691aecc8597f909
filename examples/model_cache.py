"""ModelCache: an LRU cache whose entries expire.

.venv/bin/python examples/model_cache.py
"""

import time

from pylot.server.result_cache import ModelCache, cache_key

cache: ModelCache[str] = ModelCache(max_size=100, ttl=3600)
key = cache_key("qwen2.5-coder-0.5b", "def add(a, b):", {"temperature": 0})
print("before:", cache.get(key))
cache.set(key, "    return a + b")
print("after set:", repr(cache.get(key)))

short: ModelCache[int] = ModelCache(max_size=2, ttl=0.2)
for i in range(3):
    short.set(f"k{i}", i)
print("size bounded on set:", len(short), "entries; k0 is", short.get("k0"))
time.sleep(0.3)
print("TTL checked on get: k2 is", short.get("k2"))
print(cache.stats())
