from pylot.completion.typeahead import TypeaheadCache


def test_typing_into_a_suggestion_returns_the_rest() -> None:
    cache = TypeaheadCache()
    cache.remember("def add(a, b):\n    ", "\n", "return a + b", "c1")
    hit = cache.lookup("def add(a, b):\n    ret", "\n")
    assert hit is not None and hit.text == "urn a + b" and hit.completion_id == "c1"
    assert cache.lookup("def add(a, b):\n    ", "\n").text == "return a + b"  # type: ignore[union-attr]


def test_diverging_from_the_suggestion_or_the_suffix_misses() -> None:
    cache = TypeaheadCache()
    cache.remember("x = ", "\n", "foo()", "c1")
    assert cache.lookup("x = b", "\n") is None
    assert cache.lookup("x = f", "\ny = 2") is None
    assert cache.lookup("x = foo()", "\n") is None  # typed all of it: nothing left to show
