"""The saved-prompt bookkeeping: longest shared prefix wins, least recently used goes first, a byte budget."""

from __future__ import annotations

from pylot.engines.llama_cpp.prompt_cache import PromptCache, common_prefix


def test_common_prefix_counts_leading_equal_tokens() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([9], [1]) == 0


def test_the_entry_sharing_the_longest_prefix_is_found() -> None:
    cache = PromptCache(10_000)
    cache.put([1, 2, 3, 4], b"a" * 10)
    cache.put([1, 2, 9, 9, 9], b"b" * 10)
    key, shared = cache.best([1, 2, 9, 9, 7])
    assert shared == 4
    assert cache.take(key).data == b"b" * 10
    assert cache.best([5, 6]) == (-1, 0)


def test_least_recently_used_entries_go_first_within_the_budget() -> None:
    entry = 100 + 3 * 4  # bytes of data plus three int32 tokens
    cache = PromptCache(3 * entry)
    for first in (1, 2, 3):
        cache.put([first, 0, 0], b"x" * 100)
    cache.take(cache.best([1, 0, 0])[0])  # 1 is now the most recent
    cache.put([4, 0, 0], b"x" * 100)
    assert len(cache) == 3 and cache.bytes == 3 * entry
    assert cache.best([2, 0, 0])[1] == 0  # the least recently used went
    assert cache.best([1, 0, 0])[1] == 3


def test_a_longer_state_replaces_the_ones_it_extends() -> None:
    cache = PromptCache(10_000)
    cache.put([1, 2], b"a")
    cache.put([1, 2, 3, 4], b"b")
    assert len(cache) == 1
    assert cache.covers([1, 2, 3])
    assert not cache.covers([1, 2, 3, 4, 5])


def test_nothing_is_kept_when_off_or_too_big() -> None:
    assert not PromptCache(0).put([1], b"a")
    small = PromptCache(50)
    assert not small.put([1], b"x" * 100)
    assert len(small) == 0 and small.bytes == 0
