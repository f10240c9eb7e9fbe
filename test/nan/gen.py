# Writes test/nan/expected.json: PyTorch's outputs for every op fed NaN and ±Inf (read by nan.test.ts; no Python
# at test time). Run from the repository root: python3 test/nan/gen.py (PyTorch CPU, float32).
import json
import math

import torch
import torch.nn.functional as F

NAN, INF = math.nan, math.inf
CASES = []


def enc(v):
    """A float for JSON: NaN and the infinities as strings."""
    v = float(v)
    return 'NaN' if math.isnan(v) else 'Infinity' if v == INF else '-Infinity' if v == -INF else v


def tens(t):
    return {'shape': list(t.shape), 'dtype': 'int32' if t.dtype in (torch.int64, torch.int32) else 'bool' if t.dtype == torch.bool else 'float32',
            'data': [enc(v) for v in t.flatten().tolist()]}


TENSORS, SEEN = [], {}


def ref(t):
    """Inputs are stored once in TENSORS and named by their index there."""
    key = json.dumps(tens(t))
    if key not in SEEN:
        SEEN[key] = len(TENSORS)
        TENSORS.append(tens(t))
    return SEEN[key]


def case(name, op, inputs, out, **attrs):
    CASES.append({'name': name, 'op': op, 'attrs': attrs, 'inputs': [ref(t) for t in inputs], 'out': tens(out)})


def t(rows):
    return torch.tensor(rows, dtype=torch.float32)


# ---- elementwise: every unary op over specials and ordinary values ----


def gelu(x):
    """GELU by its documented formula x·Φ(x): gelu(+inf) = +inf. F.gelu's vectorized CPU kernel gives NaN there
    (its one-element path gives +inf), a kernel artefact that forwardpass does not copy."""
    return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))


V = t([NAN, INF, -INF, -25.0, -3.0, -0.5, 0.0, 0.5, 3.0, 25.0])
UNARY = {
    'neg': torch.neg, 'abs': torch.abs, 'exp': torch.exp, 'log': torch.log, 'sqrt': torch.sqrt, 'rsqrt': torch.rsqrt,
    'reciprocal': torch.reciprocal, 'square': torch.square, 'sin': torch.sin, 'cos': torch.cos, 'tanh': torch.tanh,
    'erf': torch.erf, 'sigmoid': torch.sigmoid, 'relu': torch.relu, 'relu6': F.relu6, 'gelu': gelu,
    'geluTanh': lambda x: F.gelu(x, approximate='tanh'), 'silu': F.silu, 'floor': torch.floor, 'ceil': torch.ceil,
    'round': torch.round, 'sign': torch.sign, 'hardSwish': F.hardswish, 'hardSigmoid': F.hardsigmoid,
    'softplus': F.softplus, 'logicalNot': torch.logical_not,
}
for name, f in UNARY.items():
    case(name, name, [V], f(V))
case('clamp(-1, 0.5)', 'clamp', [V], torch.clamp(V, -1, 0.5), min=-1, max=0.5)
case('clamp(min 0)', 'clamp', [V], torch.clamp(V, min=0), min=0)
case('hardtanh', 'clamp', [V], F.hardtanh(V), min=-1, max=1)
case('leakyRelu(0.1)', 'leakyRelu', [V], F.leaky_relu(V, 0.1), alpha=0.1)
case('elu', 'elu', [V], F.elu(V), alpha=1.0)

# ---- binary and comparison ops on every pair of specials and ordinaries ----
P = t([NAN, INF, -INF, -2.0, -1.0, 0.0, 0.5, 1.0, 3.0])
A, B = P.repeat_interleave(len(P)), P.repeat(len(P))
BINARY = {
    'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'pow': torch.pow,
    'maximum': torch.maximum, 'minimum': torch.minimum, 'remainder': torch.remainder,
    'eq': torch.eq, 'ne': torch.ne, 'lt': torch.lt, 'le': torch.le, 'gt': torch.gt, 'ge': torch.ge,
    'logicalAnd': torch.logical_and, 'logicalOr': torch.logical_or,
}
for name, f in BINARY.items():
    case(name, name, [A, B], f(A, B))
case('maximum (broadcast row)', 'maximum', [A.reshape(9, 9), t([[NAN, 0, 1, -1, INF, -INF, 2, 0.5, NAN]])], torch.maximum(A.reshape(9, 9), t([[NAN, 0, 1, -1, INF, -INF, 2, 0.5, NAN]])))
case('where', 'where', [A > 0, A, B], torch.where(A > 0, A, B))

# ---- reductions, softmax, argmax over rows holding NaN and infinities, along both axes and over all ----
R = t([[1, NAN, 2, 3, 4], [1, INF, 2, -INF, 0], [-1, -2, -INF, -3, -4], [NAN, NAN, 1, 2, 3],
       [INF, 1, 2, INF, 0], [0.5, 1.5, -2, 3, 1], [-INF, -INF, -INF, -INF, -INF], [1, 2, NAN, INF, -INF]])
for axis in (-1, 0):
    case(f'sum axis {axis}', 'sum', [R], R.sum(axis), axis=axis)
    case(f'mean axis {axis}', 'mean', [R], R.mean(axis), axis=axis)
    case(f'max axis {axis}', 'max', [R], R.amax(axis), axis=axis)
    case(f'min axis {axis}', 'min', [R], R.amin(axis), axis=axis)
    case(f'prod axis {axis}', 'prod', [R], R.prod(axis), axis=axis)
    case(f'var axis {axis}', 'var', [R], R.var(axis), axis=axis)
    case(f'argmax axis {axis}', 'argmax', [R], R.argmax(axis), axis=axis)
    case(f'argmin axis {axis}', 'argmin', [R], R.argmin(axis), axis=axis)
    case(f'softmax axis {axis}', 'softmax', [R], torch.softmax(R, axis), axis=axis)
    case(f'logSoftmax axis {axis}', 'logSoftmax', [R], torch.log_softmax(R, axis), axis=axis)
case('max all', 'max', [R], R.amax())
case('min all', 'min', [R], R.amin())
case('argmax all', 'argmax', [R], R.argmax())
W = (torch.arange(64 * 37) % 23 - 11).float().reshape(64, 37) / 4  # rows long enough for the GPU's workgroup reductions
W[5, 20] = NAN; W[9, 36] = INF; W[9, 0] = -INF; W[17, 3] = NAN; W[17, 30] = INF; W[40, :] = -INF
WT = W.T.contiguous()
LONG = {'max': lambda x, a: x.amax(a), 'min': lambda x, a: x.amin(a), 'sum': lambda x, a: x.sum(a),
        'argmax': lambda x, a: x.argmax(a), 'argmin': lambda x, a: x.argmin(a), 'softmax': lambda x, a: torch.softmax(x, a)}
for name, f in LONG.items():
    case(f'{name} long rows', name, [W], f(W, -1), axis=-1)
    case(f'{name} long columns', name, [WT], f(WT, 0), axis=0)

# ---- data movement: NaN and infinities are copied as they are ----
E = t([[NAN, 1, INF], [2, -INF, 3], [4, 5, 6]])
ids = torch.tensor([2, 0, 0, 1], dtype=torch.int32)
case('embedding', 'embedding', [ids, E], F.embedding(ids.long(), E))
case('concat', 'concat', [E, V[:9].reshape(3, 3)], torch.cat([E, V[:9].reshape(3, 3)], 1), axis=1)
case('pad constant NaN', 'pad', [E], F.pad(E, [1, 2], value=NAN), pads=[1, 2], mode='constant', value='NaN')
case('pad reflect', 'pad', [E[None]], F.pad(E[None], [2, 1], mode='reflect'), pads=[2, 1], mode='reflect')

# ---- norms ----
X = t([[1, 2, NAN, 4, 5, 6], [1, 2, 3, 4, 5, 6], [1, INF, 3, 4, 5, 6], [-INF, 2, 3, 4, 5, 6]])
gw, gb = t([1, -2, 0.5, 1, 1, 3]), t([0, 1, 0, -1, 0, 0.5])
case('layerNorm', 'layerNorm', [X, gw, gb], F.layer_norm(X, [6], gw, gb, 1e-5), eps=1e-5)
case('rmsNorm', 'rmsNorm', [X, gw], F.rms_norm(X, [6], gw, 1e-6), eps=1e-6)
G = X.reshape(2, 4, 3)
cw, cb = t([1, 2, 3, 4]), t([0, 0.5, -1, 0])
case('groupNorm', 'groupNorm', [G, cw, cb], F.group_norm(G, 2, cw, cb, 1e-5), groups=2, eps=1e-5)
rm, rv = t([0, 1, NAN, 0]), t([1, 2, 1, INF])
case('batchNorm', 'batchNorm', [G, rm, rv, cw, cb], F.batch_norm(G, rm, rv, cw, cb, False, 0.0, 1e-5), eps=1e-5)

# ---- pooling (NaN and infinities inside windows, next to padding) ----
Q = torch.arange(2 * 5 * 5, dtype=torch.float32).reshape(1, 2, 5, 5) - 25
Q[0, 0, 0, 0] = NAN; Q[0, 0, 2, 3] = NAN; Q[0, 1, 1, 1] = INF; Q[0, 1, 4, 4] = -INF; Q[0, 1, 3, 0] = NAN
case('maxPool2d k2', 'maxPool2d', [Q], F.max_pool2d(Q, 2), kernel=2, stride=2, padding=0)
case('maxPool2d k3 s2 p1', 'maxPool2d', [Q], F.max_pool2d(Q, 3, 2, 1), kernel=3, stride=2, padding=1)
case('avgPool2d k2', 'avgPool2d', [Q], F.avg_pool2d(Q, 2), kernel=2, stride=2, padding=0)
case('avgPool2d k3 s2 p1', 'avgPool2d', [Q], F.avg_pool2d(Q, 3, 2, 1), kernel=3, stride=2, padding=1)
case('globalAvgPool2d', 'globalAvgPool2d', [Q], F.adaptive_avg_pool2d(Q, 1))
case('globalMaxPool2d', 'max', [Q], F.adaptive_max_pool2d(Q, 1), axis=[2, 3], keepdim=True)

# ---- matmul, linear with fused activations, conv2d ----
gen = torch.Generator().manual_seed(0)
MA = torch.randn(5, 6, generator=gen)
MA[0, 2] = NAN; MA[1, 4] = INF; MA[2, :] = NAN; MA[3, 0] = -INF
MB = torch.randn(6, 4, generator=gen)
MB[4, 1] = 0.0  # Inf x 0 = NaN in that output only
case('matmul', 'matmul', [MA, MB], MA @ MB)
MBn = MB.clone(); MBn[1, 3] = NAN
case('matmul NaN weight', 'matmul', [MA[4:], MBn], MA[4:] @ MBn)
BIG = torch.randn(9, 70, generator=gen); BIG[3, 50] = NAN; BIG[7, 0] = INF
BW = torch.randn(70, 33, generator=gen)
case('matmul tiled', 'matmul', [BIG, BW], BIG @ BW)
SK = (torch.arange(6 * 1100) % 13 - 6).float().reshape(6, 1100) / 8  # K long enough for WebGPU's split-K path
SK[1, 700] = NAN; SK[4, 3] = INF
SW = (torch.arange(1100 * 5) % 11 - 5).float().reshape(1100, 5) / 8
case('matmul split-K', 'matmul', [SK, SW], SK @ SW)
LW, LB = torch.randn(4, 6, generator=gen), torch.randn(4, generator=gen)
LX = torch.cat([MA, t([[40, 40, 40, 40, 40, 40], [-40, -40, -40, -40, -40, -40]])])
acts = {'none': lambda x: x, 'relu': torch.relu, 'gelu': gelu, 'geluTanh': lambda x: F.gelu(x, approximate='tanh'),
        'silu': F.silu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid}
for act, f in acts.items():
    case(f'linear {act}', 'linear', [LX, LW, LB], f(F.linear(LX, LW, LB)), activation=act)
LBi = LB.clone(); LBi[1] = INF; LBi[2] = NAN
case('linear relu, bias Inf and NaN', 'linear', [LX[4:], LW, LBi], torch.relu(F.linear(LX[4:], LW, LBi)), activation='relu')
CX = torch.randn(2, 3, 8, 8, generator=gen)
CX[0, 0, 0, 0] = NAN; CX[0, 1, 5, 6] = NAN; CX[0, 2, 3, 3] = INF; CX[1, 0, 7, 7] = -INF; CX[1, 1, 2, 4] = INF
CW, CB = torch.randn(4, 3, 3, 3, generator=gen), torch.randn(4, generator=gen)
case('conv2d 3x3', 'conv2d', [CX, CW, CB], F.conv2d(CX, CW, CB), stride=1, padding=0, groups=1)
case('conv2d 3x3 pad 1', 'conv2d', [CX, CW, CB], F.conv2d(CX, CW, CB, padding=1), stride=1, padding=1, groups=1)
case('conv2d 3x3 stride 2', 'conv2d', [CX, CW, CB], F.conv2d(CX, CW, CB, stride=2, padding=1), stride=2, padding=1, groups=1)
CW5 = torch.randn(4, 3, 5, 5, generator=gen)
case('conv2d 5x5', 'conv2d', [CX, CW5, CB], F.conv2d(CX, CW5, CB, padding=2), stride=1, padding=2, groups=1)
WX = (torch.arange(2 * 8 * 7 * 7) % 9 - 4).float().reshape(2, 8, 7, 7) / 4  # channels enough for CPU Winograd
WX[0, 2, 3, 4] = NAN; WX[0, 5, 0, 0] = INF; WX[1, 7, 6, 6] = -INF; WX[1, 0, 2, 2] = INF; WX[1, 1, 2, 2] = -INF
WW = (torch.arange(8 * 8 * 9) % 7 - 3).float().reshape(8, 8, 3, 3) / 4
case('conv2d 3x3 8 channels', 'conv2d', [WX, WW, CB[:1].repeat(8)], F.conv2d(WX, WW, CB[:1].repeat(8)), stride=1, padding=0, groups=1)
case('conv2d 3x3 8 channels pad 1', 'conv2d', [WX, WW, CB[:1].repeat(8)], F.conv2d(WX, WW, CB[:1].repeat(8), padding=1), stride=1, padding=1, groups=1)
DW = torch.randn(3, 1, 3, 3, generator=gen)
case('conv2d depthwise', 'conv2d', [CX, DW, CB[:3]], F.conv2d(CX, DW, CB[:3], padding=1, groups=3), stride=1, padding=1, groups=3)

# ---- attention: NaN in q, k, v; +Inf scores; fully masked rows ----
# PyTorch's math backend (the documented definition): NaN flows wherever softmax(q·kᵀ)·v takes it, and a row whose
# scores are all -inf (fully masked) gives zeros. Its fused CPU kernel gives zeros for a NaN query row instead.
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402


def sdpa(*args, **kw):
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(*args, **kw)


q, k, v = (torch.randn(1, 2, 4, 8, generator=gen) for _ in range(3))
qn = q.clone(); qn[0, 0, 1, 3] = NAN
case('sdpa NaN in q', 'sdpa', [qn, k, v], sdpa(qn, k, v))
kn = k.clone(); kn[0, 1, 2, 0] = NAN
case('sdpa NaN in k', 'sdpa', [q, kn, v], sdpa(q, kn, v))
vn = v.clone(); vn[0, 0, 3, 5] = NAN
case('sdpa NaN in v, causal', 'sdpa', [q, k, vn], sdpa(q, k, vn, is_causal=True), causal=True)
# masked keys still multiply their values by probability 0 (p @ v), so 0·NaN and 0·inf reach every row, fully
# masked rows (probabilities all 0) included, as in every PyTorch backend
vm = v.clone(); vm[0, 0, 3, 5] = NAN; vm[0, 0, 1, 2] = INF
bmask = torch.ones(4, 4, dtype=torch.bool); bmask[2, :] = False; bmask[0, 1] = False
case('sdpa NaN and inf in masked values (bool)', 'sdpa', [q, k, vm, bmask], sdpa(q, k, vm, attn_mask=bmask))
qc, kc, vc = (torch.randn(1, 1, 70, 8, generator=gen) for _ in range(3))
vc[0, 0, 66, 0] = NAN
case('sdpa NaN in a late value, causal, 70 keys', 'sdpa', [qc, kc, vc], sdpa(qc, kc, vc, is_causal=True), causal=True)
qi = q.clone(); qi[0, 1, 2, 0] = INF
case('sdpa +Inf in q', 'sdpa', [qi, k, v], sdpa(qi, k, v))
mask = torch.ones(4, 4, dtype=torch.bool); mask[2, :] = False; mask[0, 3] = False
case('sdpa fully masked row (bool)', 'sdpa', [q, k, v, mask], sdpa(q, k, v, attn_mask=mask))
amask = torch.zeros(4, 4); amask[1, :] = -INF; amask[3, 0] = -INF
case('sdpa fully masked row (additive)', 'sdpa', [q, k, v, amask], sdpa(q, k, v, attn_mask=amask))
ql = torch.randn(1, 1, 3, 8, generator=gen); kl, vl = torch.randn(1, 1, 70, 8, generator=gen), torch.randn(1, 1, 70, 8, generator=gen)
kl[0, 0, 65, 2] = NAN
case('sdpa NaN in a long key row', 'sdpa', [ql, kl, vl], sdpa(ql, kl, vl))

with open('test/nan/expected.json', 'w') as f:
    json.dump({'torch': torch.__version__, 'tensors': TENSORS, 'cases': CASES}, f, separators=(',', ':'))
print(len(CASES), 'cases')
