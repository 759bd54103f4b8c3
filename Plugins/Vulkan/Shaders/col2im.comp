#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "convolution.glsl"
// The adjoint of im2col: each input element sums the column-matrix entries that read it.
// Written as a gather (one invocation per input element), so it needs no atomics and sums in
// a fixed order.

layout(set = 0, binding = 0) readonly buffer Columns { float columns[]; };
layout(set = 0, binding = 1) writeonly buffer Output { float dx[]; };

void main() {
    uint width = p.channels * p.taps;
    uint outputPositions = p.outputSize[0] * p.outputSize[1] * p.outputSize[2];
    uint inputPositions = p.inputSize[0] * p.inputSize[1] * p.inputSize[2];
    FOR_EACH_ELEMENT(i, p.count) {
        uint channel = i % p.channels;
        uint position = i / p.channels;
        uint batch = position / inputPositions;
        uvec3 coordinate = unflatten(position % inputPositions, p.inputSize);
        uint group = channel / p.groupChannels, within = channel % p.groupChannels;
        float total = 0.0;
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
            if (hit) {
                uint row = batch * outputPositions + outputIndex;
                total += columns[row * width + group * p.taps * p.groupChannels + tap * p.groupChannels + within];
            }
        }
        dx[i] = total;
    }
}
