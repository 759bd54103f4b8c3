#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The mean and 1/√(variance + ε) of each row of a [rows, length] view (the normalised
// elements of one channel or one sample): two passes over the row, as the composition does,
// so the variance never suffers cancellation. `scalar` is ε.

layout(constant_id = 0) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Mean { float mean[]; };
layout(set = 0, binding = 2) writeonly buffer InverseStd { float inverseStd[]; };
#include "rowview.glsl"
#include "rows.glsl"

void momentsRow(uint row, uint lane, uint lanes) {
    uint start = rowStart(row);
    float total = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) total += x[start + elementOffset(j)];
    float m = rowReduce(total, false) / float(p.rowLength);
    float squares = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) {
        float d = x[start + elementOffset(j)] - m;
        squares += d * d;
    }
    float variance = rowReduce(squares, false) / float(p.rowLength);
    if (lane == 0u) {
        mean[row] = m;
        inverseStd[row] = 1.0 / sqrt(variance + p.scalar);
    }
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) momentsRow(row, 0u, 1u);
    } else if (flatWorkgroup() < p.rows) {
        momentsRow(flatWorkgroup(), gl_LocalInvocationID.x, GROUP_SIZE);
    }
}
