/*
 * One POST to {OPENAI_BASE_URL}/chat/completions with libcurl, retried at
 * most OPENAI_MAX_RETRIES times with a doubling back-off when the failure
 * may pass: a connection refused or reset, a timeout (OPENAI_TIMEOUT_S for
 * the whole exchange), HTTP 429 or 5xx.  Any other HTTP error is final.
 * The key goes only in the Authorization header: no verbose output, no
 * redirects (a redirect could carry the header to another host), and every
 * message passes ai_log's redaction.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ai.h"

#define BACKOFF_MAX_MS 8000

struct sink {
    char *p;
    size_t n, cap;
    int over;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    struct sink *s = u;
    size_t len = sz * nm;
    if (s->n + len > AI_MAX_RESPONSE) {
        s->over = 1;
        return 0;
    }
    if (s->n + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->n + len + 1) {
            cap *= 2;
        }
        char *p = realloc(s->p, cap);
        if (!p) {
            return 0;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->n, d, len);
    s->n += len;
    s->p[s->n] = 0;
    return len;
}

static int retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return 1;
    default: return 0;
    }
}

/* "HTTP 500", with the server's error.message when it sent one. */
static void http_reason(long status, const struct sink *s, char *buf,
                        size_t cap)
{
    cJSON *j = s->p ? cJSON_Parse(s->p) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "error"), "message");
    if (cJSON_IsString(m)) {
        snprintf(buf, cap, "HTTP %ld: %.200s", status, m->valuestring);
    } else {
        snprintf(buf, cap, "HTTP %ld", status);
    }
    cJSON_Delete(j);
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

int ai_chat_post(const struct ai_config *cfg, const char *body,
                 struct ai_http *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    size_t alen = strlen(cfg->key) + sizeof "Authorization: Bearer ";
    char *auth = malloc(alen);
    struct curl_slist *h = NULL, *h2;
    if (c && auth) {
        snprintf(auth, alen, "Authorization: Bearer %s", cfg->key);
        h = curl_slist_append(NULL, "Content-Type: application/json");
        h = (h2 = curl_slist_append(h, "Accept: application/json")) ? h2 : h;
        h = (h2 = curl_slist_append(h, auth)) ? h2 : NULL;
    }
    if (!h) {
        snprintf(err, cap, "cannot set up libcurl");
        curl_easy_cleanup(c);
        free(auth);
        return AI_ENET;
    }
    char ebuf[CURL_ERROR_SIZE];
    struct sink s = { 0 };
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sfemu-ai/" SFEMU_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);

    int rc = AI_ENET, attempts = 0;
    long backoff = cfg->backoff_ms, end = now_ms() + cfg->budget_ms;
    char reason[512] = "";
    for (;;) {
        /* Each attempt: OPENAI_TIMEOUT_S, or what is left of the budget. */
        long left = end - now_ms(), t = cfg->timeout_s * 1000L;
        t = t < left ? t : left;
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t > 1 ? t : 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t < 10000 ? t : 10000L);
        s.n = 0;
        s.over = 0;
        if (s.p) {
            s.p[0] = 0;
        }
        ebuf[0] = 0;
        attempts++;
        CURLcode cr = curl_easy_perform(c);
        int again = 0;
        long status = 0;
        if (cr == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            if (status >= 200 && status < 300) {
                rc = AI_OK;
                break;
            }
            http_reason(status, &s, reason, sizeof reason);
            again = status == 429 || (status >= 500 && status < 600);
        } else if (s.over) {
            snprintf(reason, sizeof reason, "the answer is over %d bytes",
                     AI_MAX_RESPONSE);
        } else {
            snprintf(reason, sizeof reason, "%s",
                     ebuf[0] ? ebuf : curl_easy_strerror(cr));
            again = retryable_curl(cr);
        }
        out->status = status;
        if (!again || attempts > cfg->max_retries) {
            break;
        }
        if (end - now_ms() < backoff + 1000) {
            size_t l = strlen(reason);
            snprintf(reason + l, sizeof reason - l,
                     "; no time left for a retry (SFEMU_AI_TIMEOUT_S)");
            break;
        }
        ai_log("attempt %d of %ld: %s; again in %ld ms", attempts,
               cfg->max_retries + 1, reason, backoff);
        sleep_ms(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    if (rc == AI_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        snprintf(err, cap, "POST %s: %s (%d attempt%s)", cfg->url, reason,
                 attempts, attempts == 1 ? "" : "s");
    }
    out->body = s.p;
    out->len = s.n;
    if (out->body == NULL && rc == AI_OK) {
        out->body = strdup("");
    }
    for (struct curl_slist *p = h; p; p = p->next) {
        memset(p->data, 0, strlen(p->data));
    }
    curl_slist_free_all(h);
    memset(auth, 0, alen);
    free(auth);
    curl_easy_cleanup(c);
    return rc;
}

void ai_http_free(struct ai_http *h)
{
    free(h->body);
    h->body = NULL;
}
