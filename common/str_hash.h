/* The string hash of every path-keyed table (FNV-1a, 32 bits). */
#ifndef SFEMU_STR_HASH_H
#define SFEMU_STR_HASH_H

static inline unsigned sfemu_str_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

#endif
