#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// One SGD step with heavy-ball or Nesterov momentum in one pass, in optax's form:
// v ← g + μv, p ← p − lr · (nesterov ? g + μv : v).

layout(set = 0, binding = 0) readonly buffer Parameter { float parameter[]; };
layout(set = 0, binding = 1) readonly buffer Gradient { float gradient[]; };
layout(set = 0, binding = 2) readonly buffer Velocity { float velocity[]; };
layout(set = 0, binding = 3) writeonly buffer NewParameter { float newParameter[]; };
layout(set = 0, binding = 4) writeonly buffer NewVelocity { float newVelocity[]; };
layout(push_constant) uniform Parameters { uint count; float momentum; float learningRate; uint nesterov; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        float g = gradient[i];
        float v = g + velocity[i] * p.momentum;
        float direction = p.nesterov != 0u ? g + v * p.momentum : v;
        newParameter[i] = parameter[i] - direction * p.learningRate;
        newVelocity[i] = v;
    }
}
