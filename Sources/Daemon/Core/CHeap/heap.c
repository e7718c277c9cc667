#include "CHeap.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>

int forecastd_heap_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

int forecastd_heap_trim(void) { return malloc_trim(0); }

long long forecastd_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return (long long)(info.uordblks + info.hblkhd);
}
#else
int forecastd_heap_set_mmap_threshold(int bytes) {
    (void)bytes;
    return 0;
}

int forecastd_heap_trim(void) { return 0; }

long long forecastd_heap_in_use(void) { return -1; }
#endif
