/*
 * Unit test of common/json.c: documents built with cJSON (Debian's, linked
 * static), the byte strings, integers and addresses it adds, and a build
 * that runs out of its memory cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "json.h"

/* A document with every kind of item, printed and parsed back. */
static void check_document(void)
{
    cJSON *doc, *arr, *back;
    char *text;

    json_begin(1 << 20);
    doc = cJSON_CreateObject();
    json_put(doc, "path", json_bytes("/dev/\xe9t\xff"));
    json_put(doc, "ctl", json_bytes("a\"b\\c\n\x01"));
    json_put(doc, "null_str", json_bytes(NULL));
    json_put(doc, "small", json_int(-2));
    json_put(doc, "max", json_int(INT64_MAX));
    json_put(doc, "min", json_int(INT64_MIN));
    json_put(doc, "e15", json_int(1000000000000000LL));
    json_put(doc, "addr", json_hex(0xdeadbeefULL));
    arr = json_put(doc, "list", cJSON_CreateArray());
    json_put(arr, NULL, json_int(7));
    json_put(arr, NULL, cJSON_CreateBool(1));
    json_put(arr, NULL, cJSON_CreateNull());
    text = json_end(doc);
    check(text != NULL, "a document is built and printed");
    if (!text) {
        return;
    }
    check(strstr(text, "\"max\":\t9223372036854775807") &&
              strstr(text, "\"min\":\t-9223372036854775808") &&
              strstr(text, "\"e15\":\t1000000000000000") &&
              strstr(text, "\"small\":\t-2"),
          "integers are printed exactly, beyond 2^53 too");
    check(strstr(text, "\"/dev/\xc3\xa9t\xc3\xbf\"") != NULL,
          "bytes >= 0x80 are read as Latin-1 and written as UTF-8");
    back = cJSON_Parse(text);
    check(back && cJSON_IsString(cJSON_GetObjectItem(back, "ctl")) &&
              !strcmp(cJSON_GetObjectItem(back, "ctl")->valuestring,
                      "a\"b\\c\n\x01") &&
              !strcmp(cJSON_GetObjectItem(back, "null_str")->valuestring, "") &&
              !strcmp(cJSON_GetObjectItem(back, "addr")->valuestring,
                      "0xdeadbeef") &&
              cJSON_GetArraySize(cJSON_GetObjectItem(back, "list")) == 3 &&
              cJSON_IsNull(
                  cJSON_GetArrayItem(cJSON_GetObjectItem(back, "list"), 2)),
          "the text parses back with quotes, controls, addresses, arrays");
    cJSON_Delete(back);
    cJSON_free(text);
}

/* Past the cap nothing crashes, and json_end says the build failed. */
static void check_cap(void)
{
    cJSON *doc, *arr;
    char *text;
    int n = 0;

    json_begin(64 << 10);
    doc = cJSON_CreateObject();
    arr = json_put(doc, "many", cJSON_CreateArray());
    for (int i = 0; i < 100000; i++) {
        n += json_put(arr, NULL, json_bytes("/some/guest/path")) != NULL;
    }
    text = json_end(doc);
    check(text == NULL && n > 0 && n < 100000,
          "a build past its cap fails cleanly (%d of 100000 items fitted)", n);

    /* The next build starts afresh. */
    json_begin(64 << 10);
    doc = cJSON_CreateObject();
    json_put(doc, "ok", cJSON_CreateTrue());
    text = json_end(doc);
    check(text && strstr(text, "\"ok\":\ttrue"), "the next build works");
    cJSON_free(text);

    /* A tree that fits (40 nodes of 64 + 101 bytes) but whose text does
     * not (4 KiB more, in doubling buffers). */
    json_begin(8 << 10);
    doc = cJSON_CreateObject();
    arr = json_put(doc, "a", cJSON_CreateArray());
    n = 0;
    for (int i = 0; i < 40; i++) {
        char s[101];
        memset(s, 'x', 100);
        s[100] = 0;
        n += json_put(arr, NULL, json_bytes(s)) != NULL;
    }
    text = json_end(doc);
    check(n == 40 && text == NULL,
          "a tree that fits but whose text does not is refused");

    /* Under ASan a leak here fails the test. */
    doc = cJSON_CreateObject();
    check(json_put(NULL, "k", cJSON_CreateString("x")) == NULL &&
              json_put(doc, "k", NULL) == NULL && cJSON_GetArraySize(doc) == 0,
          "json_put with no parent or no item adds nothing, leaks nothing");
    cJSON_Delete(doc);
}

static void check_save(void)
{
    char path[] = "/tmp/sfemu-json.XXXXXX", buf[64];
    int fd = mkstemp(path);
    ssize_t n;

    if (fd < 0) {
        check(0, "mkstemp");
        return;
    }
    close(fd);
    check(json_save(path, O_EXCL, "{}") == -EEXIST,
          "json_save with O_EXCL keeps an existing file (-EEXIST)");
    check(json_save(path, O_TRUNC, "{\"a\": 1}") == 0,
          "json_save with O_TRUNC writes");
    fd = open(path, O_RDONLY);
    n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    buf[n > 0 ? n : 0] = 0;
    check(!strcmp(buf, "{\"a\": 1}\n"), "the file is the text and a newline");
    if (fd >= 0) {
        close(fd);
    }
    unlink(path);
}

int main(void)
{
    check_document();
    check_cap();
    check_save();
    return checks_done();
}
