"""LlamaLLM: a GGUF model in this process, called as the specification writes it.

    PYLOT_MODEL_PATH=~/.cache/pylot/models/qwen2.5-coder-0.5b.gguf .venv/bin/python examples/llama_llm.py

Without PYLOT_MODEL_PATH the default model of the store is used (`pylot models pull qwen2.5-coder-0.5b`).
"""

import os

from pylot.config.settings import ModelSettings, Settings
from pylot.engines.llama_cpp.engine import LlamaLLM

path = os.environ.get("PYLOT_MODEL_PATH") or str(Settings().store_dir() / "qwen2.5-coder-0.5b.gguf")
llm = LlamaLLM(path, ModelSettings(n_ctx=2048))
try:
    response = llm.generate("def fibonacci(n):\n", max_tokens=48, temperature=0.2, top_p=0.95, stream=False)
    print(response.text)
    print(f"[{response.tokens_used} tokens, finish_reason={response.finish_reason}]")
finally:
    llm.close()
