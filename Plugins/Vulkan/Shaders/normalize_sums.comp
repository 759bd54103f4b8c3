#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// For each row of a [rows, length] view: Σ dy and Σ dy · x̂ with x̂ = (x − mean) · inverseStd,
// the offset and scale gradients of a normalisation whose scale is constant along each row.

layout(constant_id = 0) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) readonly buffer GradOutput { float dy[]; };
layout(set = 0, binding = 2) readonly buffer Mean { float mean[]; };
layout(set = 0, binding = 3) readonly buffer InverseStd { float inverseStd[]; };
layout(set = 0, binding = 4) writeonly buffer SumGrad { float sumGrad[]; };
layout(set = 0, binding = 5) writeonly buffer SumGradNormalized { float sumGradNormalized[]; };
#include "rowview.glsl"
#include "rows.glsl"

void sumsRow(uint row, uint lane, uint lanes) {
    uint start = rowStart(row);
    float m = mean[row], s = inverseStd[row];
    float gradTotal = 0.0, weightedTotal = 0.0;
    for (uint j = lane; j < p.rowLength; j += lanes) {
        uint index = start + elementOffset(j);
        gradTotal += dy[index];
        weightedTotal += dy[index] * (x[index] - m) * s;
    }
    gradTotal = rowReduce(gradTotal, false);
    weightedTotal = rowReduce(weightedTotal, false);
    if (lane == 0u) {
        sumGrad[row] = gradTotal;
        sumGradNormalized[row] = weightedTotal;
    }
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(row, p.rows) sumsRow(row, 0u, 1u);
    } else if (flatWorkgroup() < p.rows) {
        sumsRow(flatWorkgroup(), gl_LocalInvocationID.x, GROUP_SIZE);
    }
}
