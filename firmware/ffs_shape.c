/* Layer shapes and the topology notation: the C mirror of sw/topology.py (LayerShape's checks,
 * check_chain, parse), for the .ffs decoder (ffs.c). Plain C, no CSR access. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ffs_shape.h"

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* The error is one printable line: bytes it quotes from the file (a notation may hold any byte) that are
 * not printable ASCII become '?', so a newline in a file cannot split the console's reply. */
int ffs_fail(char *err, unsigned n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && n) {
		vsnprintf(err, n, fmt, ap);
		for (char *c = err; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = '?';
	}
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- shapes (sw/topology.py) */

int64_t ffs_conv_dim(int64_t in, int64_t pad, int64_t k, int64_t stride)
{
	int64_t num = in + 2 * pad - k;      /* Python floor division: negative -> < 1 */
	return num < 0 ? 0 : num / stride + 1;
}

static void shape_out(const ffs_shape_t *s, int64_t *co, int64_t *ho, int64_t *wo)
{
	int64_t ch = ffs_conv_dim(s->h, s->pad, s->kh, s->stride), cw = ffs_conv_dim(s->w, s->pad, s->kw, s->stride);
	*co = s->co;
	*ho = s->pool ? ch / 2 : ch;
	*wo = s->pool ? cw / 2 : cw;
}

/* LayerShape.__post_init__; writes the message without a prefix. */
int ffs_shape_check(const ffs_shape_t *s, char *err, unsigned n)
{
	const char *names[] = {"ci", "h", "w", "co", "kh", "kw", "stride"};
	const int64_t vals[] = {s->ci, s->h, s->w, s->co, s->kh, s->kw, s->stride};
	for (int i = 0; i < 7; i++)
		if (vals[i] < 1)
			return ffs_fail(err, n, "layer %s=%ld: must be a positive integer", names[i], (long)vals[i]);
	if (s->ci > FFS_MAX_CHANNELS || s->co > FFS_MAX_CHANNELS)
		return ffs_fail(err, n, "layer channels %ld->%ld: at most %d supported", (long)s->ci,
			    (long)s->co, FFS_MAX_CHANNELS);
	if (s->h > FFS_MAX_DIM || s->w > FFS_MAX_DIM)
		return ffs_fail(err, n, "layer input %ldx%ld: at most %dx%d supported", (long)s->h,
			    (long)s->w, FFS_MAX_DIM, FFS_MAX_DIM);
	if (s->pad < 0 || (s->pad >= max64(s->kh, s->kw) && s->kind == FFS_KIND_CONV))
		return ffs_fail(err, n, "padding %ld: must be in [0, kernel-1] for kernel %ldx%ld", (long)s->pad,
			    (long)s->kh, (long)s->kw);
	if (s->kind == FFS_KIND_CONV && (s->kh > FFS_MAX_KERNEL || s->kw > FFS_MAX_KERNEL))
		return ffs_fail(err, n, "kernel %ldx%ld: at most %dx%d supported", (long)s->kh, (long)s->kw,
			    FFS_MAX_KERNEL, FFS_MAX_KERNEL);
	if (s->kind == FFS_KIND_FC && (s->kh != s->h || s->kw != s->w || s->stride != 1 || s->pad != 0))
		return ffs_fail(err, n, "fc layer must have kh=h, kw=w, stride=1, pad=0");
	if (s->kind == FFS_KIND_FC && s->pool)
		return ffs_fail(err, n, "mp2 after an fc layer is not supported");
	int64_t ch = ffs_conv_dim(s->h, s->pad, s->kh, s->stride), cw = ffs_conv_dim(s->w, s->pad, s->kw, s->stride);
	if (ch < 1 || cw < 1)
		return ffs_fail(err, n, "kernel %ldx%ld (pad %ld) larger than input %ldx%ld", (long)s->kh,
			    (long)s->kw, (long)s->pad, (long)s->h, (long)s->w);
	if (s->pool && (ch < 2 || cw < 2))
		return ffs_fail(err, n, "mp2 over a %ldx%ld map: needs at least 2x2", (long)ch, (long)cw);
	if (s->readout && s->pool)
		return ffs_fail(err, n, "the readout layer cannot be pooled");
	return 0;
}

/* check_chain over n shapes; message without prefix. */
int ffs_chain_check(const ffs_shape_t *s, int n, char *err, unsigned en)
{
	if (n < 1)
		return ffs_fail(err, en, "a model needs at least one layer");
	for (int i = 0; i + 1 < n; i++) {
		int64_t co, ho, wo;
		shape_out(&s[i], &co, &ho, &wo);
		if (co != s[i + 1].ci || ho != s[i + 1].h || wo != s[i + 1].w)
			return ffs_fail(err, en, "layer %d input (%ld, %ld, %ld) != layer %d output (%ld, %ld, %ld)", i + 1,
				    (long)s[i + 1].ci, (long)s[i + 1].h, (long)s[i + 1].w, i,
				    (long)co, (long)ho, (long)wo);
	}
	for (int i = 0; i < n; i++)
		if (s[i].readout != (i == n - 1))
			return ffs_fail(err, en, "layer %d: only the last layer is the non-firing readout", i);
	if (s[n - 1].kind != FFS_KIND_FC)
		return ffs_fail(err, en, "the last layer must be the fc readout");
	return 0;
}

/* ---------------------------------------------------------------- notation (sw/topology.parse) */

/* Digits at *p (saturating); returns 0 if there are none. */
static int digits(const char **p, const char *end, int64_t *v)
{
	const char *q = *p;
	int64_t x = 0;
	while (q < end && *q >= '0' && *q <= '9') {
		x = x > 99999999 ? 999999999 : x * 10 + (*q - '0');
		q++;
	}
	if (q == *p)
		return 0;
	*p = q;
	*v = x;
	return 1;
}

static int lower_eq(const char *a, int alen, const char *b)
{
	int blen = (int)strlen(b);
	if (alen != blen)
		return 0;
	for (int i = 0; i < alen; i++) {
		char c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return 0;
	}
	return 1;
}

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Parse a notation into shapes (leak as given). Message without prefix. */
int ffs_parse_notation(const char *text, int len, int leak, ffs_shape_t *out, int *n_out, char *err, unsigned en)
{
	static const char *const presets[][2] = FFS_PRESETS;
	while (len && is_space(*text))
		text++, len--;
	while (len && is_space(text[len - 1]))
		len--;
	for (unsigned i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (lower_eq(text, len, presets[i][0])) {
			text = presets[i][1];
			len = (int)strlen(text);
			break;
		}
	const char *p = text, *end = text + len, *tok_end;
	int64_t c, h, w;
	for (tok_end = p; tok_end < end && *tok_end != '-'; tok_end++)
		;
	const char *q = p;
	if (!(digits(&q, tok_end, &c) && q < tok_end && *q++ == 'x' && digits(&q, tok_end, &h) && q < tok_end &&
	      *q++ == 'x' && digits(&q, tok_end, &w) && q == tok_end))
		return ffs_fail(err, en, "notation '%.*s': must start with the input shape CxHxW, e.g. 1x28x28", len, text);
	int n = 0;
	while (tok_end < end) {
		p = tok_end + 1;
		for (tok_end = p; tok_end < end && *tok_end != '-'; tok_end++)
			;
		int tl = (int)(tok_end - p);
		ffs_shape_t s = {0};
		if (tl == 3 && memcmp(p, "mp2", 3) == 0) {
			if (n == 0 || out[n - 1].kind != FFS_KIND_CONV || out[n - 1].pool)
				return ffs_fail(err, en, "notation '%.*s': 'mp2' must follow a conv layer", len, text);
			out[n - 1].pool = 1;
			if (ffs_shape_check(&out[n - 1], err, en))
				return -1;
			shape_out(&out[n - 1], &c, &h, &w);
			continue;
		}
		int64_t co, kh, kw = -1, st = 1, pd = 0;
		q = p;
		int ok = digits(&q, tok_end, &co);
		if (ok && tok_end - q == 2 && q[0] == 'f' && q[1] == 'c') {
			s.kind = FFS_KIND_FC;
			s.kh = h, s.kw = w, s.stride = 1, s.pad = 0;
		} else if (ok && q < tok_end && *q == 'c' && (q++, digits(&q, tok_end, &kh))) {
			if (q < tok_end && *q == 'x' && !(q++, digits(&q, tok_end, &kw)))
				ok = 0;
			if (ok && q < tok_end && *q == 's' && !(q++, digits(&q, tok_end, &st)))
				ok = 0;
			if (ok && q < tok_end && *q == 'p' && !(q++, digits(&q, tok_end, &pd)))
				ok = 0;
			if (!ok || q != tok_end)
				return ffs_fail(err, en, "notation '%.*s': unknown token '%.*s' (expected NcK[sS][pP], mp2 or Nfc)",
					    len, text, tl, p);
			s.kind = FFS_KIND_CONV;
			s.kh = kh, s.kw = kw < 0 ? kh : kw, s.stride = st, s.pad = pd;
		} else {
			return ffs_fail(err, en, "notation '%.*s': unknown token '%.*s' (expected NcK[sS][pP], mp2 or Nfc)",
				    len, text, tl, p);
		}
		if (n >= FFS_MAX_LAYERS)
			return ffs_fail(err, en, "notation has more than %d layers", FFS_MAX_LAYERS);
		s.ci = c, s.h = h, s.w = w, s.co = co, s.leak = leak;
		if (ffs_shape_check(&s, err, en))
			return -1;
		out[n++] = s;
		shape_out(&s, &c, &h, &w);
	}
	if (n == 0 || out[n - 1].kind != FFS_KIND_FC)
		return ffs_fail(err, en, "notation '%.*s': the last layer must be the fc readout (e.g. 10fc)", len, text);
	out[n - 1].readout = 1;
	if (ffs_shape_check(&out[n - 1], err, en))
		return -1;
	if (ffs_chain_check(out, n, err, en))
		return -1;
	*n_out = n;
	return 0;
}
