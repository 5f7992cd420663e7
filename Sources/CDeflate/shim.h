// libdeflate (Debian: libdeflate-dev): whole-buffer DEFLATE, zlib and gzip decompression, about
// twice as fast as zlib's streaming inflate when the decompressed size is known.
#include <libdeflate.h>
