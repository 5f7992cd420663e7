// The gyre binary's allocator settings (see allocator.c). Nothing to call: linking the target
// is what sets them.
#ifndef CGYREALLOCATOR_H
#define CGYREALLOCATOR_H
#endif
