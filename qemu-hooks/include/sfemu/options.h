/*
 * Every SFEmu setting of the patched qemu, in one table.  This list drives
 * QEMU's command-line table and -h text (the glue), parsing and validation
 * (qemu-hooks/runtime/core/options.c), the `sfemu` table rules read, and
 * docs/options.md (scripts/gen-options-doc.py).  Adding a setting is one
 * row here plus its use: see docs/options.md, "Adding an option".
 *
 * ARG rows are command-line options (-NAME, and QEMU's environment twin
 * QEMU_*, which QEMU's own parser reads); ENV rows are environment
 * variables only.  Columns:
 *   id        C name: sfemu_opt_long(SFEMU_OPT_id) ...
 *   name      the option without its dash (ARG), or NULL (ENV)
 *   qemu_env  QEMU_* twin (ARG), or NULL
 *   env       SFEMU_* variable read at start-up, or NULL
 *   type      STR, PATH, DIR (must exist; made absolute), LONG (min..max),
 *             BOOL (on/off, 1/0, yes/no), LIST (colon-separated),
 *             ENUM (one of the '|'-separated words in argname),
 *             KV (key=value,...: the keys and their defaults are in def;
 *             numbers use min..max, on/off keys are booleans)
 *   min, max  range of LONG values and of KV's numbers
 *   def       the default, as it would be written (NULL: unset)
 *   argname   what -h shows after the option
 *   help      one line for -h and the docs
 *   lua       key in the read-only `sfemu` table rules see, or NULL
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SFEMU_OPTIONS_H
#define SFEMU_OPTIONS_H

#define SFEMU_OPTIONS(ARG, ENV)                                                \
    ARG(rules, "rules", "QEMU_RULES", NULL, DIR, 0, 0, NULL, "dir",            \
        "run Lua syscall rules from 'dir'", "rules_dir")                       \
    ARG(ctx_keep, "rules-ctx-keep", "QEMU_RULES_CTX_KEEP", NULL, LONG, 0,      \
        1L << 20, "64", "n",                                                   \
        "keep the last 'n' syscalls per thread (context ring)", "ctx_keep")    \
    ARG(idle_ms, "rules-idle-ms", "QEMU_RULES_IDLE_MS", NULL, LONG, 0,         \
        24L * 3600 * 1000, "0", "ms",                                          \
        "idle watchdog: report a thread without a syscall for 'ms' (0: off)",  \
        "idle_ms")                                                             \
    ARG(shadowstack, "shadowstack", "QEMU_SHADOWSTACK", NULL, KV, 1, 1L << 20, \
        "log=off,summary=on,unwind_limit=100,max_stack=100", "opts",           \
        "shadow call stack: log=on|off,summary=on|off,"                        \
        "unwind_limit=N,max_stack=N",                                          \
        "shadowstack")                                                         \
    ARG(sfanalysis, "sfanalysis", "QEMU_SFANALYSIS", NULL, PATH, 0, 0, NULL,   \
        "outdir", "write a run analysis (JSON and summary) to 'outdir'",       \
        "sfanalysis")                                                          \
    ARG(root_mode, "root-mode", "QEMU_ROOT_MODE", NULL, ENUM, 0, 0, NULL,      \
        "true|prefix",                                                         \
        "how -L applies (default: true with -rules and an existing -L dir, "   \
        "or with -rules, no -L and / an sfemu-mount: a chroot)",               \
        "root_mode")                                                           \
    ARG(make_parents, "make-parents", "QEMU_MAKE_PARENTS", NULL, BOOL, 0, 0,   \
        "on", "on|off",                                                        \
        "true root: a create whose parent directory is missing makes it in "   \
        "the root (following the root's symlinks) and runs again",             \
        "make_parents")                                                        \
    ARG(quick_exit_report, "quick-exit-report", "QEMU_QUICK_EXIT_REPORT",      \
        NULL, LONG, 0, 24L * 3600, "5", "seconds",                             \
        "watchdog: report a service that exits with status 0 within "          \
        "'seconds' of its start or of its only request (0: off)",              \
        "quick_exit_report")                                                   \
    ARG(cpu_auto, "cpu-auto", "QEMU_CPU_AUTO", NULL, BOOL, 0, 0, "on",         \
        "on|off",                                                              \
        "without -cpu, pick the CPU model from the guest ELF "                 \
        "(without -rules: off unless given)",                                  \
        "cpu_auto")                                                            \
    ARG(linuxthreads, "linuxthreads", "QEMU_LINUXTHREADS", NULL, BOOL, 0, 0,   \
        "on", "on|off",                                                        \
        "LinuxThreads clone(CLONE_VM) children run as threads with their own " \
        "pid (without -rules: off unless given)",                              \
        "linuxthreads")                                                        \
    ARG(bind_fallback, "bind-fallback", "QEMU_BIND_FALLBACK", NULL, STR, 0, 0, \
        "127.0.0.1,::1", "addr4[,addr6]|off",                                  \
        "a bind to an address this host lacks lands here, same port "          \
        "(without -rules: off unless given)",                                  \
        "bind_fallback")                                                       \
    ARG(bind_port_offset, "bind-port-offset", "QEMU_BIND_PORT_OFFSET", NULL,   \
        LONG, 0, 64511, "8000", "n",                                           \
        "a privileged port the host refuses becomes port + 'n' (0: off)",      \
        "bind_port_offset")                                                    \
    ARG(bind_wildcard, "bind-wildcard", "QEMU_BIND_WILDCARD", NULL, ENUM, 0,   \
        0, "keep", "keep|loopback",                                            \
        "loopback: binds to 0.0.0.0 and :: land on -bind-fallback too",        \
        "bind_wildcard")                                                       \
    ARG(guest_exec, "guest-exec", "QEMU_GUEST_EXEC", NULL, BOOL, 0, 0, "on",   \
        "on|off",                                                              \
        "execve of a guest program runs it in a new qemu with these options "  \
        "(without -rules: off unless given)",                                  \
        "guest_exec")                                                          \
    ENV(log, NULL, NULL, "SFEMU_LOG", PATH, 0, 0, NULL, "file",                \
        "append the runtime's log to 'file' instead of stderr", NULL)          \
    ENV(rules_override_dir, NULL, NULL, "SFEMU_RULES_OVERRIDE_DIR", LIST, 0,   \
        0, NULL, "dir:dir",                                                    \
        "override dirs in priority order (relative to -rules), replacing "     \
        "syscall_override_user:syscall_override",                              \
        NULL)                                                                  \
    ENV(rules_check_ms, NULL, NULL, "SFEMU_RULES_CHECK_MS", LONG, 1,           \
        3600L * 1000, "200", "ms",                                             \
        "rules hot reload: polling period when inotify cannot watch the "      \
        "rule dirs",                                                           \
        NULL)                                                                  \
    ENV(rule_max_insns, NULL, NULL, "SFEMU_RULE_MAX_INSNS", LONG, 1000,        \
        1L << 40, "20000000", "n", "instruction budget of one rule call",      \
        NULL)                                                                  \
    ENV(rule_max_ms, NULL, NULL, "SFEMU_RULE_MAX_MS", LONG, 10,                \
        24L * 3600 * 1000, "1000", "ms", "CPU time budget of one rule call",   \
        NULL)                                                                  \
    ENV(rule_max_mem, NULL, NULL, "SFEMU_RULE_MAX_MEM", LONG, 1L << 20,        \
        1L << 40, "268435456", "bytes", "memory limit of each rule Lua state", \
        NULL)                                                                  \
    ENV(host_paths, NULL, NULL, "SFEMU_HOST_PATHS", LIST, 0, 0, NULL,          \
        "path:path",                                                           \
        "true root: guest paths served from the host "                         \
        "(+path adds to the default list)",                                    \
        NULL)                                                                  \
    ENV(open_host_allow, NULL, NULL, "SFEMU_OPEN_HOST_ALLOW", LIST, 0, 0,      \
        NULL, "path:path",                                                     \
        "host files and dirs (dir/) c_open_host may open read-write", NULL)    \
    ENV(ring_timeout_ms, NULL, NULL, "SFEMU_RING_TIMEOUT_MS", LONG, 1, 60000,  \
        "500", "ms",                                                           \
        "sfemu-mount ring: a request checks the daemon is alive every 'ms' "   \
        "and gives up after 20 of them (then fake resources are served "       \
        "inside qemu)",                                                        \
        NULL)                                                                  \
    ENV(watchdog, NULL, NULL, "SFEMU_WATCHDOG", BOOL, 0, 0, NULL, "on|off",    \
        "force the watchdog on or off (default: on with entry.lua or "         \
        "-rules-idle-ms)",                                                     \
        NULL)                                                                  \
    ENV(deadloop_period_max, NULL, NULL, "SFEMU_DEADLOOP_PERIOD_MAX", LONG, 0, \
        64, "8", "n",                                                          \
        "longest repeated syscall sequence the dead-loop check looks for "     \
        "(0: off)",                                                            \
        NULL)                                                                  \
    ENV(deadloop_repeats, NULL, NULL, "SFEMU_DEADLOOP_REPEATS", LONG, 2,       \
        1000000, "20", "n", "repetitions of a sequence that make a dead loop", \
        NULL)                                                                  \
    ENV(deadloop_wait_ms, NULL, NULL, "SFEMU_DEADLOOP_WAIT_MS", LONG, 0,       \
        3600L * 1000, "50", "ms",                                              \
        "a syscall that blocks this long is waiting, not looping", NULL)       \
    ENV(watchdog_max_reports, NULL, NULL, "SFEMU_WATCHDOG_MAX_REPORTS", LONG,  \
        0, 1000000, "32", "n", "reports one process writes at most", NULL)     \
    ENV(watchdog_rate, NULL, NULL, "SFEMU_WATCHDOG_RATE", LONG, 0, 1000000,    \
        "5", "n",                                                              \
        "reports of one trigger a process tree writes per minute (0: no "      \
        "limit)",                                                              \
        NULL)                                                                  \
    ENV(watchdog_exit, NULL, NULL, "SFEMU_WATCHDOG_EXIT", ENUM, 0, 0,          \
        "service", "service|all",                                              \
        "non-zero exits reported: service (not a forked child whose parent "   \
        "lives) or all",                                                       \
        NULL)                                                                  \
    ENV(watchdog_stack_scan, NULL, NULL, "SFEMU_WATCHDOG_STACK_SCAN", LONG, 0, \
        1L << 20, "4096", "bytes",                                             \
        "stack bytes a report scans for return addresses", NULL)               \
    ENV(probe_http, NULL, NULL, "SFEMU_PROBE_HTTP", STR, 0, 0, NULL,           \
        "host:port",                                                           \
        "before a dead-loop report, ask this loopback HTTP "                   \
        "service whether it still answers",                                    \
        NULL)                                                                  \
    ENV(probe_timeout_ms, NULL, NULL, "SFEMU_PROBE_TIMEOUT_MS", LONG, 1,       \
        60000, "1000", "ms", "timeout of an HTTP probe", NULL)                 \
    ENV(shadowstack_plugin, NULL, NULL, "SFEMU_SHADOWSTACK_PLUGIN", PATH, 0,   \
        0, NULL, "file",                                                       \
        "the shadow-stack TCG plugin (default: "                               \
        "libsfemu-shadowstack.so beside the qemu binary)",                     \
        NULL)                                                                  \
    ENV(ai_auto_continue, NULL, NULL, "SFEMU_AI_AUTO_CONTINUE", BOOL, 0, 0,    \
        "off", "on|off", "c_wait_user_continue answers yes without asking",    \
        NULL)                                                                  \
    ENV(auto_ai, NULL, NULL, "auto_ai", BOOL, 0, 0, "off", "on|off",           \
        "unattended mode: AI repair on, and SFEMU_AI_AUTO_CONTINUE", NULL)     \
    ENV(ai_enable, NULL, NULL, "SFEMU_AI_ENABLE", BOOL, 0, 0, "off", "on|off", \
        "AI repair on the watchdog's triggers (docs/ai-repair.md)", NULL)      \
    ENV(ai_cmd, NULL, NULL, "SFEMU_AI_CMD", STR, 0, 0, NULL, "command",        \
        "the repair tool, run as: /bin/sh -c 'command SNAPSHOT PATCH_DIR "     \
        "ENV_PATH'",                                                           \
        NULL)                                                                  \
    ENV(ai_mcp_enable, NULL, NULL, "SFEMU_AI_MCP_ENABLE", BOOL, 0, 0, "off",   \
        "on|off",                                                              \
        "without SFEMU_AI_CMD, run the built-in tool "                         \
        "(RULES/plugins/ai/ai_mcp_openai)",                                    \
        NULL)                                                                  \
    ENV(ai_env, NULL, NULL, "SFEMU_AI_ENV", PATH, 0, 0, NULL, "file",          \
        "the env file read at start-up and given to the tool (default: "       \
        "RULES/config/env)",                                                   \
        NULL)                                                                  \
    ENV(ai_timeout_s, NULL, NULL, "SFEMU_AI_TIMEOUT_S", LONG, 1, 86400, "120", \
        "seconds", "the repair tool is killed after 'seconds'", NULL)          \
    ENV(ai_repair_on_error, NULL, NULL, "SFEMU_AI_REPAIR_ON_ERROR", BOOL, 0,   \
        0, "off", "on|off",                                                    \
        "also repair when a chosen syscall fails with a chosen errno, and "    \
        "retry it in place",                                                   \
        NULL)                                                                  \
    ENV(ai_repair_syscalls, NULL, NULL, "SFEMU_AI_REPAIR_SYSCALLS", STR, 0, 0, \
        "open,openat,access,faccessat,ioctl,connect", "name,name",             \
        "the syscalls SFEMU_AI_REPAIR_ON_ERROR watches", NULL)                 \
    ENV(ai_repair_errnos, NULL, NULL, "SFEMU_AI_REPAIR_ERRNOS", STR, 0, 0,     \
        "ENOENT,ENODEV,ENXIO,ENOTTY", "ERR,ERR",                               \
        "the errnos SFEMU_AI_REPAIR_ON_ERROR reacts to", NULL)                 \
    ENV(ai_reexec_on_exit_fix, NULL, NULL, "SFEMU_AI_REEXEC_ON_EXIT_FIX",      \
        BOOL, 0, 0, "on", "on|off",                                            \
        "after a fix for an abnormal exit, run the program again in a new "    \
        "qemu (same arguments and environment)",                               \
        NULL)                                                                  \
    ENV(reexec_max, NULL, NULL, "SFEMU_REEXEC_MAX", LONG, 0, 100, "3", "n",    \
        "re-execs after exit fixes, at most (the count survives them)", NULL)  \
    ENV(ai_validate_ms, NULL, NULL, "SFEMU_AI_VALIDATE_MS", LONG, 0,           \
        3600L * 1000, "3000", "ms",                                            \
        "validation window of an applied fix: its length", NULL)               \
    ENV(ai_validate_syscalls, NULL, NULL, "SFEMU_AI_VALIDATE_SYSCALLS", LONG,  \
        0, 1L << 30, "20", "n",                                                \
        "validation window: syscalls the guest must make (progress)", NULL)

#endif
