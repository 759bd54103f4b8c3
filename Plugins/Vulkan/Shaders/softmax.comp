#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Softmax (`logarithm` false) or log-softmax along each contiguous row, with the row's
// maximum subtracted first so exp never overflows.

layout(constant_id = 0) const bool logarithm = false;
layout(constant_id = 1) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Parameters { uint rows; uint rowLength; } p;
#include "rows.glsl"

void softmaxRow(uint row, uint lane, uint lanes) {
    uint base = row * p.rowLength;
    float maximum = uintBitsToFloat(0xff800000u);
    for (uint j = lane; j < p.rowLength; j += lanes) maximum = combineMax(maximum, x[base + j]);
    maximum = rowReduce(maximum, true);
    float total = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) total += exp(x[base + j] - maximum);
    total = rowReduce(total, false);
    float logTotal = log(total);
    for (uint j = lane; j < p.rowLength; j += lanes) {
        float shifted = x[base + j] - maximum;
        y[base + j] = logarithm ? shifted - logTotal : exp(shifted) / total;
    }
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) softmaxRow(row, 0u, 1u);
    } else if (flatWorkgroup() < p.rows) {
        softmaxRow(flatWorkgroup(), gl_LocalInvocationID.x, GROUP_SIZE);
    }
}
