#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Each element equals its index along one axis, viewed as [outer, length, inner].

layout(constant_id = 0) const uint kind = KIND_FLOAT;
layout(set = 0, binding = 0) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; uint inner; uint axisLength; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint value = (i / p.inner) % p.axisLength;
        y[i] = kind == KIND_FLOAT ? floatBitsToUint(float(value)) : value;
    }
}
