"""Image models: torchvision's classifiers, segmentation and detection models, and
Ultralytics YOLOv5, rebuilt layer by layer from their published definitions (channel
counts, strides, kernel sizes, expansion ratios). Each function returns (graph, notes)."""
import numpy as np

from builder import Graph


def divisible(v, d=8):
    new = max(d, int(v + d / 2) // d * d)
    return new + d if new < 0.9 * v else new


def image_input(g, size):
    return g.input("image", [1, 3, size, size])


def classifier_output(g, x, fin, classes=1000):
    g.output(g.gemm(g.flatten(x), fin, classes), "logits", [1, classes])


# --- ResNet ---
def resnet_body(g, x, block, layers, dilate=(False, False, False)):
    """torchvision ResNet up to layer4; `dilate` turns the strides of layers 2-4 into
    dilation (replace_stride_with_dilation). Returns the output of every layer."""
    x = g.op("MaxPool", [g.cba(x, 3, 64, 7, 2)], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    cin, dilation, feats = 64, 1, []
    expansion = 4 if block == "bottleneck" else 1
    for i, (n, width) in enumerate(zip(layers, (64, 128, 256, 512))):
        stride = 1 if i == 0 else 2
        if i > 0 and dilate[i - 1]:
            dilation, stride, first_dilation = dilation * stride, 1, dilation
        else:
            first_dilation = dilation
        cout = width * expansion
        for j in range(n):
            s = stride if j == 0 else 1
            d = first_dilation if j == 0 else dilation
            if block == "basic":
                y = g.cba(x, cin, width, 3, s, d=d)
                y = g.cba(y, width, width, 3, 1, act=None, d=dilation)
            else:
                y = g.cba(x, cin, width, 1)
                y = g.cba(y, width, width, 3, s, d=d)
                y = g.cba(y, width, cout, 1, act=None)
            short = g.cba(x, cin, cout, 1, s, act=None) if (s != 1 or cin != cout) else x
            x = g.op("Relu", [g.op("Add", [y, short])])
            cin = cout
        feats.append(x)
    return feats


def resnet18():
    g = Graph("resnet18", 18)
    feats = resnet_body(g, image_input(g, 224), "basic", [2, 2, 2, 2])
    classifier_output(g, g.gap(feats[-1]), 512)
    return g, "torchvision resnet18: BasicBlock [2, 2, 2, 2], BatchNorm kept as nodes"


# --- MobileNet V2 ---
def mobilenet_v2():
    g = Graph("mobilenet_v2", 2)
    x = g.cba(image_input(g, 224), 3, 32, 3, 2, "relu6")
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = g.cba(x, cin, hidden, 1, act="relu6") if t != 1 else x
            y = g.cba(y, hidden, hidden, 3, stride, "relu6", g=hidden)
            y = g.cba(y, hidden, c, 1, act=None)
            x = g.op("Add", [x, y]) if stride == 1 and cin == c else y
            cin = c
    x = g.cba(x, 320, 1280, 1, act="relu6")
    classifier_output(g, g.gap(x), 1280)
    return g, "torchvision mobilenet_v2 (width 1.0): 17 inverted residual blocks, Dropout left out (identity at inference)"


# --- MobileNet V3 ---
V3_LARGE = [  # in, kernel, expanded, out, SE, activation, stride
    (16, 3, 16, 16, False, "relu", 1), (16, 3, 64, 24, False, "relu", 2),
    (24, 3, 72, 24, False, "relu", 1), (24, 5, 72, 40, True, "relu", 2),
    (40, 5, 120, 40, True, "relu", 1), (40, 5, 120, 40, True, "relu", 1),
    (40, 3, 240, 80, False, "hswish", 2), (80, 3, 200, 80, False, "hswish", 1),
    (80, 3, 184, 80, False, "hswish", 1), (80, 3, 184, 80, False, "hswish", 1),
    (80, 3, 480, 112, True, "hswish", 1), (112, 3, 672, 112, True, "hswish", 1),
    (112, 5, 672, 160, True, "hswish", 2), (160, 5, 960, 160, True, "hswish", 1),
    (160, 5, 960, 160, True, "hswish", 1),
]
V3_SMALL = [
    (16, 3, 16, 16, True, "relu", 2), (16, 3, 72, 24, False, "relu", 2),
    (24, 3, 88, 24, False, "relu", 1), (24, 5, 96, 40, True, "hswish", 2),
    (40, 5, 240, 40, True, "hswish", 1), (40, 5, 240, 40, True, "hswish", 1),
    (40, 5, 120, 48, True, "hswish", 1), (48, 5, 144, 48, True, "hswish", 1),
    (48, 5, 288, 96, True, "hswish", 2), (96, 5, 576, 96, True, "hswish", 1),
    (96, 5, 576, 96, True, "hswish", 1),
]


def v3_config(conf, dilated=False, reduced_tail=False):
    """torchvision's _mobilenet_v3_conf: the last three blocks dilated and/or halved."""
    out, div = [], 2 if reduced_tail else 1
    for i, (cin, k, exp, cout, se, act, s) in enumerate(conf):
        first_tail, tail = i == len(conf) - 3, i > len(conf) - 3
        if first_tail:
            cout //= div
        elif tail:
            cin, exp, cout = cin // div, exp // div, cout // div
        out.append((cin, k, exp, cout, se, act, s, 2 if (dilated and (tail or first_tail)) else 1))
    return out


def v3_block(g, x, cfg, expand_out=None):
    cin, k, exp, cout, se, act, s, d = cfg
    y = g.cba(x, cin, exp, 1, act=act) if exp != cin else x
    if expand_out is not None:
        expand_out.append(y)
    y = g.cba(y, exp, exp, k, 1 if d > 1 else s, act, g=exp, d=d)
    if se:
        sq = divisible(exp // 4)
        z = g.op("Relu", [g.conv(g.gap(y), exp, sq, 1, bias=True)])
        z = g.act(g.conv(z, sq, exp, 1, bias=True), "hsigmoid")
        y = g.op("Mul", [y, z])
    y = g.cba(y, exp, cout, 1, act=None)
    return g.op("Add", [x, y]) if s == 1 and cin == cout else y


def v3_features(g, x, conf, taps=()):
    """Stem, blocks and the last 1x1 conv; returns the output and the outputs of the
    blocks whose indices are in `taps` (index 0 is the stem, as in torchvision)."""
    x = g.cba(x, 3, 16, 3, 2, "hswish")
    tapped = {}
    for i, cfg in enumerate(conf, start=1):
        x = v3_block(g, x, cfg)
        if i in taps:
            tapped[i] = x
    last_in = conf[-1][3]
    x = g.cba(x, last_in, 6 * last_in, 1, act="hswish")
    return x, tapped


def mobilenet_v3_small():
    g = Graph("mobilenet_v3_small", 3)
    x, _ = v3_features(g, image_input(g, 224), v3_config(V3_SMALL))
    x = g.act(g.gemm(g.flatten(g.gap(x)), 576, 1024), "hswish")
    g.output(g.gemm(x, 1024, 1000), "logits", [1, 1000])
    return g, "torchvision mobilenet_v3_small: 11 bneck blocks with SE and HardSwish, Dropout left out"


# --- EfficientNet-B0 ---
def efficientnet_b0():
    g = Graph("efficientnet_b0", 0)
    x = g.cba(image_input(g, 224), 3, 32, 3, 2, "silu")
    for e, k, s, cin0, cout, n in [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                                   (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3),
                                   (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]:
        for i in range(n):
            cin, stride = (cin0, s) if i == 0 else (cout, 1)
            exp = cin * e
            y = g.cba(x, cin, exp, 1, act="silu") if e != 1 else x
            y = g.cba(y, exp, exp, k, stride, "silu", g=exp)
            sq = max(1, cin // 4)
            z = g.act(g.conv(g.gap(y), exp, sq, 1, bias=True), "silu")
            y = g.op("Mul", [y, g.act(g.conv(z, sq, exp, 1, bias=True), "sigmoid")])
            y = g.cba(y, exp, cout, 1, act=None)
            x = g.op("Add", [x, y]) if stride == 1 and cin == cout else y
    x = g.cba(x, 320, 1280, 1, act="silu")
    classifier_output(g, g.gap(x), 1280)
    return g, "torchvision efficientnet_b0: 16 MBConv blocks with squeeze-excitation and SiLU; stochastic depth and Dropout left out (identity at inference)"


# --- SqueezeNet 1.1 ---
def squeezenet1_1():
    g = Graph("squeezenet1_1", 11)

    def pool(x):
        return g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)

    def fire(x, cin, sq, e1, e3):
        s = g.op("Relu", [g.conv(x, cin, sq, 1, bias=True)])
        a = g.op("Relu", [g.conv(s, sq, e1, 1, bias=True)])
        b = g.op("Relu", [g.conv(s, sq, e3, 3, bias=True)])
        return g.op("Concat", [a, b], axis=1)

    x = pool(g.op("Relu", [g.conv(image_input(g, 224), 3, 64, 3, 2, p=0, bias=True)]))
    x = pool(fire(fire(x, 64, 16, 64, 64), 128, 16, 64, 64))
    x = pool(fire(fire(x, 128, 32, 128, 128), 256, 32, 128, 128))
    for cin, sq, e in [(256, 48, 192), (384, 48, 192), (384, 64, 256), (512, 64, 256)]:
        x = fire(x, cin, sq, e, e)
    x = g.gap(g.op("Relu", [g.conv(x, 512, 1000, 1, bias=True)]))
    g.output(g.flatten(x), "logits", [1, 1000])
    return g, "torchvision squeezenet1_1: 8 Fire modules, ceil-mode max pools, conv classifier; Dropout left out"


# --- Segmentation ---
def upsample(g, x, shape, mode="linear"):
    return g.op("Resize", [x, "", "", g.ints(shape)], mode=mode,
                coordinate_transformation_mode="half_pixel" if mode == "linear" else "asymmetric",
                nearest_mode="floor")


def fcn_head(g, x, cin, classes):
    inter = cin // 4
    return g.conv(g.cba(x, cin, inter, 3), inter, classes, 1, bias=True)


def fcn_resnet50():
    g = Graph("fcn_resnet50", 50)
    x = g.input("image", [1, 3, 520, 520])
    feats = resnet_body(g, x, "bottleneck", [3, 4, 6, 3], dilate=(False, True, True))
    out = upsample(g, fcn_head(g, feats[3], 2048, 21), [1, 21, 520, 520])
    aux = upsample(g, fcn_head(g, feats[2], 1024, 21), [1, 21, 520, 520])
    g.output(out, "out", [1, 21, 520, 520])
    g.output(aux, "aux", [1, 21, 520, 520])
    return g, ("torchvision fcn_resnet50 with the aux classifier of the published COCO weights: "
               "ResNet-50 with dilated layer3/layer4 (output stride 8), FCN heads, bilinear "
               "upsampling to 520x520; Dropout left out")


def seg_backbone(g, x):
    """mobilenet_v3_large, dilated (output stride 16), tapping features[4] (stride 8, 40 ch)."""
    return v3_features(g, x, v3_config(V3_LARGE, dilated=True), taps=(4,))


def deeplabv3_mobilenet_v3_large():
    g = Graph("deeplabv3_mobilenet_v3_large", 33)
    x = g.input("image", [1, 3, 520, 520])
    high, taps = seg_backbone(g, x)
    size = [1, 256, 33, 33]
    branches = [g.cba(high, 960, 256, 1)]
    for rate in (12, 24, 36):
        branches.append(g.cba(high, 960, 256, 3, d=rate))
    pooled = g.cba(g.gap(high), 960, 256, 1)
    branches.append(upsample(g, pooled, size))
    y = g.cba(g.op("Concat", branches, axis=1), 1280, 256, 1)
    y = g.conv(g.cba(y, 256, 256, 3), 256, 21, 1, bias=True)
    g.output(upsample(g, y, [1, 21, 520, 520]), "out", [1, 21, 520, 520])
    aux = fcn_head(g, taps[4], 40, 21)
    g.output(upsample(g, aux, [1, 21, 520, 520]), "aux", [1, 21, 520, 520])
    return g, ("torchvision deeplabv3_mobilenet_v3_large with its aux classifier: dilated "
               "MobileNetV3-Large (output stride 16), ASPP rates 12/24/36 with image pooling, "
               "bilinear upsampling to 520x520; Dropout left out")


def lraspp_mobilenet_v3_large():
    g = Graph("lraspp_mobilenet_v3_large", 34)
    x = g.input("image", [1, 3, 520, 520])
    high, taps = seg_backbone(g, x)
    low = taps[4]
    y = g.cba(high, 960, 128, 1)
    s = g.act(g.conv(g.gap(high), 960, 128, 1), "sigmoid")
    y = upsample(g, g.op("Mul", [y, s]), [1, 128, 65, 65])
    y = g.op("Add", [g.conv(low, 40, 21, 1, bias=True), g.conv(y, 128, 21, 1, bias=True)])
    g.output(upsample(g, y, [1, 21, 520, 520]), "out", [1, 21, 520, 520])
    return g, ("torchvision lraspp_mobilenet_v3_large: dilated MobileNetV3-Large, LR-ASPP head "
               "on the stride-8 and stride-16 features, bilinear upsampling to 520x520")


# --- Detection ---
def fasterrcnn_mobilenet_v3_large_320_fpn():
    g = Graph("fasterrcnn_mobilenet_v3_large_320_fpn", 320)
    x = g.input("image", [1, 3, 320, 320])
    c5, taps = v3_features(g, x, v3_config(V3_LARGE), taps=(13,))
    c4 = taps[13]
    inner5 = g.conv(c5, 960, 256, 1, bias=True)
    inner4 = g.op("Add", [g.conv(c4, 160, 256, 1, bias=True), inner5])  # same 10x10 size
    p4 = g.conv(inner4, 256, 256, 3, bias=True)
    p5 = g.conv(inner5, 256, 256, 3, bias=True)
    pool = g.op("MaxPool", [p5], kernel_shape=[1, 1], strides=[2, 2])
    rpn_conv = (g.param([256, 256, 3, 3], 2304, "rpn_w"), g.param([256], fill=0.0, hint="rpn_b"))
    rpn_cls = (g.param([15, 256, 1, 1], 256, "rpn_cls_w"), g.param([15], fill=0.0, hint="rpn_cls_b"))
    rpn_box = (g.param([60, 256, 1, 1], 256, "rpn_box_w"), g.param([60], fill=0.0, hint="rpn_box_b"))
    objectness, deltas = [], []
    for level, hw in ((p4, 100), (p5, 100), (pool, 25)):
        t = g.op("Relu", [g.op("Conv", [level, *rpn_conv], kernel_shape=[3, 3], pads=[1] * 4)])
        o = g.op("Conv", [t, *rpn_cls], kernel_shape=[1, 1])
        d = g.op("Conv", [t, *rpn_box], kernel_shape=[1, 1])
        objectness.append(g.op("Reshape", [o, g.ints([1, 15 * hw])]))
        deltas.append(g.op("Reshape", [d, g.ints([1, 60 * hw])]))
    g.output(g.op("Concat", objectness, axis=1), "rpn_objectness", [1, 15 * 225])
    g.output(g.op("Concat", deltas, axis=1), "rpn_deltas", [1, 60 * 225])
    # Stand-in for proposals + MultiScaleRoIAlign: 150 RoIs of 7x7 from the stride-32 map.
    roi = upsample(g, p4, [1, 256, 7, 7])
    # (tract 0.23.9 mis-declutters a Gemm over a Tile or Expand of one row: each RoI gets
    # its own factor, as RoIAlign gives each its own crop.)
    factors = g.const(np.linspace(0.5, 1.5, 150, dtype=np.float32).reshape(150, 1, 1, 1), "roi")
    rois = g.op("Reshape", [g.op("Mul", [roi, factors]), g.ints([150, 12544])])
    h = g.op("Relu", [g.gemm(rois, 12544, 1024)])
    h = g.op("Relu", [g.gemm(h, 1024, 1024)])
    g.output(g.gemm(h, 1024, 91), "class_logits", [150, 91])
    g.output(g.gemm(h, 1024, 364), "box_regression", [150, 364])
    return g, ("torchvision fasterrcnn_mobilenet_v3_large_320_fpn, backbone + FPN + RPN head + "
               "box head: MobileNetV3-Large, FPN on blocks 13/16 with LastLevelMaxPool, RPN head "
               "(15 anchors per location) on the 3 levels, TwoMLPHead and FastRCNNPredictor on "
               "150 RoIs (rpn_post_nms_top_n_test). Left out: anchor generation, box decoding, "
               "NMS, proposal selection and MultiScaleRoIAlign (replaced by one bilinear 7x7 "
               "resize of the stride-32 FPN map times a per-RoI factor, for the 150 RoIs), and the final "
               "post-processing; GeneralizedRCNNTransform resizing left out (input is 320x320)")


def ssdlite320_mobilenet_v3_large():
    g = Graph("ssdlite320_mobilenet_v3_large", 321)
    x = g.input("image", [1, 3, 320, 320])
    conf = v3_config(V3_LARGE, reduced_tail=True)
    x = g.cba(x, 3, 16, 3, 2, "hswish")
    expanded = []
    for i, cfg in enumerate(conf, start=1):
        x = v3_block(g, x, cfg, expand_out=expanded if i == 13 else None)
    x = g.cba(x, 80, 480, 1, act="hswish")
    maps = [(expanded[0], 672, 400), (x, 480, 100)]
    cin = 480
    for cout, hw in ((512, 25), (256, 9), (256, 4), (128, 1)):
        mid = cout // 2
        y = g.cba(x, cin, mid, 1, act="relu6")
        y = g.cba(y, mid, mid, 3, 2, "relu6", g=mid)
        x = g.cba(y, mid, cout, 1, act="relu6")
        maps.append((x, cout, hw))
        cin = cout
    cls, box = [], []
    for fmap, c, hw in maps:
        for per, acc in ((91, cls), (4, box)):
            y = g.cba(fmap, c, c, 3, act="relu6", g=c)
            y = g.conv(y, c, 6 * per, 1, bias=True)
            y = g.op("Transpose", [g.op("Reshape", [y, g.ints([1, 6 * per, hw])])], perm=[0, 2, 1])
            acc.append(g.op("Reshape", [y, g.ints([1, 6 * hw, per])]))
    n = 6 * sum(hw for _, _, hw in maps)
    g.output(g.op("Concat", cls, axis=1), "class_logits", [1, n, 91])
    g.output(g.op("Concat", box, axis=1), "box_regression", [1, n, 4])
    return g, ("torchvision ssdlite320_mobilenet_v3_large: MobileNetV3-Large with reduced tail, "
               "features at the C4 expansion (672 ch) and the last conv (480 ch), 4 extra blocks, "
               "SSDLite classification and regression heads (6 anchors per location, 91 classes). "
               "Left out: anchor generation, box decoding, score threshold, NMS")


# --- YOLOv5 (v6.0 architecture) ---
def yolov5(name, depth, width, seed):
    g = Graph(name, seed)

    def ch(c):
        return divisible(c * width)

    def n_(n):
        return max(round(n * depth), 1)

    def conv(x, cin, cout, k, s=1):
        return g.cba(x, cin, cout, k, s, "silu")

    def c3(x, cin, cout, n, shortcut=True):
        c_ = cout // 2
        a = conv(x, cin, c_, 1)
        for _ in range(n):
            y = conv(conv(a, c_, c_, 1), c_, c_, 3)
            a = g.op("Add", [a, y]) if shortcut else y
        b = conv(x, cin, c_, 1)
        return conv(g.op("Concat", [a, b], axis=1), 2 * c_, cout, 1)

    def up(x):
        return g.op("Resize", [x, "", g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")

    x = g.input("image", [1, 3, 640, 640])
    x = g.act(g.bn(g.conv(x, 3, ch(64), 6, 2, p=2), ch(64)), "silu")
    x = c3(conv(x, ch(64), ch(128), 3, 2), ch(128), ch(128), n_(3))
    p3 = c3(conv(x, ch(128), ch(256), 3, 2), ch(256), ch(256), n_(6))
    p4 = c3(conv(p3, ch(256), ch(512), 3, 2), ch(512), ch(512), n_(9))
    x = c3(conv(p4, ch(512), ch(1024), 3, 2), ch(1024), ch(1024), n_(3))
    c_ = ch(1024) // 2
    y1 = conv(x, ch(1024), c_, 1)
    pools = [y1]
    for _ in range(3):
        pools.append(g.op("MaxPool", [pools[-1]], kernel_shape=[5, 5], strides=[1, 1], pads=[2] * 4))
    x = conv(g.op("Concat", pools, axis=1), 4 * c_, ch(1024), 1)  # SPPF
    h10 = conv(x, ch(1024), ch(512), 1)
    x = c3(g.op("Concat", [up(h10), p4], axis=1), 2 * ch(512), ch(512), n_(3), False)
    h14 = conv(x, ch(512), ch(256), 1)
    out3 = c3(g.op("Concat", [up(h14), p3], axis=1), 2 * ch(256), ch(256), n_(3), False)
    x = g.op("Concat", [conv(out3, ch(256), ch(256), 3, 2), h14], axis=1)
    out4 = c3(x, 2 * ch(256), ch(512), n_(3), False)
    x = g.op("Concat", [conv(out4, ch(512), ch(512), 3, 2), h10], axis=1)
    out5 = c3(x, 2 * ch(512), ch(1024), n_(3), False)
    for i, (f, c, hw) in enumerate(((out3, ch(256), 80), (out4, ch(512), 40), (out5, ch(1024), 20))):
        y = g.act(g.conv(f, c, 255, 1, bias=True), "sigmoid")
        g.output(y, f"p{i + 3}", [1, 255, hw, hw])
    return g, (f"Ultralytics YOLOv5 v6.0 architecture (depth {depth}, width {width}): CSP backbone "
               "with C3 blocks, SPPF, PANet neck, Detect convolutions (3 anchors x 85) with sigmoid "
               "on the 3 scales. Left out: grid/anchor box decoding and NMS")


def yolov5s():
    return yolov5("yolov5s", 0.33, 0.50, 5)


def yolov5n():
    return yolov5("yolov5n", 0.33, 0.25, 6)


# --- Keyword spotting: DS-CNN (Hello Edge, ARM ML-KWS-for-MCU) on 49x10 MFCCs ---
def ds_cnn(name, channels, layers, seed):
    g = Graph(name, seed, tiled=False)
    x = g.input("mfcc", [1, 1, 49, 10])

    def bn_relu(y):
        return g.op("Relu", [g.bn(y, channels)])

    # Conv 10x4 stride 2x1, TensorFlow SAME padding: 49x10 -> 25x10.
    x = bn_relu(g.conv(x, 1, channels, (10, 4), (2, 1), p=[4, 1, 5, 2]))
    for i in range(layers - 1):
        stride, pads = ((2, 2), [1, 0, 1, 1]) if i == 0 else (1, [1, 1, 1, 1])
        x = bn_relu(g.conv(x, channels, channels, 3, stride, p=pads, g=channels))
        x = bn_relu(g.conv(x, channels, channels, 1))
    y = g.gemm(g.flatten(g.gap(x)), channels, 12)
    g.output(g.op("Softmax", [y], axis=1), "probs", [1, 12])
    return g, (f"DS-CNN of Hello Edge (Zhang et al. 2017) as in ARM ML-KWS-for-MCU: Conv 10x4 "
               f"stride 2x1, {layers - 1} depthwise-separable layers of {channels} channels "
               "(the first with stride 2x2), BatchNorm + ReLU, global average pool, 12-way "
               "classifier with Softmax")


def ds_cnn_l():
    return ds_cnn("ds_cnn_l", 276, 6, 276)


def ds_cnn_m():
    return ds_cnn("ds_cnn_m", 172, 5, 172)
