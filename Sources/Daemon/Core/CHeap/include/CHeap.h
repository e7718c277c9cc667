#ifndef FORECASTD_CHEAP_H
#define FORECASTD_CHEAP_H

/// glibc's heap tuning, which Swift's Glibc module does not export (see HeapPolicy.swift).

/// Fixes the size from which blocks are mapped on their own (mallopt M_MMAP_THRESHOLD);
/// returns 1 on success, 0 without glibc.
int forecastd_heap_set_mmap_threshold(int bytes);

/// Gives free heap pages back to the system (malloc_trim(0)); returns 1 if any were, 0
/// otherwise or without glibc.
int forecastd_heap_trim(void);

/// Bytes allocated and not freed (mallinfo2: heap in use plus mapped blocks); -1 without
/// glibc.
long long forecastd_heap_in_use(void);

#endif
