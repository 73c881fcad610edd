/*
 * Wireshark 3.4's protocol tree node and the start of its field_info (written for smcdump). smcdump reads a node's
 * `finfo` and sets FI_GENERATED in its `flags`: what the static inline proto_item_set_generated() does, which
 * a plugin cannot call. The conformance test compares every offset with the real header; field_info is declared
 * up to `flags` only, pointers as void *.
 */
#ifndef SMCDUMP_WS_PROTO_NODE_H
#define SMCDUMP_WS_PROTO_NODE_H

#include <stdint.h>

struct field_info {
    const void *hfinfo;
    int start;
    int length;
    int appendix_start;
    int appendix_length;
    int tree_type;
    uint32_t flags;
};

struct _proto_node {
    struct _proto_node *first_child;
    struct _proto_node *last_child;
    struct _proto_node *next;
    struct _proto_node *parent;
    field_info *finfo;
    void *tree_data;
};

#endif
