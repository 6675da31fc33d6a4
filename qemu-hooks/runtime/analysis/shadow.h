/* The runtime's side of the shadow call stack (the plugin keeps it). */
#ifndef SFEMU_SHADOW_RT_H
#define SFEMU_SHADOW_RT_H

#include "sfemu/shadow.h"

/* Frames of the calling guest thread, innermost first: count or -errno
 * (-ENOSYS: -shadowstack not given or not available). */
int sfemu_shadow_get(struct sfemu_shadow_frame *out, int max);

#endif
