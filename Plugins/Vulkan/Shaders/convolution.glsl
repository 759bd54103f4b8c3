// Geometry of a convolution with up to three spatial axes (the host pads lower ranks with
// size-1 axes), shared by im2col and col2im. The column matrix has one row per output
// position (n, p0, p1, p2) of the images from `firstImage` on (the host builds it a chunk of
// images at a time) and one column per (group, kernel tap, channel in group), matching the
// HWIO kernel's row order within a group.
layout(push_constant) uniform Parameters {
    uint count;             // invocations: im2col's (row, group, tap) and col2im's (position, group, channel run) units
    uint channels;          // input channels
    uint groupChannels;     // input channels per group
    uint taps;              // kernel positions (product of the kernel's spatial sizes)
    uint inputSize[3];
    uint outputSize[3];
    uint kernelSize[3];
    uint strides[3];
    uint paddingLow[3];
    uint inputDilation[3];
    uint kernelDilation[3];
    uint firstImage;        // the chunk's first image: column rows count from it
} p;

// The three spatial coordinates of a flat index over `size`, last axis fastest.
uvec3 unflatten(uint index, uint size[3]) {
    uint z = index % size[2];
    index /= size[2];
    uint y = index % size[1];
    return uvec3(index / size[1], y, z);
}
