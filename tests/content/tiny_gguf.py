"""A tiny llama-architecture GGUF model with random weights, written with the `gguf` package.

It lets the tests run the real llama.cpp runtime (llama-cpp-python) end to end: the grammar made
from the answer schema, sampling, threads, the chat template. Random weights write nonsense, but
grammar-constrained output is valid JSON by construction, which is what the runtime path needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# One token per printable ASCII character (and the byte-fallback tokens llama's tokenizer expects),
# so any text, and any JSON the grammar allows, can be written.
_CHARS = [chr(c) for c in range(32, 127)]


def write_tiny_gguf(path: Path, *, dim: int = 32, layers: int = 1, heads: int = 2, ctx: int = 2048) -> Path:
    import gguf

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["▁" if c == " " else c
                                                                                for c in _CHARS]
    types = ([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
             + [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(_CHARS))
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-random")
    w.add_context_length(ctx)
    w.add_embedding_length(dim)
    w.add_block_count(layers)
    w.add_feed_forward_length(dim * 2)
    w.add_head_count(heads)
    w.add_head_count_kv(heads)
    w.add_rope_dimension_count(dim // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * len(tokens))
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:")
    rng = np.random.default_rng(7)

    def tensor(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    vocab = len(tokens)
    tensor("token_embd.weight", vocab, dim)
    w.add_tensor("output_norm.weight", np.ones(dim, dtype=np.float32))
    tensor("output.weight", vocab, dim)
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(dim, dtype=np.float32))
        for part in ("q", "k", "v", "output"):
            tensor(f"blk.{i}.attn_{part}.weight", dim, dim)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(dim, dtype=np.float32))
        tensor(f"blk.{i}.ffn_gate.weight", dim * 2, dim)
        tensor(f"blk.{i}.ffn_up.weight", dim * 2, dim)
        tensor(f"blk.{i}.ffn_down.weight", dim, dim * 2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
