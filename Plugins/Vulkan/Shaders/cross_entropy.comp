#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Softmax cross-entropy of each contiguous row of logits against a row of label
// probabilities: −Σ labels · (x − max − log Σ exp(x − max)).

layout(constant_id = 0) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Logits { float x[]; };
layout(set = 0, binding = 1) readonly buffer Labels { float labels[]; };
layout(set = 0, binding = 2) writeonly buffer Loss { float loss[]; };
layout(push_constant) uniform Parameters { uint rows; uint rowLength; } p;
#include "rows.glsl"

void crossEntropyRow(uint row, uint lane, uint lanes) {
    uint base = row * p.rowLength;
    float maximum = uintBitsToFloat(0xff800000u);
    for (uint j = lane; j < p.rowLength; j += lanes) maximum = combineMax(maximum, x[base + j]);
    maximum = rowReduce(maximum, true);
    float total = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) total += exp(x[base + j] - maximum);
    float logTotal = log(rowReduce(total, false));
    float weighted = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) weighted += labels[base + j] * (x[base + j] - maximum - logTotal);
    weighted = rowReduce(weighted, false);
    if (lane == 0u) loss[row] = -weighted;
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) crossEntropyRow(row, 0u, 1u);
    } else if (flatWorkgroup() < p.rows) {
        crossEntropyRow(flatWorkgroup(), gl_LocalInvocationID.x, GROUP_SIZE);
    }
}
