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
#define CONSOLE_KILL     0x15      /* Ctrl-U: drop the partial line (a host resynchronising) */
#define CONSOLE_PROMPT   "ffs> "

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

/* ---- Framed lines (docs/firmware.md "Framed lines"): a host tool sends TEXT|SEQ|CRC, where SEQ is
 * 0..65535 in decimal and CRC the CRC-16 of LiteX's serial boot (XMODEM: poly 0x1021, init 0) of
 * "TEXT|SEQ" in 4 hex digits. An intact framed line runs TEXT and ends its reply with the line
 * "done SEQ RC CRC" (RC 0 ok / 1 error; CRC over every character written after the echo's newline,
 * carriage returns excluded), so the host can pair each reply with its command and check it. A damaged
 * frame is refused without running anything. The first intact framed line switches the console to
 * framed mode, where unframed lines are refused (a dropped frame suffix cannot run a command) until a
 * plain "plain" line. */
enum { CONSOLE_DAMAGED = -1, CONSOLE_PLAIN = 0, CONSOLE_FRAMED = 1 };

uint16_t console_crc16(uint16_t crc, const void *data, unsigned len);

/* Classify line; for an intact framed line strip the suffix in place and set *seq. */
int console_unframe(char *line, unsigned *seq);

/* CRC-16 of everything written since the last reset: the platform's character output calls
 * console_tx_account() for each character (firmware/uart.c; the host harness's stdout). */
extern uint16_t console_tx_crc;
void console_tx_account(char c);

/* The line editor: echo, backspace, Ctrl-U, CR/LF/CRLF, over-long lines, framing, prompt. */
typedef struct {
	char line[CONSOLE_LINE_MAX];
	unsigned len;
	int overflow;
	char prev;
	int framed;            /* framed mode */
} console_t;

/* Feed one received character; a complete line runs through console_dispatch and ends at the prompt. */
void console_feed(console_t *con, const console_cmd_t *table, int n, char c);

#endif
