/*
 * The interpreter engine of --init (init_interp.c: parsing, control flow,
 * dispatch; init_cmds.c: the commands it replays).  Internal to the two.
 */
#ifndef SFEMU_INIT_INTERP_H
#define SFEMU_INIT_INTERP_H

#include <limits.h>
#include <stdio.h>
#include "init_replay.h"

#define MAX_WORDS 128
#define MAX_VARS 128
#define MAX_DEPTH 4
#define MAX_IFS 32

/* The control flow of one script. */
enum { IF_RUN, IF_WAIT, IF_DONE }; /* branch taken, none yet, all done */
struct flow {
    unsigned char if_st[MAX_IFS]; /* one per open if */
    int ifs;
    int skip_nest;         /* > 0: inside a skipped loop, case, function */
    const char *skip_end;  /* the word that closes it */
    const char *skip_open; /* the word that opens one more (or NULL) */
    int stop;              /* exit */
};

struct interp {
    int root;
    struct init_report *r;
    char cwd[PATH_MAX];
    char *var_name[MAX_VARS], *var_val[MAX_VARS];
    int nvars;
    int depth;
    struct flow *flow;
    int last; /* the last command's status: 0, 1, or -1 (not known) */
};

struct cmd {
    char *w[MAX_WORDS];
    unsigned char glob[MAX_WORDS]; /* an unquoted * ? [ in the word */
    int n;
    char *redir; /* > or >> target */
    int append;
    const char *why_not; /* set when the command cannot be replayed */
    const char *rest;    /* the line after a |: not replayed */
    char next;           /* what follows: '&' (&&), '|' (||) or 0 */
    char *heredoc;       /* << WORD: the delimiter, then the body */
    int heredoc_quoted;  /* << 'WORD': no expansion in the body */
    char *body;
};

/* A word's guest path (relative to the script's cwd). */
void ip_path(struct interp *in, const char *w, char *out);
/* Reports c as done (rc 0, with an optional note) or failed (-errno), and
 * sets the status. */
void ip_done(struct interp *in, const struct cmd *c, int rc, const char *note);
/* Reports c as skipped for why, and sets the status. */
void ip_skip(struct interp *in, const struct cmd *c, const char *why);

/* The commands (init_cmds.c): 0 or -errno, reported. */
int icmd_mkdir(struct interp *in, struct cmd *c);
int icmd_cp(struct interp *in, struct cmd *c);
int icmd_ln(struct interp *in, struct cmd *c);
int icmd_output(struct interp *in, struct cmd *c, const char *cmd);
int icmd_cat(struct interp *in, struct cmd *c);
int icmd_touch(struct interp *in, struct cmd *c);
int icmd_chmod(struct interp *in, struct cmd *c);
int icmd_mount(struct interp *in, struct cmd *c);
int icmd_tar(struct interp *in, struct cmd *c);

#endif
