"""Fill-in-the-middle prompt formats per model family, chosen by the special tokens a model's vocabulary has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pylot.engines.interface import Snippet


@dataclass(frozen=True)
class FimTemplate:
    """The special tokens of one family's FIM format; file_sep/repo_name enable the repo-level format."""

    family: str
    prefix: str
    suffix: str
    middle: str
    file_sep: str | None = None
    repo_name: str | None = None


# Order matters where families share tokens: CodeGemma and Qwen differ only by the file separator.
TEMPLATES: tuple[FimTemplate, ...] = (
    FimTemplate("qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>", "<|repo_name|>"),
    FimTemplate("codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"),
    FimTemplate("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<repo_name>"),
    FimTemplate("deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    FimTemplate("codellama", "<PRE>", "<SUF>", "<MID>"),
)


def detect_template(special_id: Callable[[str], int | None]) -> FimTemplate | None:
    """The first template whose FIM tokens (and file separator, if it has one) are single special tokens."""
    for template in TEMPLATES:
        needed = [template.prefix, template.suffix, template.middle]
        if template.file_sep and template.family == "codegemma":
            needed.append(template.file_sep)
        if all(special_id(text) is not None for text in needed):
            return template
    return None


def build_fim_tokens(
    template: FimTemplate,
    special_id: Callable[[str], int | None],
    tokenize: Callable[[str], list[int]],
    prefix: str,
    suffix: str,
    extra: Sequence[Snippet] = (),
    bos: int | None = None,
    middle: str = "",
) -> list[int]:
    """Prefix-suffix-middle tokens; other files go first in the repo-level format when the family has one.

    `middle` (the text the answer starts with) follows the middle token, so an editor can keep prefix and
    suffix fixed while the user types on one line: only the typed text is new to the KV cache.

    User text is tokenized as plain text, so code that contains FIM marker strings cannot inject tokens.
    """

    def sid(text: str) -> int:
        token = special_id(text)
        assert token is not None, text
        return token

    tokens: list[int] = [bos] if bos is not None else []
    if extra and template.file_sep and special_id(template.file_sep) is not None:
        if template.repo_name and special_id(template.repo_name) is not None:
            tokens += [sid(template.repo_name), *tokenize("workspace\n")]
        for snippet in extra:
            tokens += [sid(template.file_sep), *tokenize(f"{snippet.filename}\n{snippet.text}\n")]
        tokens += [sid(template.file_sep)]
    elif extra:
        # No file separator: the snippets become a comment-free preamble of the prefix.
        prefix = "".join(f"{s.text}\n" for s in extra) + prefix
    tokens += [sid(template.prefix), *tokenize(prefix), sid(template.suffix), *tokenize(suffix), sid(template.middle)]
    return tokens + tokenize(middle) if middle else tokens
