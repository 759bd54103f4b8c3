#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The int32 index of the maximum (`op` 0) or minimum (`op` 1) of each row of a float
// [rows, length] view (see rowview.glsl). NaN wins; ties go to the first index, as in NumPy.

layout(constant_id = 0) const uint op = 0;
layout(constant_id = 1) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
#include "rowview.glsl"

shared float partialValue[GROUP_SIZE];
shared uint partialIndex[GROUP_SIZE];

// Whether candidate (v, i) beats the current best (b, j).
bool beats(float v, uint i, float b, uint j) {
    if (i == 0xffffffffu) return false;
    if (j == 0xffffffffu) return true;
    if (isnan(v) || isnan(b)) return isnan(v) && (!isnan(b) || i < j);
    if (v == b) return i < j;
    return op == 0u ? v > b : v < b;
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) {
            float best = 0.0;
            uint bestIndex = 0xffffffffu;
            uint start = rowStart(row);
            for (uint j = 0u; j < p.rowLength; ++j) {
                float v = x[start + elementOffset(j)];
                if (beats(v, j, best, bestIndex)) { best = v; bestIndex = j; }
            }
            y[row] = bestIndex;
        }
        return;
    }
    uint row = flatWorkgroup();
    uint lane = gl_LocalInvocationID.x;
    float best = 0.0;
    uint bestIndex = 0xffffffffu;
    if (row < p.rows) {
        uint start = rowStart(row);
        for (uint j = lane; j < p.rowLength; j += GROUP_SIZE) {
            float v = x[start + elementOffset(j)];
            if (beats(v, j, best, bestIndex)) { best = v; bestIndex = j; }
        }
    }
    partialValue[lane] = best;
    partialIndex[lane] = bestIndex;
    barrier();
    for (uint width = GROUP_SIZE / 2u; width > 0u; width /= 2u) {
        if (lane < width && beats(partialValue[lane + width], partialIndex[lane + width], partialValue[lane], partialIndex[lane])) {
            partialValue[lane] = partialValue[lane + width];
            partialIndex[lane] = partialIndex[lane + width];
        }
        barrier();
    }
    if (lane == 0u && row < p.rows) y[row] = partialIndex[0];
}
