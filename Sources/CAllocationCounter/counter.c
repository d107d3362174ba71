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
static __thread uint64_t count = 0, onednn = 0, libstdcxx = 0;

void allocation_counter_start(void) { count = 0; onednn = 0; libstdcxx = 0; counting = 1; }
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
