// SPDX-License-Identifier: GPL-2.0-only
/*
 * rackpwr - authenticated frames: a node's keys and the kernel's crypto API
 * around the pure rpw_auth (trailer, replay counters, key slots).
 *
 * Each node holds up to two keys, each as an "hmac(sha256)" shash transform
 * allocated and keyed in process context (key-set); the raw key bytes are
 * kept nowhere else, and the transform's memory is zeroed when it is freed
 * (crypto_free_shash()).  The MAC callbacks seal and open frames with the
 * node lock held, in softirq context: crypto_shash_digest() of a
 * synchronous shash does not sleep.  Transforms change under the node lock
 * and are freed after it is dropped, so a callback never sees a freed one.
 *
 * Documentation/networking/rackpwr-protocol.rst, "Authenticated frames".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "rackpwr.h"

static_assert((int)RPW_AUTH_OFF == (int)RACKPWR_AUTH_MODE_OFF);
static_assert((int)RPW_AUTH_OPTIONAL == (int)RACKPWR_AUTH_MODE_OPTIONAL);
static_assert((int)RPW_AUTH_REQUIRED == (int)RACKPWR_AUTH_MODE_REQUIRED);

/* A node's authentication state, allocated by its first key-set. */
struct rpw_auth_node {
	struct rpw_auth st;				/* node lock */
	struct crypto_shash *tfm[RPW_AUTH_SLOTS];	/* node lock */
};

/* Serialises key-set, key-del and the node's auth allocation and free. */
static DEFINE_MUTEX(rpw_auth_mutex);

/* rpw_auth's MAC: HMAC-SHA256 truncated to the tag.  Node lock held. */
static int rpw_auth_hmac(void *ctx, unsigned int slot, const u8 *msg,
			 size_t len, u8 *tag)
{
	struct rpw_auth_node *an = ctx;
	struct crypto_shash *tfm = an->tfm[slot];
	u8 out[SHA256_DIGEST_SIZE];
	int err;

	if (!tfm)
		return -ENOKEY;
	{
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		err = crypto_shash_digest(desc, msg, len, out);
		shash_desc_zero(desc);
	}
	if (!err)
		memcpy(tag, out, RPW_AUTH_TAG_LEN);
	memzero_explicit(out, sizeof(out));
	return err;
}

int rpw_node_auth_seal(void *ctx, struct rpw_frame *f)
{
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	return node->auth ? rpw_auth_seal(&node->auth->st, f) : 0;
}

enum rpw_auth_verdict rpw_node_auth_open(void *ctx, struct rpw_frame *f)
{
	struct rpw_node *node = ctx;

	lockdep_assert_held(&node->lock);
	if (node->auth)
		return rpw_auth_open(&node->auth->st, f);
	/* No key: nothing authenticated can be checked. */
	return f->version == RPW_PROTO_VERSION ? RPW_AUTH_OK : RPW_AUTH_BAD;
}

void rpw_node_auth_view(struct rpw_node *node, struct rpw_auth_view *v)
{
	memset(v, 0, sizeof(*v));
	spin_lock_bh(&node->lock);
	if (node->auth) {
		v->mode = rpw_auth_mode(&node->auth->st);
		v->tx_id = rpw_auth_tx_id(&node->auth->st);
		v->rx_id = rpw_auth_rx_id(&node->auth->st);
	}
	spin_unlock_bh(&node->lock);
}

/*
 * Wall-clock time in 2^-16 s: the floor of a fresh counter (see
 * RPW_AUTH_CTR_HZ_SHIFT): above every counter this module sent before a
 * reload, as long as the clock did not go back.
 */
static u64 rpw_auth_ctr_now(void)
{
	return mul_u64_u32_div(ktime_get_real_ns(), 1U << RPW_AUTH_CTR_HZ_SHIFT,
			       NSEC_PER_SEC);
}

static struct crypto_shash *rpw_auth_tfm(const u8 *key, unsigned int len,
					 struct netlink_ext_ack *extack)
{
	struct crypto_shash *tfm;
	int err;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG_MOD(extack, "hmac(sha256) not available");
		return tfm;
	}
	err = crypto_shash_setkey(tfm, key, len);
	if (err) {
		crypto_free_shash(tfm);
		NL_SET_ERR_MSG_MOD(extack, "key refused by hmac(sha256)");
		return ERR_PTR(err);
	}
	return tfm;
}

/*
 * rpw_auth_mutex held: the node's state, allocated on first use; never
 * for a node being destroyed (rpw_node_auth_free() ran or will find it).
 */
static struct rpw_auth_node *rpw_auth_node_get(struct rpw_node *node)
{
	struct rpw_auth_node *an;
	bool dead;

	lockdep_assert_held(&rpw_auth_mutex);
	if (node->auth)
		return node->auth;
	an = kzalloc(sizeof(*an), GFP_KERNEL);
	if (!an)
		return ERR_PTR(-ENOMEM);
	rpw_auth_init(&an->st, rpw_auth_hmac, an);
	spin_lock_bh(&node->lock);
	dead = node->dead;
	if (!dead)
		node->auth = an;
	spin_unlock_bh(&node->lock);
	if (dead) {
		kfree(an);
		return ERR_PTR(-ENODEV);
	}
	return an;
}

/* Node lock held: would @r leave a mode that sends without a key?  */
static const char *rpw_key_req_check(const struct rpw_auth *st,
				     const struct rpw_key_req *r)
{
	bool has_tx = rpw_auth_tx_id(st) || r->key;

	if (r->use && !r->key && rpw_auth_slot_of(st, r->id) < 0)
		return "rackpwr: no key with this id on the node";
	if (r->has_mode && r->mode != RPW_AUTH_OFF && !has_tx)
		return "rackpwr: a mode that sends authenticated frames needs a key";
	return NULL;
}

/* Node lock held, @r checked: apply it; returns the transform replaced. */
static struct crypto_shash *rpw_key_req_apply(struct rpw_auth_node *an,
					      const struct rpw_key_req *r,
					      struct crypto_shash *tfm, u64 now)
{
	struct crypto_shash *old = NULL;
	int slot;

	if (tfm) {
		slot = rpw_auth_key_slot(&an->st, r->id);
		old = an->tfm[slot];
		an->tfm[slot] = tfm;
		rpw_auth_key_installed(&an->st, slot, r->id);
	}
	if (r->use)
		rpw_auth_key_use(&an->st, r->id);
	if (r->has_mode)
		rpw_auth_set_mode(&an->st, r->mode);
	rpw_auth_ctr_floor(&an->st, now);
	return old;
}

int rpw_node_key_set(struct rpw_node *node, const struct rpw_key_req *r,
		     struct netlink_ext_ack *extack)
{
	struct crypto_shash *tfm = NULL, *old = NULL;
	struct rpw_auth_node *an;
	const char *why;
	int err = 0;

	if ((r->key || r->use) && !r->id) {
		NL_SET_ERR_MSG_MOD(extack, "key and key-use need a key-id");
		return -EINVAL;
	}
	if (!r->key && !r->use && !r->has_mode) {
		NL_SET_ERR_MSG_MOD(extack,
				   "nothing to do: give key, key-use or auth-mode");
		return -EINVAL;
	}
	if (r->key) {
		tfm = rpw_auth_tfm(r->key, r->key_len, extack);
		if (IS_ERR(tfm))
			return PTR_ERR(tfm);
	}

	mutex_lock(&rpw_auth_mutex);
	an = rpw_auth_node_get(node);
	if (IS_ERR(an)) {
		err = PTR_ERR(an);
		goto out;
	}
	spin_lock_bh(&node->lock);
	why = node->dead ? "rackpwr: node is being removed" :
			   rpw_key_req_check(&an->st, r);
	if (why) {
		err = node->dead ? -ENODEV : -EINVAL;
		/* Static strings, like the configuration validators'. */
		if (extack)
			extack->_msg = why;
	} else {
		old = rpw_key_req_apply(an, r, tfm, rpw_auth_ctr_now());
		tfm = NULL;
	}
	spin_unlock_bh(&node->lock);
out:
	mutex_unlock(&rpw_auth_mutex);
	/* Zeroed as they are freed. */
	if (!IS_ERR_OR_NULL(tfm))
		crypto_free_shash(tfm);
	if (old)
		crypto_free_shash(old);
	return err;
}

int rpw_node_key_del(struct rpw_node *node, u8 id,
		     struct netlink_ext_ack *extack)
{
	struct crypto_shash *old = NULL;
	int slot = -ENOENT;

	mutex_lock(&rpw_auth_mutex);
	spin_lock_bh(&node->lock);
	if (node->auth)
		slot = rpw_auth_key_remove(&node->auth->st, id);
	if (slot >= 0) {
		old = node->auth->tfm[slot];
		node->auth->tfm[slot] = NULL;
	}
	spin_unlock_bh(&node->lock);
	mutex_unlock(&rpw_auth_mutex);
	if (slot == -EBUSY)
		NL_SET_ERR_MSG_MOD(extack,
				   "frames are sent with this key: use another key or mode off first");
	else if (slot < 0)
		NL_SET_ERR_MSG_MOD(extack, "no key with this id on the node");
	if (old)
		crypto_free_shash(old);
	return slot < 0 ? slot : 0;
}

void rpw_node_auth_free(struct rpw_node *node)
{
	struct rpw_auth_node *an;
	unsigned int i;

	mutex_lock(&rpw_auth_mutex);
	spin_lock_bh(&node->lock);
	an = node->auth;
	node->auth = NULL;
	spin_unlock_bh(&node->lock);
	mutex_unlock(&rpw_auth_mutex);
	if (!an)
		return;
	for (i = 0; i < RPW_AUTH_SLOTS; i++)
		if (an->tfm[i])
			crypto_free_shash(an->tfm[i]);
	kfree_sensitive(an);
}
