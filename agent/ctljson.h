/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwrctl's JSON: a strict reader for the agent's state file (RFC 8259
 * grammar, no extensions) and the string escaping of its -j output.
 *
 * The reader tokenizes a whole text in place into a caller's token array,
 * one token per value (objects, arrays, strings, numbers, true/false/null;
 * an object's keys are string tokens followed by their value).  It keeps
 * no pointers into the text beyond offsets and allocates nothing.  Lookups
 * walk the tokens; a state file holds a few hundred of them.
 */
#ifndef _RPW_AGENT_CTLJSON_H
#define _RPW_AGENT_CTLJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cj_type { CJ_OBJ, CJ_ARR, CJ_STR, CJ_NUM, CJ_TRUE, CJ_FALSE, CJ_NULL };

struct cj_tok {
	enum cj_type type;
	size_t start, end;	/* text span; a string's without its quotes */
	int next;		/* index of the token after this value's subtree */
	int size;		/* members (object: key/value pairs) */
};

struct cj_doc {
	const char *s;
	struct cj_tok *t;
	int n;			/* tokens in use */
};

/*
 * Parse @len bytes of @s into @t (at most @max tokens).  Returns 0, or -1
 * with the byte offset of the error in *@err_at and a reason in *@why
 * (a static string): bad grammar, nesting deeper than 32, too many tokens.
 */
int cj_parse(struct cj_doc *d, const char *s, size_t len, struct cj_tok *t,
	     int max, size_t *err_at, const char **why);
/* The value under @key in object token @obj, or -1. */
int cj_get(const struct cj_doc *d, int obj, const char *key);
/* Element @i of array token @arr, or -1. */
int cj_at(const struct cj_doc *d, int arr, int i);
/* Typed reads of token @i (-1 is accepted and fails): true on success. */
bool cj_u64(const struct cj_doc *d, int i, uint64_t *v);
bool cj_bool(const struct cj_doc *d, int i, bool *v);
/* The unescaped string (\uXXXX outside ASCII becomes '?'), truncated to fit. */
bool cj_str(const struct cj_doc *d, int i, char *buf, size_t len);

/* Print @s as a JSON string literal, quotes included. */
void cj_put_str(FILE *f, const char *s);

#endif /* _RPW_AGENT_CTLJSON_H */
