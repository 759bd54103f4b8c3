"""ONNX's checker and ONNX Runtime for the interop tests (Tests/AxonTests/ONNXExportTests.swift).

  onnx_models.py run MODEL INPUTS OUTPUTS   checks MODEL with onnx.checker (with shape inference),
                                            runs it in onnxruntime on the arrays in INPUTS (.npz,
                                            by input name) and saves every output to OUTPUTS (.npz)
  onnx_models.py describe MODEL             prints the opset, inputs (name, shape) and outputs as JSON
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime


def run(model_path, inputs_path, outputs_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    with np.load(inputs_path) as archive:
        feeds = {name: archive[name] for name in archive.files}
    results = session.run(None, feeds)
    np.savez(outputs_path, **{output.name: value for output, value in zip(session.get_outputs(), results)})


def describe(model_path):
    model = onnx.load(model_path)
    def dims(value):
        return [d.dim_param if d.dim_param else d.dim_value for d in value.type.tensor_type.shape.dim]
    print(json.dumps({
        "opset": [entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")][0],
        "inputs": [[value.name, dims(value)] for value in model.graph.input],
        "outputs": [[value.name, dims(value)] for value in model.graph.output],
    }))


if __name__ == "__main__":
    {"run": run, "describe": describe}[sys.argv[1]](*sys.argv[2:])
