// Shared by every shader: 256 invocations per workgroup, all buffers as 32-bit words (float
// bits, int32, uint32, bool as 0/1, or two bfloat16), and a grid-stride loop, since a grid has at most
// 65,535 workgroups per dimension on some drivers.
#define GROUP_SIZE 256u
layout(local_size_x = 256) in;

// Element kinds, the `kind` specialisation constant of dtype-generic shaders.
#define KIND_FLOAT 0u
#define KIND_INT 1u
#define KIND_UINT 2u
#define KIND_BOOL 3u
#define KIND_BFLOAT16 4u  // two to a word, see bfloat16.comp

#define FOR_EACH_ELEMENT(i, count) \
    for (uint i = gl_GlobalInvocationID.x; i < (count); i += gl_NumWorkGroups.x * GROUP_SIZE)

// The workgroup index of a 2-D grid, for shaders that give each workgroup one row.
uint flatWorkgroup() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
