/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - authenticated frames: trailer, replay counters, key slots
 * (pure logic).
 *
 * An authenticated frame is a version-2 frame whose payload ends in
 *
 *   key_id:u8 | counter:le48 | tag[RPW_AUTH_TAG_LEN]
 *
 * where tag is the first RPW_AUTH_TAG_LEN bytes of a MAC keyed with the key
 * @key_id names, over the six header bytes as sent (version 2, the flags of
 * this very transmission, len including the trailer), the payload and the
 * key id and counter.  Every transmission, retransmissions and ACKs
 * included, takes the sender's next counter and a tag of its own.
 *
 * The MAC function itself (HMAC-SHA256 from the kernel's crypto API, a
 * reference implementation in the host tests) is the caller's: rpw_auth
 * calls it through @mac with the index of the key slot.  Nothing here
 * allocates, locks or reads a clock; the caller serialises all calls on
 * one struct rpw_auth and supplies the counter floor (rpw_auth_ctr_floor()).
 *
 * Documentation/networking/rackpwr-protocol.rst, "Authenticated frames", is
 * the design text: receiver rules, replay, rotation and the threat model.
 */
#ifndef _RPW_AUTH_H
#define _RPW_AUTH_H

#include "rpw_frame.h"

#define RPW_AUTH_SLOTS		2	/* keys a node holds: tx + next/previous */
#define RPW_AUTH_NR_ADDR	256	/* replay state per sender address */
#define RPW_AUTH_CTR_MAX	((1ULL << (8 * RPW_AUTH_CTR_LEN)) - 1)
/*
 * Counter floor unit: 2^-16 s.  No line rate the MAC accepts (<= 4 Mbaud,
 * >= 25 characters per authenticated frame) sends 65536 frames a second,
 * so a counter started at the wall clock in these units never overtakes
 * it: a floor taken later (module reload, reboot) is above every counter
 * sent before, as long as the wall clock does not go back.
 */
#define RPW_AUTH_CTR_HZ_SHIFT	16

enum rpw_auth_mode {
	RPW_AUTH_OFF = 0,	/* send plain frames; accept plain + verified */
	RPW_AUTH_OPTIONAL,	/* send authenticated; accept plain + verified */
	RPW_AUTH_REQUIRED,	/* send authenticated; accept verified only */
};

/* What rpw_auth_open() decided about a received frame. */
enum rpw_auth_verdict {
	RPW_AUTH_OK = 0,	/* deliver (trailer stripped if there was one) */
	RPW_AUTH_MISSING,	/* plain frame while authentication is required */
	RPW_AUTH_BAD,		/* unknown key id or wrong tag */
	RPW_AUTH_REPLAY,	/* right tag, counter not above the last one */
};

/*
 * Compute the MAC of @msg (@len bytes) with the key in slot @slot and put
 * its first RPW_AUTH_TAG_LEN bytes in @tag.  0, or -errno (no tag).
 */
typedef int (*rpw_auth_mac_fn)(void *ctx, unsigned int slot, const u8 *msg,
			       size_t len, u8 *tag);

struct rpw_auth_slot {
	u8 id;			/* key id 1..255; 0 = slot empty */
	/* Highest counter accepted per sender under this key; 0 = none. */
	u64 last[RPW_AUTH_NR_ADDR];
};

struct rpw_auth {
	/* All fields private; read them through the accessors below. */
	u8 mode;		/* enum rpw_auth_mode */
	u8 tx_slot;		/* slot sent with, when its id is set */
	u64 tx_ctr;		/* last counter sent */
	struct rpw_auth_slot slot[RPW_AUTH_SLOTS];
	rpw_auth_mac_fn mac;
	void *ctx;
};

void rpw_auth_init(struct rpw_auth *a, rpw_auth_mac_fn mac, void *ctx);

/* The slot holding key @id, or -ENOENT. */
int rpw_auth_slot_of(const struct rpw_auth *a, u8 id);

/*
 * Choose the slot for key @id (1..255): the slot holding @id already (its
 * key is replaced), else an empty one, else the one not sent with.  The
 * caller puts the key into the returned slot, then calls
 * rpw_auth_key_installed().  -EINVAL for id 0.  Changes nothing.
 */
int rpw_auth_key_slot(const struct rpw_auth *a, u8 id);
/*
 * Key @id is now in @slot: its replay state starts afresh; the first key a
 * node gets is the one it sends with.
 */
void rpw_auth_key_installed(struct rpw_auth *a, unsigned int slot, u8 id);
/* Send with key @id from now on: 0 or -ENOENT. */
int rpw_auth_key_use(struct rpw_auth *a, u8 id);
/*
 * Forget key @id: the freed slot, -ENOENT, or -EBUSY when it is the key
 * sent with and the mode is not off (use another key or mode off first).
 */
int rpw_auth_key_remove(struct rpw_auth *a, u8 id);
/* -EINVAL (no key to send with for a mode that sends) or 0. */
int rpw_auth_set_mode(struct rpw_auth *a, enum rpw_auth_mode mode);
/* Counters continue above @floor (masked to 48 bits). */
void rpw_auth_ctr_floor(struct rpw_auth *a, u64 floor);

enum rpw_auth_mode rpw_auth_mode(const struct rpw_auth *a);
/* Key id sent with, or 0 (none). */
u8 rpw_auth_tx_id(const struct rpw_auth *a);
/* Id of the other key held (accepted, not sent with), or 0. */
u8 rpw_auth_rx_id(const struct rpw_auth *a);
u64 rpw_auth_tx_ctr(const struct rpw_auth *a);

/*
 * Transmit path, with the final header of this transmission in @f: in a
 * mode that sends authenticated frames, append the trailer (next counter,
 * tag) and set version 2; else leave @f alone.  0, -EMSGSIZE (payload
 * longer than RPW_AUTH_MAX_PAYLOAD), -EOVERFLOW (counter exhausted) or the
 * MAC's error.
 */
int rpw_auth_seal(struct rpw_auth *a, struct rpw_frame *f);

/*
 * Receive path, before anything acts on @f: verify a version-2 frame and
 * strip its trailer (version stays 2: the frame was authenticated), or
 * judge a plain frame by the mode.  Only RPW_AUTH_OK frames may be
 * delivered, acknowledged or remembered; the replay state moves only for
 * them.
 */
enum rpw_auth_verdict rpw_auth_open(struct rpw_auth *a, struct rpw_frame *f);

/* Equal, in time that does not depend on where they differ. */
bool rpw_auth_tag_eq(const u8 *a, const u8 *b, size_t len);

#endif /* _RPW_AUTH_H */
