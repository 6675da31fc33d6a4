/*
 * A Broadcom-style NVRAM client library (docs/firmware-pack.md, "NVRAM"):
 * the calls vendor firmware makes, over /dev/nvram as Broadcom's driver
 * serves it.  Values returned by nvram_get point into the device's mapping.
 */
#ifndef SFEMU_DEMO_LIBNVRAM_H
#define SFEMU_DEMO_LIBNVRAM_H

#include <stddef.h>

#define NVRAM_PATH "/dev/nvram"
#define NVRAM_SPACE 0x10000
#define NVRAM_MAGIC 0x48534c46

/* The value of name, or NULL when it is unset (or the device fails). */
char *nvram_get(const char *name);
/* nvram_get, or "" when unset. */
const char *nvram_safe_get(const char *name);
/* 0 or -errno. */
int nvram_set(const char *name, const char *value);
int nvram_unset(const char *name);
int nvram_commit(void);
/* "key=value\0...\0\0" into buf (count bytes); 0 or -errno. */
int nvram_getall(char *buf, size_t count);
/* Drops the mapping and the fd (the next call opens them again). */
void nvram_exit(void);

#endif
