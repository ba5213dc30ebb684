"""scripts/make-model-graphs: ONNX graphs for the catalogue models (see models/README.md).

  main.py --zoo [--out DIR]   extract the light model-zoo graphs of the onnx wheel into DIR
                              (default models/zoo), with their input and expected output
  main.py [--out DIR]         build the project's graphs into DIR (default: the model cache)

Both write DIR/index.json. Re-running writes the same bytes; the build is skipped when
DIR/index.json was written by the same generator code and every file is intact.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

import builder
import sequence
import vision

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CATALOGUE = os.path.join(ROOT, "nodes", "ml_model", "data", "catalogue.toml")
ZOO = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
       "shufflenet", "squeezenet", "vgg19", "zfnet512"]
ZOO_SOURCES = {  # what each zoo graph is, for the index
    "bvlc_alexnet": "BVLC AlexNet (Caffe)", "densenet121": "DenseNet-121 (Caffe2)",
    "inception_v1": "Inception v1 / GoogLeNet (Caffe2)", "inception_v2": "Inception v2 / BN-Inception (Caffe2)",
    "resnet50": "ResNet-50 v1 (Caffe2)", "shufflenet": "ShuffleNet v1 (Caffe2)",
    "squeezenet": "SqueezeNet 1.0 (Caffe2)", "vgg19": "VGG-19 (Caffe2)", "zfnet512": "ZFNet-512 (Caffe2)",
}
BUILDERS = [
    vision.efficientnet_b0, vision.mobilenet_v2, vision.resnet18, vision.mobilenet_v3_small,
    vision.squeezenet1_1, vision.yolov5s, vision.yolov5n,
    vision.fasterrcnn_mobilenet_v3_large_320_fpn, vision.ssdlite320_mobilenet_v3_large,
    vision.fcn_resnet50, vision.deeplabv3_mobilenet_v3_large, vision.lraspp_mobilenet_v3_large,
    sequence.bert_base_uncased, sequence.tinybert, sequence.distilbert, sequence.hashed_mlp,
    vision.ds_cnn_l, vision.ds_cnn_m, sequence.whisper_base, sequence.whisper_tiny,
    sequence.gpt2, sequence.distilgpt2, sequence.tabular_mlp, sequence.forecast_mlp,
]
TILED = ("generated: seeded random block tiled in-graph (Tile, Slice, Reshape, Mul by the "
         "He scale; folded to constants at load), small tensors as seeded initializers")
PLAIN = "seeded random initializers (numpy default_rng)"


def catalogue():
    """name -> {params, gmacs} from the catalogue's [[model]] tables (a flat TOML subset)."""
    models, current = {}, None
    with open(CATALOGUE, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line == "[[model]]":
                current = {}
            elif "=" in line and current is not None:
                key, value = (s.strip() for s in line.split("=", 1))
                current[key] = value.strip('"').replace("_", "") if key in ("params", "gmacs") else value.strip('"')
                if key == "name":
                    models[current["name"]] = current
    return models


def ratios(name, params, macs, cat):
    entry = cat.get(name)
    if entry is None:
        return None
    c_params, c_gmacs = int(entry["params"]), float(entry["gmacs"])
    return {
        "params": c_params,
        "gmacs": c_gmacs,
        "params_ratio": round(params / c_params, 4) if c_params else None,
        "macs_ratio": round(macs / (c_gmacs * 1e9), 4) if c_gmacs else None,
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_index(out, models, extra):
    index = {"schema": 1, "generator": "scripts/make-model-graphs", "onnx": onnx.__version__,
             **extra, "models": models}
    with open(os.path.join(out, "index.json"), "w", encoding="utf-8") as f:
        text = json.dumps(index, indent=1)
        # Lists of numbers (shapes) on one line.
        text = re.sub(r"\[\s*([-0-9.,\s]*?)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
        f.write(text + "\n")


def zoo_params(model):
    """Elements of the float weights, stored or made by ConstantOfShape, without BatchNorm
    running statistics (buffers, as torchvision counts)."""
    inits = {t.name: t for t in model.graph.initializer}
    stats = {i for n in model.graph.node if n.op_type == "BatchNormalization" for i in n.input[3:]}
    n = sum(int(np.prod(t.dims)) for t in inits.values()
            if t.data_type == onnx.TensorProto.FLOAT and t.name not in stats)
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.output[0] not in stats:
            n += int(np.prod(numpy_helper.to_array(inits[node.input[0]])))
    return n


def extract_zoo(out):
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    cat, models = catalogue(), []
    for name in ZOO:
        src = os.path.join(light, f"light_{name}.onnx")
        model = onnx.load(src)
        inits = {t.name for t in model.graph.initializer}
        feeds = [i for i in model.graph.input if i.name not in inits]
        files = {"file": f"{name}.onnx", "inputs": [], "outputs": []}
        with open(src, "rb") as f:
            raw = f.read()
        with open(os.path.join(out, files["file"]), "wb") as f:
            f.write(raw)
        # The input onnx's backend test runner feeds these graphs: arange(n) / n, float32.
        for k, feed in enumerate(feeds):
            shape = [d.dim_value for d in feed.type.tensor_type.shape.dim]
            n = int(np.prod(shape))
            data = (np.arange(n).reshape(shape) / n).astype(np.float32)
            path = f"{name}_input_{k}.pb"
            with open(os.path.join(out, path), "wb") as f:
                f.write(numpy_helper.from_array(data, feed.name).SerializeToString())
            files["inputs"].append(path)
        for k in range(len(model.graph.output)):
            path = f"{name}_output_{k}.pb"
            with open(os.path.join(light, f"light_{name}_output_{k}.pb"), "rb") as f:
                expected = f.read()
            with open(os.path.join(out, path), "wb") as f:
                f.write(expected)
            files["outputs"].append(path)
        params, macs = zoo_params(model), builder.count_macs(model)
        models.append({
            "name": name,
            "file": files["file"],
            "sha256": sha256(os.path.join(out, files["file"])),
            "inputs": builder.tensor_infos(feeds),
            "outputs": builder.tensor_infos(model.graph.output),
            "params": params,
            "macs": macs,
            "catalogue": ratios(name, params, macs, cat),
            "weights": "onnx model zoo, synthetic: every weight a ConstantOfShape of one value",
            "architecture": f"{ZOO_SOURCES[name]} from the ONNX model zoo, opset "
                            f"{model.opset_import[0].version}",
            "test_data": {"inputs": files["inputs"], "outputs": files["outputs"]},
        })
        print(f"{os.path.join(out, files['file'])}: {len(raw)} bytes")
    write_index(out, models, {"source": f"onnx {onnx.__version__} wheel (PyPI), "
                                        "onnx/backend/test/data/light/"})


def stamp():
    h = hashlib.sha256(f"onnx {onnx.__version__} numpy {np.__version__}".encode())
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".py"):
            with open(os.path.join(HERE, name), "rb") as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()[:16]


def up_to_date(out, want):
    try:
        with open(os.path.join(out, "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        return index.get("stamp") == want and len(index["models"]) == len(BUILDERS) and all(
            sha256(os.path.join(out, m["file"])) == m["sha256"] for m in index["models"])
    except (OSError, ValueError, KeyError):
        return False


def build(out, only=None):
    want = stamp()
    if not only and up_to_date(out, want):
        print(f"{out}: {len(BUILDERS)} model graphs up to date")
        return
    cat, models = catalogue(), []
    for make in BUILDERS:
        t0 = time.monotonic()
        g, notes = make()
        if only and g.name not in only:
            continue
        model = g.model()
        onnx.checker.check_model(model)
        macs = builder.count_macs(model)
        path = os.path.join(out, f"{g.name}.onnx")
        onnx.save(model, path)
        models.append({
            "name": g.name,
            "file": f"{g.name}.onnx",
            "sha256": sha256(path),
            "inputs": builder.tensor_infos(model.graph.input),
            "outputs": builder.tensor_infos(model.graph.output),
            "params": g.params,
            "macs": macs,
            "catalogue": ratios(g.name, g.params, macs, cat),
            "weights": TILED if g.tiled else PLAIN,
            "architecture": notes,
        })
        r = models[-1]["catalogue"] or {}
        print(f"{path}: {os.path.getsize(path)} bytes, {g.params} params "
              f"({r.get('params_ratio')}x), {macs / 1e9:.3f} GMACs ({r.get('macs_ratio')}x), "
              f"{time.monotonic() - t0:.1f}s", file=sys.stdout)
    if not only:
        write_index(out, models, {"stamp": want})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="output directory")
    p.add_argument("--zoo", action="store_true", help="extract the zoo graphs (models/zoo)")
    p.add_argument("--only", nargs="*", help="build only these graphs (no index; for debugging)")
    args = p.parse_args()
    if args.zoo:
        out = args.out or os.path.join(ROOT, "models", "zoo")
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        out = args.out or os.environ.get("SUSTAINML_MODEL_CACHE") or os.path.join(cache, "sustainml", "models")
    os.makedirs(out, exist_ok=True)
    extract_zoo(out) if args.zoo else build(out, args.only)


if __name__ == "__main__":
    main()
