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

/* ---------------------------------------------------------------- framed lines */

uint16_t console_tx_crc;

uint16_t console_crc16(uint16_t crc, const void *data, unsigned len)
{
	const uint8_t *p = data;
	while (len--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int i = 0; i < 8; i++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

void console_tx_account(char c)
{
	if (c != '\r')
		console_tx_crc = console_crc16(console_tx_crc, &c, 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int console_unframe(char *line, unsigned *seq)
{
	char *crc_bar = strrchr(line, '|');
	if (!crc_bar)
		return CONSOLE_PLAIN;
	*crc_bar = 0;
	char *seq_bar = strrchr(line, '|');
	*crc_bar = '|';
	if (!seq_bar || strlen(crc_bar + 1) != 4 || crc_bar - seq_bar < 2 || crc_bar - seq_bar > 6)
		return CONSOLE_DAMAGED;
	unsigned want = 0, s = 0;
	for (const char *p = crc_bar + 1; *p; p++) {
		int v = hexval(*p);
		if (v < 0)
			return CONSOLE_DAMAGED;
		want = want << 4 | (unsigned)v;
	}
	for (const char *p = seq_bar + 1; p < crc_bar; p++) {
		if (*p < '0' || *p > '9')
			return CONSOLE_DAMAGED;
		s = s * 10 + (unsigned)(*p - '0');
	}
	if (s > 0xffff || console_crc16(0, line, (unsigned)(crc_bar - line)) != want)
		return CONSOLE_DAMAGED;
	*seq_bar = 0;
	*seq = s;
	return CONSOLE_FRAMED;
}

static void run_line(console_t *con, const console_cmd_t *table, int n)
{
	unsigned seq;
	con->line[con->len] = 0;
	if (con->overflow) {
		printf("error: line longer than %d characters: ignored\n", CONSOLE_LINE_MAX - 1);
		return;
	}
	int kind = console_unframe(con->line, &seq);
	if (kind == CONSOLE_DAMAGED) {
		printf("error: damaged framed line (bad frame or CRC): ignored\n");
		return;
	}
	if (kind == CONSOLE_PLAIN) {
		char *argv[2];
		int argc = console_tokenize(con->line, argv, 2);
		if (argc == 1 && !strcmp(argv[0], "plain")) {
			con->framed = 0;
			printf("plain: framed mode off\n");
		} else if (con->framed && argc != 0) {
			printf("error: unframed line refused: a host tool drives this console in framed mode "
			       "(type plain to leave it)\n");
		} else if (argc != 0) {
			/* console_tokenize split the line in place: join the tokens back for dispatch */
			for (char *p = con->line; p < con->line + con->len; p++)
				if (!*p)
					*p = ' ';
			console_dispatch(table, n, con->line);
		}
		return;
	}
	con->framed = 1;
	console_tx_crc = 0;
	int rc = console_dispatch(table, n, con->line);
	uint16_t crc = console_tx_crc;
	printf("done %u %d %04x\n", seq, rc < 0, (unsigned)crc);
}

void console_feed(console_t *con, const console_cmd_t *table, int n, char c)
{
	char was = con->prev;
	con->prev = c;
	if (c == '\n' && was == '\r')
		return;                                    /* CR LF from a terminal: one line */
	if (c == '\r' || c == '\n') {
		putchar('\n');
		run_line(con, table, n);
		con->len = 0;
		con->overflow = 0;
		fputs(CONSOLE_PROMPT, stdout);
		fflush(stdout);
	} else if (c == CONSOLE_KILL) {
		con->len = 0;
		con->overflow = 0;
	} else if (c == 0x7f || c == 0x08) {
		if (con->len) {
			con->len--;
			fputs("\x08 \x08", stdout);
		}
	} else if ((unsigned char)c >= 0x20) {
		if (con->len < CONSOLE_LINE_MAX - 1) {
			con->line[con->len++] = c;
			putchar(c);
		} else {
			con->overflow = 1;
		}
	}
}
