#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// y = (x − mean) · inverseStd · scale + offset, with the statistics (sharing one layout), the
// scale and the offset broadcast to x through strides.

layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) readonly buffer Mean { float mean[]; };
layout(set = 0, binding = 2) readonly buffer InverseStd { float inverseStd[]; };
layout(set = 0, binding = 3) readonly buffer Scale { float scale[]; };
layout(set = 0, binding = 4) readonly buffer Offset { float offset[]; };
layout(set = 0, binding = 5) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK];
    uint stridesStatistics[MAX_RANK]; uint stridesScale[MAX_RANK]; uint stridesOffset[MAX_RANK];
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint s = 0u, c = 0u, o = 0u, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            uint k = rest % p.dims[d];
            rest /= p.dims[d];
            s += k * p.stridesStatistics[d];
            c += k * p.stridesScale[d];
            o += k * p.stridesOffset[d];
        }
        y[i] = (x[i] - mean[s]) * inverseStd[s] * scale[c] + offset[o];
    }
}
