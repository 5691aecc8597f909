from pylot.completion.context import build_context
from pylot.completion.postprocess import finalize, should_stop


def ctx(prefix: str, suffix: str, mode: str | None = None):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    c = build_context(prefix, suffix, prefix_lines=100, prefix_tokens=10_000, suffix_lines=8, suffix_tokens=1000)
    return replace(c, mode=mode) if mode else c


def test_line_mode_stops_at_the_end_of_the_line() -> None:
    c = ctx("x = ", "\n")
    assert not should_stop("foo(", c, 10)
    assert should_stop("foo(1)\nbar", c, 10)
    assert finalize("foo(1)\nbar = 2", c, "stop", 10) == "foo(1)"


def test_lines_inserted_at_a_line_boundary_end_with_a_newline() -> None:
    c = ctx("def f():\n    x = 1\n", "    return x\n")
    assert c.mode == "block"
    assert finalize("    y = 2\n    return x", c, "stop", 10) == "    y = 2\n"
    assert finalize("    y = 2\n    z = y", c, "stop", 10) == "    y = 2\n    z = y\n"
    assert finalize("    return x\n", c, "stop", 10) == ""  # only what is already there


def test_a_line_boundary_gets_the_whole_body_not_one_line() -> None:
    c = ctx('def f(strings):\n    """Longest."""\n', "    return max(strings, key=len)\n")
    raw = "    if not strings:\n        return None\n    return max(strings, key=len)\n"
    assert finalize(raw, c, "stop", 10) == "    if not strings:\n        return None\n"


def test_text_already_after_the_cursor_is_not_repeated() -> None:
    assert finalize("x, y)", ctx("print(", ")\n"), "stop", 10) == "x, y"
    assert finalize("len(x))", ctx("print(", ")\n"), "stop", 10) == "len(x)"
    assert finalize('hello"', ctx('s = "', '"\n'), "stop", 10) == "hello"


def test_a_closer_the_suffix_provides_cuts_the_suggestion() -> None:
    assert finalize("a, b) + 1", ctx("foo(", ")\n"), "stop", 10) == "a, b"


def test_empty_and_trivial_suggestions_are_dropped() -> None:
    assert finalize("   \n", ctx("x = ", "\n"), "stop", 10) == ""
    assert finalize(")", ctx("print(x", ")\n"), "stop", 10) == ""


def test_special_tokens_are_never_returned() -> None:
    assert finalize("a + b<|endoftext|>junk", ctx("return ", "\n"), "stop", 10) == "a + b"
    assert finalize("a<|fim_middle|>b", ctx("return ", "\n"), "stop", 10) == "a"


def test_block_mode_stops_at_the_dedent_that_ends_the_block() -> None:
    c = ctx("def f(x):\n    ", "\n\nprint(f(1))\n")
    assert c.mode == "block"
    raw = "y = x * 2\n    return y\n\ndef g():\n    pass\n"
    assert should_stop(raw, c, 10)
    assert should_stop("y = x * 2\n    return y\n\nd", c, 10)  # the dedent is seen at its first character
    assert not should_stop("y = x * 2\n    return y\n\n", c, 10)
    assert finalize(raw, c, "stop", 10) == "y = x * 2\n    return y"


def test_block_mode_stops_where_the_suffix_continues() -> None:
    c = ctx("    if x < y:\n        ", "\n    return False\n")
    assert finalize("return True\n    return False\n", c, "stop", 10) == "return True"


def test_a_time_limit_keeps_only_the_finished_lines() -> None:
    c = ctx("def f(x):\n    ", "\n")
    assert finalize("y = 1\n    z = y +", c, "time_limit", 10) == "y = 1"
    assert finalize("foo(1, ", ctx("x = ", "\n"), "time_limit", 10) == ""
    assert finalize("y = ", c, "time_limit", 10) == ""


def test_block_length_is_capped() -> None:
    c = ctx("def f():\n    ", "\n")
    raw = "".join(f"    a{i} = {i}\n" for i in range(30)).lstrip()
    assert finalize(raw, c, "length", 5).count("\n") == 4


def test_the_end_of_a_line_that_opens_a_block_asks_for_its_body() -> None:
    c = ctx("def f(xs):\n    for x in xs:", "\n\nprint(1)\n")
    assert c.mode == "block"
    assert not should_stop("\n        total += x\n", c, 10)
    assert should_stop("\n        total += x\n    return total\n", c, 10)
    assert finalize("\n        total += x\n    return total", c, "stop", 10) == "\n        total += x"
    assert finalize("".join(f"\n        a{i} = {i}" for i in range(9)), c, "length", 3).count("\n") == 3


def test_a_half_typed_line_gets_the_rest_of_that_line_only() -> None:
    c = ctx("def f(n):\n    for i in r", "\n    return 1\n")
    assert c.mode == "line"
    assert should_stop("ange(n):\n", c, 10)
    assert finalize("ange(n):\n        if n % i == 0:\n", c, "stop", 10) == "ange(n):"
    c = ctx("for x in xs:", "  # loop\n")  # text after the cursor: the rest of this line only
    assert c.mode == "line"


def test_without_multiline_a_line_never_goes_on() -> None:
    c = build_context(
        "for x in xs:", "\n", prefix_lines=100, prefix_tokens=10_000, suffix_lines=8, suffix_tokens=100, multiline=False
    )
    assert c.mode == "line" and should_stop("\n", c, 10) and finalize("\n    pass", c, "stop", 10) == ""


def test_statements_on_an_empty_line_stop_where_the_suffix_goes_on() -> None:
    c = ctx('def f(xs):\n    """Sum."""\n', "\n    return total\n")
    assert c.mode == "block"
    raw = "    total = 0\n    for x in xs:\n        total += x\n    return total\n"
    assert finalize(raw, c, "stop", 10) == "    total = 0\n    for x in xs:\n        total += x"


def test_a_closing_brace_ends_the_block_unless_the_suffix_has_it() -> None:
    assert finalize("\n  y();\n}\nfoo();", ctx("if (x) {", "\n"), "stop", 10) == "\n  y();\n}"
    assert finalize("\n  y();\n}\nfoo();", ctx("if (x) {", "\n}\n"), "stop", 10) == "\n  y();"
    assert not should_stop("\n  y();\n}", ctx("if (x) {", "\n"), 10)  # wait for the closer's line to end
