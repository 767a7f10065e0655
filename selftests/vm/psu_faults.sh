#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: PMBus fault handling.  Every STATUS_* bit the driver maps is
# injected through the simulator's knobs and must show up as the right
# hwmon alarm, health state and bank capacity within one poll interval;
# alarms stay latched until read; the chip is cleared only for bits the
# driver saw (W1C on PMBus 1.2, CLEAR_FAULTS before); one log line per state
# change; NACKs make comm-fail; capacity follows rating override and
# thermal derating.  Prints TAP; exits non-zero on any failure.

POLL_MS=250
SLACK_MS=300		# TCG guest scheduling jitter on top of one interval
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

echo "TAP version 13"
if psu_setup psu_poll_ms=$POLL_MS; then ok "setup on i2c-$BUS"; else nok "setup"; tap_end; exit 1; fi
A=/sys/bus/i2c/devices/$BUS-0050
ONE=$((POLL_MS + SLACK_MS))
FULL=4800000
LESS=3200000		# bank A without one 1600 W supply

# Fault matrix on slot 1 (bank A): persisting condition -> alarm, health.
K=$SIM/psu1
H=$(hw 1)
D=$(dev 1)
while read -r knob val alarm health; do
	what="$knob=$val"
	echo "$val" >"$K/$knob"
	if t=$(wait_for "$H/$alarm" 1 $ONE); then
		ok "$what -> $alarm within one poll ($t ms)"
	else
		nok "$what -> $alarm within one poll ($t ms)"
	fi
	check "$what -> health" "$health" "$(rd "$D/health")"
	[ "$health" = ok ] && want=$FULL || want=$LESS
	check "$what -> bank A capacity" $want "$(rd "$A/capacity_bank_a_mw")"
	echo 0 >"$K/$knob"
	t=$(wait_for "$D/health" ok $((3 * POLL_MS + SLACK_MS))) ||
		nok "$what: health back to ok ($t ms)"
	# Latched until read: the first read after recovery may still be 1.
	t=$(wait_for "$H/$alarm" 0 $((4 * POLL_MS))) ||
		nok "$what: $alarm clears once read after recovery"
done <<EOF
cond_iout 128 curr2_crit_alarm overcurrent
cond_iout 64 curr2_crit_alarm overcurrent
cond_iout 32 curr2_max_alarm ok
cond_iout 2 power2_crit_alarm overcurrent
cond_iout 1 power2_max_alarm ok
cond_temp 128 temp1_crit_alarm overtemp
cond_temp 64 temp1_max_alarm ok
cond_fan 128 fan1_fault fan-fault
cond_fan 32 fan1_alarm ok
cond_input 128 in1_crit_alarm output-off
cond_input 64 in1_max_alarm ok
cond_input 32 in1_min_alarm ok
cond_input 16 in1_lcrit_alarm input-lost
cond_input 4 curr1_crit_alarm overcurrent
cond_input 2 curr1_max_alarm ok
cond_input 1 power1_max_alarm ok
cond_vout 128 in2_crit_alarm output-off
cond_vout 64 in2_max_alarm ok
cond_vout 32 in2_min_alarm ok
cond_vout 16 in2_lcrit_alarm output-off
EOF
check "bank A capacity restored" $FULL "$(rd "$A/capacity_bank_a_mw")"

# Input loss and power-good: live conditions.
echo 1 >$K/input_lost
t=$(wait_for "$D/health" input-lost $ONE)
check "input_lost -> input-lost ($t ms)" input-lost "$(rd "$D/health")"
check "input_lost -> vin reads 0" 0 "$(rd "$H/in1_input")"
check "input_lost -> pout reads 0" 0 "$(rd "$H/power2_input")"
check "input_lost -> in1_lcrit_alarm" 1 "$(rd "$H/in1_lcrit_alarm")"
check "input_lost -> capacity" $LESS "$(rd "$A/capacity_bank_a_mw")"
check "input_lost -> healthy mask" 0x3d "$(rd "$A/supplies_healthy")"
# One log line per change, however long the condition lasts.
l0=$(dmesg | grep -c "slot 1 health")
usleep $((POLL_MS * 5 * 1000))
l1=$(dmesg | grep -c "slot 1 health")
check "no log lines while input stays lost (5 polls)" 0 $((l1 - l0))
echo 0 >$K/input_lost
t=$(wait_for "$D/health" ok $((3 * POLL_MS + SLACK_MS)))
check "input back -> ok ($t ms)" ok "$(rd "$D/health")"
l2=$(dmesg | grep -c "slot 1 health")
check "exactly one log line for the recovery" 1 $((l2 - l1))
check "recovered -> vin" 230000 "$(rd "$H/in1_input")"
check "lcrit alarm latched until read" 1 "$(rd "$H/in1_lcrit_alarm")"
check "lcrit alarm cleared by the read" 0 "$(rd "$H/in1_lcrit_alarm")"

echo 0 >$K/pgood
t=$(wait_for "$D/health" output-off $ONE)
check "pgood=0 -> output-off ($t ms)" output-off "$(rd "$D/health")"
check "pgood=0 -> capacity" $LESS "$(rd "$A/capacity_bank_a_mw")"
echo 1 >$K/pgood
t=$(wait_for "$D/health" ok $ONE)
check "pgood=1 -> ok ($t ms): POWER_GOOD# is live" ok "$(rd "$D/health")"

# A one-shot event: the chip latch is cleared by the driver (one W1C write)
# and the alarm stays latched in the driver until read.
K3=$SIM/psu3
H3=$(hw 3)
c0=$(rd $K3/clears)
usleep $((POLL_MS * 4 * 1000))
check "clean polls write nothing (4 polls)" 0 $(($(rd $K3/clears) - c0))
echo 128 >$K3/status_temp
t=$(wait_for $K3/status_temp 0 $ONE)
check "driver cleared the chip's OT latch ($t ms)" 0 "$(rd $K3/status_temp)"
check "exactly the bits seen were cleared: one W1C" 1 $(($(rd $K3/clears) - c0))
usleep $((POLL_MS * 2 * 1000))
check "event alarm still latched after the chip cleared" 1 \
	"$(rd "$H3/temp1_crit_alarm")"
check "event alarm cleared by the read" 0 "$(rd "$H3/temp1_crit_alarm")"
echo 16 >$K3/status_word
t=$(wait_for "$H3/curr2_crit_alarm" 1 $ONE)
check "STATUS_WORD IOUT_OC knob -> curr2_crit_alarm ($t ms)" 1 \
	"$(rd "$H3/curr2_crit_alarm")"
echo 128 >$K3/status_cml
t=$(wait_for $K3/status_cml 0 $ONE)
check "CML event cleared, no health change ($t ms)" ok "$(rd "$(dev 3)/health")"

# PMBus 1.1 unit: status is read-only, the driver must use CLEAR_FAULTS.
echo 17 >$K3/revision
echo 0 >$K3/present
wait_for "$(dev 3)/health" absent $ONE >/dev/null
echo 1 >$K3/present
wait_for "$(dev 3)/health" ok $ONE >/dev/null
c0=$(rd $K3/clears)
echo 128 >$K3/status_fan
t=$(wait_for "$H3/fan1_fault" 1 $ONE)
check "PMBus 1.1: fan fault event -> fan1_fault ($t ms)" 1 "$(rd "$H3/fan1_fault")"
check "PMBus 1.1: chip cleared by CLEAR_FAULTS" 0 "$(rd $K3/status_fan)"
check "PMBus 1.1: one clear" 1 $(($(rd $K3/clears) - c0))
echo 34 >$K3/revision

# Communication failure: NACK after address ACK.
K2=$SIM/psu2
D2=$(dev 2)
echo 1 >$K2/nack
t=$(wait_for "$(hw 2)/in1_input" ERR $ONE)
check "nack -> readings fail within one poll ($t ms)" ERR "$(rd "$(hw 2)/in1_input")"
err=$(cat "$(hw 2)"/in1_input 2>&1 >/dev/null)
case $err in
*"I/O error"* | *"Input/output error"*) ok "nack -> EIO ($err)" ;;
*) nok "nack -> EIO (got '$err')" ;;
esac
t=$(wait_for "$D2/health" comm-fail $((3 * POLL_MS + SLACK_MS)))
check "nack -> comm-fail after 3 polls ($t ms)" comm-fail "$(rd "$D2/health")"
check "comm-fail -> capacity" $LESS "$(rd "$A/capacity_bank_a_mw")"
echo 0 >$K2/nack
t=$(wait_for "$D2/health" ok $((2 * POLL_MS + SLACK_MS)))
check "nack cleared -> ok ($t ms)" ok "$(rd "$D2/health")"
check "nack cleared -> readings back" 12000 "$(rd "$(hw 2)/in2_input")"

# Capacity: rating override and thermal derating (slot 0).
D0=$(dev 0)
echo 1000000 >"$D0/rated_power_mw"
check "override -> usable" 1000000 "$(rd "$D0/usable_power_mw")"
check "override -> bank A" 4200000 "$(rd "$A/capacity_bank_a_mw")"
echo 0 >"$D0/rated_power_mw"
check "override removed -> MFR_POUT_MAX" 1600000 "$(rd "$D0/rated_power_mw")"
echo 55000 >$SIM/psu0/temp1_mc
t=$(wait_for "$D0/usable_power_mw" 1200000 $ONE)
check "inlet 55 C -> derated to 75 % ($t ms)" 1200000 "$(rd "$D0/usable_power_mw")"
check "derating -> bank A" 4400000 "$(rd "$A/capacity_bank_a_mw")"
echo 85000 >$SIM/psu0/temp1_mc
t=$(wait_for "$D0/usable_power_mw" 0 $ONE)
check "inlet 85 C -> nothing usable ($t ms)" 0 "$(rd "$D0/usable_power_mw")"
echo 30000 >$SIM/psu0/temp1_mc
t=$(wait_for "$A/capacity_bank_a_mw" $FULL $ONE)
check "inlet back to 30 C ($t ms)" $FULL "$(rd "$A/capacity_bank_a_mw")"

# Assembly controller alarms.
echo 128 >$SIM/asm/cond_fan
AH=$(echo $A/hwmon/hwmon*)
usleep $((POLL_MS * 1000 + 50000))
check "assembly fan1 fault" 1 "$(rd "$AH/fan1_fault")"
check "assembly fan2 fine" 0 "$(rd "$AH/fan2_fault")"
echo 0 >$SIM/asm/cond_fan
echo 60000 >$SIM/asm/temp1_mc
usleep $((POLL_MS * 1000 + 50000))
check "ambient 60 C" 60000 "$(rd "$AH/temp1_input")"

rmmod rackpwr && ok "rmmod rackpwr" || nok "rmmod rackpwr"
rmmod rackpwr_sim_pmbus && ok "rmmod sim" || nok "rmmod sim"
tap_end
