/* Read-only FDT walker (devicetree specification v0.4 §5.2 header, §5.4 structure block). */
#include "fdt.h"
#include "runtime.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9
#define FDT_MAX_TOTALSIZE (2U << 20)

/* The blob is big-endian and, with the MMU off, must be read without unaligned accesses: byte loads. */
static u32 be32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }

struct fdt_view {
    const u8 *base;
    u32 size, off_struct, size_struct, off_strings, size_strings;
};

static bool fdt_open(u64 fdt, struct fdt_view *v)
{
    /* Only an address inside RAM can hold the blob (realm-platform.md §2.3); x0 may be 0. */
    if (fdt < RAM_BASE || (fdt & 7))
        return false;
    const u8 *b = (const u8 *)fdt;
    if (be32(b) != FDT_MAGIC)
        return false;
    v->base = b;
    v->size = be32(b + 4);
    v->off_struct = be32(b + 8);
    v->off_strings = be32(b + 12);
    v->size_strings = be32(b + 32);
    v->size_struct = be32(b + 36);
    return v->size >= 40 && v->size <= FDT_MAX_TOTALSIZE && v->off_struct <= v->size &&
           v->size_struct <= v->size - v->off_struct && v->off_strings <= v->size &&
           v->size_strings <= v->size - v->off_strings;
}

bool fdt_valid(u64 fdt)
{
    struct fdt_view v;
    return fdt_open(fdt, &v);
}

static bool has_at(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@')
            return true;
    return false;
}

/* Does node name `name` match path component comp[0..len)? "cpus" matches "cpus"; "cpu" matches "cpu@1". */
static bool name_matches(const char *name, const char *comp, size_t len)
{
    if (strncmp(name, comp, len))
        return false;
    return name[len] == '\0' || (name[len] == '@' && !has_at(comp, len));
}

static u32 align4(u32 n) { return (n + 3) & ~3U; }

/* One pass over the structure block. Depth 1 is the root; a node at depth d stands for path component d - 2.
 * `matched` is how many leading path components the current branch has matched, so the target node is the one
 * where matched == ncomp and depth == ncomp + 1. */
static const void *walk(u64 fdt, const char *path, const char *prop, u32 *len, const char *prefix, int *count)
{
    struct fdt_view v;
    if (count)
        *count = -1;
    if (!fdt_open(fdt, &v))
        return NULL;
    const char *comp[8];
    size_t clen[8];
    unsigned ncomp = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        if (ncomp == ARRAY_SIZE(comp))
            return NULL;
        comp[ncomp] = p;
        while (*p && *p != '/')
            p++;
        clen[ncomp] = (size_t)(p - comp[ncomp]);
        ncomp++;
    }
    const u8 *b = v.base;
    u32 off = v.off_struct, end = v.off_struct + v.size_struct;
    unsigned depth = 0, matched = 0;
    int children = 0;
    bool seen_target = false;
    while (off + 4 <= end) {
        u32 tok = be32(b + off);
        off += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)b + off;
            u32 n = 0;
            while (off + n < end && name[n])
                n++;
            if (off + n >= end)
                return NULL;
            off += align4(n + 1);
            depth++;
            if (depth >= 2 && matched == depth - 2 && matched < ncomp &&
                name_matches(name, comp[matched], clen[matched]))
                matched++;
            else if (matched == ncomp && depth == ncomp + 2 && prefix && !strncmp(name, prefix, strlen(prefix)))
                children++;
            if (matched == ncomp && depth == ncomp + 1)
                seen_target = true;
        } else if (tok == FDT_END_NODE) {
            if (depth == 0)
                return NULL;
            if (depth >= 2 && matched == depth - 1)
                matched--;
            depth--;
        } else if (tok == FDT_PROP) {
            if (off + 8 > end)
                return NULL;
            u32 plen = be32(b + off), nameoff = be32(b + off + 4);
            off += 8;
            if (plen > end - off)
                return NULL;
            const u8 *value = b + off;
            off += align4(plen);
            if (prop && matched == ncomp && depth == ncomp + 1 && nameoff < v.size_strings) {
                const char *pname = (const char *)b + v.off_strings + nameoff;
                size_t maxlen = v.size_strings - nameoff, i = 0;
                while (i < maxlen && pname[i] && pname[i] == prop[i])
                    i++;
                if (i < maxlen && pname[i] == '\0' && prop[i] == '\0') {
                    if (len)
                        *len = plen;
                    return value;
                }
            }
        } else if (tok == FDT_NOP) {
            continue;
        } else {
            break; /* FDT_END or garbage */
        }
    }
    if (count && seen_target)
        *count = children;
    return NULL;
}

const void *fdt_getprop(u64 fdt, const char *path, const char *name, u32 *len)
{
    return walk(fdt, path, name, len, NULL, NULL);
}

int fdt_count_children(u64 fdt, const char *path, const char *prefix)
{
    int count;
    walk(fdt, path, NULL, NULL, prefix, &count);
    return count;
}
