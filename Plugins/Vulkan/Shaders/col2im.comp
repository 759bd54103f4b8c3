#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "convolution.glsl"
// The adjoint of im2col: each input element sums the column-matrix entries that read it.
// Written as a gather, so it needs no atomics and sums in a fixed order. One invocation per
// input position, group and run of up to CHUNK channels shares the index arithmetic of the
// kernel taps across the run.

layout(set = 0, binding = 0) readonly buffer Columns { float columns[]; };
layout(set = 0, binding = 1) writeonly buffer Output { float dx[]; };

#define CHUNK 8u

void main() {
    uint width = p.channels * p.taps;
    uint outputPositions = p.outputSize[0] * p.outputSize[1] * p.outputSize[2];
    uint inputPositions = p.inputSize[0] * p.inputSize[1] * p.inputSize[2];
    uint groups = p.channels / p.groupChannels;
    uint chunks = (p.groupChannels + CHUNK - 1u) / CHUNK;
    FOR_EACH_ELEMENT(unit, p.count) {
        uint chunk = unit % chunks;
        uint group = (unit / chunks) % groups;
        uint position = unit / (chunks * groups);
        uint batch = position / inputPositions;
        uvec3 coordinate = unflatten(position % inputPositions, p.inputSize);
        uint first = chunk * CHUNK, run = min(CHUNK, p.groupChannels - first);
        float total[CHUNK];
        for (uint c = 0u; c < CHUNK; ++c) total[c] = 0.0;
        for (uint tap = 0u; tap < p.taps; ++tap) {
            uvec3 kernel = unflatten(tap, p.kernelSize);
            bool hit = true;
            uint outputIndex = 0u;
            for (uint d = 0u; d < 3u; ++d) {
                int t = int(coordinate[d] * p.inputDilation[d] + p.paddingLow[d]) - int(kernel[d] * p.kernelDilation[d]);
                if (t < 0 || uint(t) % p.strides[d] != 0u || uint(t) / p.strides[d] >= p.outputSize[d]) {
                    hit = false;
                    break;
                }
                outputIndex = outputIndex * p.outputSize[d] + uint(t) / p.strides[d];
            }
            if (!hit) continue;
            uint source = (batch * outputPositions + outputIndex) * width + (group * p.taps + tap) * p.groupChannels + first;
            for (uint c = 0u; c < run; ++c) total[c] += columns[source + c];
        }
        uint target = (position + p.firstImage * inputPositions) * p.channels + group * p.groupChannels + first;
        for (uint c = 0u; c < run; ++c) dx[target + c] = total[c];
    }
}
