// The large-block cache behind gyre_large_alloc / gyre_large_free (see include/gyre_support.h).
#include "gyre_support.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GYRE_POOL_SLOTS 12
#define GYRE_POOL_MAX_BYTES ((size_t)1 << 30)
#define GYRE_HEADER 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool_block[GYRE_POOL_SLOTS];
static size_t pool_size[GYRE_POOL_SLOTS];
// When each slot's block was freed (a counter): with every slot taken, a freed block replaces
// the one that has waited longest, so the cache follows the sizes in use now.
static unsigned long long pool_seq[GYRE_POOL_SLOTS];
static unsigned long long pool_clock;
static size_t pool_bytes;
static size_t pool_limit = GYRE_POOL_MAX_BYTES;

void gyre_large_cache_limit(size_t bytes) {
    pthread_mutex_lock(&pool_lock);
    pool_limit = bytes;
    for (int i = 0; i < GYRE_POOL_SLOTS && pool_bytes > pool_limit; i++) {
        if (pool_block[i]) { free(pool_block[i]); pool_bytes -= pool_size[i]; pool_block[i] = NULL; pool_size[i] = 0; }
    }
    pthread_mutex_unlock(&pool_lock);
}

// Large blocks are made in size classes: n rounded up to a multiple of an eighth of the power of
// two at or below it (at most 12.5% more, never touched unless used). Values of slightly
// different sizes (the compressed chunks of one array) then share a class, and a freed block
// serves the next one instead of staying cached beside a fresh allocation.
static size_t size_class(size_t n) {
    size_t p = (size_t)1 << (63 - __builtin_clzll((unsigned long long)n));
    size_t step = p / 8;
    return (n + step - 1) / step * step;
}

// Each block starts with a 64-byte header holding its capacity; callers get the bytes after it.
void *gyre_large_alloc(size_t n) {
    if (n < GYRE_LARGE_BLOCK) return malloc(n ? n : 1);
    n = size_class(n);
    pthread_mutex_lock(&pool_lock);
    int best = -1;
    for (int i = 0; i < GYRE_POOL_SLOTS; i++) {
        // A cached block fits when it is at least n and at most twice n (its pages are
        // resident already, so a larger block costs no memory; beyond twice, a small value
        // would hold a block a large one will want).
        if (pool_block[i] && pool_size[i] >= n && pool_size[i] - n <= n &&
            (best < 0 || pool_size[i] < pool_size[best])) best = i;
    }
    if (best >= 0) {
        void *b = pool_block[best];
        pool_bytes -= pool_size[best];
        pool_block[best] = NULL;
        pool_size[best] = 0;
        pthread_mutex_unlock(&pool_lock);
        return (char *)b + GYRE_HEADER;
    }
    pthread_mutex_unlock(&pool_lock);
    void *b = NULL;
    if (posix_memalign(&b, (size_t)2 << 20, n + GYRE_HEADER) != 0) return NULL;
    *(size_t *)b = n;
    gyre_advise_huge_pages(b, n + GYRE_HEADER);
    return (char *)b + GYRE_HEADER;
}

void gyre_large_free(void *p, size_t n) {
    if (!p) return;
    if (n < GYRE_LARGE_BLOCK) { free(p); return; }
    void *b = (char *)p - GYRE_HEADER;
    size_t cap = *(size_t *)b;
    pthread_mutex_lock(&pool_lock);
    // Make room: drop cached blocks, oldest slots first, until this one fits under the cap.
    for (int i = 0; i < GYRE_POOL_SLOTS && pool_bytes + cap > pool_limit; i++) {
        if (pool_block[i]) { free(pool_block[i]); pool_bytes -= pool_size[i]; pool_block[i] = NULL; pool_size[i] = 0; }
    }
    int slot = -1;
    for (int i = 0; i < GYRE_POOL_SLOTS; i++) if (!pool_block[i]) { slot = i; break; }
    if (slot < 0 && cap <= pool_limit) {
        int oldest = 0;
        for (int i = 1; i < GYRE_POOL_SLOTS; i++) if (pool_seq[i] < pool_seq[oldest]) oldest = i;
        free(pool_block[oldest]);
        pool_bytes -= pool_size[oldest];
        pool_block[oldest] = NULL;
        pool_size[oldest] = 0;
        slot = oldest;
    }
    if (slot < 0 || cap > pool_limit) {
        pthread_mutex_unlock(&pool_lock);
        free(b);
        return;
    }
    pool_block[slot] = b;
    pool_size[slot] = cap;
    pool_seq[slot] = ++pool_clock;
    pool_bytes += cap;
    pthread_mutex_unlock(&pool_lock);
}

// ByteBuffer blocks: a 64-byte prefix whose first word is 0 for a malloc'd block, else the
// size the large-block cache gave it.
#define GYRE_BUFFER_POOLED ((size_t)1 << 20)

void *gyre_buffer_alloc(size_t n) {
    if (n >= GYRE_BUFFER_POOLED) {
        size_t size = n + GYRE_HEADER < GYRE_LARGE_BLOCK ? GYRE_LARGE_BLOCK : n + GYRE_HEADER;
        char *b = gyre_large_alloc(size);
        if (!b) return NULL;
        *(size_t *)b = size;
        return b + GYRE_HEADER;
    }
    char *b = malloc(n + GYRE_HEADER);
    if (!b) return NULL;
    *(size_t *)b = 0;
    return b + GYRE_HEADER;
}

void gyre_buffer_free(void *p) {
    if (!p) return;
    char *b = (char *)p - GYRE_HEADER;
    size_t size = *(size_t *)b;
    if (size == 0) free(b); else gyre_large_free(b, size);
}

void *gyre_buffer_realloc(void *p, size_t old_size, size_t n) {
    if (!p) return gyre_buffer_alloc(n);
    void *q = gyre_buffer_alloc(n);
    if (!q) return NULL;
    memcpy(q, p, old_size < n ? old_size : n);
    gyre_buffer_free(p);
    return q;
}

void gyre_buffer_copy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
