// oneDNN 2.x C API from Debian's libdnnl-dev, plus what Swift cannot import: function-like
// macros and the OpenMP thread control that Debian's build uses (libgomp, no omp.h here).
#include <oneapi/dnnl/dnnl.h>

static inline int axon_dnnl_arg_attr_multiple_post_op(int index) { return DNNL_ARG_ATTR_MULTIPLE_POST_OP(index); }

void omp_set_num_threads(int count);
int omp_get_max_threads(void);
