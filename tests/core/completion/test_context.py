from pylot.core.completion.context import build_context, choose_mode, window_prefix, window_suffix


def test_an_empty_body_after_a_block_opener_asks_for_a_block() -> None:
    assert choose_mode("def f(x):\n    ", "\n\nprint(f(1))\n") == "block"
    assert choose_mode("    if x < y:\n        ", "\n    return False\n") == "block"
    assert choose_mode("function f() {\n  ", "\n}\n") == "block"


def test_text_on_the_line_or_a_body_below_asks_for_a_line() -> None:
    assert choose_mode("def f(x):\n    ret", "\n") == "line"
    assert choose_mode("x = foo(", ")\n") == "line"
    assert choose_mode("def f(x):\n    ", "\n    y = 2\n    return y\n") == "line"
    assert choose_mode("a = 1\n", "b = 2\n") == "line"
    assert choose_mode("def f(x):\n    ", "\n", multiline=False) == "line"


def test_the_prefix_window_starts_on_a_snapped_line_so_it_is_stable_while_typing() -> None:
    doc = "".join(f"line {i}\n" for i in range(500))
    first = window_prefix(doc + "x", max_lines=100, max_chars=100_000)
    later = window_prefix(doc + "line 500\nline 501\nxyz", max_lines=100, max_chars=100_000)
    assert first.split("\n")[0] == later.split("\n")[0]
    assert 100 <= first.count("\n") < 100 + 32


def test_windows_respect_character_budgets() -> None:
    doc = "".join(f"{'x' * 50}\n" for i in range(100))
    assert len(window_prefix(doc, max_lines=1000, max_chars=1000)) <= 1000
    assert window_suffix("a\nb\nc\nd\n", max_lines=2, max_chars=100) == "a\nb\nc"


def test_build_context_splits_the_cursor_line() -> None:
    ctx = build_context(
        "def f():\n    return g(", ")\nx = 1\n", prefix_lines=10, prefix_chars=1000, suffix_lines=2, suffix_chars=100
    )
    assert ctx.line_prefix == "    return g(" and ctx.line_suffix == ")"
    assert ctx.indent == "    " and not ctx.at_line_start and ctx.mode == "line"
