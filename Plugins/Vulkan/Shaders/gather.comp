#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Takes slices along one axis at int32 indices (checked on the host): the input is viewed as
// [outer, length, inner] and the output as [outer, indexCount, inner].

layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) readonly buffer Indices { int indices[]; };
layout(set = 0, binding = 2) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; uint inner; uint indexCount; uint axisLength; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint inner = i % p.inner;
        uint j = (i / p.inner) % p.indexCount;
        uint outer = i / (p.inner * p.indexCount);
        y[i] = x[(outer * p.axisLength + uint(indices[j])) * p.inner + inner];
    }
}
