#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// dx = inverseStd · scale · (dy − Σdy / n − x̂ · Σ(dy · x̂) / n), every per-row value (statistics,
// scale, sums) read through one broadcast layout; `inverseCount` is 1/n.

layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) readonly buffer GradOutput { float dy[]; };
layout(set = 0, binding = 2) readonly buffer Mean { float mean[]; };
layout(set = 0, binding = 3) readonly buffer InverseStd { float inverseStd[]; };
layout(set = 0, binding = 4) readonly buffer Scale { float scale[]; };
layout(set = 0, binding = 5) readonly buffer SumGrad { float sumGrad[]; };
layout(set = 0, binding = 6) readonly buffer SumGradNormalized { float sumGradNormalized[]; };
layout(set = 0, binding = 7) writeonly buffer GradInput { float dx[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK]; uint stridesInput[MAX_RANK]; uint stridesRow[MAX_RANK];
    float inverseCount;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint r = 0u, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            r += (rest % p.dims[d]) * p.stridesRow[d];
            rest /= p.dims[d];
        }
        float s = inverseStd[r];
        float normalized = (x[i] - mean[r]) * s;
        dx[i] = s * scale[r] * (dy[i] - sumGrad[r] * p.inverseCount - normalized * sumGradNormalized[r] * p.inverseCount);
    }
}
