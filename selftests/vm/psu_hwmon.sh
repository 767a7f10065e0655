#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: PMBus supplies through hwmon.  Loads the simulated PMBus
# adapter (rackpwr_sim_pmbus.ko) and rackpwr.ko, instantiates six supplies
# and the assembly controller with new_device, and compares every sysfs
# value with the exact value the simulator's registers encode, including
# LINEAR11/LINEAR16 rounding edge cases, garbage words and `sensors`.
# Prints TAP; exits non-zero on any failure.

POLL_MS=200
. /lib/rackpwr/tap.sh
. /lib/rackpwr/psu.sh

echo "TAP version 13"
if psu_setup psu_poll_ms=$POLL_MS; then ok "modules loaded, 6 supplies + assembly on i2c-$BUS"
else nok "setup"; tap_end; exit 1; fi

H=$(hw 0)
check "hwmon name" rackpwr_psu "$(rd "$H"/name)"
check "update_interval = psu_poll_ms" $POLL_MS "$(rd "$H"/update_interval)"

# Default registers of the simulator, all exactly representable.
while read -r f want; do
	check "psu0 $f" "$want" "$(rd "$H/$f")"
done <<EOF
in1_label vin
in1_input 230000
in1_lcrit 90000
in1_min 180000
in1_max 290000
in1_crit 300000
in1_rated_min 90000
in1_rated_max 264000
in2_label vout
in2_input 12000
in2_lcrit 10500
in2_min 11000
in2_max 13000
in2_crit 13500
curr1_label iin
curr1_input 2750
curr1_max 9000
curr1_crit 10000
curr1_rated_max 10000
curr2_label iout
curr2_input 50000
curr2_max 130000
curr2_crit 140000
curr2_rated_max 133000
power1_label pin
power1_input 632000000
power1_max 1850000000
power1_rated_max 1850000000
power2_label pout
power2_input 600000000
power2_max 1700000000
power2_crit 1760000000
power2_rated_max 1600000000
temp1_label inlet
temp1_input 30000
temp1_max 85000
temp1_crit 100000
temp1_rated_max 70000
temp2_label hotspot
temp2_input 45500
fan1_label fan1
fan1_input 8800
EOF

alarms=0
for f in "$H"/*_alarm "$H"/*_fault; do
	[ "$(rd "$f")" = 0 ] || alarms=$((alarms + 1))
done
check "no alarm set on a clean supply" 0 $alarms
cnt=$(ls "$H" | grep -c _alarm)
check "18 alarm attributes" 18 "$cnt"
[ -e "$H/in0_input" ] && nok "in0 must not exist" || ok "no in0 (vin is in1)"
[ -e "$H/fan2_input" ] && nok "fan2 must not exist" || ok "no fan2"

D=$(dev 0)
check "health" ok "$(rd "$D/health")"
check "bank of slot 0" A "$(rd "$D/bank")"
check "bank of slot 3" B "$(rd "$(dev 3)/bank")"
check "mfr_id (block read)" RACKPWR "$(rd "$D/mfr_id")"
check "mfr_model" SIM-PSU-1600 "$(rd "$D/mfr_model")"
check "mfr_serial" SIMPSU0-000 "$(rd "$D/mfr_serial")"
check "rated_power_mw from MFR_POUT_MAX" 1600000 "$(rd "$D/rated_power_mw")"
check "usable_power_mw" 1600000 "$(rd "$D/usable_power_mw")"

A=$(echo /sys/bus/i2c/devices/$BUS-0050)
AH=$(echo "$A"/hwmon/hwmon*)
check "assembly hwmon name" rackpwr_assembly "$(rd "$AH/name")"
check "bank A capacity" 4800000 "$(rd "$A/capacity_bank_a_mw")"
check "bank B capacity" 4800000 "$(rd "$A/capacity_bank_b_mw")"
check "supplies present" 0x3f "$(rd "$A/supplies_present")"
check "supplies healthy" 0x3f "$(rd "$A/supplies_healthy")"
check "ambient temp" 25000 "$(rd "$AH/temp1_input")"
check "ambient label" ambient "$(rd "$AH/temp1_label")"
check "ambient max" 45000 "$(rd "$AH/temp1_max")"
check "ambient crit" 55000 "$(rd "$AH/temp1_crit")"
check "ext fan1" 6000 "$(rd "$AH/fan1_input")"
check "ext fan2" 6200 "$(rd "$AH/fan2_input")"
check "total pin = 6 x 632 W" 3792000000 "$(rd "$AH/power1_input")"
check "total pout = 6 x 600 W" 3600000000 "$(rd "$AH/power2_input")"
check "total pout label" "total pout" "$(rd "$AH/power2_label")"

# LINEAR11/16 edge cases: set a reading, wait a poll, compare.  Expected
# values are the decoded register, not the knob (quantisation is real).
K=$SIM/psu1
H1=$(hw 1)
edge() { # KNOB VALUE FILE WANT DESC
	echo "$2" >"$K/$1"
	t=$(wait_for "$H1/$3" "$4" $((POLL_MS * 3)))
	check "$5 ($t ms)" "$4" "$(rd "$H1/$3")"
}
edge temp1_mc -12500 temp1_input -12500 "negative mantissa: -12.5 C"
edge temp1_mc -40000 temp1_input -40000 "negative: -40 C"
edge vin_mv 1 in1_input 1 "1 mV at exponent -16 (66/65536 V)"
edge iin_ma 2830 curr1_input 2828 "2.83 A quantised to 724/256 A"
edge iout_ma -250 curr2_input -250 "negative current -0.25 A"
edge pout_mw 1500500 power2_input 1500000000 "1500.5 W at exponent 1"
edge vout_mv 12345 in2_input 12346 "LINEAR16 12.345 V -> 6321/512 V"
edge fan_rpm 30000 fan1_input 30016 "fan 30000 RPM -> 938 * 2^5"
edge pout_mw 0 power2_input 0 "zero power"

# Garbage: never a number in sysfs.
echo 1 >$K/garbage
wait_for "$H1/in1_input" ERR $((POLL_MS * 3)) >/dev/null
bad=0
for f in in1 in2 curr1 curr2 power1 power2 temp1 temp2 fan1; do
	[ "$(rd "$H1/${f}_input")" = ERR ] || bad=$((bad + 1))
done
check "0xffff words -> read error on all 9 inputs" 0 $bad
err=$(cat "$H1/in1_input" 2>&1 >/dev/null)
case $err in
*"No data"*) ok "0xffff gives ENODATA ($err)" ;;
*) nok "0xffff gives ENODATA (got '$err')" ;;
esac
echo 2 >$K/garbage
msleep $((POLL_MS * 2))
bad=0
for f in in1 in2 curr1 curr2 power1 power2 temp1 temp2 fan1; do
	[ "$(rd "$H1/${f}_input")" = ERR ] || bad=$((bad + 1))
done
check "exponent +15 words -> read error on all 9 inputs" 0 $bad
check "garbage readings do not change health" ok "$(rd "$(dev 1)/health")"
echo 0 >$K/garbage
for kv in temp1_mc=30000 vin_mv=230000 iin_ma=2750 iout_ma=50000 \
	pout_mw=600000 vout_mv=12000 fan_rpm=8800; do
	echo "${kv#*=}" >"$K/${kv%=*}"
done
t=$(wait_for "$H1/fan1_input" 8800 $((POLL_MS * 3)))
check "readings back after garbage ($t ms)" 230000 "$(rd "$H1/in1_input")"

# Readings are cached per poll interval: reading sysfs causes no traffic.
x0=$(rd $SIM/psu2/xfers)
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$(hw 2)"/*_input >/dev/null; done
x1=$(rd $SIM/psu2/xfers)
# 10 reads of 9 inputs without caching would be 90 transfers.
[ $((x1 - x0)) -lt 40 ] && ok "sysfs reads are cached ($((x1 - x0)) xfers)" ||
	nok "sysfs reads are cached ($((x1 - x0)) xfers)"

# update_interval is writable and clamped.
echo 50 >"$(hw 2)/update_interval"
check "update_interval clamped to 100" 100 "$(rd "$(hw 2)/update_interval")"
echo $POLL_MS >"$(hw 2)/update_interval"

# What users see: lm-sensors.
if command -v sensors >/dev/null 2>&1; then
	out=$(sensors "rackpwr_psu-i2c-$BUS-58" 2>&1)
	for lu in "vin:.* V" "vout:.* V" "iin:.* A" "iout:.* A" "pin:.* W" \
		"pout:.* W" "inlet:.*C" "hotspot:.*C" "fan1:.* RPM"; do
		echo "$out" | grep -q "^$lu" && ok "sensors shows $lu" ||
			nok "sensors shows $lu"
	done
	raw=$(sensors -u "rackpwr_psu-i2c-$BUS-58" 2>&1)
	for kv in in1_input:230.000 in2_input:12.000 curr2_input:50.000 \
		power2_input:600.000 temp2_input:45.500 fan1_input:8800.000; do
		echo "$raw" | grep -q "^ *${kv%:*}: ${kv#*:}$" &&
			ok "sensors -u ${kv%:*} = ${kv#*:}" ||
			nok "sensors -u ${kv%:*} = ${kv#*:}"
	done
	aout=$(sensors "rackpwr_assembly-i2c-$BUS-50" 2>&1)
	for lu in "ambient:.*C" "fan1:.* RPM" "fan2:.* RPM" \
		"total pin:.* kW" "total pout:.* kW"; do
		echo "$aout" | grep -q "^$lu" && ok "sensors assembly $lu" ||
			nok "sensors assembly $lu"
	done
	[ $_fail -eq 0 ] || { echo "$out" | sed 's/^/# /'; echo "$aout" | sed 's/^/# /'; }
else
	ok "sensors # SKIP not in the initramfs"
fi

rmmod rackpwr && ok "rmmod rackpwr" || nok "rmmod rackpwr"
rmmod rackpwr_sim_pmbus && ok "rmmod rackpwr_sim_pmbus" ||
	nok "rmmod rackpwr_sim_pmbus"
tap_end
