/*
 * WLCSM client (ours), modelled on Broadcom's wlcsm library: NVRAM get,
 * set, unset, getall and commit as messages on netlink protocol 31
 * (NETLINK_WLCSM), which Broadcom's wlcsm kernel module answers and
 * SFEmu's rules answer from the NVRAM store.  Layout: docs/firmware-pack.md,
 * "WLCSM".
 */
#ifndef WLCSM_H
#define WLCSM_H

#include <stddef.h>
#include <stdint.h>

#define NETLINK_WLCSM 31

enum wlcsm_msg_type {
    WLCSM_MSG_REGISTER = 1,
    WLCSM_MSG_NVRAM_SET = 2,
    WLCSM_MSG_NVRAM_GET = 3,
    WLCSM_MSG_NVRAM_UNSET = 4,
    WLCSM_MSG_NVRAM_GETALL = 5,
    WLCSM_MSG_NVRAM_GETALL_DONE = 6,
    WLCSM_MSG_NVRAM_COMMIT = 7,
};

/* After the netlink header: the WLCSM header, then len bytes of payload. */
struct wlcsm_msg_hdr {
    uint16_t type; /* enum wlcsm_msg_type */
    uint16_t len;  /* payload bytes after this header */
    uint32_t pid;  /* the sender's port id */
};

/* The value of name (valid until the 8th later call), or NULL if unset or
 * if the WLCSM socket cannot be reached. */
char *wlcsm_nvram_get(const char *name);
/* 0, or -1 with errno set. */
int wlcsm_nvram_set(const char *name, const char *value);
int wlcsm_nvram_unset(const char *name);
int wlcsm_nvram_commit(void);
/* Fills buf with "key=value\0...\0" (at most count bytes): the bytes used,
 * or -1 with errno set (ENOSPC if count is too small). */
int wlcsm_nvram_getall(char *buf, size_t count);

#endif
