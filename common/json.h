/*
 * JSON documents, built with cJSON (Debian's, compiled static by
 * common/build-cjson.sh).  cJSON builds the tree; this adds what it does not
 * say directly:
 *  - one way to add an item to an object (key) or an array (key NULL);
 *  - byte strings that need not be UTF-8 (guest paths), exact 64-bit
 *    integers and addresses as "0x..." strings;
 *  - a build with a memory cap, for documents made where running out must
 *    not hurt (a guest thread at exit or in a dead loop): from json_begin()
 *    every cJSON allocation of the thread counts, and past the cap or on a
 *    failed malloc the cJSON calls fail (returning NULL, which every call
 *    here and in cJSON accepts), and json_end() says so.
 */
#ifndef SFEMU_JSON_H
#define SFEMU_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Adds item to parent under key (an object), or at its end (key NULL, an
 * array).  Returns item, or NULL with item deleted when parent or item is
 * NULL (an earlier allocation failed) or the key cannot be copied. */
cJSON *json_put(cJSON *parent, const char *key, cJSON *item);

/* A string from bytes: those >= 0x80 are read as Latin-1 (guest paths need
 * not be UTF-8, the document must be).  NULL is "". */
cJSON *json_bytes(const char *s);
/* An integer, printed exactly (beyond 2^53 as well). */
cJSON *json_int(int64_t v);
/* An address or register as a string, "0x1f". */
cJSON *json_hex(uint64_t v);

/* Starts a build on this thread: the allocations from here to json_end()
 * (building and printing) may total cap bytes. */
void json_begin(size_t cap);
/* Ends the build: prints doc (indented), deletes it and returns the text
 * (release with cJSON_free), or NULL when an allocation of the build failed
 * or passed the cap (the tree was incomplete) or printing did. */
char *json_end(cJSON *doc);

/* Writes text and a newline to a new file (flags: O_EXCL or O_TRUNC, mode
 * 0644); 0 or -errno. */
int json_save(const char *path, int flags, const char *text);

#endif
