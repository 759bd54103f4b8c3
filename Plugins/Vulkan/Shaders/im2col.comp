#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "convolution.glsl"
// Gathers the input patch of every output position into the column matrix (see
// convolution.glsl); taps that fall on padding or between dilated inputs read zero.

layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Columns { float columns[]; };

void main() {
    // One invocation per (row, group, tap) copies the group's channels of that tap, so the
    // index arithmetic is shared by a run of contiguous channels.
    uint width = p.channels * p.taps;
    uint outputPositions = p.outputSize[0] * p.outputSize[1] * p.outputSize[2];
    uint inputPositions = p.inputSize[0] * p.inputSize[1] * p.inputSize[2];
    uint groups = p.channels / p.groupChannels;
    FOR_EACH_ELEMENT(unit, p.count) {
        uint row = unit / (groups * p.taps);
        uint group = (unit / p.taps) % groups, tap = unit % p.taps;
        uint batch = row / outputPositions + p.firstImage;
        uvec3 position = unflatten(row % outputPositions, p.outputSize);
        uvec3 kernel = unflatten(tap, p.kernelSize);
        bool inside = true;
        uint inputIndex = 0u;
        for (uint d = 0u; d < 3u; ++d) {
            int t = int(position[d] * p.strides[d] + kernel[d] * p.kernelDilation[d]) - int(p.paddingLow[d]);
            if (t < 0 || uint(t) % p.inputDilation[d] != 0u || uint(t) / p.inputDilation[d] >= p.inputSize[d]) {
                inside = false;
                break;
            }
            inputIndex = inputIndex * p.inputSize[d] + uint(t) / p.inputDilation[d];
        }
        uint target = row * width + (group * p.taps + tap) * p.groupChannels;
        uint source = (batch * inputPositions + inputIndex) * p.channels + group * p.groupChannels;
        for (uint c = 0u; c < p.groupChannels; ++c) columns[target + c] = inside ? x[source + c] : 0.0;
    }
}
