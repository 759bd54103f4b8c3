#!/usr/bin/env python3
"""Records layer outputs and gradients from PyTorch (and jax.image.resize for the resize kernels
PyTorch does not share), the conformance suite's independent expectation for every Axon layer
that has a counterpart there.

    scripts/record-layers.py        # creates .build/cases-venv (torch, jax[cpu]) on first use

Writes Tests/Conformance/Cases/layers/<name>.json: the builder and its options, inputs and
parameters in Axon's layouts (channels last; kernels [spatial..., in, out]), the output, a
cotangent, and the gradients of sum(output * cotangent) with respect to every float input and
parameter. RecordedLayer.swift replays them through Axon on every backend. Layout mappings
(PyTorch → Axon) are the ones the layers' documentation states.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "cases-venv")

if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([os.path.join(VENV, "bin", "pip"), "install", "-q", "torch", "jax[cpu]", "numpy"])
    os.execv(python, [python] + sys.argv)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "Conformance", "Cases", "layers")
torch.set_default_dtype(torch.float32)


def tensor(array, dtype="float32"):
    array = np.asarray(array)
    values = [int(v) for v in array.ravel()] if dtype == "int32" else [float(np.float32(v)) for v in array.ravel()]
    return {"shape": list(array.shape), "dtype": dtype, "values": values}


def uniform(seed, shape, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def last(x):
    """NC... → N...C"""
    return np.moveaxis(np.asarray(x), 1, -1)


def first(x):
    """N...C → NC..."""
    return np.moveaxis(np.asarray(x), -1, 1)


def record(name, source, layer, options, inputs, parameters, forward, seed):
    """inputs/parameters: name → (Axon-layout array, to_torch); forward(torch tensors) → torch
    output in its own layout; returns output in Axon's layout via `output_to_axon`."""
    torch_values = {}
    for key, (array, to_torch) in {**inputs, **parameters}.items():
        value = torch.tensor(to_torch(array))
        if value.dtype == torch.float32:
            value.requires_grad_(True)
        torch_values[key] = value
    output, to_axon = forward(torch_values)
    axon_output = to_axon(output.detach().numpy())
    cotangent = uniform(seed, axon_output.shape)
    (output * torch.tensor(np.ascontiguousarray(first_like(cotangent, to_axon, output)))).sum().backward()
    gradients = {}
    for key, (array, to_torch) in {**inputs, **parameters}.items():
        value = torch_values[key]
        if value.grad is None:
            continue
        gradients[key] = tensor(from_torch_like(value.grad.numpy(), array, to_torch))
    document = {
        "name": f"layer {name} recorded from {source}",
        "layer": layer,
        "options": options,
        "inputs": {k: tensor(a, "int32" if a.dtype.kind == "i" else "float32") for k, (a, _) in inputs.items()},
        "parameters": {k: tensor(a) for k, (a, _) in parameters.items()},
        "output": tensor(axon_output),
        "cotangent": tensor(cotangent),
        "gradients": gradients,
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(document, f, indent=None)
        f.write("\n")


def first_like(cotangent, to_axon, output):
    """The cotangent in the torch output's layout: invert `to_axon` numerically by probing."""
    probe = np.arange(output.numel(), dtype=np.float64).reshape(tuple(output.shape))
    mapped = to_axon(probe)
    result = np.empty(output.numel(), dtype=np.float32)
    result[mapped.ravel().astype(np.int64)] = cotangent.ravel()
    return result.reshape(tuple(output.shape))


def from_torch_like(gradient, array, to_torch):
    """A gradient in torch's layout back to the Axon layout of `array`, by probing `to_torch`."""
    probe = np.arange(array.size, dtype=np.float64).reshape(array.shape)
    mapped = np.asarray(to_torch(probe))
    result = np.empty(array.size, dtype=np.float32)
    result[mapped.ravel().astype(np.int64)] = gradient.ravel()
    return result.reshape(array.shape)


same = lambda a: np.ascontiguousarray(a)  # noqa: E731
channels_first = lambda a: np.ascontiguousarray(first(a))  # noqa: E731
kernel_oihw = lambda a: np.ascontiguousarray(np.moveaxis(a, (-2, -1), (1, 0)))  # [k..., i, o] → [o, i, k...]
kernel_transposed = lambda a: np.ascontiguousarray(np.moveaxis(a, (-2, -1), (1, 0)))  # [k..., o/g, in] → [in, o/g, k...]
to_last = lambda y: last(y)  # noqa: E731


def conv_cases():
    x = uniform(1, (2, 7, 6, 4))
    k = uniform(2, (3, 2, 2, 6))
    b = uniform(3, (6,))
    def forward(v):
        padded = F.pad(v["x"], (0, 1, 1, 1))  # (left, right) of W, then (top, bottom) of H
        return F.conv2d(padded, v["layer.kernel"], v["layer.bias"], stride=(2, 1), dilation=(1, 2), groups=2), to_last
    record("conv2d", "torch.nn.functional.conv2d", "conv",
           {"filters": 6, "kernelSize": [3, 2], "strides": [2, 1], "padding": [[1, 1], [0, 1]], "dilation": [1, 2], "groups": 2},
           {"x": (x, channels_first)}, {"layer.kernel": (k, kernel_oihw), "layer.bias": (b, same)}, forward, 4)

    x = uniform(5, (2, 4, 3, 4))
    k = uniform(6, (3, 2, 3, 4))
    b = uniform(7, (6,))
    record("conv_transpose2d", "torch.nn.functional.conv_transpose2d", "convTranspose",
           {"filters": 6, "kernelSize": [3, 2], "strides": [2, 2], "padding": [[1, 1], [0, 0]], "outputPadding": [1, 1],
            "dilation": [1, 2], "groups": 2},
           {"x": (x, channels_first)}, {"layer.kernel": (k, kernel_transposed), "layer.bias": (b, same)},
           lambda v: (F.conv_transpose2d(v["x"], v["layer.kernel"], v["layer.bias"], stride=2, padding=(1, 0),
                                         output_padding=1, groups=2, dilation=(1, 2)), to_last), 8)

    x = uniform(9, (2, 5, 3))
    k = uniform(10, (4, 2, 3))
    b = uniform(11, (2,))
    record("conv_transpose1d", "torch.nn.functional.conv_transpose1d", "convTranspose",
           {"filters": 2, "kernelSize": [4], "strides": [3], "padding": [[2, 2]]},
           {"x": (x, channels_first)}, {"layer.kernel": (k, kernel_transposed), "layer.bias": (b, same)},
           lambda v: (F.conv_transpose1d(v["x"], v["layer.kernel"], v["layer.bias"], stride=3, padding=2), to_last), 12)

    x = uniform(13, (2, 6, 5, 3))
    k = uniform(14, (3, 3, 1, 6))
    b = uniform(15, (6,))
    record("depthwise_conv2d", "torch.nn.functional.conv2d with groups = channels", "depthwiseConv",
           {"channelMultiplier": 2, "kernelSize": [3], "strides": [1, 2], "padding": [[1, 1], [1, 1]]},
           {"x": (x, channels_first)}, {"layer.kernel": (k, kernel_oihw), "layer.bias": (b, same)},
           lambda v: (F.conv2d(v["x"], v["layer.kernel"], v["layer.bias"], stride=(1, 2), padding=1, groups=3), to_last), 16)

    x = uniform(17, (3, 5))
    w = uniform(18, (5, 4))
    b = uniform(19, (4,))
    record("dense", "torch.nn.functional.linear", "dense", {"units": 4},
           {"x": (x, same)}, {"layer.kernel": (w, lambda a: np.ascontiguousarray(np.asarray(a).T)), "layer.bias": (b, same)},
           lambda v: (F.linear(v["x"], v["layer.kernel"], v["layer.bias"]), lambda y: y), 20)


def pool_cases():
    x = uniform(21, (2, 6, 7, 3))
    record("max_pool2d", "torch.nn.functional.max_pool2d", "maxPool",
           {"kernelSize": [3], "strides": [2], "padding": [[1, 1], [1, 1]]}, {"x": (x, channels_first)}, {},
           lambda v: (F.max_pool2d(v["x"], 3, 2, padding=1), to_last), 22)
    for include in (False, True):
        record(f"avg_pool2d_count_pad_{str(include).lower()}", "torch.nn.functional.avg_pool2d", "avgPool",
               {"kernelSize": [3], "strides": [2], "padding": [[1, 1], [1, 1]], "countPadding": include}, {"x": (x, channels_first)}, {},
               lambda v, include=include: (F.avg_pool2d(v["x"], 3, 2, padding=1, count_include_pad=include), to_last), 23)
    positive = uniform(24, (2, 6, 7, 3), 0.1, 1.0)
    record("lp_pool2d", "torch.nn.functional.lp_pool2d", "lpPool", {"norm": 2, "kernelSize": [2], "strides": [2]},
           {"x": (positive, channels_first)}, {}, lambda v: (F.lp_pool2d(v["x"], 2, 2, 2), to_last), 25)
    y = uniform(26, (2, 7, 5, 3))
    record("adaptive_avg_pool2d", "torch.nn.functional.adaptive_avg_pool2d", "adaptiveAvgPool", {"outputSize": [3, 4]},
           {"x": (y, channels_first)}, {}, lambda v: (F.adaptive_avg_pool2d(v["x"], (3, 4)), to_last), 27)
    record("adaptive_max_pool2d", "torch.nn.functional.adaptive_max_pool2d", "adaptiveMaxPool", {"outputSize": [3, 4]},
           {"x": (y, channels_first)}, {}, lambda v: (F.adaptive_max_pool2d(v["x"], (3, 4)), to_last), 28)


def norm_cases():
    x = uniform(31, (3, 4, 5))
    record("layer_norm", "torch.nn.functional.layer_norm", "layerNorm", {"axisCount": 2},
           {"x": (x, same)}, {"layer.gamma": (uniform(32, (4, 5)), same), "layer.beta": (uniform(33, (4, 5)), same)},
           lambda v: (F.layer_norm(v["x"], (4, 5), v["layer.gamma"], v["layer.beta"]), lambda y: y), 34)
    x = uniform(35, (2, 4, 3, 6))
    gamma, beta = uniform(36, (6,)), uniform(37, (6,))
    record("group_norm", "torch.nn.functional.group_norm", "groupNorm", {"groups": 3},
           {"x": (x, channels_first)}, {"layer.gamma": (gamma, same), "layer.beta": (beta, same)},
           lambda v: (F.group_norm(v["x"], 3, v["layer.gamma"], v["layer.beta"]), to_last), 38)
    record("instance_norm", "torch.nn.functional.instance_norm", "instanceNorm", {},
           {"x": (x, channels_first)}, {"layer.gamma": (gamma, same), "layer.beta": (beta, same)},
           lambda v: (F.instance_norm(v["x"], weight=v["layer.gamma"], bias=v["layer.beta"]), to_last), 39)
    record("batch_norm_training", "torch.nn.functional.batch_norm (training)", "batchNorm", {"train": True},
           {"x": (x, channels_first)}, {"layer.gamma": (gamma, same), "layer.beta": (beta, same)},
           lambda v: (F.batch_norm(v["x"], torch.zeros(6), torch.ones(6), v["layer.gamma"], v["layer.beta"], training=True), to_last), 40)
    ids = np.array([[0, 3, 4], [2, 2, 1]], dtype=np.int32)
    record("embedding", "torch.nn.functional.embedding", "embedding", {"vocabularySize": 5, "features": 4},
           {"x": (ids, lambda a: np.asarray(a).astype(np.int64))}, {"layer.kernel": (uniform(41, (5, 4)), same)},
           lambda v: (F.embedding(v["x"], v["layer.kernel"]), lambda y: y), 42)


def resize_cases():
    # PyTorch's interpolate does not antialias unless asked; Axon does by default.
    x = uniform(51, (2, 4, 5, 3))
    record("resize_bilinear", "torch.nn.functional.interpolate (bilinear)", "resize", {"size": [7, 8], "method": "linear", "antialias": False},
           {"x": (x, channels_first)}, {}, lambda v: (F.interpolate(v["x"], (7, 8), mode="bilinear", align_corners=False), to_last), 52)
    record("resize_bilinear_align_corners", "torch.nn.functional.interpolate (bilinear, align_corners)", "resize",
           {"size": [7, 3], "method": "linear", "alignCorners": True, "antialias": False},
           {"x": (x, channels_first)}, {}, lambda v: (F.interpolate(v["x"], (7, 3), mode="bilinear", align_corners=True), to_last), 53)
    record("resize_nearest", "torch.nn.functional.interpolate (nearest-exact)", "resize", {"size": [7, 3], "method": "nearest"},
           {"x": (x, channels_first)}, {}, lambda v: (F.interpolate(v["x"], (7, 3), mode="nearest-exact"), to_last), 54)
    # Cubic, Lanczos and antialiased downsampling as jax.image.resize computes them.
    for method, size in (("cubic", (7, 8)), ("lanczos3", (3, 9)), ("linear", (2, 3))):
        record_jax_resize(f"resize_{method}_{size[0]}x{size[1]}", x, method, size, 55)


def record_jax_resize(name, x, method, size, seed):
    shape = (x.shape[0],) + tuple(size) + (x.shape[-1],)
    f = lambda a: jax.image.resize(a, shape, method=method, antialias=True)  # noqa: E731
    output, vjp = jax.vjp(f, jnp.asarray(x))
    cotangent = uniform(seed, shape)
    (gradient,) = vjp(jnp.asarray(cotangent))
    document = {
        "name": f"layer {name} recorded from jax.image.resize",
        "layer": "resize",
        "options": {"size": list(size), "method": method, "antialias": True},
        "inputs": {"x": tensor(x)}, "parameters": {},
        "output": tensor(np.asarray(output)), "cotangent": tensor(cotangent), "gradients": {"x": tensor(np.asarray(gradient))},
    }
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(document, f)
        f.write("\n")


def attention_cases():
    q, k, v = uniform(61, (2, 3, 5, 4)), uniform(62, (2, 3, 6, 4)), uniform(63, (2, 3, 6, 3))
    mask = uniform(64, (2, 1, 1, 6), -3.0, 0.0)
    record("scaled_dot_product_attention_masked", "torch.nn.functional.scaled_dot_product_attention", "dotProductAttention", {},
           {"query": (q, same), "key": (k, same), "value": (v, same), "mask": (mask, same)}, {},
           lambda t: (F.scaled_dot_product_attention(t["query"], t["key"], t["value"], attn_mask=t["mask"].detach()), lambda y: y), 65)
    record("scaled_dot_product_attention_causal", "torch.nn.functional.scaled_dot_product_attention (is_causal)", "dotProductAttention",
           {"causal": True}, {"query": (q, same), "key": (k, same), "value": (v, same)}, {},
           lambda t: (F.scaled_dot_product_attention(t["query"], t["key"], t["value"], is_causal=True), lambda y: y), 66)

    query, memory = uniform(67, (2, 4, 6)), uniform(68, (2, 5, 6))
    weights = {name: (uniform(69 + i, (6, 6)), lambda a: np.ascontiguousarray(np.asarray(a).T))
               for i, name in enumerate(["layer_query.kernel", "layer_key.kernel", "layer_value.kernel", "layer_output.kernel"])}
    biases = {name: (uniform(73 + i, (6,)), same)
              for i, name in enumerate(["layer_query.bias", "layer_key.bias", "layer_value.bias", "layer_output.bias"])}

    def mha(t):
        module = torch.nn.MultiheadAttention(6, 2, batch_first=True)
        in_weight = torch.cat([t["layer_query.kernel"], t["layer_key.kernel"], t["layer_value.kernel"]])
        in_bias = torch.cat([t["layer_query.bias"], t["layer_key.bias"], t["layer_value.bias"]])
        output, _ = F.multi_head_attention_forward(
            t["query"].transpose(0, 1), t["value"].transpose(0, 1), t["value"].transpose(0, 1), 6, 2, in_weight, in_bias,
            None, None, False, 0.0, t["layer_output.kernel"], t["layer_output.bias"], training=False, need_weights=False)
        del module
        return output.transpose(0, 1), lambda y: y
    record("multi_head_attention", "torch.nn.functional.multi_head_attention_forward", "multiHeadAttention",
           {"heads": 2, "keyDimension": 3, "outputDimension": 6},
           {"query": (query, same), "value": (memory, same)}, {**weights, **biases}, mha, 77)


ACTIVATIONS = {
    "celu": F.celu, "elu": F.elu, "exp": torch.exp, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "hard_tanh": F.hardtanh, "hard_sigmoid": F.hardsigmoid, "hard_silu": F.hardswish, "leaky_relu": F.leaky_relu,
    "log_sigmoid": F.logsigmoid, "log_softmax": lambda x: F.log_softmax(x, -1), "mish": F.mish, "relu": F.relu, "relu6": F.relu6,
    "selu": F.selu, "sigmoid": torch.sigmoid, "silu": F.silu, "softmax": lambda x: F.softmax(x, -1), "softplus": F.softplus,
    "softsign": F.softsign, "tanh": torch.tanh,
}


def activation_cases():
    x = uniform(81, (3, 7), -3.0, 3.0)
    for index, (name, function) in enumerate(ACTIVATIONS.items()):
        record(f"activation_{name}", f"torch ({name})", "activation", {"activation": name},
               {"x": (x, same)}, {}, lambda v, function=function: (function(v["x"]), lambda y: y), 82 + index)


def recurrent_cases():
    """nn.LSTM, nn.GRU and nn.RNN with weights loaded the way the layers' documentation says:
    kernel = weight_ih_l0ᵀ, recurrent_kernel = weight_hh_l0ᵀ, one bias as bias_ih_l0 (bias_hh_l0
    zero) except the GRU's recurrent_bias = bias_hh_l0; variable lengths through packed sequences."""
    batch, time, features, units = 3, 5, 4, 3
    x = uniform(101, (batch, time, features))
    lengths = np.array([5, 2, 4], dtype=np.int32)
    transpose = lambda a: np.ascontiguousarray(np.asarray(a).T)  # noqa: E731
    gates = {"lstm": 4, "gru": 3, "simpleRNN": 1}
    modules = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simpleRNN": torch.nn.RNN}

    def parameters(kind, prefix, seed):
        width = gates[kind] * units
        result = {f"{prefix}.kernel": (uniform(seed, (features, width)), transpose),
                  f"{prefix}.recurrent_kernel": (uniform(seed + 1, (units, width)), transpose),
                  f"{prefix}.bias": (uniform(seed + 2, (width,)), same)}
        if kind == "gru":
            result[f"{prefix}.recurrent_bias"] = (uniform(seed + 3, (width,)), same)
        return result

    def run(kind, v, bidirectional, part):
        module = modules[kind](features, units, batch_first=True, bidirectional=bidirectional)
        weights = {}
        for suffix, prefix in [("", "layer")] + ([("_reverse", "backward")] if bidirectional else []):
            width = gates[kind] * units
            weights[f"weight_ih_l0{suffix}"] = v[f"{prefix}.kernel"]
            weights[f"weight_hh_l0{suffix}"] = v[f"{prefix}.recurrent_kernel"]
            weights[f"bias_ih_l0{suffix}"] = v[f"{prefix}.bias"]
            weights[f"bias_hh_l0{suffix}"] = v[f"{prefix}.recurrent_bias"] if kind == "gru" else torch.zeros(width)
        packed = torch.nn.utils.rnn.pack_padded_sequence(v["x"], v["lengths"], batch_first=True, enforce_sorted=False)
        output, state = torch.func.functional_call(module, weights, (packed,))
        sequence, _ = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True, total_length=time)
        hidden, cell = (state if kind == "lstm" else (state, None))
        if part == "sequence":
            return sequence, lambda y: y
        if part == "last":
            return torch.cat([hidden[0], hidden[1]], dim=-1), lambda y: y
        return (hidden if part == "hidden" else cell)[0], lambda y: y

    cases = [("lstm", "sequence", False), ("lstm", "hidden", False), ("lstm", "cell", False), ("gru", "sequence", False),
             ("gru", "hidden", False), ("simpleRNN", "sequence", False), ("lstm", "sequence", True), ("gru", "last", True)]
    for index, (kind, part, bidirectional) in enumerate(cases):
        parameter_set = parameters(kind, "layer", 110 + 10 * index)
        if bidirectional:
            parameter_set.update(parameters(kind, "backward", 115 + 10 * index))
        name = f"{kind.lower()}_{'bidirectional_' if bidirectional else ''}{part}"
        record(name, f"torch.nn.{modules[kind].__name__} over packed sequences", kind,
               {"units": units, "part": part, "bidirectional": bidirectional},
               {"x": (x, same), "lengths": (lengths, lambda a: np.asarray(a).astype(np.int64))}, parameter_set,
               lambda v, kind=kind, bidirectional=bidirectional, part=part: run(kind, v, bidirectional, part), 200 + index)


def utility_cases():
    a, b = uniform(301, (3, 4)), uniform(302, (3, 5))
    record("bilinear", "torch.nn.functional.bilinear", "bilinear", {"units": 2},
           {"x": (a, same), "y": (b, same)}, {"layer.kernel": (uniform(303, (2, 4, 5)), same), "layer.bias": (uniform(304, (2,)), same)},
           lambda v: (F.bilinear(v["x"], v["y"], v["layer.kernel"], v["layer.bias"]), lambda y: y), 305)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    conv_cases()
    pool_cases()
    norm_cases()
    resize_cases()
    attention_cases()
    activation_cases()
    recurrent_cases()
    utility_cases()
    print(f"wrote {len(os.listdir(OUT))} layer cases to {os.path.relpath(OUT, ROOT)} (torch {torch.__version__}, jax {jax.__version__})")
