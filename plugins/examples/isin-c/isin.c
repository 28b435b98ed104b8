/*
 * A Linewall detector plugin in C: ISINs (ISO 6166 securities identifiers), e.g.
 * US0378331005. Two letters (country), nine letters or digits, one check digit: the
 * Luhn checksum over the code with every letter expanded to two digits (A=10 ... Z=35).
 *
 * No libc and no bindings generator: this file implements the component model's
 * canonical ABI for plugins/sdk/wit/detector.wit by hand, which takes ~100 lines.
 * `linewall plugin componentize` embeds the WIT world and wraps the module.
 *
 * Confidence: medium for a valid checksum, high when the word "ISIN" precedes it within
 * 16 bytes. Config is ignored (init accepts any).
 *
 * Memory: a bump allocator. Everything the host allocates for a call (the message) and
 * everything detect returns lives until the host calls the post-return function, which
 * resets the heap; nothing survives between calls, so nothing can leak across them.
 */

#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IFACE "linewall:detector/detector@0.1.0"

extern unsigned char __heap_base;
static uintptr_t heap_top = 0;

static void heap_reset(void) { heap_top = (uintptr_t)&__heap_base; }

static void *bump(size_t align, size_t size) {
    if (heap_top == 0) heap_reset();
    uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
    uintptr_t end = p + size;
    size_t have = __builtin_wasm_memory_size(0) * 65536;
    if (end > have) {
        size_t pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
    }
    heap_top = end;
    return (void *)p;
}

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    if (new_size <= old_size && old) return old;
    unsigned char *p = bump(align, new_size);
    for (size_t i = 0; old && i < old_size; i++) p[i] = ((unsigned char *)old)[i];
    return p;
}

/* Canonical ABI layouts (all offsets in bytes). */
typedef struct { const char *ptr; uint32_t len; } str_t;                 /* size 8 */
typedef struct { uint32_t start, end; uint8_t confidence; } finding_t;  /* size 12 */
enum { LOW = 0, MEDIUM = 1, HIGH = 2 };
/* result<list<finding>, plugin-error>: tag u8 @0, payload @4 (list ptr,len or error). */
typedef struct { uint8_t tag; uint8_t _pad[3]; uint32_t a, b, c; } result_t; /* size 16 */
/* result<plugin-info, plugin-error>: tag @0, name @4, version @12. */
typedef struct { uint8_t tag; uint8_t _pad[3]; str_t name, version; } init_result_t;
/* message record in memory (detect-batch): text @0, field @8, channel @16,
 * direction u8 @24, attributes list @28; size 36. */
typedef struct { str_t text, field, channel; uint8_t direction; uint8_t _pad[3]; uint32_t attrs, nattrs; } message_t;

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c) { return is_upper(c) || is_digit(c) || (c >= 'a' && c <= 'z'); }

/* Luhn over the code with letters expanded to two digits; the check digit is last. */
static int isin_valid(const char *s) {
    int digits[24], n = 0;
    for (int i = 0; i < 12; i++) {
        char c = s[i];
        if (is_digit(c)) digits[n++] = c - '0';
        else { int v = c - 'A' + 10; digits[n++] = v / 10; digits[n++] = v % 10; }
    }
    int sum = 0;
    for (int i = n - 1, k = 0; i >= 0; i--, k++) {
        int d = digits[i];
        if (k % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
        sum += d;
    }
    return sum % 10 == 0;
}

static int keyword_before(const char *t, uint32_t at) {
    uint32_t from = at > 16 ? at - 16 : 0;
    for (uint32_t i = from; i + 4 <= at; i++) {
        if ((t[i] | 32) == 'i' && (t[i + 1] | 32) == 's' && (t[i + 2] | 32) == 'i' && (t[i + 3] | 32) == 'n')
            return 1;
    }
    return 0;
}

/* Finds ISINs in text; writes the findings list into *out. */
static void find(const char *t, uint32_t len, result_t *out) {
    uint32_t cap = 8, n = 0;
    finding_t *list = bump(4, cap * sizeof(finding_t));
    for (uint32_t i = 0; i + 12 <= len; i++) {
        if (i > 0 && is_alnum(t[i - 1])) continue;
        if (!is_upper(t[i]) || !is_upper(t[i + 1])) continue;
        int ok = 1;
        for (int k = 2; k < 11 && ok; k++) ok = is_upper(t[i + k]) || is_digit(t[i + k]);
        if (!ok || !is_digit(t[i + 11])) continue;
        if (i + 12 < len && is_alnum(t[i + 12])) continue;
        if (!isin_valid(t + i)) continue;
        if (n == cap) { list = cabi_realloc(list, cap * sizeof(finding_t), 4, 2 * cap * sizeof(finding_t)); cap *= 2; }
        list[n].start = i;
        list[n].end = i + 12;
        list[n].confidence = keyword_before(t, i) ? HIGH : MEDIUM;
        n++;
        i += 11;
    }
    out->tag = 0;
    out->a = (uint32_t)(uintptr_t)list;
    out->b = n;
}

static const char NAME[] = "isin-c";
static const char VERSION[] = "0.1.0";

EXPORT(IFACE "#init")
init_result_t *lw_init(const char *config, uint32_t config_len) {
    (void)config; (void)config_len;
    init_result_t *r = bump(4, sizeof *r);
    r->tag = 0;
    r->name = (str_t){NAME, sizeof NAME - 1};
    r->version = (str_t){VERSION, sizeof VERSION - 1};
    return r;
}

EXPORT("cabi_post_" IFACE "#init")
void lw_post_init(init_result_t *r) { (void)r; heap_reset(); }

/* detect(msg: message): the record is flattened into 9 parameters. */
EXPORT(IFACE "#detect")
result_t *lw_detect(const char *text, uint32_t text_len, const char *field, uint32_t field_len,
                    const char *channel, uint32_t channel_len, uint32_t direction,
                    const void *attrs, uint32_t nattrs) {
    (void)field; (void)field_len; (void)channel; (void)channel_len; (void)direction; (void)attrs; (void)nattrs;
    result_t *r = bump(4, sizeof *r);
    find(text, text_len, r);
    return r;
}

EXPORT("cabi_post_" IFACE "#detect")
void lw_post_detect(result_t *r) { (void)r; heap_reset(); }

/* detect-batch(msgs: list<message>) -> list<result<...>>, returned as (ptr, len) in memory. */
EXPORT(IFACE "#detect-batch")
uint32_t *lw_detect_batch(const message_t *msgs, uint32_t n) {
    result_t *results = bump(4, n * sizeof(result_t));
    for (uint32_t i = 0; i < n; i++) find(msgs[i].text.ptr, msgs[i].text.len, &results[i]);
    uint32_t *ret = bump(4, 8);
    ret[0] = (uint32_t)(uintptr_t)results;
    ret[1] = n;
    return ret;
}

EXPORT("cabi_post_" IFACE "#detect-batch")
void lw_post_detect_batch(uint32_t *r) { (void)r; heap_reset(); }
