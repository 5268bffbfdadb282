/* Console table dispatch and argument parsing (see console.h). */
#include <stdio.h>
#include <string.h>

#include "console.h"

int console_tokenize(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			*p++ = 0;
		if (!*p)
			return argc;
		if (argc == max)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
	}
}

int console_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		v = v * base + d;
		if (v > 0xffffffffu)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int console_dispatch(const console_cmd_t *table, int n, char *line)
{
	char *argv[CONSOLE_ARGS_MAX + 1];
	int argc = console_tokenize(line, argv, CONSOLE_ARGS_MAX + 1);
	if (argc == 0)
		return 0;
	if (argc < 0) {
		printf("error: too many arguments (at most %d)\n", CONSOLE_ARGS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const console_cmd_t *c = &table[i];
		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
			printf("error: usage: %s %s\n", c->name, c->args);
			return -1;
		}
		return c->fn(argc, argv);
	}
	printf("error: unknown command '%.32s' (type help)\n", argv[0]);
	return -1;
}

void console_help(const console_cmd_t *table, int n)
{
	for (int i = 0; i < n; i++) {
		char usage[48];
		snprintf(usage, sizeof(usage), "%s %s", table[i].name, table[i].args);
		printf("  %-24s %s\n", usage, table[i].help);
	}
}
