/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/rackpwr.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_RACKPWR_H
#define _UAPI_LINUX_RACKPWR_H

#define RACKPWR_FAMILY_NAME	"rackpwr"
#define RACKPWR_FAMILY_VERSION	1

#define RACKPWR_MAX_PAYLOAD	64

/**
 * enum rackpwr_role - What a bus node is.
 * @RACKPWR_ROLE_PSU: Power-supply communication module (PSCM); may become
 *   primary.
 * @RACKPWR_ROLE_CHASSIS: Chassis communication module (CCM); follows the
 *   primary.
 */
enum rackpwr_role {
	RACKPWR_ROLE_PSU = 1,
	RACKPWR_ROLE_CHASSIS,
};

/**
 * enum rackpwr_kind - Transport of a bus node.
 * @RACKPWR_KIND_SIM: Node on a simulated bus (rackpwr_sim module, tests only).
 * @RACKPWR_KIND_LDISC: tty line discipline attached from user space.
 * @RACKPWR_KIND_SERDEV: serdev device described by firmware (device tree).
 */
enum rackpwr_kind {
	RACKPWR_KIND_SIM = 1,
	RACKPWR_KIND_LDISC,
	RACKPWR_KIND_SERDEV,
};

/**
 * enum rackpwr_frame_type - Frame types user space may send with frame-send.
 */
enum rackpwr_frame_type {
	RACKPWR_FRAME_TYPE_DATA = 2,
	RACKPWR_FRAME_TYPE_TEST = 127,
};

/**
 * enum rackpwr_event - Bus events reported in bus-event-ntf.
 * @RACKPWR_EVENT_DUP_ADDR: Another module transmits with this node's address.
 * @RACKPWR_EVENT_PEER_NEW: A module was heard for the first time.
 */
enum rackpwr_event {
	RACKPWR_EVENT_DUP_ADDR = 1,
	RACKPWR_EVENT_PEER_NEW,
};

/**
 * enum rackpwr_elect_state - Election state of a node (the uapi mirror of the
 *   state machine's).
 */
enum rackpwr_elect_state {
	RACKPWR_ELECT_STATE_IDLE,
	RACKPWR_ELECT_STATE_DISCOVER,
	RACKPWR_ELECT_STATE_SECONDARY,
	RACKPWR_ELECT_STATE_TAKEOVER,
	RACKPWR_ELECT_STATE_PRIMARY,
	RACKPWR_ELECT_STATE_FOLLOWER,
	RACKPWR_ELECT_STATE_STOPPED,
};

/**
 * enum rackpwr_elect_event - Election transitions reported in elect-ntf.
 * @RACKPWR_ELECT_EVENT_PROMOTED: This node claimed the primary role in a new
 *   epoch.
 * @RACKPWR_ELECT_EVENT_DEMOTED: This node lost the primary role (addr is the
 *   winner).
 * @RACKPWR_ELECT_EVENT_EPOCH_CHANGED: The node's epoch changed: it rose, or it
 *   fell back when the node rejoined a rack running in an earlier epoch.
 * @RACKPWR_ELECT_EVENT_PRIMARY_CHANGED: The node now follows the primary at
 *   addr.
 * @RACKPWR_ELECT_EVENT_PRIMARY_LOST: The primary at addr fell silent for the
 *   detection time.
 * @RACKPWR_ELECT_EVENT_CONFLICT: A rival primary was heard; resolved by
 *   (epoch, address).
 * @RACKPWR_ELECT_EVENT_DUP_ADDR: Another module claims this node's address.
 * @RACKPWR_ELECT_EVENT_LEASE_LOST: The primary's lease lapsed without
 *   confirmation; it fenced itself.
 * @RACKPWR_ELECT_EVENT_LEASE_OK: The primary's lease is confirmed; it acts as
 *   primary.
 * @RACKPWR_ELECT_EVENT_STALL: The node's timer ran late (stalled module);
 *   state re-validated.
 * @RACKPWR_ELECT_EVENT_STEP_DOWN: A primary handed over (administrative
 *   step-down).
 */
enum rackpwr_elect_event {
	RACKPWR_ELECT_EVENT_PROMOTED = 1,
	RACKPWR_ELECT_EVENT_DEMOTED,
	RACKPWR_ELECT_EVENT_EPOCH_CHANGED,
	RACKPWR_ELECT_EVENT_PRIMARY_CHANGED,
	RACKPWR_ELECT_EVENT_PRIMARY_LOST,
	RACKPWR_ELECT_EVENT_CONFLICT,
	RACKPWR_ELECT_EVENT_DUP_ADDR,
	RACKPWR_ELECT_EVENT_LEASE_LOST,
	RACKPWR_ELECT_EVENT_LEASE_OK,
	RACKPWR_ELECT_EVENT_STALL,
	RACKPWR_ELECT_EVENT_STEP_DOWN,
};

/**
 * enum rackpwr_auth_mode - Authenticated frames (rackpwr-protocol.rst,
 *   "Authenticated frames"). Frames that verify under a key the node holds are
 *   accepted in every mode.
 * @RACKPWR_AUTH_MODE_OFF: Send plain frames; accept plain frames too. The
 *   default.
 * @RACKPWR_AUTH_MODE_OPTIONAL: Send authenticated frames; accept plain frames
 *   too (while the rack is switched over).
 * @RACKPWR_AUTH_MODE_REQUIRED: Send authenticated frames; drop plain frames
 *   (counted in auth-missing) and every frame that does not verify.
 */
enum rackpwr_auth_mode {
	RACKPWR_AUTH_MODE_OFF,
	RACKPWR_AUTH_MODE_OPTIONAL,
	RACKPWR_AUTH_MODE_REQUIRED,
};

/**
 * enum rackpwr_slot_state - State of a server slot at its chassis node (the
 *   uapi mirror of the slot state machine's,
 *   Documentation/networking/rackpwr-protocol.rst).
 * @RACKPWR_SLOT_STATE_EMPTY: No server in the slot.
 * @RACKPWR_SLOT_STATE_OFF: A server is present and holds no power.
 * @RACKPWR_SLOT_STATE_REQUESTING: A power-on trigger was seen; the request
 *   awaits an answer.
 * @RACKPWR_SLOT_STATE_QUEUED: The primary queued the request; it stays held.
 * @RACKPWR_SLOT_STATE_DENIED: The primary denied the request (reason says
 *   why).
 * @RACKPWR_SLOT_STATE_GRANTED: The slot holds a grant; the server's power is
 *   enabled.
 * @RACKPWR_SLOT_STATE_SHEDDING: The primary asked the server to shut down;
 *   waiting for it.
 * @RACKPWR_SLOT_STATE_RELEASING: The server gave its power back; the release
 *   awaits the primary.
 */
enum rackpwr_slot_state {
	RACKPWR_SLOT_STATE_EMPTY = 1,
	RACKPWR_SLOT_STATE_OFF,
	RACKPWR_SLOT_STATE_REQUESTING,
	RACKPWR_SLOT_STATE_QUEUED,
	RACKPWR_SLOT_STATE_DENIED,
	RACKPWR_SLOT_STATE_GRANTED,
	RACKPWR_SLOT_STATE_SHEDDING,
	RACKPWR_SLOT_STATE_RELEASING,
};

/**
 * enum rackpwr_alloc_state - State of an entry in the primary's allocation
 *   table.
 * @RACKPWR_ALLOC_STATE_PENDING: A request awaits the policy's decision.
 * @RACKPWR_ALLOC_STATE_QUEUED: The policy queued the request.
 * @RACKPWR_ALLOC_STATE_GRANTED: The slot holds the watts in held-mw.
 * @RACKPWR_ALLOC_STATE_SHEDDING: A shed request was sent; the slot still holds
 *   its watts.
 */
enum rackpwr_alloc_state {
	RACKPWR_ALLOC_STATE_PENDING = 1,
	RACKPWR_ALLOC_STATE_QUEUED,
	RACKPWR_ALLOC_STATE_GRANTED,
	RACKPWR_ALLOC_STATE_SHEDDING,
};

/**
 * enum rackpwr_verdict - A policy's answer to a power request (power-decide).
 * @RACKPWR_VERDICT_GRANT: Grant the watts in mw (at least what the server
 *   asked for).
 * @RACKPWR_VERDICT_QUEUE: Hold the request; the policy decides again later.
 * @RACKPWR_VERDICT_DENY: Deny the request with a reason.
 */
enum rackpwr_verdict {
	RACKPWR_VERDICT_GRANT = 1,
	RACKPWR_VERDICT_QUEUE,
	RACKPWR_VERDICT_DENY,
};

/**
 * enum rackpwr_reason - Why a request was queued or denied, or why a slot gave
 *   power back (the wire's reason codes).
 * @RACKPWR_REASON_NO_POLICY: No policy holder was bound for the documented
 *   hold time.
 * @RACKPWR_REASON_RECOVERING: A new primary is collecting the chassis tables.
 * @RACKPWR_REASON_NEVER_FITS: The request exceeds the rack's usable capacity.
 * @RACKPWR_REASON_REMOVED: The server was removed abruptly; released on its
 *   behalf.
 * @RACKPWR_REASON_REFUSED: The server did not shut down within the shed
 *   deadline.
 * @RACKPWR_REASON_STALE: Not the chassis' live grant (a correction after a
 *   restart).
 * @RACKPWR_REASON_POWER_FAILED: The server's device refused the power enable
 *   (I2C error) after bounded retries; the grant went back unused.
 */
enum rackpwr_reason {
	RACKPWR_REASON_NONE,
	RACKPWR_REASON_CAPACITY,
	RACKPWR_REASON_REDUNDANCY,
	RACKPWR_REASON_NO_POLICY,
	RACKPWR_REASON_POLICY,
	RACKPWR_REASON_RECOVERING,
	RACKPWR_REASON_NEVER_FITS,
	RACKPWR_REASON_SHED,
	RACKPWR_REASON_ADMIN,
	RACKPWR_REASON_REMOVED,
	RACKPWR_REASON_SLEEP,
	RACKPWR_REASON_OFF,
	RACKPWR_REASON_LOWER,
	RACKPWR_REASON_REFUSED,
	RACKPWR_REASON_STALE,
	RACKPWR_REASON_POWER_FAILED,
};

/**
 * enum rackpwr_trigger - What last asked for power in a slot.
 */
enum rackpwr_trigger {
	RACKPWR_TRIGGER_NONE,
	RACKPWR_TRIGGER_INSERT,
	RACKPWR_TRIGGER_BUTTON,
	RACKPWR_TRIGGER_LAN_WAKE,
	RACKPWR_TRIGGER_WAKE,
	RACKPWR_TRIGGER_ADMIN,
};

/**
 * enum rackpwr_slot_power - Administrative power request for a slot
 *   (slot-set).
 * @RACKPWR_SLOT_POWER_ON: Ask for power as a trigger would (the grant still
 *   decides).
 * @RACKPWR_SLOT_POWER_OFF: Shut the server down orderly and give its power
 *   back.
 */
enum rackpwr_slot_power {
	RACKPWR_SLOT_POWER_ON = 1,
	RACKPWR_SLOT_POWER_OFF,
};

/**
 * enum rackpwr_power_event - What an alloc-ntf reports.
 * @RACKPWR_POWER_EVENT_ENTRY: An allocation entry changed (or left the table,
 *   state absent).
 * @RACKPWR_POWER_EVENT_POLICY_BOUND: A policy holder bound to the node.
 * @RACKPWR_POWER_EVENT_POLICY_UNBOUND: The policy holder is gone (socket
 *   closed): the node runs fail-safe, existing grants stay, new requests are
 *   denied with reason no-policy after the hold.
 * @RACKPWR_POWER_EVENT_NO_POLICY_DENY: A request was denied because no policy
 *   holder was bound.
 * @RACKPWR_POWER_EVENT_INVARIANT: A grant was refused because the total
 *   granted would exceed the rack's usable capacity.
 * @RACKPWR_POWER_EVENT_RECOVERY: The primary started collecting the chassis
 *   tables.
 * @RACKPWR_POWER_EVENT_RECOVERED: The primary's table is complete; it decides
 *   again.
 * @RACKPWR_POWER_EVENT_SHED_REFUSED: A chassis reports that a server did not
 *   comply with a shed.
 */
enum rackpwr_power_event {
	RACKPWR_POWER_EVENT_ENTRY = 1,
	RACKPWR_POWER_EVENT_POLICY_BOUND,
	RACKPWR_POWER_EVENT_POLICY_UNBOUND,
	RACKPWR_POWER_EVENT_NO_POLICY_DENY,
	RACKPWR_POWER_EVENT_INVARIANT,
	RACKPWR_POWER_EVENT_RECOVERY,
	RACKPWR_POWER_EVENT_RECOVERED,
	RACKPWR_POWER_EVENT_SHED_REFUSED,
};

enum {
	RACKPWR_A_STATS_PAD = 1,
	RACKPWR_A_STATS_TX_FRAMES,
	RACKPWR_A_STATS_TX_BYTES,
	RACKPWR_A_STATS_RX_FRAMES,
	RACKPWR_A_STATS_RX_BYTES,
	RACKPWR_A_STATS_CRC_ERRORS,
	RACKPWR_A_STATS_FRAMING_ERRORS,
	RACKPWR_A_STATS_COLLISIONS,
	RACKPWR_A_STATS_RETRIES,
	RACKPWR_A_STATS_TIMEOUTS,
	RACKPWR_A_STATS_DUPLICATES,
	RACKPWR_A_STATS_OVERSIZE,
	RACKPWR_A_STATS_GARBAGE_BYTES,
	RACKPWR_A_STATS_ACKS_TX,
	RACKPWR_A_STATS_ACKS_RX,
	RACKPWR_A_STATS_DUP_ADDR,
	RACKPWR_A_STATS_ACCESS_DELAY_MAX_US,
	RACKPWR_A_STATS_ACCESS_DELAY_AVG_US,
	RACKPWR_A_STATS_DUP_SKIPS,
	RACKPWR_A_STATS_EXPIRED,
	RACKPWR_A_STATS_REFUSED_USER,
	RACKPWR_A_STATS_REFUSED_ELECT,
	RACKPWR_A_STATS_REFUSED_PROTO,
	RACKPWR_A_STATS_REFUSED_ALLOC,
	RACKPWR_A_STATS_ELECT_TX_REFUSED,
	RACKPWR_A_STATS_AUTH_MISSING,
	RACKPWR_A_STATS_AUTH_BAD,
	RACKPWR_A_STATS_AUTH_REPLAY,
	RACKPWR_A_STATS_ELECT_RX_UNEARNED,
	RACKPWR_A_STATS_ELECT_REJOINS,
	RACKPWR_A_STATS_ANSWER_COUNT,

	__RACKPWR_A_STATS_MAX,
	RACKPWR_A_STATS_MAX = (__RACKPWR_A_STATS_MAX - 1)
};

enum {
	RACKPWR_A_NODE_PAD = 1,
	RACKPWR_A_NODE_ID,
	RACKPWR_A_NODE_NAME,
	RACKPWR_A_NODE_KIND,
	RACKPWR_A_NODE_BUS,
	RACKPWR_A_NODE_ADDR,
	RACKPWR_A_NODE_ROLE,
	RACKPWR_A_NODE_BAUD,
	RACKPWR_A_NODE_T_IFS_US,
	RACKPWR_A_NODE_T_SLOT_US,
	RACKPWR_A_NODE_T_TURNAROUND_US,
	RACKPWR_A_NODE_ACK_TIMEOUT_US,
	RACKPWR_A_NODE_MAX_RETRIES,
	RACKPWR_A_NODE_ACCESS_BOUND_US,
	RACKPWR_A_NODE_STATS,
	RACKPWR_A_NODE_ELECT_STATE,
	RACKPWR_A_NODE_PRIMARY,
	RACKPWR_A_NODE_EPOCH,
	RACKPWR_A_NODE_ACTING,
	RACKPWR_A_NODE_HB_US,
	RACKPWR_A_NODE_MISS,
	RACKPWR_A_NODE_BUS_DELAY_US,
	RACKPWR_A_NODE_DETECT_US,
	RACKPWR_A_NODE_SLOT_US,
	RACKPWR_A_NODE_INITIAL_US,
	RACKPWR_A_NODE_LEASE_US,
	RACKPWR_A_NODE_MAX_ADDR,
	RACKPWR_A_NODE_PRIO_PERIOD,
	RACKPWR_A_NODE_NTF_DROPPED,
	RACKPWR_A_NODE_I2C_BUS,
	RACKPWR_A_NODE_I2C_BUS_AUTO,
	RACKPWR_A_NODE_AUTH_MODE,
	RACKPWR_A_NODE_KEY_ID,
	RACKPWR_A_NODE_KEY,
	RACKPWR_A_NODE_KEY_USE,
	RACKPWR_A_NODE_AUTH_TX_KEY,
	RACKPWR_A_NODE_AUTH_RX_KEY,
	RACKPWR_A_NODE_LINE_LAT_SAMPLES,
	RACKPWR_A_NODE_LINE_LAT_LAST_US,
	RACKPWR_A_NODE_LINE_LAT_P99_US,
	RACKPWR_A_NODE_LINE_LAT_WIN_MAX_US,
	RACKPWR_A_NODE_LINE_LAT_MAX_US,
	RACKPWR_A_NODE_LINE_LAT_BUDGET_US,
	RACKPWR_A_NODE_LINE_T_SLOT_US,
	RACKPWR_A_NODE_LINE_T_IFS_US,
	RACKPWR_A_NODE_ELECT_TOL_US,
	RACKPWR_A_NODE_ELECT_LATE_US,

	__RACKPWR_A_NODE_MAX,
	RACKPWR_A_NODE_MAX = (__RACKPWR_A_NODE_MAX - 1)
};

enum {
	RACKPWR_A_PEER_PAD = 1,
	RACKPWR_A_PEER_NODE_ID,
	RACKPWR_A_PEER_ADDR,
	RACKPWR_A_PEER_LAST_HEARD_MS,
	RACKPWR_A_PEER_RX_FRAMES,

	__RACKPWR_A_PEER_MAX,
	RACKPWR_A_PEER_MAX = (__RACKPWR_A_PEER_MAX - 1)
};

enum {
	RACKPWR_A_FRAME_NODE_ID = 1,
	RACKPWR_A_FRAME_DST,
	RACKPWR_A_FRAME_SRC,
	RACKPWR_A_FRAME_TYPE,
	RACKPWR_A_FRAME_SEQ,
	RACKPWR_A_FRAME_PAYLOAD,
	RACKPWR_A_FRAME_ACK,

	__RACKPWR_A_FRAME_MAX,
	RACKPWR_A_FRAME_MAX = (__RACKPWR_A_FRAME_MAX - 1)
};

enum {
	RACKPWR_A_BUS_EVENT_NODE_ID = 1,
	RACKPWR_A_BUS_EVENT_EVENT,
	RACKPWR_A_BUS_EVENT_ADDR,

	__RACKPWR_A_BUS_EVENT_MAX,
	RACKPWR_A_BUS_EVENT_MAX = (__RACKPWR_A_BUS_EVENT_MAX - 1)
};

enum {
	RACKPWR_A_ELECT_NODE_ID = 1,
	RACKPWR_A_ELECT_EVENT,
	RACKPWR_A_ELECT_ADDR,
	RACKPWR_A_ELECT_EPOCH,
	RACKPWR_A_ELECT_STATE,

	__RACKPWR_A_ELECT_MAX,
	RACKPWR_A_ELECT_MAX = (__RACKPWR_A_ELECT_MAX - 1)
};

enum {
	RACKPWR_A_CAPACITY_NODE_ID = 1,
	RACKPWR_A_CAPACITY_ADDR,
	RACKPWR_A_CAPACITY_BANK_A_MW,
	RACKPWR_A_CAPACITY_BANK_B_MW,
	RACKPWR_A_CAPACITY_PRESENT,
	RACKPWR_A_CAPACITY_HEALTHY,
	RACKPWR_A_CAPACITY_AGE_MS,
	RACKPWR_A_CAPACITY_LOCAL,
	RACKPWR_A_CAPACITY_LOST,
	RACKPWR_A_CAPACITY_POLICY_DIGEST,
	RACKPWR_A_CAPACITY_PRIMARY_DIGEST,
	RACKPWR_A_CAPACITY_DIGEST_MISMATCH,

	__RACKPWR_A_CAPACITY_MAX,
	RACKPWR_A_CAPACITY_MAX = (__RACKPWR_A_CAPACITY_MAX - 1)
};

enum {
	RACKPWR_A_SLOT_PAD = 1,
	RACKPWR_A_SLOT_NODE_ID,
	RACKPWR_A_SLOT_SLOT,
	RACKPWR_A_SLOT_STATE,
	RACKPWR_A_SLOT_PRIO,
	RACKPWR_A_SLOT_WANT_MW,
	RACKPWR_A_SLOT_HELD_MW,
	RACKPWR_A_SLOT_REQ_ID,
	RACKPWR_A_SLOT_LAST_TRIGGER,
	RACKPWR_A_SLOT_PRESENT,
	RACKPWR_A_SLOT_ENABLED,
	RACKPWR_A_SLOT_REASON,
	RACKPWR_A_SLOT_POWER,
	RACKPWR_A_SLOT_IDENT,
	RACKPWR_A_SLOT_PRIMARY,
	RACKPWR_A_SLOT_EPOCH,

	__RACKPWR_A_SLOT_MAX,
	RACKPWR_A_SLOT_MAX = (__RACKPWR_A_SLOT_MAX - 1)
};

enum {
	RACKPWR_A_POWER_PAD = 1,
	RACKPWR_A_POWER_NODE_ID,
	RACKPWR_A_POWER_EPOCH,
	RACKPWR_A_POWER_CHASSIS,
	RACKPWR_A_POWER_SLOT,
	RACKPWR_A_POWER_REQ_ID,
	RACKPWR_A_POWER_VERDICT,
	RACKPWR_A_POWER_MW,
	RACKPWR_A_POWER_REASON,
	RACKPWR_A_POWER_STATE,
	RACKPWR_A_POWER_PRIO,
	RACKPWR_A_POWER_WANT_MW,
	RACKPWR_A_POWER_HELD_MW,
	RACKPWR_A_POWER_AGE_MS,
	RACKPWR_A_POWER_EVENT,
	RACKPWR_A_POWER_ACTING,
	RACKPWR_A_POWER_RECOVERING,
	RACKPWR_A_POWER_BOUND,
	RACKPWR_A_POWER_USABLE_MW,
	RACKPWR_A_POWER_GRANTED_MW,
	RACKPWR_A_POWER_PENDING,
	RACKPWR_A_POWER_REFUSED_INVARIANT,
	RACKPWR_A_POWER_NO_POLICY_DENIED,
	RACKPWR_A_POWER_RX_STALE,
	RACKPWR_A_POWER_NTF_DROPPED,
	RACKPWR_A_POWER_POLICY_DIGEST,

	__RACKPWR_A_POWER_MAX,
	RACKPWR_A_POWER_MAX = (__RACKPWR_A_POWER_MAX - 1)
};

enum {
	RACKPWR_CMD_NODE_GET = 1,
	RACKPWR_CMD_NODE_NEW,
	RACKPWR_CMD_NODE_SET,
	RACKPWR_CMD_NODE_DEL,
	RACKPWR_CMD_STATS_GET,
	RACKPWR_CMD_PEER_GET,
	RACKPWR_CMD_FRAME_SEND,
	RACKPWR_CMD_FRAME_RX_NTF,
	RACKPWR_CMD_NODE_CHANGE_NTF,
	RACKPWR_CMD_BUS_EVENT_NTF,
	RACKPWR_CMD_STEP_DOWN,
	RACKPWR_CMD_ELECT_NTF,
	RACKPWR_CMD_CAPACITY_GET,
	RACKPWR_CMD_CAPACITY_NTF,
	RACKPWR_CMD_KEY_SET,
	RACKPWR_CMD_KEY_DEL,
	RACKPWR_CMD_SLOT_GET,
	RACKPWR_CMD_SLOT_SET,
	RACKPWR_CMD_SLOT_NTF,
	RACKPWR_CMD_ALLOC_GET,
	RACKPWR_CMD_POWER_GET,
	RACKPWR_CMD_POLICY_BIND,
	RACKPWR_CMD_POWER_DECIDE,
	RACKPWR_CMD_POWER_SHED,
	RACKPWR_CMD_POWER_REQUEST_NTF,
	RACKPWR_CMD_ALLOC_NTF,

	__RACKPWR_CMD_MAX,
	RACKPWR_CMD_MAX = (__RACKPWR_CMD_MAX - 1)
};

#define RACKPWR_MCGRP_EVENTS	"events"
#define RACKPWR_MCGRP_POWER	"power"

#endif /* _UAPI_LINUX_RACKPWR_H */
