/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow filter expressions: a recursive-descent parser following Python's grammar for the subset
 * flow-models filters use, building a small array-backed tree that is evaluated per flow over
 * the flow's flow-models tuple.  See filter.h for the language.
 */
#include "config.h"

#include "filter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowio.h"
#include "util/err.h"
#include "util/mem.h"

#define MAX_NODES 1024
#define MAX_DEPTH 200

typedef __int128 val_t;

enum {
    N_CONST, N_FIELD, N_NEG, N_INV, N_NOT, N_AND, N_OR, N_CMP,
    N_BOR, N_BXOR, N_BAND, N_SHL, N_SHR, N_ADD, N_SUB, N_MUL, N_FDIV, N_MOD,
    N_TUPLE, /* one item of a literal tuple (a), the next item in `next` */
};
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IN, C_NOTIN };

/* A comparison chain `a < b <= c` is a run of N_CMP nodes linked through `next`: each holds its
 * left operand in a, the operator in cmp, and the right operand in b. */
typedef struct {
    uint8_t op;
    uint8_t cmp;
    bool is_bool; /* statically a truth value */
    int a, b;     /* children */
    int next;     /* N_CMP: next link of the chain, or NONE */
    val_t k;      /* N_CONST value, N_FIELD index */
} node_t;

struct fm_filter {
    node_t *n;
    int count;
    int root;
};

typedef struct {
    const char *src, *p;
    node_t *n;
    int count;
    int depth;
    char *err;
    size_t errlen;
    int rc;
} parser_t;

/* Node indices, not error codes: NONE is no node (a missing operand or link, or a parse that
 * failed, its FM_E code then in parser_t.rc); EMPTY is parse_tuple's empty tuple. */
#define NONE (-1)
#define EMPTY (-2)

static int fail(parser_t *ps, const char *what)
{
    if (ps->rc == 0) {
        ps->rc = FM_EINVAL;
        if (ps->err) {
            snprintf(ps->err, ps->errlen, "filter: %s at column %d", what,
                     (int)(ps->p - ps->src) + 1);
        }
    }
    return NONE;
}

static int mk(parser_t *ps, int op, int a, int b, bool is_bool)
{
    if (ps->count == MAX_NODES) {
        ps->rc = ps->rc ? ps->rc : FM_ELIMIT;
        if (ps->err && ps->rc == FM_ELIMIT) {
            snprintf(ps->err, ps->errlen, "filter: expression too long");
        }
        return NONE;
    }
    node_t *x = &ps->n[ps->count];
    *x = (node_t){.op = (uint8_t)op, .a = a, .b = b, .next = NONE, .is_bool = is_bool};
    return ps->count++;
}

static void skip_ws(parser_t *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') {
        ps->p++;
    }
}

/* Match an operator token; a keyword must not run on into a name. */
static bool accept(parser_t *ps, const char *tok)
{
    size_t len = strlen(tok);

    skip_ws(ps);
    if (strncmp(ps->p, tok, len) != 0) {
        return false;
    }
    char c = ps->p[len];
    bool word = (tok[0] >= 'a' && tok[0] <= 'z');
    if (word && (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9'))) {
        return false;
    }
    ps->p += len;
    return true;
}

static int parse_or(parser_t *ps);

static int parse_number(parser_t *ps)
{
    int base = 10;
    val_t v = 0;
    const char *p = ps->p;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X' || p[1] == 'o' || p[1] == 'O' ||
                        p[1] == 'b' || p[1] == 'B')) {
        base = (p[1] | 0x20) == 'x' ? 16 : (p[1] | 0x20) == 'o' ? 8 : 2;
        p += 2;
    }
    const char *start = p;
    for (;; p++) {
        int d;
        char c = *p;
        if (c == '_' && p > start && p[1] != '_') {
            continue;
        }
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            d = (c | 0x20) - 'a' + 10;
        } else {
            break;
        }
        if (d >= base) {
            return fail(ps, "bad digit in number");
        }
        if (v > (((val_t)1 << 100) - d) / base) {
            return fail(ps, "number too large");
        }
        v = v * base + d;
    }
    if (p == start || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.') {
        return fail(ps, "bad number");
    }
    ps->p = p;
    int x = mk(ps, N_CONST, NONE, NONE, false);
    if (x >= 0) {
        ps->n[x].k = v;
    }
    return x;
}

static int parse_name(parser_t *ps)
{
    char name[32];
    size_t len = 0;
    const char *p = ps->p;

    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '_') {
        if (len + 1 < sizeof(name)) {
            name[len] = *p;
        }
        len++;
        p++;
    }
    name[len < sizeof(name) ? len : sizeof(name) - 1] = '\0';
    if (strcmp(name, "True") == 0 || strcmp(name, "False") == 0) {
        ps->p = p;
        int x = mk(ps, N_CONST, NONE, NONE, true);
        if (x >= 0) {
            ps->n[x].k = name[0] == 'T';
        }
        return x;
    }
    int f = len < sizeof(name) ? fm_field_parse(name) : -1;
    if (f < 0) {
        return fail(ps, "unknown field name");
    }
    ps->p = p;
    int x = mk(ps, N_FIELD, NONE, NONE, false);
    if (x >= 0) {
        ps->n[x].k = f;
    }
    return x;
}

static int parse_atom(parser_t *ps)
{
    skip_ws(ps);
    char c = *ps->p;
    if (c == '(') {
        ps->p++;
        int x = parse_or(ps);
        if (x >= 0 && !accept(ps, ")")) {
            return fail(ps, "expected ')'");
        }
        return x;
    }
    if (c >= '0' && c <= '9') {
        return parse_number(ps);
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        return parse_name(ps);
    }
    return fail(ps, c ? "expected a field, number or '('" : "unexpected end of expression");
}

static int parse_factor(parser_t *ps)
{
    int x;

    if (++ps->depth > MAX_DEPTH) {
        return fail(ps, "expression nested too deeply");
    }
    skip_ws(ps);
    if (accept(ps, "-")) {
        x = parse_factor(ps);
        x = x < 0 ? NONE : mk(ps, N_NEG, x, NONE, false);
    } else if (accept(ps, "+")) {
        x = parse_factor(ps);
    } else if (accept(ps, "~")) {
        x = parse_factor(ps);
        x = x < 0 ? NONE : mk(ps, N_INV, x, NONE, ps->n[x].is_bool);
    } else {
        x = parse_atom(ps);
    }
    ps->depth--;
    return x;
}

/* One level of left-associative binary operators.  ops/codes are parallel, NULL-terminated. */
static int parse_binary(parser_t *ps, int (*sub)(parser_t *), const char *const *ops,
                        const int *codes)
{
    int x = sub(ps);

    while (x >= 0) {
        int i = 0;
        for (; ops[i]; i++) {
            /* "|" must not match "||" nor "<" match "<<" / "<=": longer tokens come first in
             * the tables that have them, and the comparison level is above this one. */
            if (accept(ps, ops[i])) {
                break;
            }
        }
        if (!ops[i]) {
            break;
        }
        int y = sub(ps);
        if (y < 0) {
            return NONE;
        }
        bool bl = (codes[i] == N_BAND || codes[i] == N_BOR || codes[i] == N_BXOR) &&
                  ps->n[x].is_bool && ps->n[y].is_bool;
        x = mk(ps, codes[i], x, y, bl);
    }
    return x;
}

static int parse_term(parser_t *ps)
{
    static const char *const ops[] = {"*", "//", "%", NULL};
    static const int codes[] = {N_MUL, N_FDIV, N_MOD};
    skip_ws(ps);
    int x = parse_binary(ps, parse_factor, ops, codes);
    skip_ws(ps);
    if (x >= 0 && *ps->p == '/' ) {
        return fail(ps, "true division '/' is not supported, use '//'");
    }
    return x;
}

static int parse_arith(parser_t *ps)
{
    static const char *const ops[] = {"+", "-", NULL};
    static const int codes[] = {N_ADD, N_SUB};
    return parse_binary(ps, parse_term, ops, codes);
}

static int parse_shift(parser_t *ps)
{
    static const char *const ops[] = {"<<", ">>", NULL};
    static const int codes[] = {N_SHL, N_SHR};
    return parse_binary(ps, parse_arith, ops, codes);
}

static int parse_band(parser_t *ps)
{
    static const char *const ops[] = {"&", NULL};
    static const int codes[] = {N_BAND};
    return parse_binary(ps, parse_shift, ops, codes);
}

static int parse_bxor(parser_t *ps)
{
    static const char *const ops[] = {"^", NULL};
    static const int codes[] = {N_BXOR};
    return parse_binary(ps, parse_band, ops, codes);
}

static int parse_bor(parser_t *ps)
{
    static const char *const ops[] = {"|", NULL};
    static const int codes[] = {N_BOR};
    return parse_binary(ps, parse_bxor, ops, codes);
}

static int parse_cmpop(parser_t *ps)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    static const int codes[] = {C_EQ, C_NE, C_LE, C_GE, C_LT, C_GT};

    for (int i = 0; i < 6; i++) {
        if (accept(ps, ops[i])) {
            return codes[i];
        }
    }
    if (accept(ps, "in")) {
        return C_IN;
    }
    const char *save = ps->p;
    if (accept(ps, "not")) {
        if (accept(ps, "in")) {
            return C_NOTIN;
        }
        ps->p = save;
    }
    skip_ws(ps);
    if (*ps->p == '=') {
        fail(ps, "'=' is not a comparison, use '=='");
    }
    return NONE;
}

/* The right side of `in`: a literal tuple, list or set of expressions, e.g. (80, 443).
 * @return the first N_TUPLE node (items linked through next), or EMPTY for an empty one. */
static int parse_tuple(parser_t *ps)
{
    static const char open[] = "([{", close[] = ")]}";
    int head = EMPTY, tail = NONE;

    skip_ws(ps);
    const char *o = *ps->p ? strchr(open, *ps->p) : NULL;
    if (!o) {
        return fail(ps, "'in' needs a literal tuple such as (80, 443)");
    }
    char end[2] = {close[o - open], '\0'};
    ps->p++;
    while (!accept(ps, end)) {
        int x = parse_or(ps);
        int t = x < 0 ? NONE : mk(ps, N_TUPLE, x, NONE, false);
        if (t < 0) {
            return NONE;
        }
        if (tail >= 0) {
            ps->n[tail].next = t;
        } else {
            head = t;
        }
        tail = t;
        if (!accept(ps, ",") && !accept(ps, end)) {
            return fail(ps, "expected ',' or the end of the tuple");
        } else if (ps->p[-1] == end[0]) {
            break;
        }
    }
    return head;
}

static int parse_comparison(parser_t *ps)
{
    int x = parse_bor(ps), head = NONE, tail = NONE, op;

    while (x >= 0 && (op = parse_cmpop(ps)) >= 0) {
        bool member = op == C_IN || op == C_NOTIN;
        if (member && tail >= 0) {
            return fail(ps, "'in' cannot be chained with other comparisons");
        }
        int y = member ? parse_tuple(ps) : parse_bor(ps);
        if (y == NONE) {
            return NONE;
        }
        int c = mk(ps, N_CMP, x, y, true);
        if (c < 0) {
            return NONE;
        }
        ps->n[c].cmp = (uint8_t)op;
        if (tail >= 0) {
            ps->n[tail].next = c;
        } else {
            head = c;
        }
        tail = c;
        x = y;
        if (member) {
            if (parse_cmpop(ps) >= 0) {
                return fail(ps, "'in' cannot be chained with other comparisons");
            }
            break;
        }
    }
    return ps->rc ? NONE : head >= 0 ? head : x;
}

static int parse_not(parser_t *ps)
{
    if (accept(ps, "not")) {
        if (++ps->depth > MAX_DEPTH) {
            return fail(ps, "expression nested too deeply");
        }
        int x = parse_not(ps);
        ps->depth--;
        return x < 0 ? NONE : mk(ps, N_NOT, x, NONE, true);
    }
    return parse_comparison(ps);
}

static int parse_and(parser_t *ps)
{
    int x = parse_not(ps);
    while (x >= 0 && accept(ps, "and")) {
        int y = parse_not(ps);
        x = y < 0 ? NONE : mk(ps, N_AND, x, y, ps->n[x].is_bool && ps->n[y].is_bool);
    }
    return x;
}

static int parse_or(parser_t *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        return fail(ps, "expression nested too deeply");
    }
    int x = parse_and(ps);
    while (x >= 0 && accept(ps, "or")) {
        int y = parse_and(ps);
        x = y < 0 ? NONE : mk(ps, N_OR, x, y, ps->n[x].is_bool && ps->n[y].is_bool);
    }
    ps->depth--;
    return x;
}

int fm_filter_compile(const char *expr, fm_filter_t **out, char *err, size_t errlen)
{
    parser_t ps = {.src = expr, .p = expr, .err = err, .errlen = errlen};

    if (!expr || !out) {
        return FM_EINVAL;
    }
    if (err && errlen) {
        err[0] = '\0';
    }
    ps.n = fm_xcalloc(MAX_NODES, sizeof(node_t));
    int root = parse_or(&ps);
    skip_ws(&ps);
    if (root >= 0 && *ps.p != '\0') {
        fail(&ps, "unexpected text");
    }
    if (ps.rc != 0 || root < 0) {
        free(ps.n);
        return ps.rc ? ps.rc : FM_EINVAL;
    }
    fm_filter_t *f = fm_xmalloc(sizeof(*f));
    f->n = fm_xreallocarray(ps.n, (size_t)ps.count, sizeof(node_t));
    f->count = ps.count;
    f->root = root;
    *out = f;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static val_t eval(const node_t *n, int i, const uint64_t *t);

static bool compare(int op, val_t a, val_t b)
{
    switch (op) {
    case C_EQ: return a == b;
    case C_NE: return a != b;
    case C_LT: return a < b;
    case C_LE: return a <= b;
    case C_GT: return a > b;
    default: return a >= b;
    }
}

/* Python floor division and modulo (result takes the divisor's sign). */
static val_t floordiv(val_t a, val_t b)
{
    if (b == 0) {
        return 0;
    }
    val_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static val_t pymod(val_t a, val_t b)
{
    if (b == 0) {
        return 0;
    }
    val_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

static val_t shift(val_t a, val_t b, bool left)
{
    if (b < 0) {
        return 0; /* Python raises "negative shift count" */
    }
    if (b > 126) {
        return left ? 0 : (a < 0 ? -1 : 0);
    }
    return left ? (val_t)((unsigned __int128)a << (int)b) : a >> (int)b;
}

static val_t eval(const node_t *n, int i, const uint64_t *t)
{
    const node_t *x = &n[i];

    switch (x->op) {
    case N_CONST: return x->k;
    case N_FIELD: return (val_t)t[(int)x->k];
    case N_NEG: return -eval(n, x->a, t);
    case N_INV: return x->is_bool ? !eval(n, x->a, t) : ~eval(n, x->a, t);
    case N_NOT: return !eval(n, x->a, t);
    case N_AND: {
        val_t a = eval(n, x->a, t);
        return a ? eval(n, x->b, t) : a;
    }
    case N_OR: {
        val_t a = eval(n, x->a, t);
        return a ? a : eval(n, x->b, t);
    }
    case N_CMP: {
        val_t a = eval(n, x->a, t);
        if (x->cmp == C_IN || x->cmp == C_NOTIN) {
            bool found = false;
            for (int j = x->b; j >= 0 && !found; j = n[j].next) {
                found = eval(n, n[j].a, t) == a;
            }
            return found == (x->cmp == C_IN);
        }
        for (;;) {
            val_t b = eval(n, x->b, t);
            if (!compare(x->cmp, a, b)) {
                return 0;
            }
            if (x->next < 0) {
                return 1;
            }
            x = &n[x->next];
            a = b; /* Python evaluates each middle operand once */
        }
    }
    default: break;
    }
    val_t a = eval(n, x->a, t), b = eval(n, x->b, t);
    switch (x->op) {
    case N_BOR: return a | b;
    case N_BXOR: return a ^ b;
    case N_BAND: return a & b;
    case N_SHL: return shift(a, b, true);
    case N_SHR: return shift(a, b, false);
    case N_ADD: return a + b;
    case N_SUB: return a - b;
    case N_MUL: return a * b;
    case N_FDIV: return floordiv(a, b);
    default: return pymod(a, b);
    }
}

bool fm_filter_match(const fm_filter_t *f, const fm_flow_t *fl)
{
    uint64_t t[FM_FIELD_COUNT];

    fm_flow_to_tuple(fl, t);
    return eval(f->n, f->root, t) != 0;
}

bool fm_filter_match_tuple(const fm_filter_t *f, const uint64_t t[FM_FIELD_COUNT])
{
    return eval(f->n, f->root, t) != 0;
}

uint32_t fm_filter_fields(const fm_filter_t *f)
{
    uint32_t mask = 0;
    for (int i = 0; i < f->count; i++) {
        if (f->n[i].op == N_FIELD) {
            mask |= 1u << (int)f->n[i].k;
        }
    }
    return mask;
}

void fm_filter_free(fm_filter_t *f)
{
    if (f) {
        free(f->n);
        free(f);
    }
}

/* The selection of one record given as a flow or as its tuple (exactly one is not NULL). */
static int select_step(fm_select_t *s, const fm_flow_t *fl, const uint64_t *t)
{
    if (s->skip_in > 0) {
        s->skip_in--;
        return 0;
    }
    if (s->has_count_in) {
        if (s->count_in == 0) {
            return FM_SELECT_STOP;
        }
        s->count_in--;
    }
    bool match = !s->filter ||
                 (fl ? fm_filter_match(s->filter, fl) : fm_filter_match_tuple(s->filter, t));
    if (!match) {
        return 0;
    }
    if (s->skip_out > 0) {
        s->skip_out--;
        return 0;
    }
    if (s->has_count_out) {
        if (s->count_out == 0) {
            return FM_SELECT_STOP;
        }
        s->count_out--;
    }
    return 1;
}

int fm_select_step(fm_select_t *s, const fm_flow_t *fl)
{
    return select_step(s, fl, NULL);
}

int fm_select_step_tuple(fm_select_t *s, const uint64_t t[FM_FIELD_COUNT])
{
    return select_step(s, NULL, t);
}
