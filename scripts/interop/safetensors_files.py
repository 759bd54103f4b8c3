"""The safetensors package's own reader and writer for the interop tests
(Tests/AxonTests/SafetensorsTests.swift).

  safetensors_files.py write FILE   writes a file of known contents with safetensors.numpy.save_file
  safetensors_files.py dump FILE    prints a file's tensors and metadata as JSON, read by safetensors.safe_open
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def write(path):
    tensors = {
        "weight": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5),
        "ids": np.array([1, -2, 3], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "half": np.array([1.5, -0.25], dtype=np.float16),
        "pixels": np.array([0, 255], dtype=np.uint8),
        "double": np.array([0.1], dtype=np.float64),
    }
    save_file(tensors, path, metadata={"format": "np", "written_by": "safetensors"})


def dump(path):
    result = {"tensors": {}, "metadata": {}}
    with safe_open(path, framework="np") as handle:
        result["metadata"] = handle.metadata() or {}
        for name in handle.keys():
            array = handle.get_tensor(name)
            result["tensors"][name] = {"dtype": array.dtype.str, "shape": list(array.shape), "values": array.astype(np.float64).ravel().tolist()}
    print(json.dumps(result))


if __name__ == "__main__":
    {"write": write, "dump": dump}[sys.argv[1]](sys.argv[2])
