#!/usr/bin/env python3
"""Writes the binary fixtures of Tests/AxonTests/Fixtures (standard library only).

idx-bomb.gz: a gzip-compressed IDX file whose header declares 10 unsigned bytes ([10]) but
whose data inflates to 16 MiB: a reader must refuse it without inflating it whole.
"""
import gzip
import pathlib

fixtures = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "AxonTests" / "Fixtures"
fixtures.mkdir(parents=True, exist_ok=True)
header = bytes([0, 0, 0x08, 1, 0, 0, 0, 10])
(fixtures / "idx-bomb.gz").write_bytes(gzip.compress(header + bytes(16 << 20), compresslevel=9, mtime=0))

# Seed inputs for the fuzz targets of scripts/fuzz.sh (Fuzz/Seeds/TARGET/): small valid files.
import json
import struct
import zlib

seeds = fixtures.parent.parent.parent / "Fuzz" / "Seeds"
for name in ("idx", "checkpoint", "npy"):
    (seeds / name).mkdir(parents=True, exist_ok=True)
(seeds / "idx" / "bytes-2x3").write_bytes(bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255]))
(seeds / "idx" / "floats-2").write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 2]) + struct.pack(">ff", 1.5, -2))
(seeds / "idx" / "labels-4.gz").write_bytes(gzip.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 4, 7, 2, 1, 0]), mtime=0))


def checkpoint(tensors, **position):
    """A format-2 checkpoint (see Sources/AxonCore/Persistence/Checkpoint.swift) of float32 parameters."""
    payload, entries = b"", {}
    for name, (shape, values) in tensors.items():
        data = struct.pack("<%df" % len(values), *values)
        entries[name] = {"dtype": "float32", "shape": shape, "offset": len(payload), "length": len(data), "crc32": zlib.crc32(data)}
        payload += data
    header = {"epoch": 1, "iteration": 0, "step": 3, "parameters": entries, "modelState": {}, "optimizerTensors": {},
              "optimizerCounts": {"0/count": 3}, "hyperparameters": {"learning_rate_scale": 1}, "metrics": {},
              "epochTotals": {}, "history": [{"loss": 0.5, "accuracy": "nan"}], "handlerMetadata": {}, "metadata": {"model": "tiny"}}
    header.update(position)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = b"AXONCKPT" + struct.pack("<II", 2, len(text)) + text + payload
    return body + struct.pack("<I", zlib.crc32(body))


(seeds / "checkpoint" / "format2").write_bytes(checkpoint({"dense_0.kernel": ([2, 2], [1, -2, 0.5, 3]), "dense_0.bias": ([2], [0, 1])}))
(seeds / "checkpoint" / "format2-mid-epoch").write_bytes(checkpoint({"w": ([], [2.5])}, iteration=2, epochTotals={"loss": [1.5, 3]}))
(seeds / "checkpoint" / "format1.json").write_text(json.dumps({
    "format": "axon-checkpoint-1", "epoch": 0, "iteration": 4, "step": 5,
    "parameters": {"w": {"shape": [2], "dtype": "float32", "data": "AADAPwAAAMA="}}, "modelState": {}, "optimizerTensors": {},
    "optimizerCounts": {}, "hyperparameters": {}, "metrics": {"loss": 0.5}, "history": [{"loss": 0.5}], "handlerMetadata": {}}))
(seeds / "npy" / "int32-2x2.npy").write_bytes(
    b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + b"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }".ljust(117) + b"\n"
    + struct.pack("<4i", 1, -2, 3, 2147483647))
