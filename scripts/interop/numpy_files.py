"""NumPy's own reader and writer for the interop tests (Tests/AxonTests/NumPyFileTests.swift).

  numpy_files.py write DIR   writes .npy and .npz files of known contents into DIR
  numpy_files.py dump FILE   prints an .npy or .npz file's arrays as JSON: name -> dtype, shape, values
"""
import json
import os
import sys

import numpy as np


def write(directory):
    arrays = {
        "f4": np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.25) - np.float32(1),
        "f8_fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3) / 3.0),
        "i8": np.array([-5, 0, 7, 2**31 - 1], dtype=np.int64),
        "u1": np.array([0, 200, 255], dtype=np.uint8),
        "big_endian_i4": np.array([1, -2, 3], dtype=">i4"),
        "b1": np.array([[True, False], [False, True]]),
        "f2": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
        "scalar": np.array(3.5, dtype=np.float32),
        "too_wide": np.array([2**40], dtype=np.int64),
    }
    for name, array in arrays.items():
        np.save(os.path.join(directory, name + ".npy"), array)
    np.savez(os.path.join(directory, "stored.npz"), a=arrays["f4"], b=np.array([4, 5], dtype=np.int32))
    np.savez_compressed(os.path.join(directory, "compressed.npz"), a=arrays["f4"], b=np.array([4, 5], dtype=np.int32))


def describe(array):
    return {"dtype": array.dtype.str, "shape": list(array.shape), "values": array.astype(np.float64).ravel(order="C").tolist()}


def dump(path):
    if path.endswith(".npz"):
        with np.load(path) as archive:
            result = {name: describe(archive[name]) for name in archive.files}
    else:
        result = {"": describe(np.load(path))}
    print(json.dumps(result))


if __name__ == "__main__":
    {"write": write, "dump": dump}[sys.argv[1]](sys.argv[2])
