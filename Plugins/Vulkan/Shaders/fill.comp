#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Sets every element to one 32-bit pattern.

layout(set = 0, binding = 0) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; uint value; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) { y[i] = p.value; }
}
