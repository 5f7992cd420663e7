// Small inline helpers Swift cannot express, used by Gyre's kernels. Header-only: the clang
// importer inlines them into Swift callers.
#ifndef GYRE_SUPPORT_H
#define GYRE_SUPPORT_H

/// Hints the CPU to start loading the cache line at `p` for reading (no effect on results).
static inline void gyre_prefetch(const void *p) { __builtin_prefetch(p, 0, 0); }

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
/// Keep freed large blocks for reuse instead of returning them to the system (glibc): no mmap
/// for large allocations, no trimming of the heap top.
static inline void gyre_keep_large_blocks(void) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}
#else
static inline void gyre_keep_large_blocks(void) {}
#endif

#endif
