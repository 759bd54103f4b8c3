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
