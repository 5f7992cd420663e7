// Small inline helpers Swift cannot express, used by Gyre's kernels. Header-only: the clang
// importer inlines them into Swift callers.
#ifndef GYRE_SUPPORT_H
#define GYRE_SUPPORT_H

/// Hints the CPU to start loading the cache line at `p` for reading (no effect on results).
static inline void gyre_prefetch(const void *p) { __builtin_prefetch(p, 0, 0); }

#endif
