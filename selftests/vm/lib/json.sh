# SPDX-License-Identifier: GPL-2.0-only
# JSON in guest tests (busybox has neither python3 nor jq); installed as
# /lib/rackpwr/json.sh.
#
# json_flat <FILE: parses one JSON text (RFC 8259 grammar: a malformed
# text prints "json error at byte N: WHY" and fails) and prints one line
# per scalar, PATH=VALUE, and one per array, PATH#=LENGTH:
#   {"a":[{"b":1},{"b":"x y"}],"c":true}  ->  .a[0].b=1  .a[1].b=x y
#                                             .a#=2  .c=true
# Strings are printed without their quotes, escapes kept as written
# (\" stays \"); null prints "null".  json_get PATH <FLAT: that value.
JSON_AWK='
function fail(m) { printf "json error at byte %d: %s\n", p, m; bad = 1; exit 1 }
function ws() { while (p <= n && index(" \t\r\n", substr(s, p, 1)) > 0) p++ }
function str(   o, c, e) {
	p++; o = ""
	for (;;) {
		if (p > n) fail("unterminated string")
		c = substr(s, p, 1)
		if (c == "\"") { p++; return o }
		if (c == "\\") {
			e = substr(s, p + 1, 1)
			if (e == "u") {
				if (substr(s, p + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
					fail("bad \\u escape")
				o = o substr(s, p, 6); p += 6; continue
			}
			if (index("\"\\/bfnrt", e) == 0 || e == "") fail("bad escape")
			o = o c e; p += 2; continue
		}
		if (c < " ") fail("control character in a string")
		o = o c; p++
	}
}
function value(path,   c, k, i, r) {
	if (bad) return
	ws(); if (p > n) fail("unexpected end")
	c = substr(s, p, 1)
	if (c == "{") {
		p++; ws()
		if (substr(s, p, 1) == "}") { p++; return }
		for (;;) {
			ws(); if (substr(s, p, 1) != "\"") fail("expected a key")
			k = str(); ws()
			if (substr(s, p, 1) != ":") fail("expected :")
			p++; value(path "." k); ws()
			c = substr(s, p, 1); p++
			if (c == "}") return
			if (c != ",") { p--; fail("expected , or }") }
		}
	}
	if (c == "[") {
		p++; ws(); i = 0
		if (substr(s, p, 1) == "]") { p++; print path "#=0"; return }
		for (;;) {
			value(path "[" i "]"); i++; ws()
			c = substr(s, p, 1); p++
			if (c == "]") { print path "#=" i; return }
			if (c != ",") { p--; fail("expected , or ]") }
		}
	}
	if (c == "\"") { print path "=" str(); return }
	if (match(substr(s, p), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/) ||
	    match(substr(s, p), /^(true|false|null)/)) {
		print path "=" substr(s, p, RLENGTH); p += RLENGTH; return
	}
	fail("unexpected character")
}
{ s = s $0 "\n" }
END {
	if (bad) exit 1
	n = length(s); p = 1; value(""); if (bad) exit 1
	ws(); if (p <= n) fail("trailing characters")
}'
json_flat() { awk "$JSON_AWK"; }
json_get() { awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }'; }
# jq_ FLATFILE PATH: json_get from a file of json_flat output
jq_() { json_get "$2" <"$1"; }
