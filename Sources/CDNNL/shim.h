// CDNNL: the oneDNN C API (libdnnl-dev, oneDNN 2.6) as a Swift module.
// oneDNN threads through OpenMP (libgomp); the two OpenMP calls below let Swift set and read the thread count.
#include <oneapi/dnnl/dnnl.h>
int omp_get_max_threads(void);
void omp_set_num_threads(int num_threads);
