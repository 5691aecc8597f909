from pylot.completion.context import (
    TokenCounter,
    block_scope,
    build_context,
    choose_mode,
    window_prefix,
    window_suffix,
)


def test_an_empty_line_asks_for_a_block() -> None:
    assert choose_mode("def f(x):\n    ", "\n\nprint(f(1))\n") == "block"
    assert choose_mode("    if x < y:\n        ", "\n    return False\n") == "block"
    assert choose_mode("function f() {\n  ", "\n}\n") == "block"
    assert choose_mode('def f(x):\n    """Doc."""\n', "\n    return x\n") == "block"
    assert choose_mode("    for x in xs:", "\n") == "block"  # the end of a line that opens one


def test_text_on_the_line_or_after_the_cursor_asks_for_a_line() -> None:
    assert choose_mode("def f(x):\n    ret", "\n") == "line"
    assert choose_mode("    for x in r", "\n") == "line"
    assert choose_mode("    for x in xs:", "  # loop\n") == "line"
    assert choose_mode("x = foo(", ")\n") == "line"
    assert choose_mode("def f(x):\n    ", "\n", multiline=False) == "line"


def test_a_line_boundary_asks_for_whole_lines() -> None:
    # A FIM client asking for the lines between two lines: the prompt ends with a newline, the suffix
    # starts on the next line. Nothing is typed on the cursor's line, so this is not a rest-of-line.
    assert choose_mode("a = 1\n", "b = 2\n") == "block"
    assert choose_mode("def f(s):\n", "    return s\n") == "block"
    assert choose_mode("def f(s):\n    ", "return s\n") == "line"  # the cursor inside the indentation
    c = build_context("x = 1\n", "y = 2\nz = 3\n", prefix_lines=9, prefix_tokens=99, suffix_lines=9, suffix_tokens=99)
    assert c.at_boundary and c.following_lines[:2] == ["y = 2", "z = 3"]
    c = build_context("x = 1\n", "\ny = 2\n", prefix_lines=9, prefix_tokens=99, suffix_lines=9, suffix_tokens=99)
    assert not c.at_boundary and c.following_lines[0] == "y = 2"


def test_a_block_ends_below_the_opener_or_below_the_cursors_level() -> None:
    assert block_scope("def f(x):\n    ") == 0  # the body: deeper than the def
    assert block_scope("x = 1\n    if x:") == 4  # opened on the cursor's line
    assert block_scope("    for x in xs:\n") == 4
    assert block_scope('def f(x):\n    """Doc."""\n') == 3  # statements at the docstring's level
    assert block_scope("def f(x):\n    y = 1\n        ") == 7  # the typed indentation counts
    assert block_scope("") == -1


def test_the_prefix_window_starts_on_a_snapped_line_so_it_is_stable_while_typing() -> None:
    doc = "".join(f"line {i}\n" for i in range(500))
    first = window_prefix(doc + "x", max_lines=100, max_tokens=100_000)
    later = window_prefix(doc + "line 500\nline 501\nxyz", max_lines=100, max_tokens=100_000)
    assert first.split("\n")[0] == later.split("\n")[0]
    assert 100 <= first.count("\n") < 100 + 32


def words(text: str) -> int:
    return len(text.split())  # a toy tokenizer: one token a word


def test_the_prefix_window_fits_its_token_budget_and_stays_snapped() -> None:
    doc = "".join(f"a b c d {i}\n" for i in range(1000))  # 5 tokens + a newline per line
    windows = [window_prefix(doc + "x " * k, max_lines=10_000, max_tokens=600, count=words) for k in range(1, 30)]
    for w in windows:
        assert sum(words(line) + 1 for line in w.split("\n")) - 1 <= 600
        assert int(w.split("\n")[0].split()[-1]) % 32 == 0  # starts on a snapped line
    assert len({w.split("\n")[0] for w in windows}) == 1  # typing on does not move the start
    assert windows[0].count("\n") >= 100 - 32


def test_an_over_long_cursor_line_keeps_its_end() -> None:
    line = " ".join(str(i) for i in range(5000))
    w = window_prefix("import x\n" + line, max_lines=100, max_tokens=50, count=words)
    assert w.endswith("4999") and words(w) <= 50 and "\n" not in w


def test_the_suffix_window_fits_lines_and_tokens() -> None:
    assert window_suffix("a\nb\nc\nd\n", max_lines=2, max_tokens=100) == "a\nb\nc"
    assert window_suffix("a b\nc d\ne f\n", max_lines=10, max_tokens=5, count=words) == "a b\nc d"
    head = window_suffix("a b c d e f g", max_lines=10, max_tokens=3, count=words)
    assert head.startswith("a b") and words(head) <= 3


def test_the_token_counter_remembers_lines() -> None:
    calls: list[str] = []
    counter = TokenCounter()

    def tokenize(text: str) -> int:
        calls.append(text)
        return len(text)

    assert [counter.count(t, tokenize) for t in ("abc", "abc", "", "de")] == [3, 3, 0, 2]
    assert calls == ["abc", "de"]


def test_build_context_splits_the_cursor_line() -> None:
    ctx = build_context(
        "def f():\n    return g(", ")\nx = 1\n", prefix_lines=10, prefix_tokens=1000, suffix_lines=2, suffix_tokens=100
    )
    assert ctx.line_prefix == "    return g(" and ctx.line_suffix == ")"
    assert ctx.indent == "    " and not ctx.at_line_start and ctx.mode == "line"
