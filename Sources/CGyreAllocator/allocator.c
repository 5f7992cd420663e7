// jemalloc (Debian's libjemalloc-dev) as the gyre binary's allocator, with the settings it reads
// from this global at start-up (the MALLOC_CONF environment variable still overrides them).
//
// oversize_threshold:0 - by default jemalloc serves requests of 8 MiB and more from a dedicated
// arena that returns freed pages to the kernel at once, so every 8 MiB slab a reduction or a
// copy reuses faults its pages in again: `gyre eval STORE 'sst.max()'` on 1.5 GB of blosc took
// 1.93-2.03 s against 1.57-1.75 s with this setting (and 1.39-1.64 s with glibc's malloc),
// peak memory unchanged. Large blocks then come from the ordinary arenas and their decay.
const char *malloc_conf = "oversize_threshold:0";
