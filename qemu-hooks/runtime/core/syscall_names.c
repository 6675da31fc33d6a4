/* Lookup in the generated syscall name tables. */
#include <errno.h>
#include <string.h>

#include "core/syscall_names.h"

static const struct sfemu_syscall_table *cur;

int sfemu_syscall_names_init(const char *arch)
{
    for (const struct sfemu_syscall_table *t = sfemu_syscall_tables; t->arch;
         t++) {
        if (!strcmp(t->arch, arch)) {
            cur = t;
            return 0;
        }
    }
    return -ENOENT;
}

const char *sfemu_syscall_name(int num)
{
    if (!cur || num < cur->base || num >= cur->base + cur->count) {
        return NULL;
    }
    return cur->names[num - cur->base];
}

int sfemu_syscall_num(const char *name)
{
    for (int i = 0; cur && i < cur->count; i++) {
        if (cur->names[i] && !strcmp(cur->names[i], name)) {
            return cur->base + i;
        }
    }
    return -1;
}

int sfemu_syscall_base(void)
{
    return cur ? cur->base : 0;
}

int sfemu_syscall_count(void)
{
    return cur ? cur->count : 0;
}
