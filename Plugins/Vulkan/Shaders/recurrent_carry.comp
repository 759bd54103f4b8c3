#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The previous step's state gradients: dh = (dU·Uᵀ) times the recurrent mask plus the parts
// that bypass the recurrent product; dc as the step left it.

layout(set = 0, binding = 0) readonly buffer Product { float product[]; };   // [batch, units]: dU·Uᵀ
layout(set = 0, binding = 1) readonly buffer Partial { float partial[]; };   // [2, batch, units]
layout(set = 0, binding = 2) readonly buffer Mask { float mask[]; };         // [batch, units], if hasMask
layout(set = 0, binding = 3) writeonly buffer Carry { float carry[]; };      // [2, batch, units]
layout(push_constant) uniform Parameters { uint count; uint hasMask; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        carry[i] = product[i] * (p.hasMask != 0u ? mask[i] : 1.0) + partial[i];
        carry[p.count + i] = partial[p.count + i];
    }
}
