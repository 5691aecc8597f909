"""The `pylot` command as a user runs it: a real process, the real default model."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def pylot(*args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylot", *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_the_commands() -> None:
    out = pylot("--help").stdout
    for command in ("serve", "complete", "chat", "models", "doctor"):
        assert command in out
    serve = pylot("serve", "--help").stdout
    for option in ("--host", "--port", "--model", "--api-key", "--config"):
        assert option in serve


def test_complete_at_a_cursor_in_a_file(tmp_path: Path, qwen_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("def add(a, b):\n    \n\nprint(add(1, 2))\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("generation:\n  temperature: 0.0\nmodel:\n  n_ctx: 1024\ncompletion:\n  time_limit_s: 120\n")
    r = pylot("complete", str(src), "--line", "2", "--column", "5", "--max-tokens", "12", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "a + b" in r.stdout


def test_complete_from_stdin(tmp_path: Path, qwen_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("generation:\n  temperature: 0.0\nmodel:\n  n_ctx: 1024\n")
    r = pylot("complete", "--max-tokens", "6", "--config", str(cfg), stdin="# say hi\nprint(")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_complete_from_stdin_ends_where_the_code_ends(tmp_path: Path, qwen_path: Path) -> None:
    # The README's tour: the function's body, not an example, a closing fence and prose after it.
    cfg = tmp_path / "c.yaml"
    cfg.write_text("generation:\n  temperature: 0.0\nmodel:\n  n_ctx: 1024\n")
    r = pylot("complete", "--config", str(cfg), stdin="def fib(n):\n")
    assert r.returncode == 0, r.stderr
    assert "return" in r.stdout and "```" not in r.stdout
    ast.parse("def fib(n):\n" + r.stdout)
    assert all(line.startswith((" ", "\t")) for line in r.stdout.strip("\n").splitlines() if line.strip())


def test_chat_one_message(tmp_path: Path, qwen_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("generation:\n  temperature: 0.0\nmodel:\n  n_ctx: 1024\n")
    r = pylot("chat", "-p", "Reply with the single word: pong", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "pong" in r.stdout.lower()


def test_chat_and_complete_use_the_configured_sampling(tmp_path: Path, qwen_path: Path) -> None:
    """`generation.stop` (and the rest of the section) reach the CLI's requests as they reach the server's."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("generation:\n  temperature: 0.0\n  stop: ['def ']\nmodel:\n  n_ctx: 1024\n")
    r = pylot("chat", "-p", "Write a Python function add(a, b) that returns a + b.", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "def " not in r.stdout  # the model's answer starts its code with `def add`: the stop cut it there
    free = tmp_path / "free.yaml"
    free.write_text("generation:\n  temperature: 0.0\n  max_tokens: 64\nmodel:\n  n_ctx: 1024\n")
    r = pylot("chat", "-p", "Write a Python function add(a, b) that returns a + b.", "--config", str(free))
    assert "def " in r.stdout  # the same question without the stop


def test_errors_are_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  prot: 1\n")
    r = pylot("serve", "--config", str(bad))
    assert r.returncode == 1
    assert "unknown key 'server.prot'" in r.stderr and str(bad) in r.stderr
    assert "Traceback" not in r.stderr
    r = pylot("complete", "--model", "no-such-model", stdin="x")
    assert r.returncode == 1 and "no-such-model" in r.stderr and "Traceback" not in r.stderr


def test_complete_names_a_bad_cursor_or_file_without_loading_a_model(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("x = 1\ny = 2\n")
    cases = [
        (["complete", str(tmp_path / "missing.py")], 1, "cannot read"),
        (["complete", str(src), "--line", "9"], 1, "has 2 lines; --line 9 is outside it"),
        (["complete", str(src), "--line", "1", "--column", "7"], 1, "has 5 characters; --column 7 is past its end"),
        (["complete", str(src), "--line", "1", "--column", "0"], 2, "--column"),
        (["complete", str(src), "--line", "0"], 2, "--line"),
        (["complete", "--line", "1"], 1, "--line and --column need a FILE"),
    ]
    for args, code, message in cases:
        r = pylot(*args, "--config", str(tmp_path / "c.yaml"), stdin="")
        assert r.returncode == code, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def test_serve_refuses_an_unknown_model_clearly(tmp_path: Path) -> None:
    r = pylot(
        "serve",
        "--model",
        "no-such-model",
        "--port",
        "18999",
        "--config",
        str(tmp_path / "c.yaml"),
        timeout=60,
    )
    assert r.returncode != 0
    assert "no-such-model" in r.stderr and "Traceback" not in r.stderr


def test_doctor_reports_cpu_memory_and_a_recommendation() -> None:
    r = pylot("doctor")
    assert r.returncode == 0, r.stderr
    for word in ("CPU features", "RAM", "GPU runtimes", "llama.cpp build", "Recommended model", "Why"):
        assert word in r.stdout
