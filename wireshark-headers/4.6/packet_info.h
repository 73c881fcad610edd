/*
 * The start of Wireshark 4.6's packet_info, up to the list of the frame's protocol layers (written for smcdump).
 * smcdump reads `cinfo`, `num`, `src`, `dst`, `srcport` and `destport`; its C shim sets `ptype` and the
 * desegmentation members around a call into an application dissector, and names TCP among the `layers`, as TCP's
 * own call would. The members in between are declared for their size only, pointers as void *. The conformance test
 * compares every offset with the real header; later members are not declared because smcdump never uses them, and
 * packet_info is only ever handled through a pointer.
 */
#ifndef SMCDUMP_WS_PACKET_INFO_H
#define SMCDUMP_WS_PACKET_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* A time stamp: seconds and nanoseconds. */
typedef struct {
    time_t secs;
    int nsecs;
} nstime_t;

struct _packet_info {
    const char *current_proto;
    struct epan_column_info *cinfo;
    uint32_t presence_flags;
    uint32_t num;
    nstime_t abs_ts;
    nstime_t rel_ts;
    nstime_t rel_cap_ts;
    bool rel_cap_ts_present;
    void *fd;
    void *pseudo_header;
    void *rec;
    void *data_src;
    address dl_src;
    address dl_dst;
    address net_src;
    address net_dst;
    address src;
    address dst;
    uint32_t vlan_id;
    const char *noreassembly_reason;
    bool fragmented;
    /* Two one-bit flags in a 32-bit unit. */
    uint32_t flags;
    uint32_t expert_severity;
    /* enum port_type */
    int ptype;
    uint32_t srcport;
    uint32_t destport;
    uint32_t match_uint;
    const char *match_string;
    bool use_conv_addr_port_endpoints;
    void *conv_addr_port_endpoints;
    void *conv_elements;
    uint16_t can_desegment;
    uint16_t saved_can_desegment;
    int desegment_offset;
    uint32_t desegment_len;
    uint16_t want_pdu_tracking;
    uint32_t bytes_until_next_pdu;
    int p2p_dir;
    void *private_table;
    /* The protocols of the frame so far, as ids (GINT_TO_POINTER). */
    struct _wmem_list_t *layers;
};

#endif
