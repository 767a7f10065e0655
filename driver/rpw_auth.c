// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - authenticated frames: trailer layout, replay counters and key
 * slots.
 *
 * Pure logic shared by the kernel module and the user-space tests: no
 * allocation, no locking, no clocks; the MAC function is the caller's.
 * Format and rules: rpw_auth.h and Documentation/networking/
 * rackpwr-protocol.rst ("Authenticated frames").
 */

#include "rpw_compat.h"
#include "rpw_auth.h"

/* Offsets inside the trailer. */
#define RPW_AUTH_OFF_CTR	RPW_AUTH_KEYID_LEN
#define RPW_AUTH_OFF_TAG	(RPW_AUTH_KEYID_LEN + RPW_AUTH_CTR_LEN)

void rpw_auth_init(struct rpw_auth *a, rpw_auth_mac_fn mac, void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->mac = mac;
	a->ctx = ctx;
}

int rpw_auth_slot_of(const struct rpw_auth *a, u8 id)
{
	unsigned int i;

	for (i = 0; id && i < RPW_AUTH_SLOTS; i++)
		if (a->slot[i].id == id)
			return i;
	return -ENOENT;
}

static bool rpw_auth_has_tx(const struct rpw_auth *a)
{
	return a->slot[a->tx_slot].id != 0;
}

int rpw_auth_key_slot(const struct rpw_auth *a, u8 id)
{
	int i = rpw_auth_slot_of(a, id);

	if (!id)
		return -EINVAL;
	if (i >= 0)
		return i;
	for (i = 0; i < RPW_AUTH_SLOTS; i++)
		if (!a->slot[i].id)
			return i;
	/* Both full: the key not sent with makes room (two slots). */
	return !a->tx_slot;
}

void rpw_auth_key_installed(struct rpw_auth *a, unsigned int slot, u8 id)
{
	struct rpw_auth_slot *s = &a->slot[slot];

	/* A new key's counters owe nothing to the old one's. */
	memset(s, 0, sizeof(*s));
	s->id = id;
	if (!rpw_auth_has_tx(a))
		a->tx_slot = slot;
}

int rpw_auth_key_use(struct rpw_auth *a, u8 id)
{
	int i = rpw_auth_slot_of(a, id);

	if (i < 0)
		return i;
	a->tx_slot = i;
	return 0;
}

int rpw_auth_key_remove(struct rpw_auth *a, u8 id)
{
	int i = rpw_auth_slot_of(a, id);

	if (i < 0)
		return i;
	if (i == a->tx_slot && a->mode != RPW_AUTH_OFF)
		return -EBUSY;
	memset(&a->slot[i], 0, sizeof(a->slot[i]));
	/* The other key, if any, is the one to send with. */
	if (i == a->tx_slot && a->slot[!i].id)
		a->tx_slot = !i;
	return i;
}

int rpw_auth_set_mode(struct rpw_auth *a, enum rpw_auth_mode mode)
{
	if (mode > RPW_AUTH_REQUIRED)
		return -EINVAL;
	if (mode != RPW_AUTH_OFF && !rpw_auth_has_tx(a))
		return -EINVAL;
	a->mode = mode;
	return 0;
}

void rpw_auth_ctr_floor(struct rpw_auth *a, u64 floor)
{
	floor &= RPW_AUTH_CTR_MAX;
	if (floor > a->tx_ctr)
		a->tx_ctr = floor;
}

enum rpw_auth_mode rpw_auth_mode(const struct rpw_auth *a)
{
	return a->mode;
}

u8 rpw_auth_tx_id(const struct rpw_auth *a)
{
	return a->slot[a->tx_slot].id;
}

u8 rpw_auth_rx_id(const struct rpw_auth *a)
{
	return a->slot[!a->tx_slot].id;
}

u64 rpw_auth_tx_ctr(const struct rpw_auth *a)
{
	return a->tx_ctr;
}

bool rpw_auth_tag_eq(const u8 *a, const u8 *b, size_t len)
{
	u8 diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

static void rpw_put_le48(u64 v, u8 *p)
{
	unsigned int i;

	for (i = 0; i < RPW_AUTH_CTR_LEN; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u64 rpw_get_le48(const u8 *p)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < RPW_AUTH_CTR_LEN; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* Tag of sealed frame @f (trailer in place) with the key in @slot. */
static int rpw_auth_tag(struct rpw_auth *a, unsigned int slot,
			const struct rpw_frame *f, u8 *tag)
{
	u8 msg[RPW_HDR_LEN + RPW_MAX_PAYLOAD];
	size_t n = f->len - RPW_AUTH_TAG_LEN;

	rpw_frame_header(f, msg);
	memcpy(msg + RPW_HDR_LEN, f->payload, n);
	return a->mac(a->ctx, slot, msg, RPW_HDR_LEN + n, tag);
}

int rpw_auth_seal(struct rpw_auth *a, struct rpw_frame *f)
{
	u8 *t = f->payload + f->len;
	int ret;

	if (a->mode == RPW_AUTH_OFF)
		return 0;
	if (f->len > RPW_AUTH_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (a->tx_ctr >= RPW_AUTH_CTR_MAX)
		return -EOVERFLOW;
	/* Taken even if the tag fails: a counter is never sent twice. */
	a->tx_ctr++;
	t[0] = a->slot[a->tx_slot].id;
	rpw_put_le48(a->tx_ctr, t + RPW_AUTH_OFF_CTR);
	f->version = RPW_PROTO_VERSION_AUTH;
	f->len += RPW_AUTH_TRAILER_LEN;
	ret = rpw_auth_tag(a, a->tx_slot, f, t + RPW_AUTH_OFF_TAG);
	if (ret) {
		f->version = RPW_PROTO_VERSION;
		f->len -= RPW_AUTH_TRAILER_LEN;
		memset(t, 0, RPW_AUTH_TRAILER_LEN);
	}
	return ret;
}

enum rpw_auth_verdict rpw_auth_open(struct rpw_auth *a, struct rpw_frame *f)
{
	u8 tag[RPW_AUTH_TAG_LEN];
	const u8 *t;
	u64 ctr;
	int i;

	if (f->version != RPW_PROTO_VERSION_AUTH)
		return a->mode == RPW_AUTH_REQUIRED ? RPW_AUTH_MISSING :
						      RPW_AUTH_OK;
	/* The codec guarantees the trailer; a caller bypassing it does not. */
	if (f->len < RPW_AUTH_TRAILER_LEN || f->len > RPW_MAX_PAYLOAD)
		return RPW_AUTH_BAD;
	t = f->payload + f->len - RPW_AUTH_TRAILER_LEN;
	i = rpw_auth_slot_of(a, t[0]);
	if (i < 0)
		return RPW_AUTH_BAD;
	if (rpw_auth_tag(a, i, f, tag) ||
	    !rpw_auth_tag_eq(tag, t + RPW_AUTH_OFF_TAG, RPW_AUTH_TAG_LEN))
		return RPW_AUTH_BAD;
	/* One sender's frames reach us in the order it tagged them. */
	ctr = rpw_get_le48(t + RPW_AUTH_OFF_CTR);
	if (ctr <= a->slot[i].last[f->src])
		return RPW_AUTH_REPLAY;
	a->slot[i].last[f->src] = ctr;
	f->len -= RPW_AUTH_TRAILER_LEN;
	memset(f->payload + f->len, 0, RPW_AUTH_TRAILER_LEN);
	return RPW_AUTH_OK;
}
