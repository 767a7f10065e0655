// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrctl's JSON reader and string escaping (see ctljson.h).
 */
#include <string.h>

#include "ctljson.h"

#define CJ_DEPTH	32

struct cj_p {
	struct cj_doc *d;
	size_t len, pos;
	int max;
	const char *why;
};

static void cj_ws(struct cj_p *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->d->s[p->pos]))
		p->pos++;
}

static int cj_new(struct cj_p *p, enum cj_type type)
{
	struct cj_tok *t;

	if (p->d->n >= p->max) {
		p->why = "too many values";
		return -1;
	}
	t = &p->d->t[p->d->n];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->start = p->pos;
	return p->d->n++;
}

static int cj_fail(struct cj_p *p, const char *why)
{
	p->why = why;
	return -1;
}

static int cj_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string at p->pos (its opening quote); the token spans its contents. */
static int cj_string(struct cj_p *p)
{
	const char *s = p->d->s;
	int i, k;

	p->pos++;
	i = cj_new(p, CJ_STR);
	if (i < 0)
		return -1;
	while (p->pos < p->len && s[p->pos] != '"') {
		unsigned char c = s[p->pos];

		if (c < 0x20)
			return cj_fail(p, "control character in a string");
		if (c == '\\') {
			if (++p->pos >= p->len)
				break;
			if (s[p->pos] == 'u') {
				for (k = 1; k <= 4; k++)
					if (p->pos + k >= p->len ||
					    cj_hex(s[p->pos + k]) < 0)
						return cj_fail(p, "bad \\u escape");
				p->pos += 4;
			} else if (!strchr("\"\\/bfnrt", s[p->pos])) {
				return cj_fail(p, "bad escape");
			}
		}
		p->pos++;
	}
	if (p->pos >= p->len)
		return cj_fail(p, "unterminated string");
	p->d->t[i].end = p->pos++;
	p->d->t[i].next = p->d->n;
	return i;
}

static bool cj_digits(struct cj_p *p)
{
	size_t from = p->pos;

	while (p->pos < p->len && p->d->s[p->pos] >= '0' &&
	       p->d->s[p->pos] <= '9')
		p->pos++;
	return p->pos > from;
}

static int cj_number(struct cj_p *p)
{
	const char *s = p->d->s;
	int i = cj_new(p, CJ_NUM);

	if (i < 0)
		return -1;
	if (s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && s[p->pos] == '0')
		p->pos++;
	else if (!cj_digits(p))
		return cj_fail(p, "bad number");
	if (p->pos < p->len && s[p->pos] == '.') {
		p->pos++;
		if (!cj_digits(p))
			return cj_fail(p, "bad fraction");
	}
	if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
			p->pos++;
		if (!cj_digits(p))
			return cj_fail(p, "bad exponent");
	}
	p->d->t[i].end = p->pos;
	p->d->t[i].next = p->d->n;
	return i;
}

static int cj_word(struct cj_p *p, const char *w, enum cj_type type)
{
	size_t l = strlen(w);
	int i;

	if (p->len - p->pos < l || memcmp(p->d->s + p->pos, w, l))
		return cj_fail(p, "unexpected character");
	i = cj_new(p, type);
	if (i < 0)
		return -1;
	p->pos += l;
	p->d->t[i].end = p->pos;
	p->d->t[i].next = p->d->n;
	return i;
}

static int cj_value(struct cj_p *p, int depth);

/* An object or array at p->pos; @close is '}' or ']'. */
static int cj_container(struct cj_p *p, int depth, char close)
{
	bool obj = close == '}';
	int i, v;

	if (depth >= CJ_DEPTH)
		return cj_fail(p, "nested too deep");
	i = cj_new(p, obj ? CJ_OBJ : CJ_ARR);
	if (i < 0)
		return -1;
	p->pos++;
	cj_ws(p);
	if (p->pos < p->len && p->d->s[p->pos] == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		cj_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->d->s[p->pos] != '"')
				return cj_fail(p, "expected a key");
			if (cj_string(p) < 0)
				return -1;
			cj_ws(p);
			if (p->pos >= p->len || p->d->s[p->pos] != ':')
				return cj_fail(p, "expected ':'");
			p->pos++;
		}
		v = cj_value(p, depth + 1);
		if (v < 0)
			return -1;
		p->d->t[i].size++;
		cj_ws(p);
		if (p->pos < p->len && p->d->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->d->s[p->pos] == close) {
			p->pos++;
			break;
		}
		return cj_fail(p, obj ? "expected ',' or '}'" :
			       "expected ',' or ']'");
	}
done:
	p->d->t[i].end = p->pos;
	p->d->t[i].next = p->d->n;
	return i;
}

static int cj_value(struct cj_p *p, int depth)
{
	char c;

	cj_ws(p);
	if (p->pos >= p->len)
		return cj_fail(p, "unexpected end");
	c = p->d->s[p->pos];
	switch (c) {
	case '{':
		return cj_container(p, depth, '}');
	case '[':
		return cj_container(p, depth, ']');
	case '"':
		return cj_string(p);
	case 't':
		return cj_word(p, "true", CJ_TRUE);
	case 'f':
		return cj_word(p, "false", CJ_FALSE);
	case 'n':
		return cj_word(p, "null", CJ_NULL);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return cj_number(p);
		return cj_fail(p, "unexpected character");
	}
}

int cj_parse(struct cj_doc *d, const char *s, size_t len, struct cj_tok *t,
	     int max, size_t *err_at, const char **why)
{
	struct cj_p p = { .d = d, .len = len, .max = max };

	d->s = s;
	d->t = t;
	d->n = 0;
	if (cj_value(&p, 0) >= 0) {
		cj_ws(&p);
		if (p.pos == len)
			return 0;
		p.why = "trailing characters";
	}
	*err_at = p.pos;
	*why = p.why;
	d->n = 0;
	return -1;
}

int cj_get(const struct cj_doc *d, int obj, const char *key)
{
	size_t kl = strlen(key);
	int i, k;

	if (obj < 0 || obj >= d->n || d->t[obj].type != CJ_OBJ)
		return -1;
	for (i = obj + 1, k = 0; k < d->t[obj].size; k++) {
		const struct cj_tok *t = &d->t[i];

		/* Keys are compared raw: the state file's keys need no escapes. */
		if (t->end - t->start == kl && !memcmp(d->s + t->start, key, kl))
			return i + 1;
		i = d->t[i + 1].next;
	}
	return -1;
}

int cj_at(const struct cj_doc *d, int arr, int i)
{
	int j, k;

	if (arr < 0 || arr >= d->n || d->t[arr].type != CJ_ARR ||
	    i < 0 || i >= d->t[arr].size)
		return -1;
	for (j = arr + 1, k = 0; k < i; k++)
		j = d->t[j].next;
	return j;
}

bool cj_u64(const struct cj_doc *d, int i, uint64_t *v)
{
	const struct cj_tok *t;
	uint64_t r = 0;
	size_t k;

	if (i < 0 || i >= d->n || d->t[i].type != CJ_NUM)
		return false;
	t = &d->t[i];
	for (k = t->start; k < t->end; k++) {
		unsigned int c = d->s[k] - '0';

		if (c > 9 || r > (UINT64_MAX - c) / 10)
			return false;	/* sign, fraction, exponent, overflow */
		r = r * 10 + c;
	}
	*v = r;
	return true;
}

bool cj_bool(const struct cj_doc *d, int i, bool *v)
{
	if (i < 0 || i >= d->n ||
	    (d->t[i].type != CJ_TRUE && d->t[i].type != CJ_FALSE))
		return false;
	*v = d->t[i].type == CJ_TRUE;
	return true;
}

static char cj_unescape(char c)
{
	switch (c) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return c;	/* " \ / */
	}
}

bool cj_str(const struct cj_doc *d, int i, char *buf, size_t len)
{
	const struct cj_tok *t;
	size_t k, o = 0;

	if (i < 0 || i >= d->n || d->t[i].type != CJ_STR || !len)
		return false;
	t = &d->t[i];
	for (k = t->start; k < t->end && o + 1 < len; k++) {
		char c = d->s[k];

		if (c == '\\') {
			c = d->s[++k];
			if (c == 'u') {
				unsigned int u = 0, h;

				for (h = 1; h <= 4; h++)
					u = u << 4 | cj_hex(d->s[k + h]);
				k += 4;
				c = u && u < 0x80 ? (char)u : '?';
			} else {
				c = cj_unescape(c);
			}
		}
		buf[o++] = c;
	}
	buf[o] = '\0';
	return true;
}

void cj_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
