/*
 * mmap of fake resources (tests/qemu/fake_mmap.sh):
 *   fakemap show PATH LEN OFF [raw]   private read-only mapping: the first
 *                                     24 bytes and the last 4 of LEN
 *                                     (raw: MIPS o32's old mmap, byte offset)
 *   fakemap poke PATH OFF STR HOW     STR written at OFF in an 8 KiB mapping
 *                                     at offset 0; HOW: msync (shared, then
 *                                     msync), munmap (shared, no msync),
 *                                     private; then what read() gives and
 *                                     what a new mapping shows
 *   fakemap ro PATH                   a child writes to a read-only shared
 *                                     mapping: killed by SIGSEGV
 *   fakemap follow PATH STR           a read-only shared mapping shows what
 *                                     a write of STR and an ioctl 0x4321,
 *                                     both through another fd, changed;
 *                                     then a child sets wan_proto=dhcp and
 *                                     the parent reads "wan_proto"
 *                                     (tests/qemu/fake_call.sh)
 * Non-printable bytes are shown as '~', newlines as '|'.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show_bytes(const char *tag, const unsigned char *p, size_t n)
{
    printf("%s=", tag);
    for (size_t i = 0; i < n; i++) {
        putchar(p[i] == '\n' ? '|' : p[i] >= 32 && p[i] < 127 ? p[i] : '~');
    }
    printf(" ");
}

static void show_read(int fd)
{
    unsigned char buf[256];
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, sizeof(buf));
    show_bytes("read", buf, n > 0 ? (size_t)n : 0);
}

static int cmd_show(const char *path, size_t len, long off, int raw)
{
    int fd = open(path, O_RDONLY);
    unsigned char *p;

    if (fd < 0) {
        perror("open");
        return 1;
    }
#if defined(__mips__)
    if (raw) {
        p = (void *)syscall(SYS_mmap, NULL, len, PROT_READ, MAP_PRIVATE, fd,
                            off);
    } else
#endif
    {
        (void)raw;
        p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, off);
    }
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    show_bytes("head", p, 24);
    show_bytes("tail", p + len - 4, 4);
    printf("\n");
    munmap(p, len);
    close(fd);
    return 0;
}

static int cmd_poke(const char *path, size_t off, const char *s,
                    const char *how)
{
    int private = !strcmp(how, "private");
    int fd = open(path, O_RDWR);
    unsigned char *p;

    if (fd < 0) {
        perror("open");
        return 1;
    }
    p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
             private ? MAP_PRIVATE : MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memcpy(p + off, s, strlen(s));
    if (!strcmp(how, "msync")) {
        printf("msync=%d ", msync(p, 8192, MS_SYNC));
        show_read(fd);
    }
    show_bytes("mine", p, 24);
    printf("munmap=%d ", munmap(p, 8192));
    show_read(fd);
    p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
        show_bytes("again", p, 24); /* a new mapping, after the write-back */
        munmap(p, 4096);
    }
    printf("\n");
    close(fd);
    return 0;
}

static int cmd_ro(const char *path)
{
    int fd = open(path, O_RDONLY), st;
    volatile unsigned char *p;
    pid_t pid;

    if (fd < 0) {
        perror("open");
        return 1;
    }
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid = fork();
    if (pid == 0) {
        p[0] = 'X';
        _exit(0);
    }
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) {
        printf("ro=%s first=%c\n", WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "sig",
               p[0]);
    } else {
        printf("ro=wrote first=%c\n", p[0]);
    }
    return 0;
}

static int cmd_follow(const char *path, const char *s)
{
    int fd = open(path, O_RDONLY), fd2 = open(path, O_RDWR);
    unsigned char *p;

    if (fd < 0 || fd2 < 0) {
        perror("open");
        return 1;
    }
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    show_bytes("before", p, 32);
    printf("write=%d ", (int)write(fd2, s, strlen(s)));
    show_bytes("after", p, 32);
    printf("ioctl=%d ", ioctl(fd2, 0x4321, 0));
    show_bytes("cleared", p, 32);
    /* another process sets a key; this one reads (as nvram_get does
     * before it looks in the mapping) */
    pid_t pid = fork();
    if (pid == 0) {
        int fd3 = open(path, O_RDWR);
        _exit(fd3 >= 0 && write(fd3, "wan_proto=dhcp", 14) == 14 ? 0 : 1);
    }
    int st = 0;
    char key[16] = "wan_proto";
    waitpid(pid, &st, 0);
    printf("child=%d read=%d ", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
           (int)read(fd2, key, sizeof(key)));
    show_bytes("reread", p, 32);
    printf("\n");
    munmap(p, 4096);
    close(fd2);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 5 && !strcmp(argv[1], "show")) {
        return cmd_show(argv[2], strtoul(argv[3], NULL, 0),
                        strtol(argv[4], NULL, 0), argc > 5);
    }
    if (argc == 6 && !strcmp(argv[1], "poke")) {
        return cmd_poke(argv[2], strtoul(argv[3], NULL, 0), argv[4], argv[5]);
    }
    if (argc == 3 && !strcmp(argv[1], "ro")) {
        return cmd_ro(argv[2]);
    }
    if (argc == 4 && !strcmp(argv[1], "follow")) {
        return cmd_follow(argv[2], argv[3]);
    }
    fprintf(stderr, "usage: fakemap show|poke|ro|follow ...\n");
    return 2;
}
