// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwrd's configuration parser (see config.h for the format and the
 * rules).  Line by line: strip the comment, split into words, check the
 * directive's words; every error is reported and parsing goes on, so one
 * run names every mistake in a file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define MAX_WORDS	4	/* one more than any directive takes */

static const char *const mode_names[] = {
	[RPWC_MODE_NN] = "n+n", [RPWC_MODE_N1] = "n+1",
	[RPWC_MODE_NONE] = "none",
};

static const struct {
	enum rpwc_level level;
	const char *name;
} level_names[] = {
	{ RPWC_LOG_ERR, "error" }, { RPWC_LOG_WARNING, "warning" },
	{ RPWC_LOG_INFO, "info" }, { RPWC_LOG_DEBUG, "debug" },
};

const char *rpwc_mode_name(enum rpwc_mode m)
{
	return (unsigned int)m < 3 ? mode_names[m] : "?";
}

int rpwc_mode_parse(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcasecmp(s, mode_names[i]))
			return i;
	return -1;
}

const char *rpwc_level_name(enum rpwc_level l)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i].level == l)
			return level_names[i].name;
	return "?";
}

int rpwc_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcasecmp(s, level_names[i].name))
			return level_names[i].level;
	return -1;
}

void rpwc_defaults(struct rpwc *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = RPWC_MODE_NN;
	c->shed_deadline_ms = RPWC_DEADLINE_DEF_MS;
	c->log_level = RPWC_LOG_INFO;
}

/* One parse: where we are and what was said. */
struct pstate {
	const char *file;
	unsigned int line;
	unsigned int errors;
	char *errs;
	size_t errlen, used;
	bool seen_mode, seen_deadline, seen_level, seen_full;
	struct rpwc *out;
};

static void __attribute__((format(printf, 2, 3)))
perr(struct pstate *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	p->errors++;
	if (!p->errlen || p->used >= p->errlen - 1)
		return;
	n = snprintf(p->errs + p->used, p->errlen - p->used, "%s:%u: ",
		     p->file, p->line);
	if (n > 0)
		p->used += (size_t)n;
	if (p->used >= p->errlen - 1) {
		p->used = p->errlen - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(p->errs + p->used, p->errlen - p->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->used += (size_t)n;
	if (p->used >= p->errlen - 1) {
		p->used = p->errlen - 1;
		return;
	}
	p->errs[p->used++] = '\n';
	p->errs[p->used] = 0;
}

/* Decimal digits only, at most @max; false on anything else. */
static bool number(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return false;
	}
	*v = n;
	return true;
}

static void do_mode(struct pstate *p, char **w)
{
	int m = rpwc_mode_parse(w[1]);

	if (m < 0)
		perr(p, "mode: '%s' is not n+n, n+1 or none", w[1]);
	else
		p->out->mode = (enum rpwc_mode)m;
}

/* "30s", "1500ms" or "2000" (milliseconds). */
static void do_deadline(struct pstate *p, char **w)
{
	char num[16];
	const char *unit;
	unsigned long v, scale = 1;
	size_t n = strspn(w[1], "0123456789");

	unit = w[1] + n;
	if (!strcmp(unit, "s"))
		scale = 1000;
	else if (*unit && strcmp(unit, "ms"))
		n = 0;		/* an unknown unit */
	if (!n || n >= sizeof(num)) {
		perr(p, "shed-deadline: '%s' is not a time (e.g. 30s or 1500ms)",
		     w[1]);
		return;
	}
	memcpy(num, w[1], n);
	num[n] = 0;
	if (!number(num, RPWC_DEADLINE_MAX_MS, &v) ||
	    v * scale < RPWC_DEADLINE_MIN_MS ||
	    v * scale > RPWC_DEADLINE_MAX_MS) {
		perr(p, "shed-deadline: %s is out of range (%ums..%us)", w[1],
		     RPWC_DEADLINE_MIN_MS, RPWC_DEADLINE_MAX_MS / 1000);
		return;
	}
	p->out->shed_deadline_ms = (uint32_t)(v * scale);
}

static void do_level(struct pstate *p, char **w)
{
	int l = rpwc_level_parse(w[1]);

	if (l < 0)
		perr(p, "log-level: '%s' is not error, warning, info or debug",
		     w[1]);
	else
		p->out->log_level = (enum rpwc_level)l;
}

static void do_full(struct pstate *p, char **w)
{
	if (!strcmp(w[1], "queue") || !strcmp(w[1], "deny"))
		p->out->deny_when_full = !strcmp(w[1], "deny");
	else
		perr(p, "when-full: '%s' is not queue or deny", w[1]);
}

/* prio CHASSIS/SLOT PRIO */
static void do_prio(struct pstate *p, char **w)
{
	unsigned long chassis, slot, prio;
	char *slash = strchr(w[1], '/');
	struct rpwc *c = p->out;
	unsigned int i;

	if (!slash) {
		perr(p, "prio: '%s' is not CHASSIS/SLOT", w[1]);
		return;
	}
	*slash = 0;
	if (!number(w[1], RPWC_CHASSIS_MAX, &chassis) ||
	    chassis < RPWC_CHASSIS_MIN) {
		perr(p, "prio: chassis '%s' is not an address %d..%d", w[1],
		     RPWC_CHASSIS_MIN, RPWC_CHASSIS_MAX);
		return;
	}
	if (!number(slash + 1, RPWC_SLOTS - 1, &slot)) {
		perr(p, "prio: slot '%s' is not 0..%d", slash + 1,
		     RPWC_SLOTS - 1);
		return;
	}
	if (!number(w[2], 255, &prio)) {
		perr(p, "prio: priority '%s' is not 0..255", w[2]);
		return;
	}
	for (i = 0; i < c->nprio; i++)
		if (c->prio[i].chassis == chassis && c->prio[i].slot == slot) {
			perr(p, "prio: %lu/%lu is set twice", chassis, slot);
			return;
		}
	/* Cannot overflow: one line per distinct slot, and that many fit. */
	c->prio[c->nprio++] = (struct rpwc_prio){ (uint8_t)chassis,
						  (uint8_t)slot,
						  (uint8_t)prio };
}

static const struct {
	const char *name;
	int words;		/* including the directive */
	void (*fn)(struct pstate *p, char **w);
	size_t seen;		/* offset of a once-only flag, or 0 */
} directives[] = {
	{ "mode", 2, do_mode, offsetof(struct pstate, seen_mode) },
	{ "shed-deadline", 2, do_deadline,
	  offsetof(struct pstate, seen_deadline) },
	{ "when-full", 2, do_full, offsetof(struct pstate, seen_full) },
	{ "log-level", 2, do_level, offsetof(struct pstate, seen_level) },
	{ "prio", 3, do_prio, 0 },
};

static void directive(struct pstate *p, char **w, int nw)
{
	size_t i;

	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
		bool *seen = directives[i].seen ?
			     (bool *)((char *)p + directives[i].seen) : NULL;

		if (strcmp(w[0], directives[i].name))
			continue;
		if (nw != directives[i].words) {
			perr(p, "%s takes %d value%s, not %d", w[0],
			     directives[i].words - 1,
			     directives[i].words > 2 ? "s" : "", nw - 1);
			return;
		}
		if (seen && *seen) {
			perr(p, "%s is set twice", w[0]);
			return;
		}
		if (seen)
			*seen = true;
		directives[i].fn(p, w);
		return;
	}
	perr(p, "unknown directive '%s'", w[0]);
}

/* One line (terminated, in a writable buffer). */
static void parse_line(struct pstate *p, char *s)
{
	char *w[MAX_WORDS];
	int nw = 0;
	char *hash = strchr(s, '#');

	if (hash)
		*hash = 0;
	for (;;) {
		s += strspn(s, " \t\r");
		if (!*s)
			break;
		if (nw == MAX_WORDS) {
			perr(p, "%s: too many values", w[0]);
			return;
		}
		w[nw++] = s;
		s += strcspn(s, " \t\r");
		if (*s)
			*s++ = 0;
	}
	if (nw)
		directive(p, w, nw);
}

unsigned int rpwc_parse(const char *file, const char *text, size_t len,
			struct rpwc *out, char *errs, size_t errlen)
{
	struct pstate p = { .file = file, .errs = errs, .errlen = errlen,
			    .out = out };
	char buf[RPWC_MAX_LINE + 1];
	size_t pos = 0;

	rpwc_defaults(out);
	if (errlen)
		errs[0] = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (memchr(text + pos, 0, n)) {
			perr(&p, "NUL byte in the line");
		} else if (n > RPWC_MAX_LINE) {
			perr(&p, "line longer than %d bytes", RPWC_MAX_LINE);
		} else {
			memcpy(buf, text + pos, n);
			buf[n] = 0;
			parse_line(&p, buf);
		}
		pos += n + 1;
	}
	return p.errors;
}
