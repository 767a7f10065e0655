#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package rackpwr's build, tests and demo need (flex,
# bison, bc and libelf-dev: the debug kernel, scripts/debug-kernel.sh;
# gnuplot-nox: the demo's plot, scripts/demo.sh).
# Idempotent: skips apt entirely when everything is already installed.
set -eu

PKGS="build-essential make gcc clang libclang-rt-14-dev llvm
qemu-system-x86 linux-image-amd64 linux-headers-amd64
linux-source-6.1 linux-source-6.12
busybox-static cpio gzip xz-utils kmod
libnl-3-dev libnl-genl-3-dev pkg-config
sparse python3 python3-yaml python3-jsonschema
lm-sensors i2c-tools dkms
python3-docutils device-tree-compiler dt-schema
python3-pyroute2 prometheus-node-exporter iproute2
flex bison bc libelf-dev
gnuplot-nox"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "setup-deps: all Debian packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "setup-deps: need root to install:$missing" >&2
	exit 1
fi
echo "setup-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A third-party list that cannot be reached must not stop the Debian ones.
apt-get update -q || echo "setup-deps: apt-get update reported errors; continuing" >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
