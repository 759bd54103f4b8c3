#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Window reductions (pooling): `op` 0 max, 1 sum, 2 average over the taps inside the input.

layout(constant_id = 0) const uint op = 0;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { float y[]; };
#include "window.glsl"

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint o[MAX_RANK];
        uint rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            o[d] = rest % p.outputSize[d];
            rest /= p.outputSize[d];
        }
        if (op == 0u) {
            uint index = firstMaximum(o);
            y[i] = index == 0xffffffffu ? uintBitsToFloat(0xff800000u) : x[index];
            continue;
        }
        float total = 0.0;
        uint inside = 0u, volume = windowVolume();
        for (uint tap = 0u; tap < volume; ++tap) {
            uint index = tapIndex(o, tap);
            if (index == 0xffffffffu) continue;
            total += x[index];
            inside += 1u;
        }
        y[i] = op == 1u ? total : total / float(max(inside, 1u));
    }
}
