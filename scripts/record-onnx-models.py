#!/usr/bin/env python3
"""Exports small PyTorch models with torch.onnx.export into Tests/AxonTests/Fixtures/onnx/, each
with a batch of inputs and PyTorch's outputs for them (NAME.onnx, NAME-io.npz with arrays `input`
and `output`), for the ONNX import tests (Tests/AxonTests/ONNXImportTests.swift); and two models
the importer must refuse, written with onnx.helper: unsupported.onnx (operators Erf and Hardmax)
opset9.onnx (an opset older than the importer reads) and lying.onnx (an initializer whose shape
claims far more data than it holds).

Run with a Python that has torch and onnx (the conformance recorder's environment):
  .build/cases-venv/bin/python scripts/record-onnx-models.py
"""
import pathlib

import numpy as np
import torch

torch.manual_seed(2026)
fixtures = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "AxonTests" / "Fixtures" / "onnx"
fixtures.mkdir(parents=True, exist_ok=True)


class LSTMClassifier(torch.nn.Module):
    """An LSTM over [batch, time, features] whose last output feeds a linear layer."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(5, 8, batch_first=True)
        self.head = torch.nn.Linear(8, 3)

    def forward(self, x):
        sequence, _ = self.lstm(x)
        return self.head(sequence[:, -1, :])


def randomize_batch_norm(model):
    """Running statistics that are not the identity, so that they matter."""
    for module in model.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)


models = {
    "mlp": (torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 4), torch.nn.Softmax(dim=1)), (3, 6)),
    "cnn": (torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.BatchNorm2d(4), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, stride=2, groups=2), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(6, 3)), (3, 2, 12, 12)),
    "lstm": (LSTMClassifier(), (3, 7, 5)),
}

for name, (model, shape) in models.items():
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(
        model, (x,), str(fixtures / f"{name}.onnx"), dynamo=False, opset_version=17, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    np.savez(fixtures / f"{name}-io.npz", input=x.numpy(), output=y.numpy())
    print(name, "written")

from onnx import TensorProto, helper, save


def chain(ops, opset):
    """x [batch, 4] through `ops` one after another to y."""
    names = ["x"] + [f"v{index}" for index in range(len(ops) - 1)] + ["y"]
    nodes = [helper.make_node(op, [names[index]], [names[index + 1]]) for index, op in enumerate(ops)]
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


save(chain(["Relu", "Erf", "Hardmax", "Erf"], 17), str(fixtures / "unsupported.onnx"))
save(chain(["Relu"], 9), str(fixtures / "opset9.onnx"))

# An initializer whose shape claims 4·10⁹ elements but whose data is 4 bytes: refused before allocating.
lying = chain(["Identity"], 17)
lying.graph.node[0].input.append("w")
weight = lying.graph.initializer.add()
weight.name, weight.data_type, weight.raw_data = "w", TensorProto.FLOAT, b"\0\0\0\0"
weight.dims.extend([4, 1_000_000_000])
save(lying, str(fixtures / "lying.onnx"))
print("refusal models written")
