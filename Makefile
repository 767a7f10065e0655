# SPDX-License-Identifier: GPL-2.0-only
#
# rackpwr top-level build.  `make` builds the kernel modules (out of tree, see
# Kbuild), the agent and CLI, and the test programs.  See README.md.

# Kernel tree: running kernel's headers, else the newest installed Debian
# linux-headers-*-amd64 (CI machines run a different kernel), KDIR= overrides.
KDIR ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then \
		echo /lib/modules/$$(uname -r)/build; else \
		ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1; fi)
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
TOP := $(CURDIR)

CHECKPATCH := build/linux-6.12/scripts/checkpatch.pl
KSRC_STAMP := build/linux-6.1/.done build/linux-6.12/.done
YNL := build/linux-6.12/tools/net/ynl
PY := /usr/bin/python3

KERNEL_SRCS := $(wildcard driver/*.c driver/*.h) include/uapi/linux/rackpwr.h

all: modules agent tests

# One rule per kernel version: with "$(KSRC_STAMP): ..." make -j ran the
# extraction of both versions twice at once, into the same directories.
build/linux-%/.done:
	scripts/ksrc.sh $*

modules:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

agent:
	$(MAKE) -C agent

tests: $(KSRC_STAMP)
	$(MAKE) -C selftests/unit
	$(MAKE) -C scripts/rig
	@[ ! -f selftests/vm/Makefile ] || $(MAKE) -C selftests/vm KDIR=$(KDIR)
	@[ ! -f selftests/rig/Makefile ] || $(MAKE) -C selftests/rig KDIR=$(KDIR)

unit:
	$(MAKE) -C selftests/unit run

# Quality gates (kernel code).
sparse:
	$(MAKE) -C $(KDIR) M=$(TOP) C=2 CF="-D__CHECK_ENDIAN__" modules

w1:
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

# rpw_compat.h is the user-space shim (libc types, attributes and C11
# _Static_assert by design); trace.h follows the TRACE_EVENT layout of
# include/trace/events/; sim_pmbus.c and sim_server.c register a bus, and
# 6.1's bus_register() takes a non-const bus_type.
CP := perl $(CHECKPATCH) --strict --no-tree --show-types --terse -f \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG
checkpatch: $(KSRC_STAMP)
	$(CP) $(filter-out driver/rpw_compat.h driver/trace.h \
		driver/sim_pmbus.c driver/sim_server.c,$(filter %.c %.h,$(KERNEL_SRCS)))
	$(CP) --ignore CONST_STRUCT driver/sim_pmbus.c driver/sim_server.c
	$(CP) --ignore PREFER_KERNEL_TYPES,MACRO_ARG_REUSE,PREFER_DEFINED_ATTRIBUTE_MACRO,CAMELCASE \
		driver/rpw_compat.h
	$(CP) --ignore PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE driver/trace.h

# The layering rackpwr.h writes down, checked on the built objects.
layer-check: modules
	$(PY) scripts/layer-check.py driver

# The YAML spec is the source of truth for the uapi header.  ynl wants the
# genetlink schema two levels above the spec and a MAINTAINERS file at the
# "kernel root" (to name the spec in the header), so stage a tiny tree in
# build/ynl.  Generating also validates the spec against the schema.
SPEC := Documentation/netlink/specs/rackpwr.yaml
YNL_SPEC := build/ynl/$(SPEC)

$(YNL_SPEC): $(SPEC) $(KSRC_STAMP)
	mkdir -p $(dir $@)
	ln -sf $(TOP)/build/linux-6.12/Documentation/netlink/genetlink.yaml \
		build/ynl/Documentation/netlink/
	touch build/ynl/MAINTAINERS
	cp $(SPEC) $@

uapi: $(YNL_SPEC)
	$(PY) $(YNL)/ynl-gen-c.py --mode uapi --header --spec $(YNL_SPEC) \
		-o include/uapi/linux/rackpwr.h

# Fails if the spec does not validate or the committed header is stale.
spec-check: $(YNL_SPEC)
	$(PY) $(YNL)/ynl-gen-c.py --mode uapi --header --spec $(YNL_SPEC) \
		-o build/rackpwr.h.gen
	diff -u include/uapi/linux/rackpwr.h build/rackpwr.h.gen

# Kbuild's modules_install skips depmod for a headers-only tree (no
# System.map), so run it here.  DESTDIR stages the tree elsewhere.
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(TOP) $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) \
		modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)

# Installation (Documentation/admin-guide/rackpwr.rst, "Installing"):
# modules, agent and CLI, systemd units, udev rule, modprobe.d and
# modules-load.d snippets, /etc/default/rackpwr.  DESTDIR stages; PREFIX
# places the binaries (the units name them); units and rules go where an
# administrator's own go unless UNITDIR/UDEVRULESDIR say otherwise (a
# package: PREFIX=/usr UNITDIR=/lib/systemd/system
# UDEVRULESDIR=/lib/udev/rules.d).  Files under /etc that exist are kept.
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
UNITDIR		?= $(SYSCONFDIR)/systemd/system
UDEVRULESDIR	?= $(SYSCONFDIR)/udev/rules.d
DIST		:= agent/dist

install: modules_install install-agent

install-agent: agent
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(SYSCONFDIR)/modprobe.d \
		$(DESTDIR)$(SYSCONFDIR)/modules-load.d $(DESTDIR)$(SYSCONFDIR)/default
	install -m 0755 agent/rackpwrd agent/rackpwrctl $(DESTDIR)$(SBINDIR)/
	for u in rackpwrd@.service rackpwr-attach@.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $(DIST)/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 $(DIST)/60-rackpwr.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 0644 $(DIST)/rackpwr-modprobe.conf \
		$(DESTDIR)$(SYSCONFDIR)/modprobe.d/rackpwr.conf
	install -m 0644 $(DIST)/rackpwr-modules-load.conf \
		$(DESTDIR)$(SYSCONFDIR)/modules-load.d/rackpwr.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/rackpwr ] || \
		install -m 0644 $(DIST)/rackpwr.default \
			$(DESTDIR)$(SYSCONFDIR)/default/rackpwr
	[ ! -f $(DIST)/rackpwrd.conf ] || [ -e $(DESTDIR)$(SYSCONFDIR)/rackpwrd.conf ] || \
		install -m 0644 $(DIST)/rackpwrd.conf $(DESTDIR)$(SYSCONFDIR)/rackpwrd.conf

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C agent clean
	$(MAKE) -C selftests/unit clean
	-$(MAKE) -C scripts/rig clean
	-[ ! -f selftests/vm/Makefile ] || $(MAKE) -C selftests/vm clean

.PHONY: all modules agent tests unit sparse w1 checkpatch uapi spec-check \
	layer-check \
	modules_install install install-agent clean
