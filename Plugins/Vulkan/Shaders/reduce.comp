#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Reduces each row of a [rows, length] view (see rowview.glsl). Long rows get a workgroup
// each and a shared-memory tree reduction; short rows (`perInvocation`) get one invocation each.
// `op` is the index of the case in ReductionOperation (sum, mean, max, min, product).

layout(constant_id = 0) const uint op = 0;
layout(constant_id = 1) const uint kind = KIND_FLOAT;
layout(constant_id = 2) const bool perInvocation = false;
layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
#include "rowview.glsl"

shared uint partial[GROUP_SIZE];

uint identity() {
    if (op == 0u || op == 1u) return kind == KIND_FLOAT ? floatBitsToUint(0.0) : 0u;
    if (op == 4u) return kind == KIND_FLOAT ? floatBitsToUint(1.0) : 1u;
    if (kind == KIND_FLOAT) return floatBitsToUint(op == 2u ? uintBitsToFloat(0xff800000u) : uintBitsToFloat(0x7f800000u));
    if (kind == KIND_INT) return op == 2u ? 0x80000000u : 0x7fffffffu;
    return op == 2u ? 0u : 0xffffffffu;
}

uint combine(uint u, uint v) {
    if (kind == KIND_FLOAT) {
        float a = uintBitsToFloat(u), b = uintBitsToFloat(v);
        if (op == 0u || op == 1u) return floatBitsToUint(a + b);
        if (op == 4u) return floatBitsToUint(a * b);
        if (isnan(a) || isnan(b)) return 0x7fc00000u;   // max and min propagate NaN
        return floatBitsToUint(op == 2u ? max(a, b) : min(a, b));
    }
    if (op == 0u) return u + v;
    if (op == 4u) return u * v;
    if (kind == KIND_INT) return uint(op == 2u ? max(int(u), int(v)) : min(int(u), int(v)));
    return op == 2u ? max(u, v) : min(u, v);
}

uint finish(uint value) {
    return op == 1u ? floatBitsToUint(uintBitsToFloat(value) * p.scalar) : value;
}

void main() {
    if (perInvocation) {
        FOR_EACH_ELEMENT(unit, p.rows) {
            uint accumulator = identity();
            uint start = rowStart(unit / p.chunks), first = (unit % p.chunks) * p.chunkLength;
            uint last = min(first + p.chunkLength, p.rowLength);
            for (uint j = first; j < last; ++j) accumulator = combine(accumulator, x[start + elementOffset(j)]);
            y[unit] = finish(accumulator);
        }
        return;
    }
    uint unit = flatWorkgroup();
    uint lane = gl_LocalInvocationID.x;
    uint accumulator = identity();
    if (unit < p.rows) {
        uint start = rowStart(unit / p.chunks), first = (unit % p.chunks) * p.chunkLength;
        uint last = min(first + p.chunkLength, p.rowLength);
        for (uint j = first + lane; j < last; j += GROUP_SIZE) accumulator = combine(accumulator, x[start + elementOffset(j)]);
    }
    partial[lane] = accumulator;
    barrier();
    for (uint width = GROUP_SIZE / 2u; width > 0u; width /= 2u) {
        if (lane < width) partial[lane] = combine(partial[lane], partial[lane + width]);
        barrier();
    }
    if (lane == 0u && unit < p.rows) y[unit] = finish(partial[0]);
}
