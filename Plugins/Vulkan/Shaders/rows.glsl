// Row-wise shaders over a [rows, length] buffer: long rows get a workgroup each (lanes stride
// over the row and combine through shared memory), short rows (`perInvocation`) get one
// invocation each. Include after declaring `perInvocation`.

shared float rowScratch[GROUP_SIZE];

float combineMax(float a, float b) { return isnan(a) || isnan(b) ? uintBitsToFloat(0x7fc00000u) : max(a, b); }

// The maximum or sum of one value per lane, returned to every lane.
float rowReduce(float value, bool maximum) {
    if (perInvocation) return value;
    uint lane = gl_LocalInvocationID.x;
    rowScratch[lane] = value;
    barrier();
    for (uint width = GROUP_SIZE / 2u; width > 0u; width /= 2u) {
        if (lane < width) {
            rowScratch[lane] = maximum ? combineMax(rowScratch[lane], rowScratch[lane + width]) : rowScratch[lane] + rowScratch[lane + width];
        }
        barrier();
    }
    float result = rowScratch[0];
    barrier();
    return result;
}
