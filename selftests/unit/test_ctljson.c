// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of rackpwrctl's JSON reader (agent/ctljson.c): a state file
 * as POLICY.md writes it is read back field by field; malformed texts
 * (each grammar rule, depth, token budget) are refused with an offset;
 * escapes are undone on read and produced on output.
 */
#include <stdlib.h>
#include <string.h>

#include "ctljson.h"
#include "tap.h"

static const char state[] =
	"{ \"node\": 3, \"addr\": 16, \"acting\": true, \"epoch\": 12,\n"
	"  \"mode\": \"n+1\", \"digest\": \"0x1234abcd\",\n"
	"  \"budget\": { \"rail_a_mw\": 9600000, \"rail_b_mw\": 9600000,\n"
	"    \"usable_mw\": 19200000, \"budget_mw\": 16000000,\n"
	"    \"granted_mw\": 3000000, \"headroom_mw\": 13000000 },\n"
	"  \"queue\": [ { \"chassis\": 32, \"slot\": 1, \"prio\": 10 },\n"
	"             { \"chassis\": 33, \"slot\": 7, \"prio\": 9 } ],\n"
	"  \"slots\": [], \"x\": [1, -2.5e3, null, false, [[]]],\n"
	"  \"text\": \"a\\\"b\\\\c\\n\\u0041\\u00e9\",\n"
	"  \"peers\": [ { \"addr\": 17, \"digest\": \"0x0\", \"match\": false } ] }";

static struct cj_tok tok[256];

static int parse(const char *s, size_t *at, const char **why)
{
	struct cj_doc d;

	return cj_parse(&d, s, strlen(s), tok, 256, at, why);
}

static void test_state(void)
{
	struct cj_doc d;
	const char *why = "";
	size_t at = 0;
	uint64_t v = 0;
	bool b = true;
	char buf[64];
	int q, e;

	tap_ok(!cj_parse(&d, state, strlen(state), tok, 256, &at, &why),
	       "state file parses (%s at %zu)", why, at);
	tap_ok(cj_u64(&d, cj_get(&d, 0, "node"), &v) && v == 3, "node 3");
	tap_ok(cj_bool(&d, cj_get(&d, 0, "acting"), &b) && b, "acting true");
	tap_ok(cj_str(&d, cj_get(&d, 0, "mode"), buf, sizeof(buf)) &&
	       !strcmp(buf, "n+1"), "mode n+1");
	tap_ok(cj_u64(&d, cj_get(&d, cj_get(&d, 0, "budget"), "headroom_mw"),
		      &v) && v == 13000000, "budget.headroom_mw after 5 keys");
	q = cj_get(&d, 0, "queue");
	tap_ok(q >= 0 && d.t[q].size == 2, "queue has 2 entries");
	e = cj_at(&d, q, 1);
	tap_ok(cj_u64(&d, cj_get(&d, e, "slot"), &v) && v == 7,
	       "queue[1].slot skips queue[0]'s subtree");
	tap_ok(cj_at(&d, q, 2) < 0, "queue[2] does not exist");
	tap_ok(cj_get(&d, 0, "missing") < 0, "missing key: -1");
	tap_ok(!cj_u64(&d, cj_at(&d, cj_get(&d, 0, "x"), 1), &v),
	       "a negative fraction is no u64");
	tap_ok(!cj_u64(&d, cj_get(&d, 0, "mode"), &v), "a string is no u64");
	tap_ok(cj_str(&d, cj_get(&d, 0, "text"), buf, sizeof(buf)) &&
	       !strcmp(buf, "a\"b\\c\nA?"), "escapes undone (%s)", buf);
	tap_ok(cj_str(&d, cj_get(&d, 0, "text"), buf, 4) &&
	       !strcmp(buf, "a\"b"), "truncated to the buffer");
	e = cj_at(&d, cj_get(&d, 0, "peers"), 0);
	tap_ok(cj_bool(&d, cj_get(&d, e, "match"), &b) && !b,
	       "peers[0].match false (key after the last array)");
}

static void test_bad(void)
{
	static const struct { const char *s; size_t at; } bad[] = {
		{ "", 0 }, { "{", 1 }, { "{\"a\" 1}", 5 }, { "{\"a\":1,}", 7 },
		{ "[1,]", 3 }, { "[1 2]", 3 }, { "{a:1}", 1 }, { "01", 1 },
		{ "1.", 2 }, { "1e", 2 }, { "-", 1 }, { "tru", 0 },
		{ "\"a", 2 }, { "\"\\x\"", 2 }, { "\"\\u12g4\"", 2 },
		{ "\"a\nb\"", 2 }, { "{} {}", 3 }, { "nul", 0 },
	};
	char deep[80];
	const char *why;
	unsigned int i;
	size_t at;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		why = NULL;
		at = 999;
		r = parse(bad[i].s, &at, &why);
		tap_ok(r < 0 && at == bad[i].at && why,
		       "refused: '%s' at %zu (%zu: %s)", bad[i].s, bad[i].at, at,
		       why ? why : "-");
	}
	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	deep[66] = '\0';
	tap_ok(parse(deep, &at, &why) < 0 && !strcmp(why, "nested too deep"),
	       "33 levels refused");
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	tap_ok(!parse(deep, &at, &why), "32 levels accepted");
	{
		struct cj_doc d;

		tap_ok(cj_parse(&d, "[1,2,3]", 7, tok, 3, &at, &why) < 0 &&
		       !strcmp(why, "too many values"), "token budget enforced");
	}
}

static void test_put(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cj_put_str(f, "a\"b\\c\n\x01z");
	fclose(f);
	tap_ok(!strcmp(out, "\"a\\\"b\\\\c\\n\\u0001z\""), "escaped: %s", out);
	free(out);
}

int main(void)
{
	test_state();
	test_bad();
	test_put();
	return tap_done();
}
