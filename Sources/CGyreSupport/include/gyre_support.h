// Small inline helpers Swift cannot express, used by Gyre's kernels. Header-only: the clang
// importer inlines them into Swift callers.
#ifndef GYRE_SUPPORT_H
#define GYRE_SUPPORT_H

/// Hints the CPU to start loading the cache line at `p` for reading (no effect on results).
static inline void gyre_prefetch(const void *p) { __builtin_prefetch(p, 0, 0); }

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
/// Keep freed large blocks for reuse instead of returning them to the system (glibc): one
/// arena (threads' own arenas serve blocks over 64 MiB with a fresh mmap each time, whatever
/// M_MMAP_MAX says), no mmap for large allocations, no trimming of the heap top.
static inline void gyre_keep_large_blocks(void) {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}
#else
static inline void gyre_keep_large_blocks(void) {}
#endif

#if defined(__linux__)
#include <stdint.h>
#include <sys/mman.h>
/// Asks the kernel to back the 2 MiB-aligned interior of a large buffer with transparent huge
/// pages (where the system allows it on request): first-touch page faults, which cost more than
/// decoding on some virtual machines, become 512 times fewer. Buffers under 4 MiB are left alone.
static inline void gyre_advise_huge_pages(void *p, size_t n) {
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (n < 2 * huge) return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}
#else
static inline void gyre_advise_huge_pages(void *p, size_t n) { (void)p; (void)n; }
#endif

#include <stddef.h>
/// Buffers of at least this many bytes come from (and return to) a small process-wide cache of
/// freed blocks (up to 1 GiB), so chunk-sized buffers are reused instead of being mapped and
/// zeroed afresh for every chunk; smaller ones are plain malloc/free.
#define GYRE_LARGE_BLOCK ((size_t)8 << 20)
/// Allocates `n` bytes, 64-byte aligned; free with gyre_large_free(p, n) and the same n.
void *gyre_large_alloc(size_t n);
void gyre_large_free(void *p, size_t n);
/// Caps the bytes of freed blocks the cache keeps (1 GiB by default), freeing any over it.
void gyre_large_cache_limit(size_t bytes);
/// An allocator for NIO ByteBuffers that carry chunk-sized values (a server's responses): each
/// block has a 64-byte prefix holding its kind, so freeing needs no size; blocks of 1 MiB and
/// more come from the large-block cache (rounded up to GYRE_LARGE_BLOCK), so a response buffer
/// reuses resident pages instead of faulting in fresh ones for every response.
void *gyre_buffer_alloc(size_t n);
void *gyre_buffer_realloc(void *p, size_t old_size, size_t n);
void gyre_buffer_free(void *p);
void gyre_buffer_copy(void *dst, const void *src, size_t n);
/// The platform's O_DIRECT open flag (Swift's Glibc module does not export it).
int gyre_o_direct_flag(void);

/// C's conversion of a double to a long (truncation toward zero), for values the caller has
/// already checked are in range: Swift's `Int(_:)` adds checks for NaN and overflow that cost
/// a fifth of a point-binning loop.
static inline long gyre_truncate(double x) { return (long)x; }

#endif
