/*
 * nvram.cgi (C): the demo's CGI where the root has no shell (big-endian
 * MIPS: Debian ships no port, so no BusyBox).  Same behaviour as
 * demo/www/nvram.cgi: QUERY_STRING "key=K&value=V" sets K=V with the
 * firmware's nvram command, commits, and prints the value read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NVRAM_CMD "/usr/sbin/nvram"

/* Letters, digits and the characters NVRAM values of the demo use. */
static int valid(const char *s, const char *extra)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
            !(*s >= '0' && *s <= '9') && *s != '_' && !strchr(extra, *s))
            return 0;
    return 1;
}

static int run(char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        execv(NVRAM_CMD, argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    char query[512], kv[600];
    char *key = NULL, *value = NULL, *part, *save = NULL;
    const char *qs = getenv("QUERY_STRING");

    printf("Content-Type: text/plain\r\n\r\n");
    snprintf(query, sizeof(query), "%s", qs ? qs : "");
    for (part = strtok_r(query, "&", &save); part;
         part = strtok_r(NULL, "&", &save)) {
        if (!strncmp(part, "key=", 4))
            key = part + 4;
        else if (!strncmp(part, "value=", 6))
            value = part + 6;
    }
    if (!key || !value || !valid(key, "") || !valid(value, ".:-")) {
        printf("usage: nvram.cgi?key=NAME&value=VALUE\n");
        return 0;
    }
    snprintf(kv, sizeof(kv), "%s=%s", key, value);
    fflush(stdout);
    if (run((char *[]){ "nvram", "set", kv, NULL }) != 0 ||
        run((char *[]){ "nvram", "commit", NULL }) != 0) {
        printf("nvram set %s failed\n", kv);
        return 0;
    }
    printf("%s=", key);
    fflush(stdout);
    run((char *[]){ "nvram", "get", key, NULL });
    return 0;
}
