/* .ffs decoder: the checks of sw/artifact.py (_decode, _decode_layer, validate), in the same order,
 * so that a malformed file fails here with the same error class as in Python. */
#include <stdio.h>
#include <string.h>

#include "ffs.h"
#include "ffs_shape.h"

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t words(uint32_t nbits) { return (nbits + 31) / 32; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

uint32_t ffs_crc32(const uint8_t *p, uint32_t n)
{
	return ffs_crc32_update(0, p, n);
}

uint32_t ffs_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
	static uint32_t table[256];
	static int ready;
	crc ^= 0xffffffffu;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

uint32_t ffs_file_crc(const uint8_t *blob, uint32_t len)
{
	if (len < FFS_CRC_AT + 4)
		return 0;
	return ffs_crc32_update(ffs_crc32(blob, FFS_CRC_AT), blob + FFS_CRC_AT + 4, len - FFS_CRC_AT - 4);
}

uint32_t ffs_announced_size(const uint8_t *blob, uint32_t avail)
{
	if (avail < FFS_HEADER_LEN || memcmp(blob, FFS_MAGIC, 4) != 0 || rd16(blob + 6) != FFS_HEADER_LEN)
		return 0;
	uint32_t body = rd32(blob + 8);
	return body > 0xffffffffu - FFS_HEADER_LEN ? 0 : FFS_HEADER_LEN + body;
}

/* ---------------------------------------------------------------- widths (sw/spec.py) */

static int signed_bits(int64_t lo, int64_t hi)
{
	lo = min64(lo, 0), hi = max64(hi, 0);
	int n = 2;
	while (lo < -((int64_t)1 << (n - 1)) || hi > ((int64_t)1 << (n - 1)) - 1)
		n++;
	return n;
}

uint32_t ffs_channel_nnz(const ffs_layer_t *l, uint32_t c)
{
	uint32_t cnt = 0;
	for (uint32_t i = 0; i < l->kwords; i++)
		cnt += ffs_popcount(l->bitmaps[c * l->kwords + i]);
	return cnt;
}

static int nibble_value(uint32_t nib) { return nib >= 8 ? (int)nib - 16 : (int)nib; }

/* pos/neg weight sums of channel c; vals = the channel's packed words. */
static void channel_sums(const uint32_t *vals, uint32_t cnt, int64_t *pos, int64_t *neg)
{
	*pos = *neg = 0;
	for (uint32_t j = 0; j < cnt; j++) {
		int v = nibble_value((vals[j / 8] >> (4 * (j % 8))) & 0xf);
		if (v > 0)
			*pos += v;
		else
			*neg += v;
	}
}

/* ---------------------------------------------------------------- decoder */

/* A layer record: kind and flags, the reserved field, the shape (LayerShape). Fills L's header fields. */
static int decode_record(int i, const uint8_t *rec, ffs_layer_t *L, ffs_shape_t *s, char *err, unsigned en)
{
	char msg[FFS_ERR_LEN];
	uint32_t kind = rec[0], flags = rec[1], reserved = rd16(rec + 18);
	if (kind > 1 || (flags & ~7u))
		return ffs_fail(err, en, "unsupported topology: layer %d kind %u flags 0x%x", i, (unsigned)kind, (unsigned)flags);
	if (reserved)
		return ffs_fail(err, en, "out-of-range value: layer %d reserved field 0x%04x (must be 0)", i, (unsigned)reserved);
	ffs_shape_t t = {(int)kind, !!(flags & FFS_F_POOL), !!(flags & FFS_F_LEAK), !!(flags & FFS_F_READOUT),
		     rd16(rec + 8), rd16(rec + 10), rd16(rec + 12), rd16(rec + 14), rec[2], rec[3], rec[4], rec[5]};
	*s = t;
	if (ffs_shape_check(s, msg, sizeof(msg)))
		return ffs_fail(err, en, "unsupported topology: layer %d: %s", i, msg);
	L->kind = (uint8_t)kind, L->pool = (uint8_t)s->pool, L->leak = (uint8_t)s->leak, L->readout = (uint8_t)s->readout;
	L->kh = rec[2], L->kw = rec[3], L->stride = rec[4], L->pad = rec[5];
	L->acc_bits = rec[6], L->mem_bits = rec[7], L->bias_bits = rec[16], L->vth_bits = rec[17];
	L->ci = (uint16_t)s->ci, L->h = (uint16_t)s->h, L->w = (uint16_t)s->w, L->co = (uint16_t)s->co;
	L->data_off = rd32(rec + 20), L->data_len = rd32(rec + 24), L->nnz = rd32(rec + 28);
	L->conv_h = (uint16_t)ffs_conv_dim(s->h, s->pad, s->kh, s->stride);
	L->conv_w = (uint16_t)ffs_conv_dim(s->w, s->pad, s->kw, s->stride);
	L->ho = s->pool ? L->conv_h / 2 : L->conv_h;
	L->wo = s->pool ? L->conv_w / 2 : L->conv_w;
	L->fan_in = (uint32_t)(s->kh * s->kw * s->ci);
	L->kwords = words(L->fan_in);
	return 0;
}

/* A layer's data: placement and size, bitmaps, packed values. */
static int decode_data(int i, const uint8_t *body, uint32_t blen, uint32_t expect_at, ffs_layer_t *L, char *err,
		       unsigned en)
{
	uint64_t co = L->co, at = L->data_off, size = L->data_len;
	uint64_t fixed = 8 * co + 4 * co * L->kwords;
	if (at != expect_at || size < fixed || at + size > blen)
		return ffs_fail(err, en, "inconsistent sizes: layer %d data at %lu+%lu, expected at %u, at least %lu bytes, "
			    "within a body of %u", i, (unsigned long)at, (unsigned long)size, (unsigned)expect_at,
			    (unsigned long)fixed, (unsigned)blen);
	L->bias = (const int32_t *)(body + at);
	L->vth = (const int32_t *)(body + at + 4 * co);
	L->bitmaps = (const uint32_t *)(body + at + 8 * co);
	L->values = (const uint32_t *)(body + at + fixed);
	uint32_t tail_bits = L->fan_in % 32;
	if (tail_bits)
		for (uint32_t c = 0; c < co; c++)
			if (L->bitmaps[c * L->kwords + L->kwords - 1] >> tail_bits)
				return ffs_fail(err, en, "out-of-range value: layer %d bitmap has bits set beyond the kernel length %u",
					    i, (unsigned)L->fan_in);
	uint64_t need = fixed, total = 0;
	for (uint32_t c = 0; c < co; c++) {
		uint32_t cnt = ffs_channel_nnz(L, c);
		total += cnt;
		need += 4 * (uint64_t)words(4 * cnt);
	}
	if (size != need || total != L->nnz)
		return ffs_fail(err, en, "inconsistent sizes: layer %d has %lu data bytes and nnz %u; its bitmaps need %lu "
			    "bytes and hold %lu non-zeros", i, (unsigned long)size, (unsigned)L->nnz,
			    (unsigned long)need, (unsigned long)total);
	const uint32_t *v = L->values;
	for (uint32_t c = 0; c < co; c++) {
		uint32_t cnt = ffs_channel_nnz(L, c), nw = words(4 * cnt);
		for (uint32_t j = 0; j < nw * 8; j++) {
			uint32_t nib = (v[j / 8] >> (4 * (j % 8))) & 0xf;
			if ((j < cnt) != (nib != 0))
				return ffs_fail(err, en, "out-of-range value: layer %d channel %u has a zero among its packed "
					    "non-zeros or non-zero padding", i, (unsigned)c);
		}
		v += nw;
	}
	return 0;
}

/* validate(model): chain, thresholds, widths, notation. */
static int validate(ffs_model_t *m, char *err, unsigned en)
{
	char msg[FFS_ERR_LEN];
	ffs_shape_t s[FFS_MAX_LAYERS];
	int n = m->n_layers;
	for (int i = 0; i < n; i++) {
		const ffs_layer_t *L = &m->layer[i];
		ffs_shape_t t = {L->kind, L->pool, L->leak, L->readout, L->ci, L->h, L->w, L->co, L->kh, L->kw, L->stride, L->pad};
		s[i] = t;
	}
	if (ffs_chain_check(s, n, msg, sizeof(msg)))
		return ffs_fail(err, en, "unsupported topology: %s", msg);
	for (int i = 0; i < n; i++) {
		const ffs_layer_t *L = &m->layer[i];
		int64_t x_max = (i == 0 && m->in_kind == FFS_IN_STATIC) ? (1 << m->in_bits) - 1 : 1;
		int64_t lo_min = 0, hi_max = 0, mlo = 0, mhi = 0, bmin = 0, bmax = 0, vmax = 0, vmin = 0;
		const uint32_t *v = L->values;
		for (uint32_t c = 0; c < L->co; c++) {
			uint32_t cnt = ffs_channel_nnz(L, c);
			int64_t pos, neg, b = L->bias[c], th = L->vth[c];
			channel_sums(v, cnt, &pos, &neg);
			v += words(4 * cnt);
			int64_t lo = neg * x_max + min64(b, 0), hi = pos * x_max + max64(b, 0);
			int64_t vlo = min64(lo, 0) * (L->leak ? 1 : m->timesteps);
			int64_t clo = vlo + min64(lo, 0), chi = max64(th, 0) + hi;
			if (c == 0) {
				lo_min = lo, hi_max = hi, mlo = clo, mhi = chi, bmin = bmax = b, vmax = vmin = th;
			} else {
				lo_min = min64(lo_min, lo), hi_max = max64(hi_max, hi), mlo = min64(mlo, clo);
				mhi = max64(mhi, chi), bmin = min64(bmin, b), bmax = max64(bmax, b);
				vmax = max64(vmax, th), vmin = min64(vmin, th);
			}
		}
		if (L->readout && (vmin != 0 || vmax != 0))
			return ffs_fail(err, en, "out-of-range value: layer %d is the readout; its thresholds must be 0", i);
		if (vmin < 0)
			return ffs_fail(err, en, "out-of-range value: layer %d threshold %ld < 0", i, (long)vmin);
		int acc = signed_bits(lo_min, hi_max);
		int mem = L->readout ? signed_bits(m->timesteps * lo_min, m->timesteps * hi_max) : signed_bits(mlo, mhi);
		int bb = signed_bits(bmin, bmax), vb = signed_bits(0, vmax);
		int widest = max64(max64(L->acc_bits, L->mem_bits), max64(L->bias_bits, L->vth_bits));
		if (widest > FFS_MAX_WIDTH || L->acc_bits < acc || L->mem_bits < mem || L->bias_bits < bb || L->vth_bits < vb)
			return ffs_fail(err, en, "out-of-range value: layer %d widths (%d, %d, %d, %d) (acc, mem, bias, vth) must be "
				    ">= (%d, %d, %d, %d) and <= %d", i, L->acc_bits, L->mem_bits, L->bias_bits, L->vth_bits,
				    acc, mem, bb, vb, FFS_MAX_WIDTH);
	}
	if (m->notation_len) {
		ffs_shape_t nom[FFS_MAX_LAYERS];
		int nn = 0;
		if (ffs_parse_notation(m->notation, m->notation_len, m->layer[0].leak, nom, &nn, msg, sizeof(msg)))
			return ffs_fail(err, en, "unsupported topology: %s", msg);
		for (int i = 0; i < nn && i < n; i++) {
			const ffs_shape_t *a = &nom[i], *b = &s[i];
			if (a->kind != b->kind || (a->kind == FFS_KIND_CONV && a->kh != b->kh) || a->stride != b->stride ||
			    a->pad != b->pad || a->pool != b->pool || b->co > a->co)
				return ffs_fail(err, en, "unsupported topology: layer %d does not match the notation's layer %d", i, i);
		}
		if (nn != n || nom[0].ci != s[0].ci || nom[0].h != s[0].h || nom[0].w != s[0].w)
			return ffs_fail(err, en, "unsupported topology: layers do not match the notation '%.*s'",
				    m->notation_len, m->notation);
	}
	return 0;
}

static int utf8_valid(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		uint8_t c = p[i];
		uint32_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
		if (k == 9)
			return 0;
		uint32_t cp = k == 0 ? c : c & (0x3fu >> k);
		for (uint32_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int ffs_decode(const uint8_t *blob, uint32_t len, ffs_model_t *m, char *err, unsigned en)
{
	memset(m, 0, sizeof(*m));
	if (len < FFS_HEADER_LEN)
		return ffs_fail(err, en, "truncated: %u bytes, the header alone needs %d", (unsigned)len, FFS_HEADER_LEN);
	if (memcmp(blob, FFS_MAGIC, 4) != 0)
		return ffs_fail(err, en, "bad magic %02x%02x%02x%02x: not a FireFly-S model (expected '%s')", blob[0], blob[1],
			    blob[2], blob[3], FFS_MAGIC);
	uint32_t ver = rd16(blob + 4), hlen = rd16(blob + 6), blen = rd32(blob + 8), crc = rd32(blob + 12);
	if (ver == 1)
		return ffs_fail(err, en, "unknown format version 1 (this reader supports version %d): re-export it with "
			    "python -m sw.artifact OLD.ffs --upgrade NEW.ffs", FFS_VERSION);
	if (ver != FFS_VERSION)
		return ffs_fail(err, en, "unknown format version %u (this reader supports version %d)", (unsigned)ver, FFS_VERSION);
	if (hlen != FFS_HEADER_LEN)
		return ffs_fail(err, en, "inconsistent sizes: header length %u, expected %d", (unsigned)hlen, FFS_HEADER_LEN);
	if (len - hlen < blen)
		return ffs_fail(err, en, "truncated: body is %u bytes, header says %u", (unsigned)(len - hlen), (unsigned)blen);
	if (len - hlen > blen)
		return ffs_fail(err, en, "inconsistent sizes: %u trailing bytes after the body", (unsigned)(len - hlen - blen));
	const uint8_t *body = blob + hlen;
	uint32_t got = ffs_file_crc(blob, len);
	if (got != crc)
		return ffs_fail(err, en, "CRC mismatch: stored 0x%08x, computed 0x%08x", (unsigned)crc, (unsigned)got);
	uint32_t reserved = rd32(blob + 20);
	if (reserved)
		return ffs_fail(err, en, "out-of-range value: header reserved field 0x%08x (must be 0)", (unsigned)reserved);
	m->timesteps = blob[16], m->in_bits = blob[17], m->in_kind = blob[18], m->n_layers = blob[19];
	m->size = len, m->crc = crc;
	if (m->timesteps < 1 || m->timesteps > FFS_MAX_TIMESTEPS)
		return ffs_fail(err, en, "out-of-range value: timesteps %u (expected 1..%d)", m->timesteps, FFS_MAX_TIMESTEPS);
	if (m->in_bits < 1 || m->in_bits > 8)
		return ffs_fail(err, en, "out-of-range value: input bits %u (expected 1..8)", m->in_bits);
	if ((m->in_kind != FFS_IN_STATIC && m->in_kind != FFS_IN_TEMPORAL) ||
	    (m->in_kind == FFS_IN_TEMPORAL && m->in_bits != 1))
		return ffs_fail(err, en, "unsupported topology: input kind %u with %u bits (0 = static k-bit, 1 = temporal "
			    "binary)", m->in_kind, m->in_bits);
	if (m->n_layers < 1)
		return ffs_fail(err, en, "unsupported topology: zero layers");
	uint32_t n = m->n_layers;
	uint32_t nlen = blen >= 2 ? rd16(body) : 0;
	uint32_t table_at = (2 + nlen + 3) / 4 * 4;
	if (blen < 2 || (uint64_t)table_at + n * FFS_LAYER_LEN > blen)
		return ffs_fail(err, en, "inconsistent sizes: body of %u bytes too short for the notation and %u layer records",
			    (unsigned)blen, (unsigned)n);
	if (!utf8_valid(body + 2, nlen))
		return ffs_fail(err, en, "out-of-range value: notation is not UTF-8");
	for (uint32_t j = 2 + nlen; j < table_at; j++)
		if (body[j])
			return ffs_fail(err, en, "out-of-range value: non-zero padding after the notation (must be 0)");
	if (n > FFS_MAX_LAYERS)
		return ffs_fail(err, en, "unsupported topology: %u layers (this firmware supports at most %d)", (unsigned)n,
			    FFS_MAX_LAYERS);
	m->notation = (const char *)(body + 2), m->notation_len = (uint16_t)nlen;
	ffs_shape_t s[FFS_MAX_LAYERS];
	char msg[FFS_ERR_LEN];
	for (uint32_t i = 0; i < n; i++)
		if (decode_record((int)i, body + table_at + i * FFS_LAYER_LEN, &m->layer[i], &s[i], err, en))
			return -1;
	if (ffs_chain_check(s, (int)n, msg, sizeof(msg)))
		return ffs_fail(err, en, "unsupported topology: %s", msg);
	uint32_t end = table_at + n * FFS_LAYER_LEN;
	for (uint32_t i = 0; i < n; i++) {
		if (decode_data((int)i, body, blen, end, &m->layer[i], err, en))
			return -1;
		end = m->layer[i].data_off + m->layer[i].data_len;
	}
	if (end != blen)
		return ffs_fail(err, en, "inconsistent sizes: %u unused bytes after the last layer", (unsigned)(blen - end));
	return validate(m, err, en);
}

uint32_t ffs_frame_bytes(const ffs_model_t *m)
{
	const ffs_layer_t *L = &m->layer[0];
	uint32_t n = (uint32_t)L->ci * L->h * L->w;
	if (m->in_kind == FFS_IN_TEMPORAL)
		return 4 * words(n * m->timesteps);
	return (n + 3) / 4 * 4;
}

void ffs_expand_weights(const ffs_layer_t *l, int8_t *out)
{
	const uint32_t *v = l->values;
	for (uint32_t c = 0; c < l->co; c++) {
		int8_t *row = out + (uint64_t)c * l->fan_in;
		uint32_t j = 0;
		for (uint32_t k = 0; k < l->fan_in; k++) {
			if (l->bitmaps[c * l->kwords + k / 32] >> (k % 32) & 1) {
				row[k] = (int8_t)nibble_value((v[j / 8] >> (4 * (j % 8))) & 0xf);
				j++;
			} else {
				row[k] = 0;
			}
		}
		v += words(4 * j);
	}
}
