/*
 * Any-address bind (docs/emulator.md, "Binding to the firmware's
 * addresses"): a bind to an address this host lacks (br0's address from the
 * firmware's config, 255.255.255.255 from a missing NVRAM key, an IPv6
 * address the host has not) lands on -bind-fallback, same port; a
 * privileged port the host refuses becomes port + -bind-port-offset.
 * getsockname answers the address the guest asked for; every listening
 * socket is logged once and recorded (-sfanalysis); SO_BINDTODEVICE and
 * multicast interface options the host refuses succeed as logged no-ops.
 */
#ifndef SFEMU_NETBIND_H
#define SFEMU_NETBIND_H

#include "core/realcall.h"

/* Whether the feature is on (-bind-fallback given and not "off", or by
 * default with -rules). */
int sfemu_netbind_wanted(void);
/* Parses the settings (a bad one exits with a message); the handler. */
const struct sfemu_rewriter *sfemu_netbind_init(void);

#endif
