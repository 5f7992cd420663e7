// O_DIRECT needs _GNU_SOURCE, which Swift's Glibc module is not built with.
#define _GNU_SOURCE
#include <fcntl.h>
#include "gyre_support.h"

int gyre_o_direct_flag(void) { return O_DIRECT; }
