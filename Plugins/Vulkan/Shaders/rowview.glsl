// A [rows, rowLength] view of a buffer through strides, so reductions over any set of axes
// read the input in place: row r starts at rowStart(r) and its element j lies elementOffset(j)
// further, each decomposed over up to VIEW_RANK merged axes (last axis fastest). `scalar` is
// the shader's one float parameter (the mean's 1/n, or normalisation's epsilon). A reduction
// may split each row into `chunks` runs of `chunkLength` elements, one workgroup each, so few
// long rows still spread over the device; `rows` then counts (row, chunk) pairs.
#define VIEW_RANK 4
layout(push_constant) uniform Parameters {
    uint rows; uint rowLength; float scalar;
    uint rowRank; uint rowDims[VIEW_RANK]; uint rowStrides[VIEW_RANK];
    uint elementRank; uint elementDims[VIEW_RANK]; uint elementStrides[VIEW_RANK];
    uint chunks; uint chunkLength;
} p;

uint rowStart(uint row) {
    uint offset = 0u;
    for (int d = int(p.rowRank) - 1; d >= 0; --d) {
        offset += (row % p.rowDims[d]) * p.rowStrides[d];
        row /= p.rowDims[d];
    }
    return offset;
}

uint elementOffset(uint j) {
    if (p.elementRank == 1u) return j * p.elementStrides[0];
    uint offset = 0u;
    for (int d = int(p.elementRank) - 1; d >= 0; --d) {
        offset += (j % p.elementDims[d]) * p.elementStrides[d];
        j /= p.elementDims[d];
    }
    return offset;
}
