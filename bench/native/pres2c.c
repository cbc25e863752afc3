/*
 * pres2c-native: the PRES-2C load generator for Herald's live WebSocket protocol (herald.live.v1), in C.
 *
 * Speaks exactly what bench/Herald.Bench's HeraldSocketBenchClient speaks: POST /api/v1/auth/token over HTTP/1.1,
 * a WebSocket upgrade to /api/v1/live (Authorization: Bearer, subprotocol herald.live.v1, masked client frames),
 * {"op":"watch","contacts":true,"id":n}, {"op":"status","status":{"availability":…,"note":…},"id":n} for the initial
 * presence and every stamped update, and {"type":"presence","views":[…]} pushes whose view notes carry the stamps
 * (b{step}.{sender}.{n}.{monotonic ns}). One thread, one epoll set, non-blocking sockets: the instrument must cost far
 * less per delivery than the server it measures. Loopback only. Every loop is bounded in count and time
 * (--max-seconds bounds the whole run; every request has a 30 s timeout).
 *
 * Build: bench/native/build.sh (gcc -O2 -Wall -Wextra -Werror, C11, libc + Linux only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS 64           /* stamp step ids 1..MAX_STEPS, as DeliveryRecorder.MaxSteps */
#define MAX_USERS 200000
#define MAX_MESSAGE (4 << 20)  /* largest server message we accept (bytes) */
#define QCAP 16                /* queued updates per user while its previous status is unanswered */
#define REQUEST_TIMEOUT_NS (30LL * 1000000000LL)
#define MAX_NOTES 1024         /* notes recorded from one presence message */
#define HSUB 256               /* histogram: exact below 256 µs, then 128 sub-buckets per power of two */
#define HBUCKETS (HSUB + 26 * 128)
#define HIGHEST_US 3600000000ULL

/* ---------- time ---------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double secs(int64_t ns) { return ns / 1e9; }

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    fprintf(stderr, "[%02d:%02d:%02d] ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---------- histogram (log-linear, ≤ 0.8 % relative error) ---------- */

typedef struct {
    uint64_t counts[HBUCKETS];
    uint64_t total;
    uint64_t max;
} hist_t;

static int hidx(uint64_t v)
{
    if (v < HSUB) return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int sh = msb - 7;
    return HSUB + (sh - 1) * 128 + (int)((v >> sh) - 128);
}

static uint64_t hupper(int i)
{
    if (i < HSUB) return (uint64_t)i;
    int k = i - HSUB;
    int sh = k / 128 + 1;
    uint64_t m = (uint64_t)(k % 128) + 128;
    return ((m + 1) << sh) - 1;
}

static void hrecord(hist_t *h, uint64_t v)
{
    if (v > HIGHEST_US) v = HIGHEST_US;
    h->counts[hidx(v)]++;
    h->total++;
    if (v > h->max) h->max = v;
}

/* The value at percentile p (µs): the highest value of the bucket holding it, as HdrHistogram reports. */
static double hpct_ms(const hist_t *h, double p)
{
    if (h->total == 0) return 0;
    uint64_t target = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (target < 1) target = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= target) {
            uint64_t u = hupper(i);
            if (u > h->max) u = h->max;
            return u / 1000.0;
        }
    }
    return h->max / 1000.0;
}

/* ---------- options ---------- */

static struct {
    char server[64];
    char host[64];
    int port;
    int users, roster;
    char prefix[32], password[128];
    double login_rate;
    int login_inflight;
    double settle, step_seconds, drain, warmup, max_seconds;
    double steps[MAX_STEPS];
    int nsteps;
    double think[MAX_STEPS];
    int nthink;
    int stop_after;
    int server_pid;
    unsigned seed;
    int fixed_schedule;
    int login_only;
} o = {
    .server = "server", .host = "127.0.0.1", .port = 5080, .users = 5000, .roster = 20, .prefix = "u",
    .password = "benchpass1", .login_rate = 500, .login_inflight = 50, .settle = 5, .step_seconds = 10,
    .drain = 10, .warmup = 0, .max_seconds = 900, .think = {60, 20, 10, 5, 2}, .nthink = 5, .stop_after = 2,
    .seed = 1,
};

static const char *usage =
    "pres2c-native: workload PRES-2C over Herald's live WebSocket protocol (herald.live.v1), loopback only.\n"
    "  --url http://127.0.0.1:PORT   server (loopback address only)           (http://127.0.0.1:5080)\n"
    "  --server NAME                 label in the report                       (server)\n"
    "  --users N --roster R          users prefix0…prefix(N-1), ring roster R   (5000, 20)\n"
    "  --prefix P --password W       user name prefix and password             (u, benchpass1)\n"
    "  --login-rate X --login-inflight K   login arrivals/s, most in flight    (500, 50)\n"
    "  --settle S                    seconds between last login and RSS reading (5)\n"
    "  --steps D,D,…                 offered deliveries/s per step (updates/s = D / R)\n"
    "  --think T,T,…                 steps by think time: N/T updates/s        (60,20,10,5,2)\n"
    "  --step-seconds S --drain S    step length; most wait for stragglers     (10, 10)\n"
    "  --warmup S                    unmeasured fan-out at the first step's rate first (0)\n"
    "  --schedule exp|fixed          exponential think time (random user per update) or a fixed-rate\n"
    "                                schedule spread evenly over a shuffled user order (exp)\n"
    "  --stop-after K                stop after K steps in a row that miss the saturation rule (2)\n"
    "  --server-pid PID              read the server's CPU time and RSS from /proc (0 = not measured)\n"
    "  --seed X --max-seconds S      random seed; bound of the whole run       (1, 900)\n"
    "  --login-only                  log everyone in and out, no fan-out\n"
    "  --protocol herald-ws, --herald-login watch   accepted for compatibility with the .NET generator\n"
    "Prints progress to stderr, a table and one JSON line per step plus a summary JSON line to stdout.\n"
    "Exit code 0 when there were no login or protocol errors, 1 otherwise, 2 on bad arguments.\n";

static int parse_list(const char *v, double *out, int *n)
{
    *n = 0;
    char buf[1024];
    if (strlen(v) >= sizeof buf) return 0;
    strcpy(buf, v);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        double d = strtod(t, &end);
        if (*end || d <= 0 || *n >= MAX_STEPS - 1) return 0;
        out[(*n)++] = d;
    }
    return *n > 0;
}

static int num(const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (*v == 0 || *end || !(d >= lo && d <= hi)) return 0;
    *out = d;
    return 1;
}

static int safe_text(const char *v, size_t max)
{
    if (strlen(v) == 0 || strlen(v) >= max) return 0;
    for (const char *p = v; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == '&' || *p == ' ') return 0;
    return 1;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *n = argv[i];
        if (!strcmp(n, "--help") || !strcmp(n, "-h")) { fputs(usage, stdout); exit(0); }
        if (!strcmp(n, "--login-only")) { o.login_only = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "missing value after %s\n", n); return 0; }
        const char *v = argv[++i];
        double d = 0;
        int ok = 1;
        if (!strcmp(n, "--url")) {
            const char *p = v;
            if (strncmp(p, "http://", 7)) ok = 0;
            else {
                p += 7;
                const char *colon = strchr(p, ':');
                size_t hl = colon ? (size_t)(colon - p) : strcspn(p, "/");
                if (hl == 0 || hl >= sizeof o.host) ok = 0;
                else {
                    memcpy(o.host, p, hl);
                    o.host[hl] = 0;
                    o.port = colon ? atoi(colon + 1) : 80;
                    if (!strcmp(o.host, "localhost")) strcpy(o.host, "127.0.0.1");
                    struct in_addr a;
                    /* loopback only: 127.0.0.0/8 */
                    if (inet_pton(AF_INET, o.host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127 || o.port <= 0 || o.port > 65535) {
                        fprintf(stderr, "--url must be http://127.x.y.z:PORT (loopback only), got %s\n", v);
                        return 0;
                    }
                }
            }
        } else if (!strcmp(n, "--server")) { ok = strlen(v) < sizeof o.server && safe_text(v, sizeof o.server); if (ok) strcpy(o.server, v); }
        else if (!strcmp(n, "--prefix")) { ok = safe_text(v, sizeof o.prefix); if (ok) strcpy(o.prefix, v); }
        else if (!strcmp(n, "--password")) { ok = safe_text(v, sizeof o.password); if (ok) strcpy(o.password, v); }
        else if (!strcmp(n, "--users")) { ok = num(v, 1, MAX_USERS, &d); o.users = (int)d; }
        else if (!strcmp(n, "--roster")) { ok = num(v, 0, 1000, &d) && ((int)d % 2 == 0); o.roster = (int)d; }
        else if (!strcmp(n, "--login-rate")) { ok = num(v, 0.001, 1e6, &d); o.login_rate = d; }
        else if (!strcmp(n, "--login-inflight")) { ok = num(v, 1, 100000, &d); o.login_inflight = (int)d; }
        else if (!strcmp(n, "--settle")) { ok = num(v, 0, 3600, &d); o.settle = d; }
        else if (!strcmp(n, "--step-seconds")) { ok = num(v, 0.1, 3600, &d); o.step_seconds = d; }
        else if (!strcmp(n, "--drain")) { ok = num(v, 0, 3600, &d); o.drain = d; }
        else if (!strcmp(n, "--warmup")) { ok = num(v, 0, 3600, &d); o.warmup = d; }
        else if (!strcmp(n, "--max-seconds")) { ok = num(v, 1, 86400, &d); o.max_seconds = d; }
        else if (!strcmp(n, "--stop-after")) { ok = num(v, 1, 1000, &d); o.stop_after = (int)d; }
        else if (!strcmp(n, "--server-pid")) { ok = num(v, 0, 1e9, &d); o.server_pid = (int)d; }
        else if (!strcmp(n, "--seed")) { ok = num(v, 0, 4e9, &d); o.seed = (unsigned)d; }
        else if (!strcmp(n, "--steps")) ok = parse_list(v, o.steps, &o.nsteps);
        else if (!strcmp(n, "--think")) ok = parse_list(v, o.think, &o.nthink);
        else if (!strcmp(n, "--schedule")) { ok = !strcmp(v, "exp") || !strcmp(v, "fixed"); o.fixed_schedule = !strcmp(v, "fixed"); }
        else if (!strcmp(n, "--protocol")) ok = !strcmp(v, "herald-ws") || !strcmp(v, "ws");
        else if (!strcmp(n, "--herald-login")) ok = !strcmp(v, "watch");
        else { fprintf(stderr, "unknown option %s\n%s", n, usage); return 0; }
        if (!ok) { fprintf(stderr, "bad value for %s: %s\n", n, v); return 0; }
    }
    if (o.roster >= o.users) { fprintf(stderr, "--roster must be below --users\n"); return 0; }
    return 1;
}

/* ---------- random ---------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static double rnd01(void) { return (rnd() >> 11) * (1.0 / 9007199254740992.0); }

/* ---------- per-user state ---------- */

enum { S_IDLE, S_CONNECT, S_TOKEN, S_UPGRADE, S_WATCH, S_STATUS0, S_READY, S_DEAD, S_CLOSING, S_CLOSED };

typedef struct { int sender; int n; } last_t;
typedef struct { int64_t ns; int n; uint8_t step; uint8_t busy; } queued_t;

typedef struct {
    int fd;
    int state;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    int want_out;
    char *msg; /* fragmented message being assembled */
    size_t msg_len, msg_cap;
    int msg_active;
    char *token; /* during login only */
    int roster;
    int next_id;
    int awaiting; /* id of the outstanding request, 0 = none */
    int awaiting_is_publish;
    int64_t deadline; /* of the outstanding request or login stage */
    int64_t login_t0;
    queued_t q[QCAP];
    int qh, qn;
    last_t *last; /* the newest n per sender seen by this receiver: inline for a ring roster, else on the heap */
    int nlast, caplast;
    last_t inl[24];
    int published; /* updates sent (the sender's n) */
} user_t;

static user_t *U;
static int epfd;
static long long errors_total; /* protocol and connection errors after login, status errors */
static long long login_errors;
static char first_error[512];
static long long foreign_stamps, stale_deliveries;
static long long delivered[MAX_STEPS + 1], superseded[MAX_STEPS + 1];
static hist_t *lat[MAX_STEPS + 1];
static int logins_done, logins_inflight;
static hist_t login_hist;
static int64_t run_deadline;
static int closing_all;

static void note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_error(const char *fmt, ...)
{
    if (first_error[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_error, sizeof first_error, fmt, ap);
    va_end(ap);
    logf_("first error: %s", first_error);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) { fprintf(stderr, "out of memory\n"); exit(3); }
    return q;
}

static void ep_mod(int i)
{
    user_t *u = &U[i];
    struct epoll_event ev = {.events = EPOLLIN | (u->want_out ? EPOLLOUT : 0), .data.u32 = (uint32_t)i};
    epoll_ctl(epfd, EPOLL_CTL_MOD, u->fd, &ev);
}

static void kill_conn(int i)
{
    user_t *u = &U[i];
    if (u->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, u->fd, NULL);
        close(u->fd);
        u->fd = -1;
    }
    u->in_len = u->out_len = u->out_off = 0;
    u->msg_active = 0;
    u->awaiting = 0;
}

/* A user failed: during login a login error, afterwards a counted error; the connection is closed. */
static void fail(int i, const char *what)
{
    user_t *u = &U[i];
    if (u->state == S_DEAD || u->state == S_CLOSED) return;
    int in_login = u->state >= S_CONNECT && u->state <= S_STATUS0;
    if (u->state == S_CLOSING) { kill_conn(i); u->state = S_CLOSED; return; }
    if (in_login) {
        login_errors++;
        logins_inflight--;
        logins_done++;
        note_error("login %s%d: %s", o.prefix, i, what);
    } else {
        errors_total++;
        note_error("%s%d: %s", o.prefix, i, what);
    }
    /* queued updates of a dead user are errors too (they would have been awaited by the .NET generator) */
    errors_total += u->qn;
    u->qn = 0;
    kill_conn(i);
    u->state = S_DEAD;
}

/* ---------- output ---------- */

static void flush_out(int i)
{
    user_t *u = &U[i];
    while (u->out_off < u->out_len) {
        ssize_t w = send(u->fd, u->out + u->out_off, u->out_len - u->out_off, MSG_NOSIGNAL);
        if (w > 0) { u->out_off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!u->want_out) { u->want_out = 1; ep_mod(i); }
            return;
        }
        fail(i, w < 0 ? strerror(errno) : "send returned 0");
        return;
    }
    u->out_off = u->out_len = 0;
    if (u->want_out && u->state != S_CONNECT) { u->want_out = 0; ep_mod(i); }
}

static char *out_reserve(user_t *u, size_t n)
{
    if (u->out_off > 0 && u->out_off == u->out_len) u->out_off = u->out_len = 0;
    if (u->out_len + n > u->out_cap) {
        size_t cap = u->out_cap ? u->out_cap : 512;
        while (cap < u->out_len + n) cap *= 2;
        u->out = xrealloc(u->out, cap);
        u->out_cap = cap;
    }
    return u->out + u->out_len;
}

static void out_raw(int i, const char *data, size_t n)
{
    user_t *u = &U[i];
    memcpy(out_reserve(u, n), data, n);
    u->out_len += n;
}

/* One masked client frame (FIN set). */
static void out_frame(int i, int opcode, const char *payload, size_t n)
{
    user_t *u = &U[i];
    char *p = out_reserve(u, n + 14);
    size_t h = 0;
    p[h++] = (char)(0x80 | opcode);
    if (n < 126) p[h++] = (char)(0x80 | n);
    else if (n < 65536) { p[h++] = (char)(0x80 | 126); p[h++] = (char)(n >> 8); p[h++] = (char)n; }
    else { p[h++] = (char)(0x80 | 127); for (int k = 7; k >= 0; k--) p[h++] = (char)((uint64_t)n >> (8 * k)); }
    uint32_t mask = (uint32_t)rnd();
    unsigned char m[4] = {(unsigned char)mask, (unsigned char)(mask >> 8), (unsigned char)(mask >> 16), (unsigned char)(mask >> 24)};
    memcpy(p + h, m, 4);
    h += 4;
    for (size_t k = 0; k < n; k++) p[h + k] = (char)(payload[k] ^ m[k & 3]);
    u->out_len += h + n;
}

static void send_text(int i, const char *json, size_t n)
{
    out_frame(i, 1, json, n);
    flush_out(i);
}

/* ---------- requests ---------- */

static void send_status(int i, const char *note, int busy, int is_publish)
{
    user_t *u = &U[i];
    char buf[256];
    int id = ++u->next_id;
    int n = snprintf(buf, sizeof buf, "{\"op\":\"status\",\"status\":{\"availability\":\"%s\",\"note\":\"%s\"},\"id\":%d}",
                     busy ? "Busy" : "Available", note, id);
    u->awaiting = id;
    u->awaiting_is_publish = is_publish;
    u->deadline = now_ns() + REQUEST_TIMEOUT_NS;
    send_text(i, buf, (size_t)n);
}

static void send_next_update(int i)
{
    user_t *u = &U[i];
    if (u->awaiting || u->qn == 0 || u->state != S_READY) return;
    queued_t *q = &u->q[u->qh];
    u->qh = (u->qh + 1) % QCAP;
    u->qn--;
    char stamp[96];
    snprintf(stamp, sizeof stamp, "b%d.%d.%d.%lld", q->step, i, q->n, (long long)q->ns);
    send_status(i, stamp, q->busy, 1);
}

/* Queues one stamped update of user i (one update at a time per user, as the .NET generator's publish lock). */
static void publish(int i, int step, int busy, long long *send_errors)
{
    user_t *u = &U[i];
    if (u->state != S_READY || u->qn == QCAP) {
        (*send_errors)++;
        note_error("%s%d: update not sent (%s)", o.prefix, i, u->state != S_READY ? "not connected" : "queue full");
        return;
    }
    queued_t *q = &u->q[(u->qh + u->qn) % QCAP];
    q->ns = now_ns();
    q->n = ++u->published;
    q->step = (uint8_t)step;
    q->busy = (uint8_t)busy;
    u->qn++;
    send_next_update(i);
}

/* ---------- stamps ---------- */

static int parse_uint(const char **p, const char *end, long long *out)
{
    const char *s = *p;
    long long v = 0;
    if (s >= end || *s < '0' || *s > '9') return 0;
    while (s < end && *s >= '0' && *s <= '9') { v = v * 10 + (*s - '0'); if (v > 4000000000000000000LL) return 0; s++; }
    *p = s;
    *out = v;
    return 1;
}

static void on_stamp(const char *s, size_t n, int receiver, int64_t now)
{
    if (n < 6 || s[0] != 'b') return; /* initial presence, another text */
    const char *p = s + 1, *end = s + n;
    long long step, sender, cnt, ns;
    if (!parse_uint(&p, end, &step) || p >= end || *p++ != '.' || !parse_uint(&p, end, &sender) || p >= end || *p++ != '.'
        || !parse_uint(&p, end, &cnt) || p >= end || *p++ != '.' || !parse_uint(&p, end, &ns) || p != end) {
        foreign_stamps++;
        return;
    }
    if (sender == receiver) return;
    if (step < 1 || step > MAX_STEPS) { foreign_stamps++; return; }
    user_t *u = &U[receiver];
    int k;
    for (k = 0; k < u->nlast && u->last[k].sender != sender; k++) {}
    if (k < u->nlast) {
        int prev = u->last[k].n;
        if (cnt <= prev) { stale_deliveries++; return; }
        if (cnt > prev + 1) superseded[step] += cnt - prev - 1;
        u->last[k].n = (int)cnt;
    } else {
        if (u->nlast == u->caplast) {
            if (u->last == u->inl) {
                u->last = xrealloc(NULL, sizeof(last_t) * (size_t)u->caplast * 2);
                memcpy(u->last, u->inl, sizeof u->inl);
            } else {
                u->last = xrealloc(u->last, sizeof(last_t) * (size_t)u->caplast * 2);
            }
            u->caplast *= 2;
        }
        u->last[u->nlast++] = (last_t){(int)sender, (int)cnt};
    }
    delivered[step]++;
    long long us = (now - ns) / 1000;
    hrecord(lat[step], us < 0 ? 0 : (uint64_t)us);
}

/* ---------- JSON: just enough of a scanner for the server's messages ---------- */

enum { T_UNKNOWN, T_PRESENCE, T_RESULT, T_ERROR, T_OTHER };

typedef struct {
    int type;
    long long id;
    int has_id;
    int nviews;
    char detail[256];
    const char *notes[MAX_NOTES];
    size_t note_len[MAX_NOTES];
    int nnotes;
    int bad;
} msg_t;

/* Scans one JSON text. Depth 1 = the root object's members, 2 = the elements of "views", 3 = a view's members. */
static void scan_json(const char *p, size_t n, msg_t *m)
{
    char stack[64];
    int depth = 0, expect_key = 0;
    const char *key1 = NULL, *key3 = NULL;
    size_t key1_len = 0, key3_len = 0;
    const char *end = p + n;
    m->type = T_UNKNOWN;
    m->has_id = 0;
    m->nviews = 0;
    m->detail[0] = 0;
    m->nnotes = 0;
    m->bad = 0;
#define KEY_IS(k, kl, lit) ((kl) == sizeof(lit) - 1 && !memcmp((k), (lit), sizeof(lit) - 1))
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':') { if (c == ':') expect_key = 0; p++; continue; }
        if (c == ',') { if (depth > 0 && stack[depth - 1] == '{') expect_key = 1; p++; continue; }
        if (c == '}' || c == ']') { if (depth == 0) { m->bad = 1; return; } depth--; expect_key = 0; p++; continue; }
        /* a value or a key begins */
        int is_key = c == '"' && depth > 0 && stack[depth - 1] == '{' && expect_key;
        if (!is_key && depth == 2 && stack[1] == '[' && KEY_IS(key1, key1_len, "views")) m->nviews++;
        if (c == '{' || c == '[') {
            if (depth >= 64) { m->bad = 1; return; }
            stack[depth++] = c;
            expect_key = c == '{';
            p++;
            continue;
        }
        if (c == '"') {
            const char *s = ++p;
            /* the closing quote: the next '"' not escaped by an odd run of backslashes */
            for (;;) {
                p = memchr(p, '"', (size_t)(end - p));
                if (!p) { m->bad = 1; return; }
                const char *b = p;
                while (b > s && b[-1] == '\\') b--;
                if (((p - b) & 1) == 0) break;
                p++;
            }
            size_t len = (size_t)(p - s);
            p++;
            if (is_key) {
                if (depth == 1) { key1 = s; key1_len = len; }
                else if (depth == 3) { key3 = s; key3_len = len; }
                expect_key = 0;
                continue;
            }
            if (depth == 1 && KEY_IS(key1, key1_len, "type")) {
                m->type = KEY_IS(s, len, "presence") ? T_PRESENCE : KEY_IS(s, len, "result") ? T_RESULT : KEY_IS(s, len, "error") ? T_ERROR : T_OTHER;
            } else if (depth == 1 && KEY_IS(key1, key1_len, "detail")) {
                size_t l = len < sizeof m->detail - 1 ? len : sizeof m->detail - 1;
                memcpy(m->detail, s, l);
                m->detail[l] = 0;
            } else if (depth == 3 && stack[1] == '[' && KEY_IS(key1, key1_len, "views") && KEY_IS(key3, key3_len, "note")) {
                /* a stamp has no escapes; an escaped note simply is not a stamp */
                if (m->nnotes < MAX_NOTES) { m->notes[m->nnotes] = s; m->note_len[m->nnotes++] = len; }
            }
            continue;
        }
        /* number or literal */
        const char *s = p;
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
        if (depth == 1 && KEY_IS(key1, key1_len, "id")) {
            const char *q = s;
            long long v;
            if (parse_uint(&q, p, &v) && q == p) { m->id = v; m->has_id = 1; }
        }
        if (p == s) { m->bad = 1; return; }
    }
    if (depth != 0) m->bad = 1;
#undef KEY_IS
}

static msg_t M;

static void login_complete(int i)
{
    user_t *u = &U[i];
    u->state = S_READY;
    logins_inflight--;
    logins_done++;
    int64_t us = (now_ns() - u->login_t0) / 1000;
    hrecord(&login_hist, (uint64_t)us);
}

static void on_text(int i, const char *p, size_t n)
{
    user_t *u = &U[i];
    scan_json(p, n, &M);
    if (M.bad) { fail(i, "the server sent a message that is not JSON"); return; }
    if (M.type == T_PRESENCE) {
        int64_t now = now_ns();
        for (int k = 0; k < M.nnotes; k++) on_stamp(M.notes[k], M.note_len[k], i, now);
        return;
    }
    if ((M.type == T_RESULT || M.type == T_ERROR) && M.has_id && u->awaiting && M.id == u->awaiting) {
        if (M.type == T_ERROR) {
            char what[320];
            snprintf(what, sizeof what, "%s: error reply: %s", u->state == S_WATCH ? "watch" : "status", M.detail);
            fail(i, what);
            return;
        }
        u->awaiting = 0;
        if (u->state == S_WATCH) {
            u->roster = M.nviews;
            u->state = S_STATUS0;
            send_status(i, "online", 0, 0);
        } else if (u->state == S_STATUS0) {
            login_complete(i);
        } else if (u->state == S_READY) {
            send_next_update(i);
        }
        return;
    }
    if (M.type == T_ERROR) { fail(i, M.detail[0] ? M.detail : "error message"); return; }
    /* pong and other messages: ignored */
}

/* ---------- WebSocket frames ---------- */

static void on_frames(int i)
{
    user_t *u = &U[i];
    size_t pos = 0;
    while (u->fd >= 0 && u->in_len - pos >= 2) {
        unsigned char *b = (unsigned char *)u->in + pos;
        int fin = b[0] & 0x80, op = b[0] & 0x0f;
        if (b[1] & 0x80) { fail(i, "the server sent a masked frame"); return; }
        uint64_t len = b[1] & 0x7f;
        size_t h = 2;
        if (len == 126) { if (u->in_len - pos < 4) break; len = ((uint64_t)b[2] << 8) | b[3]; h = 4; }
        else if (len == 127) {
            if (u->in_len - pos < 10) break;
            len = 0;
            for (int k = 0; k < 8; k++) len = (len << 8) | b[2 + k];
            h = 10;
        }
        if (len > MAX_MESSAGE) { fail(i, "the server sent a frame over the size limit"); return; }
        if (u->in_len - pos < h + len) {
            if (h + len > u->in_cap) { /* grow to hold the whole frame */
                size_t cap = u->in_cap;
                while (cap < h + len) cap *= 2;
                if (pos) { memmove(u->in, u->in + pos, u->in_len - pos); u->in_len -= pos; pos = 0; }
                u->in = xrealloc(u->in, cap);
                u->in_cap = cap;
            }
            break;
        }
        const char *payload = (const char *)b + h;
        pos += h + (size_t)len;
        if (op == 0x9) { out_frame(i, 0xA, payload, (size_t)len); flush_out(i); continue; }
        if (op == 0xA) continue;
        if (op == 0x8) {
            if (u->state == S_CLOSING) { kill_conn(i); u->state = S_CLOSED; return; }
            fail(i, "the server closed the WebSocket");
            return;
        }
        if (op == 0x1 || op == 0x2 || op == 0x0) {
            if (op != 0 && fin && !u->msg_active) { on_text(i, payload, (size_t)len); continue; }
            if (op != 0) { u->msg_active = 1; u->msg_len = 0; }
            else if (!u->msg_active) { fail(i, "continuation frame without a message"); return; }
            if (u->msg_len + len > MAX_MESSAGE) { fail(i, "message over the size limit"); return; }
            if (u->msg_len + len > u->msg_cap) { u->msg_cap = (u->msg_len + len) * 2; u->msg = xrealloc(u->msg, u->msg_cap); }
            memcpy(u->msg + u->msg_len, payload, (size_t)len);
            u->msg_len += (size_t)len;
            if (fin) { u->msg_active = 0; on_text(i, u->msg, u->msg_len); }
            continue;
        }
        fail(i, "unknown WebSocket opcode");
        return;
    }
    if (u->fd < 0) return;
    if (pos) { memmove(u->in, u->in + pos, u->in_len - pos); u->in_len -= pos; }
}

/* ---------- HTTP/1.1 ---------- */

static const char *find_header(const char *head, size_t head_len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', head_len);
    const char *end = head + head_len;
    while (p && p + 1 < end) {
        p++;
        if ((size_t)(end - p) > nl + 1 && !strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            const char *e = v;
            while (e < end && *e != '\r' && *e != '\n') e++;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = memchr(p, '\n', (size_t)(end - p));
    }
    return NULL;
}

/* Parses a complete HTTP response at the start of the input: returns 1 and consumes it, 0 when more bytes are needed,
 * -1 on a malformed response. The body (de-chunked) goes to body (at most body_cap - 1 bytes). */
static int http_response(user_t *u, int *status, char *body, size_t body_cap, int *close_after, int upgrade)
{
    char *hend = memmem(u->in, u->in_len, "\r\n\r\n", 4);
    if (!hend) return u->in_len > 65536 ? -1 : 0;
    size_t head_len = (size_t)(hend - u->in) + 4;
    if (u->in_len < 12 || strncmp(u->in, "HTTP/1.1 ", 9)) return -1;
    *status = atoi(u->in + 9);
    size_t vl;
    const char *v = find_header(u->in, head_len, "Connection", &vl);
    *close_after = v && vl >= 5 && !strncasecmp(v, "close", 5);
    size_t consumed = head_len, blen = 0;
    body[0] = 0;
    if (!upgrade || *status != 101) {
        const char *te = find_header(u->in, head_len, "Transfer-Encoding", &vl);
        const char *cl = find_header(u->in, head_len, "Content-Length", &vl);
        if (te && vl >= 7 && !strncasecmp(te, "chunked", 7)) {
            size_t p = head_len;
            for (int guard = 0; guard < 10000; guard++) {
                char *crlf = memmem(u->in + p, u->in_len - p, "\r\n", 2);
                if (!crlf) return 0;
                size_t size = strtoul(u->in + p, NULL, 16);
                p = (size_t)(crlf - u->in) + 2;
                if (u->in_len - p < size + 2) return 0;
                if (size == 0) { consumed = p + 2; break; }
                size_t take = size < body_cap - 1 - blen ? size : body_cap - 1 - blen;
                memcpy(body + blen, u->in + p, take);
                blen += take;
                p += size + 2;
            }
        } else if (cl) {
            size_t len = strtoul(cl, NULL, 10);
            if (u->in_len - head_len < len) return 0;
            size_t take = len < body_cap - 1 ? len : body_cap - 1;
            memcpy(body, u->in + head_len, take);
            blen = take;
            consumed = head_len + len;
        } else if (*status != 204 && *status != 304 && *status >= 200) {
            return -1; /* a body delimited by the connection's end: not expected from these servers */
        }
        body[blen] = 0;
    } else {
        const char *proto = find_header(u->in, head_len, "Sec-WebSocket-Protocol", &vl);
        if (!proto || vl != 14 || strncmp(proto, "herald.live.v1", 14)) *status = -101;
    }
    memmove(u->in, u->in + consumed, u->in_len - consumed);
    u->in_len -= consumed;
    return 1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void send_upgrade(int i)
{
    user_t *u = &U[i];
    unsigned char key[16];
    for (int k = 0; k < 16; k++) key[k] = (unsigned char)rnd();
    char k64[32];
    int n = 0;
    for (int k = 0; k < 15; k += 3) {
        uint32_t v = (uint32_t)key[k] << 16 | (uint32_t)key[k + 1] << 8 | key[k + 2];
        k64[n++] = b64[v >> 18 & 63]; k64[n++] = b64[v >> 12 & 63]; k64[n++] = b64[v >> 6 & 63]; k64[n++] = b64[v & 63];
    }
    uint32_t v = (uint32_t)key[15] << 16;
    k64[n++] = b64[v >> 18 & 63]; k64[n++] = b64[v >> 12 & 63]; k64[n++] = '='; k64[n++] = '=';
    k64[n] = 0;
    char req[4096];
    int len = snprintf(req, sizeof req,
                       "GET /api/v1/live HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.live.v1\r\n"
                       "Authorization: Bearer %s\r\n\r\n",
                       o.host, o.port, k64, u->token);
    free(u->token);
    u->token = NULL;
    if (len <= 0 || len >= (int)sizeof req) { fail(i, "upgrade: request too long"); return; }
    u->state = S_UPGRADE;
    out_raw(i, req, (size_t)len);
    flush_out(i);
}

static void on_http(int i)
{
    user_t *u = &U[i];
    int status, close_after;
    static char body[8192];
    if (u->state == S_TOKEN) {
        int r = http_response(u, &status, body, sizeof body, &close_after, 0);
        if (r == 0) return;
        if (r < 0) { fail(i, "token: malformed HTTP response"); return; }
        if (status != 200) {
            char what[400];
            snprintf(what, sizeof what, "token: HTTP %d %.300s", status, body);
            fail(i, what);
            return;
        }
        const char *t = strstr(body, "\"accessToken\":\"");
        if (!t) { fail(i, "token: no accessToken in the response"); return; }
        t += 15;
        const char *e = strchr(t, '"');
        if (!e || e - t >= 2048 || e == t) { fail(i, "token: bad accessToken"); return; }
        free(u->token);
        u->token = strndup(t, (size_t)(e - t));
        if (!u->token) { fprintf(stderr, "out of memory\n"); exit(3); }
        if (close_after) { fail(i, "token: the server closed the connection after the token (keep-alive expected)"); return; }
        send_upgrade(i);
        if (u->fd >= 0 && u->in_len > 0) on_http(i);
        return;
    }
    if (u->state == S_UPGRADE) {
        int r = http_response(u, &status, body, sizeof body, &close_after, 1);
        if (r == 0) return;
        if (r < 0) { fail(i, "upgrade: malformed HTTP response"); return; }
        if (status != 101) {
            char what[400];
            if (status == -101) snprintf(what, sizeof what, "upgrade: the server did not select subprotocol herald.live.v1");
            else snprintf(what, sizeof what, "upgrade: HTTP %d %.300s", status, body);
            fail(i, what);
            return;
        }
        u->state = S_WATCH;
        char w[96];
        int id = ++u->next_id;
        int n = snprintf(w, sizeof w, "{\"op\":\"watch\",\"contacts\":true,\"id\":%d}", id);
        u->awaiting = id;
        u->deadline = now_ns() + REQUEST_TIMEOUT_NS;
        send_text(i, w, (size_t)n);
        if (u->fd >= 0 && u->in_len > 0) on_frames(i);
    }
}

/* ---------- connections ---------- */

static struct sockaddr_in server_addr;

static void start_login(int i)
{
    user_t *u = &U[i];
    u->login_t0 = now_ns();
    u->deadline = u->login_t0 + REQUEST_TIMEOUT_NS;
    u->state = S_CONNECT;
    logins_inflight++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { fail(i, strerror(errno)); return; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    u->fd = fd;
    u->want_out = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) { fail(i, strerror(errno)); return; }
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0 && errno != EINPROGRESS) { fail(i, strerror(errno)); return; }
}

static void on_connected(int i)
{
    user_t *u = &U[i];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) { char what[128]; snprintf(what, sizeof what, "connect: %s", strerror(err)); fail(i, what); return; }
    u->state = S_TOKEN;
    u->want_out = 0;
    ep_mod(i);
    char body[256], req[512];
    int bl = snprintf(body, sizeof body, "{\"username\":\"%s%d\",\"password\":\"%s\"}", o.prefix, i, o.password);
    int n = snprintf(req, sizeof req,
                     "POST /api/v1/auth/token HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     o.host, o.port, bl, body);
    out_raw(i, req, (size_t)n);
    flush_out(i);
}

static void on_readable(int i)
{
    user_t *u = &U[i];
    for (int rounds = 0; rounds < 4 && u->fd >= 0; rounds++) {
        if (u->in_len == u->in_cap) {
            if (u->in_cap >= (size_t)MAX_MESSAGE * 2) { fail(i, "input over the size limit"); return; }
            u->in_cap = u->in_cap ? u->in_cap * 2 : 4096;
            u->in = xrealloc(u->in, u->in_cap);
        }
        ssize_t r = recv(u->fd, u->in + u->in_len, u->in_cap - u->in_len, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            if (u->state == S_CLOSING) { kill_conn(i); u->state = S_CLOSED; return; }
            char what[128];
            snprintf(what, sizeof what, "recv: %s", strerror(errno));
            fail(i, what);
            return;
        }
        if (r == 0) {
            if (u->state == S_CLOSING) { kill_conn(i); u->state = S_CLOSED; return; }
            fail(i, "the server closed the connection");
            return;
        }
        size_t got = (size_t)r, room = u->in_cap - u->in_len;
        u->in_len += got;
        if (u->state == S_TOKEN || u->state == S_UPGRADE) on_http(i);
        else on_frames(i);
        if (got < room) return; /* drained; level-triggered epoll reports the rest */
    }
}

static int64_t last_timeout_scan;

static void scan_timeouts(int64_t now)
{
    if (now - last_timeout_scan < 200000000LL) return;
    last_timeout_scan = now;
    for (int i = 0; i < o.users; i++) {
        user_t *u = &U[i];
        int in_login = u->state >= S_CONNECT && u->state <= S_STATUS0;
        if ((in_login || (u->state == S_READY && u->awaiting)) && now > u->deadline)
            fail(i, in_login ? "login timed out (30 s)" : "status reply timed out (30 s)");
    }
}

static struct epoll_event events[1024];

/* One round of the event loop: waits at most timeout_ms. */
static void loop_once(int timeout_ms)
{
    int n = epoll_wait(epfd, events, 1024, timeout_ms);
    for (int k = 0; k < n; k++) {
        int i = (int)events[k].data.u32;
        user_t *u = &U[i];
        if (u->fd < 0) continue;
        uint32_t ev = events[k].events;
        if (u->state == S_CONNECT) {
            if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(i);
            continue;
        }
        if (ev & EPOLLOUT) flush_out(i);
        if (u->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(i);
    }
    scan_timeouts(now_ns());
}

/* ---------- /proc ---------- */

static double server_cpu_ms(void)
{
    if (o.server_pid <= 0) return 0;
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", o.server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p += 2;
    unsigned long long ut = 0, st = 0;
    /* fields after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return 0;
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static long long server_rss(void)
{
    if (o.server_pid <= 0) return 0;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", o.server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = atoll(line + 6); break; }
    fclose(f);
    return kb * 1024;
}

static double self_cpu_ms(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
}

static void load_average(char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return;
    if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* ---------- phases ---------- */

typedef struct {
    int step;
    double offered;
    long long updates, expected, delivered, superseded;
    double per_second, p50, p99, p999, max_ms, cpu_per_k, cpu_pct, gen_pct, late_ms;
    long long errors;
    int passed;
} step_result_t;

static int expired(void) { return now_ns() > run_deadline; }

static int *order; /* fixed schedule: a shuffled user order */

static step_result_t run_step(int step, double offered, double duration, int *ok)
{
    step_result_t r = {0};
    r.step = step;
    r.offered = offered;
    double rate = offered / o.roster;
    long long errors0 = errors_total, send_errors = 0;
    double cpu0 = server_cpu_ms(), gen0 = self_cpu_ms();
    int64_t t0 = now_ns();
    double next = 0, late = 0;
    long long sent = 0;
    int64_t end = t0 + (int64_t)(duration * 1e9);
    while (now_ns() < end && !expired()) {
        double now = secs(now_ns() - t0);
        for (int guard = 0; next <= now && guard < 1000000; guard++) {
            if ((now - next) * 1000 > late) late = (now - next) * 1000;
            int who = o.fixed_schedule ? order[sent % o.users] : (int)(rnd() % (uint64_t)o.users);
            publish(who, step, (int)(sent & 1), &send_errors);
            sent++;
            next += o.fixed_schedule ? 1.0 / rate : -log(1 - rnd01()) / rate;
        }
        double wait_ms = (next - secs(now_ns() - t0)) * 1000;
        loop_once(wait_ms <= 0 ? 0 : 1);
    }
    int64_t send_end = now_ns();
    long long expected = sent * o.roster;
    int64_t drain_end = send_end + (int64_t)(o.drain * 1e9);
    long long last_count = -1;
    int64_t last_change = now_ns();
    for (;;) {
        int outstanding = 0;
        for (int i = 0; i < o.users && !outstanding; i++) outstanding = U[i].state == S_READY && (U[i].awaiting || U[i].qn);
        if ((delivered[step] + superseded[step] >= expected && !outstanding) || now_ns() >= drain_end || expired()) break;
        int64_t until = now_ns() + 20000000LL;
        while (now_ns() < until) loop_once(5);
        if (delivered[step] != last_count) { last_count = delivered[step]; last_change = now_ns(); }
    }
    double active = delivered[step] + superseded[step] >= expected ? secs((last_change > send_end ? last_change : send_end) - t0)
                                                                   : secs(now_ns() - t0);
    if (active <= 0) active = 1e-9;
    double cpu = server_cpu_ms() - cpu0, gen = self_cpu_ms() - gen0;
    hist_t *h = lat[step];
    r.updates = sent;
    r.expected = expected;
    r.delivered = delivered[step];
    r.superseded = superseded[step];
    r.per_second = r.delivered / active;
    r.p50 = hpct_ms(h, 50);
    r.p99 = hpct_ms(h, 99);
    r.p999 = hpct_ms(h, 99.9);
    r.max_ms = h->max / 1000.0;
    r.cpu_per_k = r.delivered ? cpu / (r.delivered / 1000.0) : 0;
    r.cpu_pct = cpu / active / 10;
    r.gen_pct = gen / active / 10;
    r.errors = errors_total - errors0 + send_errors;
    r.late_ms = late;
    double ratio = expected ? (r.delivered + r.superseded) / (double)expected : 1;
    r.passed = ratio >= 0.999 && r.errors == 0 && r.p99 <= 100;
    *ok = !expired();
    return r;
}

static void print_step_json(const step_result_t *r, int warmup)
{
    double ratio = r->expected ? (r->delivered + r->superseded) / (double)r->expected : 1;
    printf("{\"benchmark\":\"herald.bench.pres2c.native\",\"server\":\"%s\",\"users\":%d,\"roster\":%d,\"warmup\":%s,\"step\":%d,"
           "\"offeredDeliveriesPerSecond\":%.0f,\"updates\":%lld,\"expected\":%lld,\"delivered\":%lld,\"superseded\":%lld,"
           "\"deliveredRatio\":%.6f,\"deliveriesPerSecond\":%.1f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"p999Ms\":%.3f,\"maxMs\":%.3f,"
           "\"serverCpuPerThousandMs\":%.2f,\"serverCpuPercent\":%.1f,\"generatorCpuPercent\":%.1f,\"errors\":%lld,"
           "\"generatorLateMs\":%.1f,\"passed\":%s}\n",
           o.server, o.users, o.roster, warmup ? "true" : "false", r->step, r->offered, r->updates, r->expected, r->delivered,
           r->superseded, ratio, r->per_second, r->p50, r->p99, r->p999, r->max_ms, r->cpu_per_k, r->cpu_pct, r->gen_pct,
           r->errors, r->late_ms, r->passed ? "true" : "false");
    fflush(stdout);
}

static void close_all(void)
{
    closing_all = 1;
    int open = 0;
    for (int i = 0; i < o.users; i++) {
        user_t *u = &U[i];
        if (u->fd < 0) continue;
        if (u->state == S_READY) {
            u->state = S_CLOSING;
            char code[2] = {0x03, (char)0xE8}; /* 1000 normal closure */
            out_frame(i, 0x8, code, 2);
            flush_out(i);
            if (u->fd >= 0) open++;
        } else {
            kill_conn(i);
            u->state = S_CLOSED;
        }
    }
    int64_t end = now_ns() + 5000000000LL;
    while (open > 0 && now_ns() < end) {
        loop_once(10);
        open = 0;
        for (int i = 0; i < o.users; i++) open += U[i].fd >= 0;
    }
    for (int i = 0; i < o.users; i++) kill_conn(i);
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv)) return 2;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)o.users + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)o.users + 64 ? rl.rlim_max : (rlim_t)o.users + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)o.users + 64) { fprintf(stderr, "too few file descriptors for %d users (ulimit -n)\n", o.users); return 2; }
    }
    run_deadline = now_ns() + (int64_t)(o.max_seconds * 1e9);
    rng_state = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)o.seed * 0xBF58476D1CE4E5B9ULL);
    if (!rng_state) rng_state = 1;
    U = calloc((size_t)o.users, sizeof(user_t));
    order = calloc((size_t)o.users, sizeof(int));
    if (!U || !order) { fprintf(stderr, "out of memory\n"); return 3; }
    for (int i = 0; i < o.users; i++) { U[i].fd = -1; U[i].last = U[i].inl; U[i].caplast = 24; order[i] = i; }
    for (int i = o.users - 1; i > 0; i--) { int j = (int)(rnd() % (uint64_t)(i + 1)); int t = order[i]; order[i] = order[j]; order[j] = t; }
    for (int s = 0; s <= MAX_STEPS; s++) { lat[s] = calloc(1, sizeof(hist_t)); if (!lat[s]) return 3; }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)o.port);
    inet_pton(AF_INET, o.host, &server_addr.sin_addr);
    char load0[128], load1[128];
    load_average(load0, sizeof load0);
    long long rss_idle = server_rss();

    /* Phase A: logins at a fixed arrival rate, at most login_inflight at once. */
    logf_("%s/native: login of %d users at %.0f/s (%d in flight)", o.server, o.users, o.login_rate, o.login_inflight);
    double cpu_login0 = server_cpu_ms();
    int64_t t0 = now_ns();
    int started = 0;
    while (logins_done < o.users && !expired()) {
        int64_t now = now_ns();
        while (started < o.users && logins_inflight < o.login_inflight && (double)(now - t0) / 1e9 >= started / o.login_rate)
            start_login(started++);
        loop_once(1);
    }
    double login_seconds = secs(now_ns() - t0);
    double login_cpu = server_cpu_ms() - cpu_login0;
    int short_rosters = 0;
    for (int i = 0; i < o.users; i++) short_rosters += U[i].state == S_READY && U[i].roster != o.roster;
    logf_("%s/native: logins done in %.1f s, %lld errors%s%s; p50 %.1f ms p99 %.1f ms", o.server, login_seconds, login_errors,
          first_error[0] ? " (first: " : "", first_error[0] ? first_error : "", hpct_ms(&login_hist, 50), hpct_ms(&login_hist, 99));
    if (first_error[0]) fputs(")\n", stderr);
    if (short_rosters) logf_("%s/native: WARNING %d users got a roster of another size than %d", o.server, short_rosters, o.roster);

    /* Phase B: settle, then memory per connected user. */
    int64_t settle_end = now_ns() + (int64_t)(o.settle * 1e9);
    while (now_ns() < settle_end && !expired()) loop_once(10);
    long long rss_online = server_rss();
    double per_user = o.server_pid > 0 ? (double)(rss_online - rss_idle) / o.users : 0;
    logf_("%s/native: RSS idle %.1f MiB, online %.1f MiB, %.1f KiB per user", o.server, rss_idle / 1048576.0, rss_online / 1048576.0, per_user / 1024);

    /* Phase C: fan-out steps. */
    double steps[MAX_STEPS + 1];
    int nsteps = 0;
    if (o.nsteps) for (int s = 0; s < o.nsteps; s++) steps[nsteps++] = o.steps[s];
    else for (int s = 0; s < o.nthink; s++) steps[nsteps++] = o.users / o.think[s] * o.roster;
    int warmup = o.warmup > 0 && nsteps > 0 && !o.login_only;
    if (warmup) { memmove(steps + 1, steps, sizeof(double) * (size_t)nsteps); nsteps++; }
    step_result_t results[MAX_STEPS + 1];
    int nresults = 0, failures = 0;
    for (int s = 0; s < nsteps && s < MAX_STEPS && !o.login_only && login_errors == 0 && !expired(); s++) {
        int step = s + 1, shown = warmup ? s : s + 1, is_warmup = warmup && s == 0, ok;
        step_result_t r = run_step(step, steps[s], is_warmup ? o.warmup : o.step_seconds, &ok);
        r.step = shown;
        double ratio = r.expected ? (r.delivered + r.superseded) / (double)r.expected : 1;
        if (is_warmup) {
            logf_("%s/native: warm-up: offered %.0f/s, %lld updates, delivered %lld/%lld (+%lld superseded), generator CPU %.0f %%, errors %lld",
                  o.server, r.offered, r.updates, r.delivered, r.expected, r.superseded, r.gen_pct, r.errors);
            print_step_json(&r, 1);
            continue;
        }
        logf_("%s/native: step %d: offered %.0f/s, %lld updates, delivered %lld/%lld (+%lld superseded: %.3f %%), %.0f/s, "
              "p50 %.2f p99 %.2f p99.9 %.2f ms, server CPU %.0f %% (%.1f ms/1k), generator CPU %.0f %%, errors %lld, late %.0f ms%s",
              o.server, shown, r.offered, r.updates, r.delivered, r.expected, r.superseded, ratio * 100, r.per_second, r.p50, r.p99,
              r.p999, r.cpu_pct, r.cpu_per_k, r.gen_pct, r.errors, r.late_ms, r.passed ? "" : "  [MISSED]");
        print_step_json(&r, 0);
        results[nresults++] = r;
        failures = r.passed ? 0 : failures + 1;
        if (failures >= o.stop_after || !ok) break;
    }
    long long rss_end = server_rss();
    int timed_out = expired();
    logf_("%s/native: closing connections", o.server);
    close_all();

    double saturation = 0;
    long long step_errors = 0;
    for (int k = 0; k < nresults; k++) {
        if (results[k].passed && results[k].per_second > saturation) saturation = results[k].per_second;
        step_errors += results[k].errors;
    }
    printf("\nPRES-2C %s/native: N = %d, R = %d; logins %.0f/s at offered %.0f/s, p50 %.1f ms, p99 %.1f ms, %lld errors; %.1f KiB RSS per connected user\n",
           o.server, o.users, o.roster, o.users / login_seconds, o.login_rate, hpct_ms(&login_hist, 50), hpct_ms(&login_hist, 99), login_errors,
           per_user / 1024);
    printf("| offered deliveries/s | delivered/s | delivered/expected | superseded | p50 ms | p99 ms | p99.9 ms | max ms | server CPU %% | server CPU ms per 1k | generator CPU %% | errors | ok |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 0; k < nresults; k++) {
        step_result_t *r = &results[k];
        double ratio = r->expected ? (r->delivered + r->superseded) / (double)r->expected : 1;
        printf("| %.0f | %.0f | %.2f %% | %lld | %.2f | %.2f | %.2f | %.1f | %.0f | %.1f | %.0f | %lld | %s |\n", r->offered, r->per_second,
               ratio * 100, r->superseded, r->p50, r->p99, r->p999, r->max_ms, r->cpu_pct, r->cpu_per_k, r->gen_pct, r->errors,
               r->passed ? "yes" : "no");
    }
    load_average(load1, sizeof load1);
    printf("{\"benchmark\":\"herald.bench.pres2c.native.summary\",\"server\":\"%s\",\"users\":%d,\"roster\":%d,\"loadAverageBefore\":\"%s\","
           "\"loadAverageAfter\":\"%s\",\"loginErrors\":%lld,\"firstError\":\"",
           o.server, o.users, o.roster, load0, load1, login_errors);
    for (const char *p = first_error; *p; p++) {
        if (*p == '"' || *p == '\\') putchar('\\');
        putchar((unsigned char)*p < 0x20 ? ' ' : *p);
    }
    printf("\",\"loginsPerSecond\":%.1f,\"loginP50Ms\":%.3f,\"loginP99Ms\":%.3f,\"loginServerCpuMsPerLogin\":%.3f,\"shortRosters\":%d,"
           "\"rssIdleBytes\":%lld,\"rssOnlineBytes\":%lld,\"rssEndBytes\":%lld,\"bytesPerUser\":%.0f,\"saturationDeliveriesPerSecond\":%.0f,"
           "\"foreignStamps\":%lld,\"staleDeliveries\":%lld,\"steps\":%d,\"timedOut\":%s}\n",
           o.users / login_seconds, hpct_ms(&login_hist, 50), hpct_ms(&login_hist, 99), login_cpu / o.users, short_rosters, rss_idle,
           rss_online, rss_end, per_user, saturation, foreign_stamps, stale_deliveries, nresults, timed_out ? "true" : "false");
    if (timed_out) logf_("%s/native: the run hit --max-seconds %.0f", o.server, o.max_seconds);
    int bad = login_errors > 0 || step_errors > 0 || timed_out || (!o.login_only && nresults == 0);
    return bad ? 1 : 0;
}
