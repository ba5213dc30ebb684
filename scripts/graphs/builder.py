"""A small ONNX graph builder: named values, deterministic weights, layer helpers, and
the parameter and MAC counts of what it built.

Weights: tensors of up to SMALL elements are plain initializers (seeded numpy). Larger
ones are either plain seeded initializers too (`tiled=False`) or, to keep a file of a
100M-parameter model under a megabyte, generated inside the graph from one seeded block of
BLOCK normal values: Tile, Slice at a per-weight offset, Reshape, Mul by the He scale.
tract folds those constant subgraphs when it optimises the model, so a run costs what the
architecture costs; the values are non-uniform (no degenerate all-equal activations).
"""
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

OPSET = 17
SMALL = 4096
BLOCK = 4099  # prime: rows of a tiled weight do not repeat with a short period
DTYPES = {TensorProto.FLOAT: "float32", TensorProto.INT64: "int64"}


class Graph:
    def __init__(self, name, seed, tiled=True):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.tiled = tiled
        self.nodes, self.inits, self.value_info = [], [], []
        self.inputs, self.outputs = [], []
        self.params = 0
        self.count = 0
        self.consts = {}
        if tiled:
            block = self.rng.standard_normal(BLOCK).astype(np.float32)
            self.inits.append(numpy_helper.from_array(block, "weight_block"))

    # --- values ---
    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def input(self, name, shape, dtype=TensorProto.FLOAT):
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def output(self, value, name, shape, dtype=TensorProto.FLOAT):
        self.op("Identity", [value], name=name)
        self.outputs.append(helper.make_tensor_value_info(name, dtype, shape))

    def op(self, op_type, inputs, name=None, hint=None, n_out=1, **attrs):
        outs = [name] if name else [self.fresh(hint or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, array, hint="const"):
        """A constant that is not a parameter (shapes, masks, indices, scales)."""
        array = np.asarray(array)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self.consts:
            name = self.fresh(hint)
            self.inits.append(numpy_helper.from_array(array, name))
            self.consts[key] = name
        return self.consts[key]

    def ints(self, values):
        return self.const(np.array(values, dtype=np.int64), "ints")

    def scalar(self, value):
        return self.const(np.array(value, dtype=np.float32), "scalar")

    def param(self, shape, fan_in=None, hint="w", fill=None, count=True):
        """A weight of `shape`: He-scaled normal values, or all `fill`. Counted as a
        parameter unless `count` is false (BatchNorm running statistics are buffers)."""
        shape = [int(d) for d in shape]
        n = int(np.prod(shape))
        if count:
            self.params += n
        name = self.fresh(hint)
        if fill is not None:
            if n <= SMALL:
                self.inits.append(numpy_helper.from_array(np.full(shape, fill, np.float32), name))
            else:
                value = helper.make_tensor("value", TensorProto.FLOAT, [1], [float(fill)])
                self.op("ConstantOfShape", [self.ints(shape)], name=name, value=value)
                self._shape(name, shape)
            return name
        scale = math.sqrt(2.0 / (fan_in or shape[-1]))
        if n <= SMALL or not self.tiled:
            data = self.rng.standard_normal(shape).astype(np.float32) * np.float32(scale)
            self.inits.append(numpy_helper.from_array(data, name))
            return name
        offset = int(self.rng.integers(BLOCK))
        reps = -(-(n + offset) // BLOCK)
        tiled = self.op("Tile", ["weight_block", self.ints([reps])])
        flat = self.op("Slice", [tiled, self.ints([offset]), self.ints([offset + n]), self.ints([0])])
        shaped = self.op("Reshape", [flat, self.ints(shape)])
        self.op("Mul", [shaped, self.scalar(scale)], name=name)
        self._shape(name, shape)
        return name

    def _shape(self, name, shape):
        self.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    # --- layers (NCHW) ---
    def conv(self, x, cin, cout, k, s=1, p=None, g=1, d=1, bias=False):
        kh, kw = (k, k) if isinstance(k, int) else k
        if p is None:
            p = [d * (kh - 1) // 2, d * (kw - 1) // 2] * 2
        elif isinstance(p, int):
            p = [p] * 4
        sh, sw = (s, s) if isinstance(s, int) else s
        w = self.param([cout, cin // g, kh, kw], cin // g * kh * kw, "conv_w")
        ins = [x, w] + ([self.param([cout], fill=0.0, hint="conv_b")] if bias else [])
        return self.op("Conv", ins, kernel_shape=[kh, kw], strides=[sh, sw], pads=p,
                       group=g, dilations=[d, d])

    def bn(self, x, c):
        ins = [x, self.param([c], fill=1.0, hint="bn_g"), self.param([c], fill=0.0, hint="bn_b"),
               self.param([c], fill=0.0, hint="bn_m", count=False),
               self.param([c], fill=1.0, hint="bn_v", count=False)]
        return self.op("BatchNormalization", ins, epsilon=1e-5)

    def act(self, x, kind):
        if kind is None:
            return x
        if kind == "relu":
            return self.op("Relu", [x])
        if kind == "relu6":
            return self.op("Clip", [x, self.scalar(0.0), self.scalar(6.0)])
        if kind == "hswish":
            return self.op("HardSwish", [x])
        if kind == "hsigmoid":
            return self.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
        if kind == "sigmoid":
            return self.op("Sigmoid", [x])
        if kind == "silu":
            return self.op("Mul", [x, self.op("Sigmoid", [x])])
        if kind == "tanh":
            return self.op("Tanh", [x])
        if kind == "gelu":  # exact: x/2 (1 + erf(x/sqrt 2))
            e = self.op("Erf", [self.op("Mul", [x, self.scalar(1 / math.sqrt(2))])])
            return self.op("Mul", [self.op("Mul", [x, self.scalar(0.5)]),
                                   self.op("Add", [e, self.scalar(1.0)])])
        if kind == "gelu_tanh":  # GPT-2's: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = self.op("Mul", [self.op("Mul", [x, x]), x])
            inner = self.op("Add", [x, self.op("Mul", [cube, self.scalar(0.044715)])])
            t = self.op("Tanh", [self.op("Mul", [inner, self.scalar(math.sqrt(2 / math.pi))])])
            return self.op("Mul", [self.op("Mul", [x, self.scalar(0.5)]),
                                   self.op("Add", [t, self.scalar(1.0)])])
        raise ValueError(kind)

    def cba(self, x, cin, cout, k, s=1, act="relu", g=1, d=1):
        """Conv (no bias) + BatchNorm + activation."""
        return self.act(self.bn(self.conv(x, cin, cout, k, s, g=g, d=d), cout), act)

    def linear(self, x, fin, fout, bias=True):
        """x @ W + b over the last axis (W stored [in, out])."""
        y = self.op("MatMul", [x, self.param([fin, fout], fin, "fc_w")])
        return self.op("Add", [y, self.param([fout], fill=0.0, hint="fc_b")]) if bias else y

    def gemm(self, x, fin, fout):
        """A classifier layer on [N, fin]: Gemm with W [out, in], as torch exports it."""
        return self.op("Gemm", [x, self.param([fout, fin], fin, "gemm_w"),
                                self.param([fout], fill=0.0, hint="gemm_b")], transB=1)

    def layernorm(self, x, d, eps=1e-5):
        return self.op("LayerNormalization", [x, self.param([d], fill=1.0, hint="ln_g"),
                                              self.param([d], fill=0.0, hint="ln_b")],
                       axis=-1, epsilon=eps)

    def embedding(self, ids, vocab, d):
        table = self.param([vocab, d], d, "emb")
        return self.op("Gather", [table, ids], axis=0), table

    def gap(self, x):
        return self.op("GlobalAveragePool", [x])

    def flatten(self, x):
        return self.op("Flatten", [x], axis=1)

    # --- the model ---
    def model(self):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits,
                                  value_info=self.value_info)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="sustainml-rs make-model-graphs")
        model.ir_version = 8
        return model


def tensor_infos(values):
    out = []
    for v in values:
        t = v.type.tensor_type
        out.append({"name": v.name, "shape": [d.dim_value for d in t.shape.dim],
                    "dtype": DTYPES.get(t.elem_type, str(t.elem_type))})
    return out


def count_macs(model):
    """Multiply-accumulates of Conv, ConvTranspose, MatMul and Gemm, from ONNX shape
    inference (each MAC counted once)."""
    inferred = shape_inference.infer_shapes(model)
    g = inferred.graph
    shapes = {}
    for v in list(g.input) + list(g.output) + list(g.value_info):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in g.initializer:
        shapes[t.name] = list(t.dims)
    macs = 0
    for n in g.node:
        if n.op_type not in ("Conv", "MatMul", "Gemm"):
            continue
        out = shapes.get(n.output[0])
        if not out or any(d == 0 for d in out):
            raise ValueError(f"{model.graph.name}: no shape for {n.op_type} {n.output[0]}")
        if n.op_type == "Conv":
            w = shapes[n.input[1]]
            macs += int(np.prod(out)) * int(np.prod(w[1:]))
        elif n.op_type == "MatMul":
            macs += int(np.prod(out)) * shapes[n.input[0]][-1]
        else:
            a = shapes[n.input[0]]
            trans_a = any(at.name == "transA" and at.i for at in n.attribute)
            macs += int(np.prod(out)) * (a[0] if trans_a else a[1])
    return macs
