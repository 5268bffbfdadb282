/* Serial console: one command table drives both dispatch and `help`.
 *
 * Plain C, no CSR access (host-tested): tokenizing, argument-count checks, number parsing. Every
 * error is one line starting with "error: ", and nothing here can hang or crash on bad input.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdint.h>

#define CONSOLE_LINE_MAX 128
#define CONSOLE_ARGS_MAX 8

typedef int (*console_fn_t)(int argc, char **argv);   /* argv[0] is the command name */

typedef struct {
	const char *name;
	const char *args;          /* usage, e.g. "<addr> <n>" */
	const char *help;
	int min_args, max_args;    /* not counting the name */
	console_fn_t fn;
} console_cmd_t;

/* Split line in place on spaces/tabs; -1 if more than max tokens. */
int console_tokenize(char *line, char **argv, int max);

/* Decimal or 0x-hex 32-bit unsigned; 0 on success, -1 on junk, sign or overflow. */
int console_parse_u32(const char *s, uint32_t *out);

/* Run one line: an empty line does nothing; unknown commands and wrong argument counts print one
 * error line. Returns the handler's result, 0 for an empty line, -1 for an error. */
int console_dispatch(const console_cmd_t *table, int n, char *line);

/* One line per command: name, usage, help. */
void console_help(const console_cmd_t *table, int n);

#endif
