// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - capacity of the rack's power-supply assemblies (pure logic).
 *
 * The table, epoch fencing, the loss rule and the CAP_QUERY/CAP_REPORT
 * payloads; rpw_cap.h states the rules and the calling conventions.
 */
#include "rpw_cap.h"

void rpw_cap_table_init(struct rpw_cap_table *t, u8 self)
{
	memset(t, 0, sizeof(*t));
	t->self = self;
}

static bool rpw_cap_same(const struct rpw_cap_entry *e,
			 const struct rpw_cap_entry *n)
{
	return e->known && !e->lost && e->bank_mw[0] == n->bank_mw[0] &&
	       e->bank_mw[1] == n->bank_mw[1] && e->present == n->present &&
	       e->healthy == n->healthy && e->digest == n->digest;
}

/* Store @n's values as a fresh line; true when anything changed. */
static bool rpw_cap_store(struct rpw_cap_entry *e,
			  const struct rpw_cap_entry *n, u64 now)
{
	bool changed = !rpw_cap_same(e, n);

	if (!e->known)
		e->mismatch = false;	/* a new line: not judged yet */
	e->bank_mw[0] = n->bank_mw[0];
	e->bank_mw[1] = n->bank_mw[1];
	e->present = n->present;
	e->healthy = n->healthy;
	e->digest = n->digest;
	e->known = true;
	e->lost = false;
	e->missed = 0;
	e->last_ns = now;
	return changed;
}

bool rpw_cap_set_local(struct rpw_cap_table *t,
		       const struct rpw_cap_entry *l, u64 now)
{
	struct rpw_cap_entry *own = &t->ent[t->self];
	struct rpw_cap_entry n;

	if (t->self == RPW_ADDR_NONE)
		return false;
	if (!l) {
		if (!own->known)
			return false;
		memset(own, 0, sizeof(*own));
		return true;
	}
	n = *l;
	n.digest = t->digest;
	return rpw_cap_store(own, &n, now);
}

bool rpw_cap_set_digest(struct rpw_cap_table *t, u32 digest)
{
	bool changed = t->digest != digest;

	t->digest = digest;
	if (t->self != RPW_ADDR_NONE && t->ent[t->self].known)
		t->ent[t->self].digest = digest;
	return changed;
}

int rpw_cap_judge(struct rpw_cap_table *t, bool is_primary, int from)
{
	u32 ref = is_primary ? t->digest : t->primary_digest;

	for (; from >= 0 && from < RPW_CAP_NR_ADDR; from++) {
		struct rpw_cap_entry *e = &t->ent[from];
		bool mm;

		if (!e->known)
			continue;
		e->ref_digest = ref;
		mm = e->digest && ref && e->digest != ref;
		if (mm != e->mismatch) {
			e->mismatch = mm;
			return from;
		}
	}
	return -ENOENT;
}

bool rpw_cap_has_local(const struct rpw_cap_table *t)
{
	return t->self != RPW_ADDR_NONE && t->ent[t->self].known;
}

void rpw_cap_forget_others(struct rpw_cap_table *t)
{
	unsigned int a;

	for (a = 0; a < RPW_CAP_NR_ADDR; a++)
		if (a != t->self)
			t->ent[a].known = false;
}

enum rpw_cap_rx_result rpw_cap_rx(struct rpw_cap_table *t,
				  const struct rpw_cap_view *v,
				  const struct rpw_frame *f, u64 now)
{
	struct rpw_cap_entry n;
	u32 epoch, digest;

	if (f->type == RPW_T_CAP_QUERY) {
		/* Fencing: only the current epoch's primary is answered. */
		if (rpw_cap_unpack_query(f, &epoch, &digest) ||
		    epoch != v->epoch || f->src != v->primary ||
		    v->is_primary || !rpw_cap_has_local(t))
			return RPW_CAP_RX_IGNORE;
		t->primary_digest = digest;
		return RPW_CAP_RX_ANSWER;
	}
	/* Reports to an old primary, or sent in an old epoch, are stale. */
	if (rpw_cap_unpack_report(f, &epoch, &n) || epoch != v->epoch ||
	    !v->is_primary || f->src == t->self)
		return RPW_CAP_RX_IGNORE;
	return rpw_cap_store(&t->ent[f->src], &n, now) ?
	       RPW_CAP_RX_CHANGED : RPW_CAP_RX_IGNORE;
}

int rpw_cap_query_round(struct rpw_cap_table *t, int from)
{
	for (; from >= 0 && from < RPW_CAP_NR_ADDR; from++) {
		struct rpw_cap_entry *e = &t->ent[from];

		if (from == t->self || !e->known || e->lost)
			continue;
		if (e->missed < RPW_CAP_LOST_QUERIES) {
			e->missed++;
			continue;
		}
		e->lost = true;
		return from;
	}
	return -ENOENT;
}

int rpw_cap_next(const struct rpw_cap_table *t, int addr)
{
	for (; addr >= 0 && addr < RPW_CAP_NR_ADDR; addr++)
		if (t->ent[addr].known)
			return addr;
	return -ENOENT;
}

u64 rpw_cap_total_mw(const struct rpw_cap_table *t, unsigned int bank)
{
	u64 sum = 0;
	unsigned int a;

	if (bank >= RPW_CAP_BANKS)
		return 0;
	for (a = 0; a < RPW_CAP_NR_ADDR; a++)
		if (t->ent[a].known && !t->ent[a].lost)
			sum += t->ent[a].bank_mw[bank];
	return sum;
}

u32 rpw_cap_mw_to_w(u64 mw)
{
	u64 w = mw / 1000;

	return w > 0xffffffffULL ? 0xffffffffU : (u32)w;
}

void rpw_cap_pack_query_digest(struct rpw_frame *f, u32 epoch, u32 digest)
{
	struct rpw_cap_query q = {
		.epoch = cpu_to_le32(epoch),
		.digest = cpu_to_le32(digest),
	};

	memset(f, 0, sizeof(*f));
	f->type = RPW_T_CAP_QUERY;
	f->dst = RPW_ADDR_BCAST;
	f->len = digest ? RPW_CAP_QUERY_DIGEST_LEN : RPW_CAP_QUERY_LEN;
	memcpy(f->payload, &q, f->len);
}

void rpw_cap_pack_query(struct rpw_frame *f, u32 epoch)
{
	rpw_cap_pack_query_digest(f, epoch, 0);
}

void rpw_cap_pack_report(struct rpw_frame *f, u8 dst, u32 epoch,
			 const struct rpw_cap_entry *own)
{
	struct rpw_cap_report r = {
		.epoch = cpu_to_le32(epoch),
		.bank_w = {
			cpu_to_le32(rpw_cap_mw_to_w(own->bank_mw[0])),
			cpu_to_le32(rpw_cap_mw_to_w(own->bank_mw[1])),
		},
		.present = own->present,
		.healthy = own->healthy,
		.flags = cpu_to_le16(0),
		.digest = cpu_to_le32(own->digest),
	};

	memset(f, 0, sizeof(*f));
	f->type = RPW_T_CAP_REPORT;
	f->dst = dst;
	f->flags = RPW_F_ACKREQ;
	f->len = own->digest ? RPW_CAP_REPORT_DIGEST_LEN : RPW_CAP_REPORT_LEN;
	memcpy(f->payload, &r, f->len);
}

/* The short or the long form; the codec's table allows only these. */
static bool rpw_cap_len_ok(const struct rpw_frame *f, u8 type, u8 len)
{
	return f->type == type &&
	       (f->len == len || f->len == len + RPW_CAP_DIGEST_LEN);
}

int rpw_cap_unpack_query(const struct rpw_frame *f, u32 *epoch, u32 *digest)
{
	struct rpw_cap_query q = {};

	if (!rpw_cap_len_ok(f, RPW_T_CAP_QUERY, RPW_CAP_QUERY_LEN))
		return -EINVAL;
	memcpy(&q, f->payload, f->len);
	*epoch = le32_to_cpu(q.epoch);
	*digest = le32_to_cpu(q.digest);
	return 0;
}

int rpw_cap_unpack_report(const struct rpw_frame *f, u32 *epoch,
			  struct rpw_cap_entry *out)
{
	struct rpw_cap_report r = {};

	if (!rpw_cap_len_ok(f, RPW_T_CAP_REPORT, RPW_CAP_REPORT_LEN))
		return -EINVAL;
	memcpy(&r, f->payload, f->len);
	memset(out, 0, sizeof(*out));
	*epoch = le32_to_cpu(r.epoch);
	out->bank_mw[0] = (u64)le32_to_cpu(r.bank_w[0]) * 1000;
	out->bank_mw[1] = (u64)le32_to_cpu(r.bank_w[1]) * 1000;
	out->present = r.present;
	out->healthy = r.healthy;
	out->digest = le32_to_cpu(r.digest);
	return 0;
}
