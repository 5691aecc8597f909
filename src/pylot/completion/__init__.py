"""The completion pipeline: FIM templates, context windows, stops, post-processing, type-ahead."""

from pylot.completion.pipeline import CodeCompletion, CodeCompletionRequest, CompletionPipeline

__all__ = ["CodeCompletion", "CodeCompletionRequest", "CompletionPipeline"]
