// Allocation counting by interposition: malloc and friends forward to glibc's __libc_* functions and, when
// the calling thread has counting on, add one to its thread-local count; an allocation whose immediate
// caller lives in libdnnl (found with dladdr on the return address) is also counted as oneDNN's, and one whose
// immediate caller is libstdc++ (operator new, called by C++ code) as libstdc++'s.
#define _GNU_SOURCE
#include "CAllocationCounter.h"
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static __thread int counting = 0;
static __thread uint64_t count = 0, onednn = 0, libstdcxx = 0, executions = 0;

// oneDNN's dnnl_primitive_execute, found once behind this file's definition below.
typedef int (*execute_fn)(const void *, void *, int, const void *);
static execute_fn real_execute = NULL;

static execute_fn resolve_execute(void) {
    execute_fn f = __atomic_load_n(&real_execute, __ATOMIC_ACQUIRE);
    if (f == NULL) {
        f = (execute_fn)dlsym(RTLD_NEXT, "dnnl_primitive_execute");
        __atomic_store_n(&real_execute, f, __ATOMIC_RELEASE);
    }
    return f;
}

void allocation_counter_start(void) {
    (void)resolve_execute();  // before counting: dlsym may allocate
    count = 0; onednn = 0; libstdcxx = 0; executions = 0; counting = 1;
}
uint64_t allocation_counter_executions(void) { return executions; }

// oneDNN builds a C++ map of the arguments on every primitive execution (operator new through libstdc++), so a
// test's bound on those allocations follows how many executions this thread ran: counted here, then forwarded.
int dnnl_primitive_execute(const void *primitive, void *stream, int nargs, const void *args) {
    if (counting) executions += 1;
    return resolve_execute()(primitive, stream, nargs, args);
}
uint64_t allocation_counter_stop(void) { counting = 0; return count; }
uint64_t allocation_counter_onednn(void) { return onednn; }
uint64_t allocation_counter_libstdcxx(void) { return libstdcxx; }

static void note(void *caller) {
    if (!counting) return;
    counting = 0;  // dladdr must not count itself
    count += 1;
    Dl_info info;
    if (dladdr(caller, &info) != 0 && info.dli_fname != NULL) {
        if (strstr(info.dli_fname, "libdnnl") != NULL) onednn += 1;
        else if (strstr(info.dli_fname, "libstdc++") != NULL) libstdcxx += 1;
    }
    counting = 1;
}

#define CALLER __builtin_return_address(0)
void *malloc(size_t size) { note(CALLER); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(CALLER); return __libc_calloc(n, size); }
void *realloc(void *pointer, size_t size) { note(CALLER); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { note(CALLER); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(CALLER); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    note(CALLER);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return ENOMEM;
    *out = p;
    return 0;
}
