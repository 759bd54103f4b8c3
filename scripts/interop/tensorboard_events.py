"""TensorBoard's own event-file reader for the interop tests (Tests/AxonTests/RunLoggerTests.swift).

  tensorboard_events.py dump DIR   reads every event file in DIR, checking each record's framing
                                   and masked CRC-32C with TensorBoard's record reader, and prints
                                   the scalars, histograms and text it holds as JSON
"""
import glob
import json
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow


def records(path):
    """Every record of the file, read by TensorBoard's reader, which raises on a bad checksum."""
    reader = pywrap_tensorflow.PyRecordReader_New(path, 0, None, None)
    result = []
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return result
        result.append(event_pb2.Event.FromString(reader.record()))


def dump(directory):
    files = sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*")))
    events = [event for path in files for event in records(path)]
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    result = {
        "files": len(files),
        "records": len(events),
        "file_version": [event.file_version for event in events if event.file_version],
        "scalars": {tag: [[e.step, e.value] for e in accumulator.Scalars(tag)] for tag in tags["scalars"]},
        "histograms": {
            tag: [[e.step, e.histogram_value.min, e.histogram_value.max, e.histogram_value.num, e.histogram_value.sum,
                   sum(e.histogram_value.bucket)] for e in accumulator.Histograms(tag)]
            for tag in tags["histograms"]
        },
        "text": {tag: [e.tensor_proto.string_val[0].decode() for e in accumulator.Tensors(tag)] for tag in tags["tensors"]},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    {"dump": dump}[sys.argv[1]](sys.argv[2])
