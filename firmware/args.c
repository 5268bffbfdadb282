/* Argument checks shared by the console's command handlers: every failure prints one "error: ..." line
 * (docs/firmware.md) and returns -1. Addresses are checked against the generated memory map. */
#include <stdio.h>

#include <generated/mem.h>

#include "args.h"
#include "console.h"

extern char _end_of_image[];

void args_print_u64(uint64_t v)
{
	char buf[24];
	int i = (int)sizeof(buf) - 1;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fputs(buf + i, stdout);
}

int args_fail(const char *msg)
{
	printf("error: %s\n", msg);
	return -1;
}

int args_region(const char *s, uint32_t len, const char *what, uint32_t *addr)
{
	if (console_parse_u32(s, addr)) {
		printf("error: %s address '%.24s' is not a number (decimal or 0x hex)\n", what, s);
		return -1;
	}
	uint64_t end = (uint64_t)*addr + len;
	if (*addr < MAIN_RAM_BASE || end > (uint64_t)MAIN_RAM_BASE + MAIN_RAM_SIZE || (*addr & 3)) {
		printf("error: %s at 0x%08lx+%lu is outside main RAM 0x%08lx..0x%08lx or not word aligned\n", what,
		       (unsigned long)*addr, (unsigned long)len, (unsigned long)MAIN_RAM_BASE,
		       (unsigned long)(MAIN_RAM_BASE + MAIN_RAM_SIZE));
		return -1;
	}
	if (*addr < (uintptr_t)_end_of_image) {
		printf("error: %s at 0x%08lx+%lu overlaps the firmware at 0x%08lx..0x%08lx (data goes at 0x%08lx or above)\n",
		       what, (unsigned long)*addr, (unsigned long)len, (unsigned long)MAIN_RAM_BASE,
		       (unsigned long)(uintptr_t)_end_of_image, (unsigned long)(uintptr_t)_end_of_image);
		return -1;
	}
	return 0;
}

int args_count(const char *s, uint32_t max, uint32_t *n)
{
	if (console_parse_u32(s, n) || *n < 1 || *n > max) {
		printf("error: frame count '%.24s' must be 1..%lu\n", s, (unsigned long)max);
		return -1;
	}
	return 0;
}
