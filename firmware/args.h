/* Argument checks shared by the console's command handlers (args.c). Each prints one "error: ..." line
 * and returns -1 on failure, 0 on success. */
#ifndef ARGS_H
#define ARGS_H

#include <stdint.h>

/* v in decimal on stdout (newlib-nano's printf has no 64-bit integers). */
void args_print_u64(uint64_t v);

/* Print "error: msg"; returns -1. */
int args_fail(const char *msg);

/* Parse an address of `len` bytes in main RAM, word aligned, at or above _end_of_image (below it lie the
 * firmware's code, data, arena and stack: reading a model or frames there, or DMAing results over it, is
 * never meant). `what` names the data in the error line. */
int args_region(const char *s, uint32_t len, const char *what, uint32_t *addr);

/* Parse a frame count 1..max. */
int args_count(const char *s, uint32_t max, uint32_t *n);

#endif
