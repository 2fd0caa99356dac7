/* A tiny read-only flattened device tree walker (devicetree specification v0.4 §5): enough to read a property
 * of a node given by its path and to count a node's children. Every offset is bounds-checked against the
 * header's totalsize, so a corrupt blob gives "not found", never a fault beyond it. */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include "types.h"

#define FDT_MAGIC 0xd00dfeedU

bool fdt_valid(u64 fdt);
/* Path like "/chosen" or "/cpus"; a path component without '@' also matches a node name with a unit address. */
const void *fdt_getprop(u64 fdt, const char *path, const char *name, u32 *len);
/* Children of `path` whose name starts with `prefix`; -1 when the node is absent or the blob invalid. */
int fdt_count_children(u64 fdt, const char *path, const char *prefix);

#endif
