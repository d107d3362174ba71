// CAllocationCounter: counts heap allocations made by the calling thread while counting is on. Linked only
// into test executables: it defines malloc and friends, which take precedence over the C library's for the
// whole process, and forwards every call to glibc's __libc_* entry points.
#ifndef C_ALLOCATION_COUNTER_H
#define C_ALLOCATION_COUNTER_H
#include <stdint.h>

/// Starts counting this thread's allocations from zero.
void allocation_counter_start(void);
/// Stops counting on this thread and returns the number of allocations (malloc, calloc, realloc,
/// posix_memalign, aligned_alloc, memalign) made since the start.
uint64_t allocation_counter_stop(void);
/// Of the last count, those made directly by code in libdnnl (oneDNN's own scratch buffers).
uint64_t allocation_counter_onednn(void);
/// Allocations whose immediate caller is libstdc++ (its `operator new`): C++ libraries such as oneDNN's
/// packed GEMM allocate that way; Swift code never does.
uint64_t allocation_counter_libstdcxx(void);
/// Calls of oneDNN's `dnnl_primitive_execute` made by this thread since the start (this library defines the symbol,
/// counts, and forwards to oneDNN's).
uint64_t allocation_counter_executions(void);

#endif
