#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H
/* Heap allocations made by this process so far (malloc, calloc, realloc, aligned variants). The
 * benchmark executable links this file, which interposes the allocator entry points and counts calls
 * before forwarding them to glibc; it is not part of the libraries. */
unsigned long long allocation_count(void);
#endif
