#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "math.glsl"
// Elementwise functions of one operand. `op` is the index of the case in UnaryOperation.

layout(constant_id = 0) const uint op = 0;
layout(constant_id = 1) const uint kind = KIND_FLOAT;
layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; } p;

float applyFloat(float v) {
    switch (op) {
    case 0: return -v;                                  // negate
    case 1: return abs(v);                              // abs
    case 2: return isnan(v) ? v : sign(v);              // sign
    case 3: return exp(v);                              // exp
    case 4: return expm1Accurate(v);                    // expm1
    case 5: return log(v);                              // log
    case 6: return log1pAccurate(v);                    // log1p
    case 7: return sqrt(v);                             // sqrt
    case 8: return 1.0 / sqrt(v);                       // rsqrt
    case 9: return v * v;                               // square
    case 10: return 1.0 / v;                            // reciprocal
    case 11: return sinAccurate(v);                     // sin
    case 12: return cosAccurate(v);                     // cos
    case 13: return sinAccurate(v) / cosAccurate(v);    // tan
    case 14: return tanhStable(v);                      // tanh
    case 15: return sigmoidStable(v);                   // sigmoid
    case 16: return erfApprox(v);                       // erf
    case 17: return v < 0.0 ? 0.0 : v;                  // relu (NaN passes through)
    case 18: return floor(v);                           // floor
    case 19: return ceil(v);                            // ceil
    default: return roundEven(v);                       // round
    }
}

int applyInt(int v) {
    switch (op) {
    case 0: return -v;
    case 1: return v < 0 ? -v : v;
    default: return sign(v);
    }
}

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        if (kind == KIND_FLOAT) {
            y[i] = floatBitsToUint(applyFloat(uintBitsToFloat(x[i])));
        } else if (kind == KIND_INT) {
            y[i] = uint(applyInt(int(x[i])));
        } else {
            y[i] = x[i] == 0u ? 1u : 0u;                // logicalNot
        }
    }
}
