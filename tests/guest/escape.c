/*
 * The escape guest (tests/security/escape.sh): a firmware that tries, as an
 * attacker would, to reach the host from under the true root.
 *
 *   escape attempts HOSTDIR TAG [gentle]
 *                                 every single attempt, one line each
 *                                 (gentle: not the ones that would damage
 *                                 a host that let them through: for stock)
 *   escape race KIND HOSTDIR N    N tries of a race (read, create, exec)
 *
 * HOSTDIR is a host directory outside the root holding "secret" (a canary
 * whose content this program prints if it can read it), "victim" (must
 * survive) and "hostbin" (a host script that prints HOSTEXEC).  The rootfs
 * has its own HOSTDIR copy, whose secret reads ROOTCOPY.  Every file this
 * program tries to create on the host is named *TAG*, so the test can look
 * for it anywhere.  One line per attempt:
 *
 *   ESC <name> read=<content>|errno=<E>|ok|ret=<n>
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *X, *TAG;
static int gentle; /* skip what would harm a host that lets it through */
static char sink[256];

static const char *px(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A path built from a format, in one of 8 rotating buffers. */
static const char *px(const char *fmt, ...)
{
    static char buf[8][4096];
    static int i;
    char *b = buf[i++ % 8];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(b, 4096, fmt, ap);
    va_end(ap);
    return b;
}

static void report_fd(const char *name, int fd)
{
    ssize_t n;

    if (fd < 0) {
        printf("ESC %s errno=%s\n", name, strerrorname_np(errno));
        return;
    }
    n = read(fd, sink, sizeof(sink) - 1);
    close(fd);
    sink[n > 0 ? n : 0] = 0;
    sink[strcspn(sink, "\n")] = 0;
    printf("ESC %s read=%s\n", name, sink);
}

static void report_rc(const char *name, long rc)
{
    if (rc < 0) {
        printf("ESC %s errno=%s\n", name, strerrorname_np(errno));
    } else {
        printf("ESC %s ret=%ld\n", name, rc);
    }
}

/* Read through libc (openat) and through the legacy open syscall. */
static void try_read(const char *name, const char *path)
{
    report_fd(name, open(path, O_RDONLY));
#ifdef SYS_open
    report_fd(px("%s.sys_open", name), (int)syscall(SYS_open, path, O_RDONLY));
#endif
}

static void try_readat(const char *name, int dirfd, const char *path)
{
    report_fd(name, openat(dirfd, path, O_RDONLY));
}

/* Create through O_CREAT, libc and the legacy creat/open. */
static void try_create(const char *name, const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0644);

    report_rc(name, fd);
    if (fd >= 0) {
        close(fd);
    }
#ifdef SYS_creat
    fd = (int)syscall(SYS_creat, px("%s.creat", path), 0644);
    report_rc(px("%s.sys_creat", name), fd);
    if (fd >= 0) {
        close(fd);
    }
#endif
}

static void try_exec(const char *name, const char *path)
{
    char *argv[] = { (char *)path, (char *)"-c",
                     (char *)px("echo HOSTEXEC-%s", TAG), NULL };
    char *envp[] = { NULL };

    fflush(stdout);
    execve(path, argv, envp);
    printf("ESC %s errno=%s\n", name, strerrorname_np(errno));
}

static void try_bind(const char *name, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    report_rc(name, bind(s, (struct sockaddr *)&sa, sizeof(sa)));
    close(s);
}

/* Send "HOSTSOCK" to a named unix socket: datagram (sendto, sendmsg) or
 * stream (connect). */
static void try_send(const char *name, const char *path, int how)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char msg[] = "HOSTSOCK";
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) - 1 };
    struct msghdr m = { .msg_name = &sa,
                        .msg_namelen = sizeof(sa),
                        .msg_iov = &iov,
                        .msg_iovlen = 1 };
    int s = socket(AF_UNIX, how == 2 ? SOCK_STREAM : SOCK_DGRAM, 0);
    long rc;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (how == 0) {
        rc = sendto(s, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa,
                    sizeof(sa));
    } else if (how == 1) {
        rc = sendmsg(s, &m, 0);
    } else {
        rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
        if (rc == 0) {
            rc = write(s, msg, sizeof(msg) - 1);
        }
    }
    report_rc(name, rc);
    close(s);
}

/* The host's tag-named file that must never appear: HOSTDIR/c-NAME-TAG. */
static const char *hx(const char *what)
{
    return px("%s/c-%s-%s", X, what, TAG);
}

static void reads(void)
{
    int fd;

    try_read("abs", px("%s/secret", X));
    try_read("dotdot", px("/../../../../../..%s/secret", X));
    try_read("proc_root_dotdot", px("/proc/self/root/../../../..%s/secret", X));
    try_read("proc_root_dotdot_deep",
             px("/proc/self/root/tmp/../../../../..%s/secret", X));
    try_read("thread_self_root", px("/proc/thread-self/root/..%s/secret", X));
    try_read("pid_root", px("/proc/%d/root/..%s/secret", getpid(), X));
    try_read("pid_task_root", px("/proc/%d/task/%d/root/..%s/secret", getpid(),
                                 (int)syscall(SYS_gettid), X));
    try_read("init_root", px("/proc/1/root%s/secret", X));
    try_read("parent_root", px("/proc/%d/root%s/secret", getppid(), X));
    try_read("parent_cwd",
             px("/proc/%d/cwd/../../../../..%s/secret", getppid(), X));
    if (chdir("/tmp") == 0) {
        try_read("proc_cwd_dotdot",
                 px("/proc/self/cwd/../../../..%s/secret", X));
    }
    fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    try_read("proc_fd_dotdot",
             px("/proc/self/fd/%d/../../../..%s/secret", fd, X));
    close(fd);
    /* every fd the process has, qemu's and the true root's included */
    for (int i = 0; i < 1024; i++) {
        if (fcntl(i, F_GETFD) >= 0) {
            report_fd(
                px("any_fd_dotdot.%d", i),
                open(px("/proc/self/fd/%d/../../../../../..%s/secret", i, X),
                     O_RDONLY));
        }
    }
    fd = open("/proc", O_RDONLY | O_DIRECTORY);
    try_readat("dirfd_proc", fd, px("../../..%s/secret", X));
    try_readat("dirfd_proc_self_root", fd, px("self/root/..%s/secret", X));
    try_readat("dirfd_proc_init_root", fd, px("1/root%s/secret", X));
    close(fd);
    fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
    try_readat("dirfd_procself_root", fd, px("root/../..%s/secret", X));
    try_readat("dirfd_procself_cwd", fd, px("cwd/../../../..%s/secret", X));
    close(fd);
    fd = open("/sys", O_RDONLY | O_DIRECTORY);
    try_readat("dirfd_sys", fd, px("../..%s/secret", X));
    close(fd);
    fd = open("/dev/pts", O_RDONLY | O_DIRECTORY);
    try_readat("dirfd_devpts", fd, px("../../..%s/secret", X));
    close(fd);
    if (chdir("/proc") == 0) {
        try_read("cwd_proc_rel", px("self/root/../..%s/secret", X));
        try_read("cwd_proc_dotdot", px("../..%s/secret", X));
        try_read("cwd_proc_init", px("1/root%s/secret", X));
        if (chdir("/") != 0) {
            printf("ESC chdir_back errno=%s\n", strerrorname_np(errno));
        }
    }
    /* firmware-style symlinks, planted by the guest */
    unlink("/tmp/l_abs");
    symlink(px("%s/secret", X), "/tmp/l_abs");
    try_read("symlink_abs", "/tmp/l_abs");
    unlink("/tmp/l_rel");
    symlink(px("../../../../../../..%s/secret", X), "/tmp/l_rel");
    try_read("symlink_rel_dotdot", "/tmp/l_rel");
    unlink("/tmp/l_proc");
    symlink(px("/proc/self/root/../../..%s/secret", X), "/tmp/l_proc");
    try_read("symlink_proc_root", "/tmp/l_proc");
    unlink("/tmp/l_init");
    symlink(px("/proc/1/root%s/secret", X), "/tmp/l_init");
    try_read("symlink_init_root", "/tmp/l_init");
    unlink("/tmp/l_dir");
    symlink(X, "/tmp/l_dir");
    try_read("symlink_dir_abs", "/tmp/l_dir/secret");
    unlink("/tmp/l_procdir");
    symlink("/proc/self/root/../../..", "/tmp/l_procdir");
    try_read("symlink_procdir", px("/tmp/l_procdir%s/secret", X));
    /* the guest's own reach into the host's memory and handles */
    report_fd("proc_mem", open("/proc/self/mem", O_RDONLY));
    report_fd("proc_map_files", open("/proc/self/map_files", O_RDONLY));
    report_fd("proc_init_environ", open("/proc/1/environ", O_RDONLY));
    report_fd("proc_parent_environ",
              open(px("/proc/%d/environ", getppid()), O_RDONLY));
    {
        struct {
            struct file_handle fh;
            unsigned char buf[128];
        } h = { .fh.handle_bytes = 128 };
        int mnt;

        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mnt, 0) == 0) {
            fd = open("/", O_RDONLY | O_DIRECTORY);
            report_fd("open_by_handle_at",
                      open_by_handle_at(fd, &h.fh, O_RDONLY));
            close(fd);
        } else {
            printf("ESC name_to_handle_at errno=%s\n", strerrorname_np(errno));
        }
    }
    {
        char buf[256];
        ssize_t n = readlink("/proc/self/root", buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = 0;
        printf("ESC readlink_proc_root read=%s\n", buf);
        n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = 0;
        printf("ESC readlink_proc_cwd read=%s\n", buf);
    }
}

static void creates(void)
{
    int fd;

    try_create("c_abs", hx("abs"));
    try_create("c_proc_root", px("/proc/self/root/../../..%s", hx("proc")));
    if (chdir("/tmp") == 0) {
        try_create("c_proc_cwd", px("/proc/self/cwd/../../..%s", hx("cwd")));
    }
    try_create("c_root_dir",
               px("/proc/self/root/../../../root/c-root-%s", TAG));
    try_create("c_host_tmp", px("/proc/self/root/../../../tmp/c-tmp-%s", TAG));
    fd = open("/proc", O_RDONLY | O_DIRECTORY);
    report_rc("c_dirfd_proc", openat(fd, px("../../..%s", hx("dirfd")),
                                     O_CREAT | O_WRONLY, 0644));
    report_rc("c_dirfd_mkdirat",
              mkdirat(fd, px("../..%s", hx("mkdirat")), 0755));
    report_rc("c_dirfd_symlinkat",
              symlinkat("/x", fd, px("../..%s", hx("symlinkat"))));
    report_rc("c_dirfd_mknodat",
              mknodat(fd, px("../..%s", hx("mknodat")), S_IFIFO | 0644, 0));
    close(fd);
    fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    report_rc("c_proc_fd", open(px("/proc/self/fd/%d/../../..%s", fd, hx("fd")),
                                O_CREAT | O_WRONLY, 0644));
    close(fd);
    unlink("/tmp/d_abs");
    symlink(hx("dangle"), "/tmp/d_abs");
    try_create("c_dangling_abs", "/tmp/d_abs");
    unlink("/tmp/d_proc");
    symlink(px("/proc/self/root/../../..%s", hx("dangleproc")), "/tmp/d_proc");
    try_create("c_dangling_proc", "/tmp/d_proc");
    /* rename, link, symlink and mkdir to host paths */
    close(open("/tmp/mv1", O_CREAT | O_WRONLY, 0644));
    report_rc("c_rename",
              rename("/tmp/mv1", px("/proc/self/root/../..%s", hx("rename"))));
    close(open("/tmp/mv2", O_CREAT | O_WRONLY, 0644));
    report_rc("c_rename_abs", rename("/tmp/mv2", hx("renameabs")));
    close(open("/tmp/ln1", O_CREAT | O_WRONLY, 0644));
    report_rc("c_link",
              link("/tmp/ln1", px("/proc/self/cwd/../../..%s", hx("link"))));
    report_rc("c_symlink",
              symlink("/x", px("/proc/self/root/../..%s", hx("symlink"))));
    report_rc("c_mkdir",
              mkdir(px("/proc/thread-self/root/..%s", hx("mkdir")), 0755));
#ifdef SYS_mkdir
    report_rc(
        "c_sys_mkdir",
        syscall(SYS_mkdir, px("/proc/self/root/..%s", hx("sysmkdir")), 0755));
#endif
    try_send("s_sendto", px("%s/dg", X), 0);
    try_send("s_sendto_proc", px("/proc/self/root/../..%s/dg", X), 0);
    try_send("s_sendmsg", px("%s/dg", X), 1);
    try_send("s_sendmsg_cwd", px("/proc/self/cwd/../../../..%s/dg", X), 1);
    try_send("s_connect", px("%s/st", X), 2);
    try_send("s_connect_proc", px("/proc/thread-self/root/..%s/st", X), 2);
    try_bind("c_bind", px("/proc/self/root/../..%s", hx("sock")));
    try_bind("c_bind_abs", hx("sockabs"));
    /* changing host objects */
    report_rc("c_unlink_victim",
              unlink(px("/proc/self/root/../..%s/victim", X)));
    report_rc("c_chmod_secret",
              chmod(px("/proc/self/root/../..%s/secret", X), 0777));
    if (gentle) {
        return;
    }
    report_rc("c_unlink_devnull", unlink("/dev/null"));
    report_rc("c_chmod_devnull", chmod("/dev/null", 0600));
    fd = open("/dev/null", O_RDONLY);
    report_rc("c_fchmod_devnull", fchmod(fd, 0600));
    close(fd);
    report_rc("c_mount_proc", mount("proc", "/tmp", "proc", 0, NULL));
    mkdir("/tmp/mnt", 0755);
    report_rc("c_mount_bind_sys",
              mount("/sys", "/tmp/mnt", NULL, MS_BIND, NULL));
    report_rc("c_mount_bind_init",
              mount("/proc/1/root", "/tmp/mnt", NULL, MS_BIND, NULL));
    report_rc("c_mount_bind_up", mount(px("/proc/self/root/../..%s", X),
                                       "/tmp/mnt", NULL, MS_BIND, NULL));
    {
        char cp[256] = "";
        ssize_t n;

        fd = open("/proc/sys/kernel/core_pattern", O_RDONLY);
        n = fd >= 0 ? read(fd, cp, sizeof(cp) - 1) : 0;
        close(fd);
        cp[n > 0 ? n : 0] = 0;
        /* writes back what it read: harmless if it got through */
        fd = open("/proc/sys/kernel/core_pattern", O_WRONLY);
        report_rc("c_write_core_pattern",
                  fd >= 0 ? write(fd, cp, strlen(cp)) : -1);
        if (fd >= 0) {
            close(fd);
        }
    }
    report_rc("c_write_proc_mem", open("/proc/self/mem", O_RDWR));
}

/* Last: it changes the guest's root. */
static void chroot_break(void)
{
    if (chdir("/") == 0 && (mkdir("/tmp/jail", 0755) == 0 || errno == EEXIST)) {
        /* the classic chroot break: an fd on the old root, fchdir, .. */
        int old = open("/", O_RDONLY | O_DIRECTORY);

        report_rc("c_chroot_jail", chroot("/tmp/jail"));
        report_rc("c_chroot_fchdir", fchdir(old));
        for (int i = 0; i < 32; i++) {
            if (chdir("..") != 0) {
                break;
            }
        }
        report_rc("c_chroot_dot", chroot("."));
        try_read("chroot_break_read", px("%s/secret", X));
        try_create("c_chroot_break", hx("chroot"));
        close(old);
    }
}

static void execs(void)
{
    pid_t pid;

    /* each in a child: a success replaces the process */
    static const char *const names[] = {
        "e_binsh",  "e_abs",         "e_proc_root", "e_init_root", "e_dirfd",
        "e_script", "e_script_proc", "e_hostelf",   "e_proc_exe",  "e_fexecve",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
            printf("ESC fork errno=%s\n", strerrorname_np(errno));
            return;
        }
        if (pid > 0) {
            int st;

            waitpid(pid, &st, 0);
            continue;
        }
        switch (i) {
        case 0: try_exec(names[i], "/bin/sh"); break;
        case 1: try_exec(names[i], px("%s/hostbin", X)); break;
        case 2:
            try_exec(names[i], px("/proc/self/root/../../..%s/hostbin", X));
            break;
        case 3: try_exec(names[i], "/proc/1/root/bin/sh"); break;
        case 4: {
            int fd = open("/proc", O_RDONLY | O_DIRECTORY);
            char *argv[] = { (char *)"sh", (char *)"-c",
                             (char *)px("echo HOSTEXEC-%s", TAG), NULL };

            syscall(SYS_execveat, fd, px("../../..%s/hostbin", X), argv,
                    argv + 3, 0);
            printf("ESC %s errno=%s\n", names[i], strerrorname_np(errno));
            break;
        }
        case 5: {
            /* a script whose interpreter is the host's /bin/sh, natively */
            int fd = open("/tmp/s.sh", O_CREAT | O_WRONLY | O_TRUNC, 0755);

            dprintf(fd, "#!/bin/sh\necho HOSTEXEC-%s\n", TAG);
            close(fd);
            try_exec(names[i], "/tmp/s.sh");
            break;
        }
        case 6: {
            int fd = open("/tmp/s2.sh", O_CREAT | O_WRONLY | O_TRUNC, 0755);

            dprintf(fd, "#!/proc/self/root/../../../bin/sh\necho HOSTEXEC-%s\n",
                    TAG);
            close(fd);
            try_exec(names[i], "/tmp/s2.sh");
            break;
        }
        case 7: {
            /* a host-architecture ELF the guest wrote into the root */
            int in = open("/hostelf.bin", O_RDONLY);
            int out = open("/tmp/hostelf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
            char buf[65536];
            ssize_t n;

            while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
                if (write(out, buf, (size_t)n) != n) {
                    break;
                }
            }
            close(in);
            close(out);
            try_exec(names[i], "/tmp/hostelf");
            break;
        }
        case 8: try_exec(names[i], "/proc/self/exe"); break;
        case 9: {
            int fd = open("/tmp/hostelf", O_RDONLY);
            char *argv[] = { (char *)"echo", (char *)px("HOSTEXEC-%s", TAG),
                             NULL };

            fexecve(fd, argv, argv + 2);
            printf("ESC %s errno=%s\n", names[i], strerrorname_np(errno));
            break;
        }
        }
        fflush(stdout);
        _exit(0);
    }
}

/* ------------------------------------------------------------ races */

static volatile int stop, ready;

/*
 * /tmp/race/d flips between a directory (holding "secret" that reads
 * INSIDE, and "hostbin", a guest script) and a symlink to HOSTDIR; its
 * "secret" flips between a file and a symlink to HOSTDIR/secret.
 */
static void *swapper(void *arg)
{
    (void)arg;
    mkdir("/tmp/race", 0777);
    while (!stop) {
        int fd;

        mkdir("/tmp/race/t", 0777);
        fd = open("/tmp/race/t/secret", O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (write(fd, "INSIDE\n", 7) != 7) {
            stop = 1;
        }
        close(fd);
        rename("/tmp/race/t", "/tmp/race/d");
        unlink("/tmp/race/s");
        symlink(px("%s/secret", X), "/tmp/race/s");
        rename("/tmp/race/s", "/tmp/race/d/secret"); /* the last name */
        unlink("/tmp/race/l");
        symlink(X, "/tmp/race/l");
        unlink("/tmp/race/d/secret");
        unlink(px("/tmp/race/d/c-race-%s", TAG));
        unlink("/tmp/race/d/hostbin");
        rmdir("/tmp/race/d");
        rename("/tmp/race/l", "/tmp/race/d"); /* the directory */
        ready = 1;
        sched_yield();
        unlink("/tmp/race/d");
    }
    return NULL;
}

/*
 * Counts: dir = reached the directory's file, root = reached the root's
 * copy through the symlink, missing = nothing there, host = the canary.
 */
static int race(const char *kind, long n)
{
    pthread_t t;
    long dir = 0, root = 0, missing = 0, host = 0;
    char buf[64];

    pthread_create(&t, NULL, swapper, NULL);
    while (!ready) {
        sched_yield(); /* the tries count from the first swap on */
    }
    for (long i = 0; i < n; i++) {
        int fd;
        ssize_t r;

        if (i % 8 == 0) {
            sched_yield(); /* on a busy host, let the swapper run too */
        }
        if (!strcmp(kind, "read")) {
            fd = open("/tmp/race/d/secret", O_RDONLY);
            if (fd < 0) {
                missing++;
                continue;
            }
            r = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            buf[r > 0 ? r : 0] = 0;
            buf[strcspn(buf, "\n")] = 0;
            if (!strcmp(buf, "INSIDE") || !buf[0]) {
                dir++;
            } else if (!strcmp(buf, "ROOTCOPY")) {
                root++;
            } else {
                host++;
                printf("ESC race_read read=%s\n", buf);
            }
        } else if (!strcmp(kind, "create")) {
            fd = open(px("/tmp/race/d/c-race-%s", TAG), O_CREAT | O_WRONLY,
                      0644);
            if (fd < 0) {
                missing++;
            } else {
                /* the race dir holds "secret" (INSIDE) or none, the
                 * root's copy of HOSTDIR a "secret" reading ROOTCOPY */
                ssize_t r;
                int sf = open("/tmp/race/d/secret", O_RDONLY);

                r = sf >= 0 ? read(sf, buf, sizeof(buf) - 1) : 0;
                buf[r > 0 ? r : 0] = 0;
                close(sf);
                if (strstr(buf, "HOSTCANARY")) {
                    host++;
                } else if (strstr(buf, "ROOTCOPY")) {
                    root++;
                } else {
                    dir++;
                }
                close(fd);
            }
        } else {
            char *argv[] = { (char *)"hostbin", (char *)"-c",
                             (char *)px("echo HOSTEXEC-%s", TAG), NULL };

            fflush(stdout);
            execve("/tmp/race/d/hostbin", argv, argv + 3);
            if (errno == ENOENT) {
                missing++;
            } else {
                root++; /* only the root's copy has a hostbin: ENOEXEC */
            }
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("RACE %s tries=%ld dir=%ld root=%ld missing=%ld host=%ld\n", kind, n,
           dir, root, missing, host);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && !strcmp(argv[1], "attempts")) {
        X = argv[2];
        TAG = argv[3];
        gentle = argc > 4 && !strcmp(argv[4], "gentle");
        reads();
        creates();
        execs();
        if (!gentle) {
            chroot_break();
        }
        printf("DONE\n");
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "race")) {
        X = argv[3];
        TAG = argc > 5 ? argv[5] : "race";
        return race(argv[2], strtol(argv[4], NULL, 10));
    }
    fprintf(stderr,
            "usage: %s attempts HOSTDIR TAG | race KIND HOSTDIR N [TAG]\n",
            argv[0]);
    return 2;
}
