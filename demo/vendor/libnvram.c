/*
 * Broadcom's NVRAM client protocol (docs/firmware-pack.md, "NVRAM"):
 * /dev/nvram opened O_RDWR and NVRAM_SPACE bytes of it mapped read-only and
 * shared; a get is a read() whose buffer holds the name and comes back with
 * the offset of the value in that mapping; set and unset are writes of
 * "name=value" and "name"; commit is ioctl(NVRAM_MAGIC).
 */
#include "libnvram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int nvram_fd = -1;
static char *nvram_buf = MAP_FAILED;

static int nvram_init(void)
{
    if (nvram_fd >= 0) {
        return 0;
    }
    nvram_fd = open(NVRAM_PATH, O_RDWR);
    if (nvram_fd < 0) {
        return -errno;
    }
    fcntl(nvram_fd, F_SETFD, FD_CLOEXEC);
    nvram_buf = mmap(NULL, NVRAM_SPACE, PROT_READ, MAP_SHARED, nvram_fd, 0);
    if (nvram_buf == MAP_FAILED) {
        int err = errno;
        close(nvram_fd);
        nvram_fd = -1;
        return -err;
    }
    return 0;
}

void nvram_exit(void)
{
    if (nvram_buf != MAP_FAILED) {
        munmap(nvram_buf, NVRAM_SPACE);
        nvram_buf = MAP_FAILED;
    }
    if (nvram_fd >= 0) {
        close(nvram_fd);
        nvram_fd = -1;
    }
}

char *nvram_get(const char *name)
{
    /* the driver answers 4 bytes: the buffer holds at least that many */
    size_t count = strlen(name) + 1;
    size_t cap = count < sizeof(uint32_t) ? sizeof(uint32_t) : count;
    char *buf;
    uint32_t off;
    ssize_t n;

    if (nvram_init() < 0 || !(buf = calloc(1, cap))) {
        return NULL;
    }
    memcpy(buf, name, count);
    n = read(nvram_fd, buf, cap);
    memcpy(&off, buf, sizeof(off));
    free(buf);
    if (n != (ssize_t)sizeof(off) || off >= NVRAM_SPACE) {
        return NULL;
    }
    return nvram_buf + off;
}

const char *nvram_safe_get(const char *name)
{
    const char *v = nvram_get(name);
    return v ? v : "";
}

static int nvram_write(const char *text)
{
    size_t count = strlen(text) + 1;
    ssize_t n;

    int r = nvram_init();

    if (r < 0) {
        return r;
    }
    n = write(nvram_fd, text, count);
    if (n < 0) {
        return -errno;
    }
    return n == (ssize_t)count ? 0 : -EIO;
}

int nvram_set(const char *name, const char *value)
{
    size_t len = strlen(name) + 1 + strlen(value) + 1;
    char *buf = malloc(len);
    int r;

    if (!buf) {
        return -ENOMEM;
    }
    snprintf(buf, len, "%s=%s", name, value);
    r = nvram_write(buf);
    free(buf);
    return r;
}

int nvram_unset(const char *name)
{
    return nvram_write(name);
}

int nvram_commit(void)
{
    int r = nvram_init();

    if (r < 0) {
        return r;
    }
    return ioctl(nvram_fd, NVRAM_MAGIC, NULL) < 0 ? -errno : 0;
}

int nvram_getall(char *buf, size_t count)
{
    ssize_t n;

    if (count == 0) {
        return -EINVAL;
    }
    int r = nvram_init();

    if (r < 0) {
        return r;
    }
    memset(buf, 0, count);
    n = read(nvram_fd, buf, count);
    if (n < 0) {
        return -errno;
    }
    return n == (ssize_t)count ? 0 : -EIO;
}
