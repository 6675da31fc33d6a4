/*
 * The run record (docs/run-record.schema.json, version 1): what was run
 * and how, the stages reached, the ports and their answers, and what the
 * -sfanalysis records and watchdog logs of the run say (notes such as
 * unknown NVRAM keys, triggers, execs).  run.json for programs, run.txt
 * for a person.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "run.h"

#define RECORD_VERSION 1

const char *run_stage_name(enum run_stage s)
{
    static const char *const n[] = { "none", "started", "listening", "answered",
                                     "well_formed" };
    return n[s];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) {
        b[n] = 0;
    }
    fclose(f);
    return b;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Whether arr holds value: as a string item (key NULL), or as the string
 * key of an object item. */
static int holds(const cJSON *arr, const char *key, const char *value)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, arr)
    {
        const char *v = cJSON_GetStringValue(key ? cJSON_GetObjectItem(d, key)
                                                 : (cJSON *)d);
        if (v && !strcmp(v, value)) {
            return 1;
        }
    }
    return 0;
}

/* Copies each object of a program's list into the run's, naming the
 * program. */
static void add_tagged(cJSON *out, const cJSON *list, const char *prog)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        cJSON *c = cJSON_Duplicate(x, 1);
        cJSON_AddStringToObject(c, "program", prog);
        cJSON_AddItemToArray(out, c);
    }
}

/* Adds one program's {"file", "calls", "intercepted"} to the run's sums. */
static void add_rule(cJSON *sums, const cJSON *r)
{
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(r, "file"));
    cJSON *calls = cJSON_GetObjectItem(r, "calls");
    cJSON *icpt = cJSON_GetObjectItem(r, "intercepted");
    if (!file || !cJSON_IsNumber(calls) || !cJSON_IsNumber(icpt)) {
        return;
    }
    cJSON *s = cJSON_GetObjectItem(sums, file);
    if (!s) {
        s = cJSON_AddArrayToObject(sums, file);
        cJSON_AddItemToArray(s, cJSON_CreateNumber(0));
        cJSON_AddItemToArray(s, cJSON_CreateNumber(0));
    }
    cJSON *c = cJSON_GetArrayItem(s, 0), *i = cJSON_GetArrayItem(s, 1);
    cJSON_SetNumberValue(c, c->valuedouble + calls->valuedouble);
    cJSON_SetNumberValue(i, i->valuedouble + icpt->valuedouble);
}

static int by_calls(const void *a, const void *b)
{
    double x = cJSON_GetArrayItem(*(cJSON *const *)a, 0)->valuedouble;
    double y = cJSON_GetArrayItem(*(cJSON *const *)b, 0)->valuedouble;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* "rules_fired": the sums, most calls first; frees sums. */
static void rules_sorted(cJSON *rec, cJSON *sums)
{
    int n = cJSON_GetArraySize(sums), k = 0;
    cJSON **v = calloc((size_t)n + 1, sizeof *v), *x;
    cJSON_ArrayForEach(x, sums)
    {
        v[k++] = x;
    }
    qsort(v, (size_t)k, sizeof *v, by_calls);
    cJSON *out = cJSON_AddArrayToObject(rec, "rules_fired");
    for (int i = 0; i < k; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", v[i]->string);
        cJSON_AddNumberToObject(o, "calls",
                                cJSON_GetArrayItem(v[i], 0)->valuedouble);
        cJSON_AddNumberToObject(o, "intercepted",
                                cJSON_GetArrayItem(v[i], 1)->valuedouble);
        cJSON_AddItemToArray(out, o);
    }
    free(v);
    cJSON_Delete(sums);
}

/* Programs, notes, triggers and rules of the -sfanalysis records. */
static void analysis(cJSON *rec, const char *dir)
{
    cJSON *progs = cJSON_AddArrayToObject(rec, "programs");
    cJSON *notes = cJSON_AddArrayToObject(rec, "notes");
    cJSON *trig = cJSON_AddArrayToObject(rec, "triggers");
    cJSON *lis = cJSON_AddArrayToObject(rec, "listens");
    cJSON *dirs = cJSON_AddArrayToObject(rec, "dirs_made");
    cJSON *rules = cJSON_CreateObject(); /* file -> [calls, intercepted] */
    cJSON *fakes = cJSON_AddArrayToObject(rec, "fakes_made");
    struct dirent **e;
    int n = scandir(dir, &e, NULL, by_name);
    for (int i = 0; i < n; i++) {
        const char *f = e[i]->d_name;
        size_t l = strlen(f);
        if (!strncmp(f, "analysis", 8) && l > 5 &&
            !strcmp(f + l - 5, ".json")) {
            char p[PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, f);
            char *txt = slurp(p);
            cJSON *a = txt ? cJSON_Parse(txt) : NULL;
            free(txt);
            const char *prog =
                a ? cJSON_GetStringValue(cJSON_GetObjectItem(a, "program"))
                  : NULL;
            if (prog) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "program", prog);
                cJSON *pid = cJSON_GetObjectItem(a, "pid");
                cJSON_AddNumberToObject(
                    o, "pid", cJSON_IsNumber(pid) ? pid->valuedouble : 0);
                const char *why =
                    cJSON_GetStringValue(cJSON_GetObjectItem(a, "why"));
                cJSON_AddStringToObject(o, "ended_by", why ? why : "");
                cJSON_AddStringToObject(o, "record", f);
                /* > 0: started by a guest exec (a CGI, a script) */
                cJSON *ex = cJSON_GetObjectItem(a, "execs");
                cJSON_AddNumberToObject(
                    o, "execs", cJSON_IsNumber(ex) ? ex->valuedouble : 0);
                /* the name the guest exec'd (a CGI script's own) */
                const char *en =
                    cJSON_GetStringValue(cJSON_GetObjectItem(a, "exec_name"));
                if (en) {
                    cJSON_AddStringToObject(o, "exec_name", en);
                }
                cJSON_AddItemToArray(progs, o);
                add_tagged(notes, cJSON_GetObjectItem(a, "notes"), prog);
                add_tagged(trig, cJSON_GetObjectItem(a, "triggers"), prog);
                /* the ports asked and bound (a bind the runtime moved) */
                add_tagged(lis, cJSON_GetObjectItem(a, "sockets_listening"),
                           prog);
                cJSON *x;
                cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "fakes_made"))
                {
                    const char *fp =
                        cJSON_GetStringValue(cJSON_GetObjectItem(x, "path"));
                    if (fp && !holds(fakes, "path", fp)) {
                        cJSON *c = cJSON_CreateObject();
                        cJSON_AddStringToObject(c, "path", fp);
                        const char *k = cJSON_GetStringValue(
                            cJSON_GetObjectItem(x, "kind"));
                        cJSON_AddStringToObject(c, "kind", k ? k : "");
                        cJSON_AddStringToObject(c, "program", prog);
                        cJSON_AddItemToArray(fakes, c);
                    }
                }
                cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "rules"))
                {
                    add_rule(rules, x);
                }
                cJSON_ArrayForEach(x, cJSON_GetObjectItem(a, "dirs_made"))
                {
                    if (cJSON_IsString(x) &&
                        !holds(dirs, NULL, x->valuestring)) {
                        cJSON_AddItemToArray(dirs, cJSON_Duplicate(x, 0));
                    }
                }
            }
            cJSON_Delete(a);
        }
        free(e[i]);
    }
    if (n >= 0) {
        free(e);
    }
    rules_sorted(rec, rules);
}

/* Calls fn for each entry NAME of dir whose DIR/NAME/SUB (or DIR/NAME
 * when sub is "") was changed since the run began, in name order. */
static void each_recent(const char *dir, const char *sub, double since,
                        void (*fn)(cJSON *out, const char *name,
                                   const char *path),
                        cJSON *out)
{
    struct dirent **e;
    int n = scandir(dir, &e, NULL, by_name);
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX + 300];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s%s%s", dir, e[i]->d_name, sub[0] ? "/" : "",
                 sub);
        if (e[i]->d_name[0] != '.' && stat(p, &st) == 0 &&
            (double)st.st_mtime >= since - 1) {
            fn(out, e[i]->d_name, p);
        }
        free(e[i]);
    }
    if (n >= 0) {
        free(e);
    }
}

static void watchdog_log(cJSON *w, const char *name, const char *path)
{
    if (strncmp(name, "watchdog-", 9) != 0) {
        return;
    }
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        cJSON_AddItemToArray(w, cJSON_CreateString(line));
    }
    if (f) {
        fclose(f);
    }
}

/* One AI repair attempt (RULES/cache/ai_runs/<id>/verdict.json,
 * docs/ai-repair.md): what triggered it, the verdict and the rules. */
static void ai_fix(cJSON *out, const char *id, const char *path)
{
    char *txt = slurp(path);
    cJSON *v = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    cJSON *trig = cJSON_GetObjectItem(v, "trigger");
    if (v && cJSON_IsObject(trig)) {
        cJSON *o = cJSON_CreateObject();
        const char *s;
        cJSON_AddStringToObject(o, "run_id", id);
        s = cJSON_GetStringValue(cJSON_GetObjectItem(trig, "kind"));
        cJSON_AddStringToObject(o, "trigger", s ? s : "");
        s = cJSON_GetStringValue(cJSON_GetObjectItem(trig, "detail"));
        cJSON_AddStringToObject(o, "detail", s ? s : "");
        s = cJSON_GetStringValue(cJSON_GetObjectItem(v, "verdict"));
        cJSON_AddStringToObject(o, "verdict", s ? s : "");
        s = cJSON_GetStringValue(cJSON_GetObjectItem(v, "why"));
        cJSON_AddStringToObject(o, "why", s ? s : "");
        cJSON *files = cJSON_AddArrayToObject(o, "installed"), *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(v, "files"))
        {
            s = cJSON_GetStringValue(cJSON_GetObjectItem(f, "installed"));
            if (s) {
                cJSON_AddItemToArray(files, cJSON_CreateString(s));
            }
        }
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        cJSON_AddStringToObject(o, "dir", dir);
        cJSON_AddItemToArray(out, o);
    }
    cJSON_Delete(v);
}

/* The watchdog's one-line summaries and the AI repair attempts of the run. */
static void watchdog(cJSON *rec, const char *rules, double since)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/log", rules);
    each_recent(dir, "", since, watchdog_log,
                cJSON_AddArrayToObject(rec, "watchdog"));
    snprintf(dir, sizeof dir, "%s/cache/ai_runs", rules);
    each_recent(dir, "verdict.json", since, ai_fix,
                cJSON_AddArrayToObject(rec, "ai_fixes"));
}

static cJSON *stage(cJSON *st, const char *name, int ok, double t)
{
    cJSON *o = cJSON_AddObjectToObject(st, name);
    cJSON_AddBoolToObject(o, "reached", ok);
    if (ok) {
        cJSON_AddNumberToObject(o, "t", t);
    } else {
        cJSON_AddNullToObject(o, "t");
    }
    return o;
}

static cJSON *build(struct run_result *r)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "schema", "sfemu-run-record");
    cJSON_AddNumberToObject(rec, "version", RECORD_VERSION);
    cJSON_AddStringToObject(rec, "rootfs", r->rootfs);
    cJSON *m = cJSON_AddObjectToObject(rec, "mount");
    cJSON_AddStringToObject(m, "point", r->m->point);
    cJSON_AddStringToObject(m, "upper", r->m->upper);
    cJSON_AddBoolToObject(m, "reused", r->m->reused);
    cJSON_AddStringToObject(rec, "rules", r->m->rules);
    cJSON *b = cJSON_AddObjectToObject(rec, "binary");
    cJSON_AddStringToObject(b, "path", r->t->guest);
    cJSON *args = cJSON_AddArrayToObject(b, "args");
    for (int i = 0; i < r->t->nargs; i++) {
        cJSON_AddItemToArray(args, cJSON_CreateString(r->t->args[i]));
    }
    cJSON_AddStringToObject(b, "chosen_by",
                            r->t->searched ? "search" : "command line");
    cJSON_AddStringToObject(b, "why", r->t->why);
    cJSON *a = cJSON_AddObjectToObject(rec, "arch");
    cJSON_AddStringToObject(a, "qemu", r->a->qemu);
    cJSON_AddNumberToObject(a, "elf_machine", r->a->machine);
    cJSON_AddNumberToObject(a, "bits", r->a->bits);
    cJSON_AddStringToObject(a, "endian", r->a->big_endian ? "big" : "little");
    cJSON_AddStringToObject(a, "abi", r->a->abi);
    cJSON_AddStringToObject(a, "cpu", r->a->cpu);
    cJSON_AddStringToObject(a, "cpu_why", r->a->cpu_why);
    cJSON_AddBoolToObject(rec, "netns", r->netns);
    cJSON_AddNumberToObject(rec, "started", r->started);
    cJSON_AddNumberToObject(rec, "ended", r->ended);
    cJSON_AddNumberToObject(rec, "seconds", r->ended - r->started);
    cJSON *st = cJSON_AddObjectToObject(rec, "stages");
    stage(st, "started", r->reached >= STAGE_STARTED, r->t_started);
    double tl = 0, ta = 0;
    const struct run_port *first = NULL;
    for (int i = 0; i < r->ps->n; i++) {
        const struct run_port *p = &r->ps->p[i];
        tl = !tl || p->t_listen < tl ? p->t_listen : tl;
        if (p->code && (!first || (p->well_formed && !first->well_formed))) {
            first = p;
        }
        if (p->code && (!ta || p->t_answer < ta)) {
            ta = p->t_answer;
        }
    }
    stage(st, "listening", r->reached >= STAGE_LISTENING, tl);
    cJSON *an = stage(st, "answered", r->reached >= STAGE_ANSWERED, ta);
    if (first) {
        cJSON_AddNumberToObject(an, "code", first->code);
    }
    cJSON *wf = stage(st, "well_formed", r->reached >= STAGE_WELL_FORMED, ta);
    if (first) {
        cJSON_AddStringToObject(wf, "why", first->why);
    }
    cJSON_AddStringToObject(rec, "reached", run_stage_name(r->reached));
    cJSON *ports = cJSON_AddArrayToObject(rec, "ports");
    for (int i = 0; i < r->ps->n; i++) {
        const struct run_port *p = &r->ps->p[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "address", p->address);
        cJSON_AddNumberToObject(o, "port", p->port);
        cJSON_AddNumberToObject(o, "http_code", p->code);
        cJSON_AddBoolToObject(o, "well_formed", p->well_formed);
        cJSON_AddStringToObject(o, "title", p->title);
        cJSON_AddStringToObject(o, "why", p->why);
        cJSON_AddItemToArray(ports, o);
    }
    cJSON *sv = cJSON_AddObjectToObject(rec, "service");
    if (r->s->exited) {
        cJSON_AddNumberToObject(sv, "wait_status", r->s->exit_status);
    } else {
        cJSON_AddNullToObject(sv, "wait_status");
    }
    cJSON_AddNumberToObject(rec, "syscalls", (double)r->syscalls);
    cJSON_AddStringToObject(rec, "analysis_dir", r->analysis);
    analysis(rec, r->analysis);
    watchdog(rec, r->m->rules, r->started);
    cJSON *res = cJSON_AddObjectToObject(rec, "result");
    cJSON_AddNumberToObject(res, "exit_code", r->exit_code);
    cJSON_AddStringToObject(res, "why", r->why);
    return rec;
}

static void summary(FILE *f, cJSON *rec, struct run_result *r)
{
    fprintf(f, "sfemu run record (version %d)\n", RECORD_VERSION);
    fprintf(f, "binary:   %s", r->t->guest);
    for (int i = 0; i < r->t->nargs; i++) {
        fprintf(f, " %s", r->t->args[i]);
    }
    fprintf(f, "\n          (%s)\n", r->t->why);
    fprintf(f, "arch:     qemu-%s, %d-bit %s-endian, %s; cpu %s%s%s\n",
            r->a->qemu, r->a->bits, r->a->big_endian ? "big" : "little",
            r->a->abi, r->a->cpu, r->a->cpu_why[0] ? ": " : "", r->a->cpu_why);
    fprintf(f, "network:  %s\n",
            r->netns ? "own namespace, loopback only" : "the host's");
    for (int i = 0; i < r->ps->n; i++) {
        const struct run_port *p = &r->ps->p[i];
        fprintf(f, "port:     %s:%d -> %s%d %s\n", p->address, p->port,
                p->code ? "HTTP " : "", p->code, p->why);
    }
    fprintf(f, "reached:  %s after %.1f s\n", run_stage_name(r->reached),
            r->ended - r->started);
    cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "notes"))
    {
        fprintf(f, "note:     %s: %s: %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "program")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "source")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "text")));
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "programs"))
    {
        const char *en =
            cJSON_GetStringValue(cJSON_GetObjectItem(x, "exec_name"));
        if (cJSON_GetNumberValue(cJSON_GetObjectItem(x, "execs")) > 0) {
            fprintf(f, "exec:     %s (%s)\n", en ? en : "?",
                    cJSON_GetStringValue(cJSON_GetObjectItem(x, "program")));
        }
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "fakes_made"))
    {
        fprintf(f, "fake:     %s made by %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "path")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "program")));
    }
    fprintf(f, "syscalls: %.0f\n", (double)r->syscalls);
    int shown = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "rules_fired"))
    {
        if (shown++ < 10) {
            fprintf(
                f, "rule:     %s ran %.0f times, gave the result %.0f\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "file")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(x, "calls")),
                cJSON_GetNumberValue(cJSON_GetObjectItem(x, "intercepted")));
        }
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "watchdog"))
    {
        fprintf(f, "watchdog: %s\n", x->valuestring);
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(rec, "ai_fixes"))
    {
        fprintf(f, "ai fix:   %s (%s): %s: %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "trigger")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "detail")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "verdict")),
                cJSON_GetStringValue(cJSON_GetObjectItem(x, "why")));
    }
    fprintf(f, "result:   exit %d: %s\n", r->exit_code, r->why);
}

int run_record(struct run_result *r, char *err, size_t cap)
{
    cJSON *rec = build(r);
    char *txt = cJSON_Print(rec);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/run.json", r->out);
    FILE *f = fopen(p, "w");
    int ok = f && txt && fputs(txt, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) {
        ok = 0;
    }
    snprintf(p, sizeof p, "%s/run.txt", r->out);
    f = fopen(p, "w");
    if (f) {
        summary(f, rec, r);
        ok = fclose(f) == 0 && ok;
    }
    free(txt);
    cJSON_Delete(rec);
    if (!ok || !f) {
        snprintf(err, cap, "cannot write the run record in %s", r->out);
        return RUN_ERR;
    }
    return 0;
}
