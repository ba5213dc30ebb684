"""Transformer models (BERT, TinyBERT, DistilBERT, GPT-2, DistilGPT-2, Whisper) with the
published layer counts, widths, heads and vocabularies, and the small MLPs. Each function
returns (graph, notes)."""
import math

import numpy as np
from onnx import TensorProto

from builder import Graph


def attention(g, x, t, d, heads, kv=None, s=None, mask=None, k_bias=True):
    """Multi-head attention on x [1, t, d]; keys and values from kv [1, s, d] when given."""
    dh = d // heads
    src, s = (x, t) if kv is None else (kv, s)
    q = g.linear(x, d, d)
    k = g.linear(src, d, d, bias=k_bias)
    v = g.linear(src, d, d)

    def heads_of(y, n, perm):
        return g.op("Transpose", [g.op("Reshape", [y, g.ints([1, n, heads, dh])])], perm=perm)

    scores = g.op("MatMul", [heads_of(q, t, [0, 2, 1, 3]), heads_of(k, s, [0, 2, 3, 1])])
    scores = g.op("Mul", [scores, g.scalar(1 / math.sqrt(dh))])
    if mask is not None:
        scores = g.op("Add", [scores, mask])
    ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), heads_of(v, s, [0, 2, 1, 3])])
    ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), g.ints([1, t, d])])
    return g.linear(ctx, d, d)


def mlp(g, x, d, ff, act):
    return g.linear(g.act(g.linear(x, d, ff), act), ff, d)


def positions(g, table, t):
    return g.op("Gather", [table, g.ints(list(range(t)))], axis=0)


def causal_mask(g, t):
    return g.const(np.triu(np.full((t, t), -1e9, np.float32), 1), "causal_mask")


# --- encoders (post-LayerNorm, BERT style) ---
def bert_like(name, seed, layers, d, heads, ff, seq=128, vocab=30522, token_types=True,
              pooler="tanh"):
    g = Graph(name, seed)
    ids = g.input("input_ids", [1, seq], TensorProto.INT64)
    x, _ = g.embedding(ids, vocab, d)
    x = g.op("Add", [x, positions(g, g.param([512, d], d, "pos_emb"), seq)])
    if token_types:
        types = g.param([2, d], d, "type_emb")
        x = g.op("Add", [x, g.op("Gather", [types, g.ints([0] * seq)], axis=0)])
    x = g.layernorm(x, d, 1e-12)
    for _ in range(layers):
        x = g.layernorm(g.op("Add", [x, attention(g, x, seq, d, heads)]), d, 1e-12)
        x = g.layernorm(g.op("Add", [x, mlp(g, x, d, ff, "gelu")]), d, 1e-12)
    cls = g.op("Gather", [x, g.const(np.array(0, np.int64), "zero")], axis=1)  # [1, d]
    pooled = g.act(g.linear(cls, d, d), "tanh" if pooler == "tanh" else "relu")
    g.output(g.op("Softmax", [g.linear(pooled, d, 2)], axis=-1), "probs", [1, 2])
    return g


def bert_base_uncased():
    g = bert_like("bert-base-uncased", 110, 12, 768, 12, 3072)
    return g, ("BERT-base (12 layers, 768 wide, 12 heads, FFN 3072, vocab 30522, 512 positions) "
               "for sequence classification: embeddings + LayerNorm, post-LN encoder (exact erf "
               "GELU), tanh pooler on [CLS], 2-way classifier with Softmax; 128 token ids in, "
               "attention mask left out (all tokens attended), token types all 0")


def tinybert():
    g = bert_like("tinybert-4l-312d", 14, 4, 312, 12, 1200)
    return g, ("TinyBERT-4L-312D (4 layers, 312 wide, 12 heads, FFN 1200, vocab 30522) as a "
               "BERT sequence classifier, 128 tokens, attention mask left out; the distillation-"
               "only fit_dense projection is not part of inference and left out")


def distilbert():
    g = bert_like("distilbert-base-uncased-finetuned-sst-2-english", 66, 6, 768, 12, 3072,
                  token_types=False, pooler="relu")
    return g, ("DistilBERT-base (6 layers, 768 wide, 12 heads, FFN 3072, no token types) for "
               "sequence classification: pre_classifier + ReLU on [CLS], 2-way classifier with "
               "Softmax; 128 tokens, attention mask left out")


# --- decoders (pre-LayerNorm, GPT-2 style) ---
def gpt2_like(name, seed, layers, d=768, heads=12, vocab=50257, ctx=1024, seq=1):
    g = Graph(name, seed)
    ids = g.input("input_ids", [1, seq], TensorProto.INT64)
    x, wte = g.embedding(ids, vocab, d)
    x = g.op("Add", [x, positions(g, g.param([ctx, d], d, "wpe"), seq)])
    for _ in range(layers):
        x = g.op("Add", [x, attention(g, g.layernorm(x, d), seq, d, heads)])
        x = g.op("Add", [x, mlp(g, g.layernorm(x, d), d, 4 * d, "gelu_tanh")])
    x = g.layernorm(x, d)
    logits = g.op("MatMul", [x, g.op("Transpose", [wte], perm=[1, 0])])  # tied embeddings
    g.output(logits, "logits", [1, seq, vocab])
    return g


def gpt2():
    g = gpt2_like("gpt2", 124, 12)
    return g, ("GPT-2 small (12 layers, 768 wide, 12 heads, vocab 50257, 1024 positions, "
               "tanh GELU, tied LM head): one token in, its next-token logits out, without a "
               "KV cache (the catalogue's 1x1 input; attention over the one token)")


def distilgpt2():
    g = gpt2_like("distilgpt2", 82, 6)
    return g, ("DistilGPT-2 (6 layers of GPT-2 small's blocks, tied LM head): one token in, its "
               "next-token logits out, without a KV cache")


# --- Whisper ---
def whisper(name, seed, d, heads, layers, vocab=51865, frames=3000, text_ctx=448, tokens=4):
    g = Graph(name, seed)
    mel = g.input("mel", [1, 80, frames])
    ids = g.input("tokens", [1, tokens], TensorProto.INT64)

    def conv1d(x, cin, cout, s):
        w = g.param([cout, cin, 3], cin * 3, "conv_w")
        b = g.param([cout], fill=0.0, hint="conv_b")
        return g.act(g.op("Conv", [x, w, b], kernel_shape=[3], strides=[s], pads=[1, 1]), "gelu")

    x = conv1d(conv1d(mel, 80, d, 1), d, d, 2)
    t = frames // 2
    x = g.op("Transpose", [x], perm=[0, 2, 1])
    inv = np.exp(-math.log(10000) / (d // 2 - 1) * np.arange(d // 2))
    angles = np.arange(t)[:, None] * inv[None, :]
    sinus = np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)
    x = g.op("Add", [x, g.const(sinus, "sinusoids")])
    for _ in range(layers):
        x = g.op("Add", [x, attention(g, g.layernorm(x, d), t, d, heads, k_bias=False)])
        x = g.op("Add", [x, mlp(g, g.layernorm(x, d), d, 4 * d, "gelu")])
    enc = g.layernorm(x, d)

    y, table = g.embedding(ids, vocab, d)
    y = g.op("Add", [y, positions(g, g.param([text_ctx, d], d, "pos_emb"), tokens)])
    mask = causal_mask(g, tokens)
    for _ in range(layers):
        y = g.op("Add", [y, attention(g, g.layernorm(y, d), tokens, d, heads, mask=mask,
                                      k_bias=False)])
        y = g.op("Add", [y, attention(g, g.layernorm(y, d), tokens, d, heads, kv=enc, s=t,
                                      k_bias=False)])
        y = g.op("Add", [y, mlp(g, g.layernorm(y, d), d, 4 * d, "gelu")])
    y = g.layernorm(y, d)
    logits = g.op("MatMul", [y, g.op("Transpose", [table], perm=[1, 0])])
    g.output(logits, "logits", [1, tokens, vocab])
    return g, (f"OpenAI Whisper ({layers}+{layers} layers, {d} wide, {heads} heads, vocab {vocab}): "
               "log-mel 80x3000 in, conv stem (2 x Conv1d k3 + GELU, stride 2), sinusoidal "
               "positions, pre-LN encoder, decoder with causal self-attention and cross-attention, "
               f"tied logits; one decoder pass over the {tokens}-token start prompt (a full "
               "transcription repeats the decoder per token; no KV cache, no beam search)")


def whisper_tiny():
    return whisper("whisper-tiny", 39, 384, 6, 4)


def whisper_base():
    return whisper("whisper-base", 74, 512, 8, 6)


# --- MLPs over 64 features (plain seeded initializers) ---
def mlp_model(name, seed, widths, head, softmax, what):
    g = Graph(name, seed, tiled=False)
    x = g.input("features", [1, 64])
    fin = 64
    for w in widths:
        x = g.op("Relu", [g.gemm(x, fin, w)])
        fin = w
    y = g.gemm(x, fin, head)
    if softmax:
        y = g.op("Softmax", [y], axis=1)
    g.output(y, "probs" if softmax else "forecast", [1, head])
    layers = " -> ".join(str(v) for v in [64, *widths, head])
    tail = ", Softmax" if softmax else ""
    return g, f"demo MLP for {what}, untrained: {layers} (Gemm + ReLU{tail})"


def hashed_mlp():
    return mlp_model("hashed_mlp", 64, [128, 64], 4, True, "text classification over 64 hashed features")


def tabular_mlp():
    return mlp_model("tabular_mlp", 65, [128, 64], 2, True, "tabular classification over 64 features")


def forecast_mlp():
    return mlp_model("forecast_mlp", 66, [128, 128], 16, False, "forecasting 16 steps from 64 past values")
