#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// The gradient of a window reduction with respect to its input, as a gather: each input
// element sums the output gradients of the windows that contain it (for max, only those whose
// first maximum it is, as `chosen` records: window.comp with `op` 3).

layout(constant_id = 0) const uint op = 0;
layout(set = 0, binding = 0) readonly buffer Chosen { uint chosen[]; };
layout(set = 0, binding = 1) readonly buffer GradOutput { float dy[]; };
layout(set = 0, binding = 2) writeonly buffer GradInput { float dx[]; };
#include "window.glsl"

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        // Per axis, the range of output positions whose window covers this element.
        uint first[MAX_RANK], span[MAX_RANK];
        uint rest = i, windows = 1u;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            int c = int(rest % p.inputSize[d]) + int(p.paddingLow[d]);
            rest /= p.inputSize[d];
            int low = max(0, (c - int(p.windowSize[d]) + int(p.strides[d])) / int(p.strides[d]));
            int high = min(int(p.outputSize[d]) - 1, c / int(p.strides[d]));
            first[d] = uint(low);
            span[d] = high >= low ? uint(high - low + 1) : 0u;
            windows *= span[d];
        }
        float total = 0.0;
        for (uint w = 0u; w < windows; ++w) {
            uint o[MAX_RANK];
            uint r = w, outputIndex = 0u;
            for (int d = int(p.rank) - 1; d >= 0; --d) {
                o[d] = first[d] + r % span[d];
                r /= span[d];
            }
            for (uint d = 0u; d < p.rank; ++d) outputIndex = outputIndex * p.outputSize[d] + o[d];
            if (op == 0u) {
                if (chosen[outputIndex] == i) total += dy[outputIndex];
                continue;
            }
            if (op == 1u) {
                total += dy[outputIndex];
                continue;
            }
            uint inside = 0u, volume = windowVolume();
            for (uint tap = 0u; tap < volume; ++tap) inside += tapIndex(o, tap) == 0xffffffffu ? 0u : 1u;
            total += dy[outputIndex] / float(max(inside, 1u));
        }
        dx[i] = total;
    }
}
