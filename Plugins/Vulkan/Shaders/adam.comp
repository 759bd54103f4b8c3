#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// One Adam/AdamW step in one pass: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
// p ← p − lr · (m̂ / (√v̂ + ε) + λp), with the bias corrections passed as reciprocals.

layout(set = 0, binding = 0) readonly buffer Parameter { float parameter[]; };
layout(set = 0, binding = 1) readonly buffer Gradient { float gradient[]; };
layout(set = 0, binding = 2) readonly buffer FirstMoment { float firstMoment[]; };
layout(set = 0, binding = 3) readonly buffer SecondMoment { float secondMoment[]; };
layout(set = 0, binding = 4) writeonly buffer NewParameter { float newParameter[]; };
layout(set = 0, binding = 5) writeonly buffer NewFirstMoment { float newFirstMoment[]; };
layout(set = 0, binding = 6) writeonly buffer NewSecondMoment { float newSecondMoment[]; };
layout(push_constant) uniform Parameters {
    uint count; float beta1; float beta2; float epsilon; float learningRate; float weightDecay;
    float firstCorrection; float secondCorrection;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        float g = gradient[i], x = parameter[i];
        float m = firstMoment[i] * p.beta1 + g * (1.0 - p.beta1);
        float v = secondMoment[i] * p.beta2 + g * g * (1.0 - p.beta2);
        float direction = (m * p.firstCorrection) / (sqrt(v * p.secondCorrection) + p.epsilon) + x * p.weightDecay;
        newParameter[i] = x - direction * p.learningRate;
        newFirstMoment[i] = m;
        newSecondMoment[i] = v;
    }
}
