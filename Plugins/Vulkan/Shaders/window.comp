#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Window reductions (pooling): `op` 0 max, 1 sum, 2 average over the taps inside the input;
// `op` 3 writes the flat input index of each window's first maximum instead (the max gradient's
// routing, see window_backward.comp).

layout(constant_id = 0) const uint op = 0;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
#define WINDOW_READS_INPUT
#include "window.glsl"

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint o[MAX_RANK];
        uint rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            o[d] = rest % p.outputSize[d];
            rest /= p.outputSize[d];
        }
        if (op == 0u || op == 3u) {
            uint index = firstMaximum(o);
            if (op == 3u) y[i] = index;
            else y[i] = index == 0xffffffffu ? 0xff800000u : floatBitsToUint(x[index]);
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
        y[i] = floatBitsToUint(op == 1u ? total : total / float(max(inside, 1u)));
    }
}
