#version 450
#extension GL_GOOGLE_include_directive : require
// Batched C = activation(A · B + bias) with every operand addressed through strides, so
// transposes, broadcast batches, convolution groups and im2col views need no copies. Each
// workgroup computes a 64×64 tile of C from 64×16 and 16×64 tiles staged in shared memory;
// each of its 64 invocations accumulates an 8×8 block in registers. The bias (one value per
// column, `biasBatchStride` apart between batches) and the activation are the fused epilogue
// of dense layers and convolutions; plain matmuls bind any buffer there and leave them off.

#define TILE 64u
#define DEPTH 16u
#define BLOCK 8u
#define SIDE 8u
layout(local_size_x = 8, local_size_y = 8) in;
#include "math.glsl"

layout(constant_id = 0) const bool hasBias = false;
layout(constant_id = 1) const uint activation = 0;     // FusedActivation: identity, relu, sigmoid, tanh
layout(constant_id = 2) const bool accumulate = false;  // C += A · B (partial sums over chunks)

layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) readonly buffer B { float b[]; };
layout(set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(set = 0, binding = 3) buffer C { float c[]; };
layout(push_constant) uniform Parameters {
    uint m; uint n; uint k;
    uint offsetA; uint batchStrideA; uint rowStrideA; uint columnStrideA;
    uint offsetB; uint batchStrideB; uint rowStrideB; uint columnStrideB;
    uint offsetC; uint batchStrideC; uint rowStrideC;
    uint biasBatchStride;
} p;

float epilogue(float value, uint batch, uint column) {
    if (hasBias) value += bias[batch * p.biasBatchStride + column];
    switch (activation) {
    case 1: return value < 0.0 ? 0.0 : value;
    case 2: return sigmoidStable(value);
    case 3: return tanhStable(value);
    default: return value;
    }
}

shared float tileA[DEPTH][TILE];
shared float tileB[DEPTH][TILE];

void main() {
    uint batch = gl_WorkGroupID.z;
    uint row0 = gl_WorkGroupID.y * TILE, column0 = gl_WorkGroupID.x * TILE;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint lane = ty * SIDE + tx;
    uint baseA = p.offsetA + batch * p.batchStrideA;
    uint baseB = p.offsetB + batch * p.batchStrideB;

    float accumulator[BLOCK][BLOCK];
    for (uint i = 0u; i < BLOCK; ++i)
        for (uint j = 0u; j < BLOCK; ++j) accumulator[i][j] = 0.0;

    for (uint k0 = 0u; k0 < p.k; k0 += DEPTH) {
        // Each invocation stages 4 elements of each tile.
        for (uint e = lane; e < TILE * DEPTH; e += SIDE * SIDE) {
            uint r = e / DEPTH, kk = e % DEPTH;            // A tile: row r, depth kk
            uint row = row0 + r, depth = k0 + kk;
            tileA[kk][r] = row < p.m && depth < p.k ? a[baseA + row * p.rowStrideA + depth * p.columnStrideA] : 0.0;
            uint kb = e / TILE, col = e % TILE;            // B tile: depth kb, column col
            uint depthB = k0 + kb, column = column0 + col;
            tileB[kb][col] = depthB < p.k && column < p.n ? b[baseB + depthB * p.rowStrideB + column * p.columnStrideB] : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < DEPTH; ++kk) {
            float left[BLOCK], right[BLOCK];
            for (uint i = 0u; i < BLOCK; ++i) left[i] = tileA[kk][ty + i * SIDE];
            for (uint j = 0u; j < BLOCK; ++j) right[j] = tileB[kk][tx + j * SIDE];
            for (uint i = 0u; i < BLOCK; ++i)
                for (uint j = 0u; j < BLOCK; ++j) accumulator[i][j] = fma(left[i], right[j], accumulator[i][j]);
        }
        barrier();
    }
    uint baseC = p.offsetC + batch * p.batchStrideC;
    for (uint i = 0u; i < BLOCK; ++i) {
        uint row = row0 + ty + i * SIDE;
        if (row >= p.m) continue;
        for (uint j = 0u; j < BLOCK; ++j) {
            uint column = column0 + tx + j * SIDE;
            if (column >= p.n) continue;
            uint index = baseC + row * p.rowStrideC + column;
            c[index] = accumulate ? c[index] + accumulator[i][j] : epilogue(accumulator[i][j], batch, column);
        }
    }
}
