#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The gradient of softmax cross-entropy for each contiguous row:
// gradLoss[row] · (softmax(x) · Σ labels − labels).

layout(constant_id = 0) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Logits { float x[]; };
layout(set = 0, binding = 1) readonly buffer Labels { float labels[]; };
layout(set = 0, binding = 2) readonly buffer GradLoss { float gradLoss[]; };
layout(set = 0, binding = 3) writeonly buffer GradLogits { float dx[]; };
layout(push_constant) uniform Parameters { uint rows; uint rowLength; } p;
#include "rows.glsl"

void gradientRow(uint row, uint lane, uint lanes) {
    uint base = row * p.rowLength;
    float maximum = uintBitsToFloat(0xff800000u);
    float mass = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) {
        maximum = combineMax(maximum, x[base + j]);
        mass += labels[base + j];
    }
    maximum = rowReduce(maximum, true);
    mass = rowReduce(mass, false);
    float total = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) total += exp(x[base + j] - maximum);
    total = rowReduce(total, false);
    float scale = gradLoss[row];
    for (uint j = lane; j < p.rowLength; j += lanes) {
        dx[base + j] = (exp(x[base + j] - maximum) / total * mass - labels[base + j]) * scale;
    }
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) gradientRow(row, 0u, 1u);
    } else if (flatWorkgroup() < p.rows) {
        gradientRow(flatWorkgroup(), gl_LocalInvocationID.x, GROUP_SIZE);
    }
}
