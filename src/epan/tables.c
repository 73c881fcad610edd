/*
 * smcdump's C shim, part two (see shim.h): the registrations whose callbacks' signatures differ between Wireshark
 * releases, written once here under the per-release macros of wireshark-headers/<release>/abi.h instead of once per
 * release in Rust: the follower (Follow SMC Stream), the tap "smcdump" with tshark's -z smcdump,conn, the
 * conversation and endpoint tables, and the connection table of the Statistics menu. The rows and texts come from
 * Rust through the callbacks handed in; nothing here calls into another dissector.
 */
#include <stdio.h>
#include <string.h>

#include "shim.h"

/* Rust's answers for the follower (smcdump_register_follow). */
static int64_t (*frame_stream_of)(uint32_t frame);
static uint32_t (*streams_counted)(void);

/* Follow: the filters Wireshark's follower uses to select a stream's frames. They are freed with g_free:
 * wmem_strdup(NULL, ...) allocates with g_malloc. */
static char *stream_filter(unsigned stream)
{
    char buf[48];
    snprintf(buf, sizeof buf, "smcdump.stream eq %u", stream);
    return wmem_strdup(NULL, buf);
}

static char *conv_filter(WS_CONV_FILTER_EDT_PARAM packet_info *pinfo, unsigned *stream, unsigned *sub_stream)
{
    int64_t s = frame_stream_of ? frame_stream_of(pinfo->num) : -1;
    if (s < 0)
        return NULL;
    *stream = (unsigned)s;
    *sub_stream = 0;
    return stream_filter((unsigned)s);
}

static char *index_filter(unsigned stream, unsigned sub_stream)
{
    (void)sub_stream;
    return stream_filter(stream);
}

static char *address_filter(address *src, address *dst, int src_port, int dst_port)
{
    const uint8_t *a, *b;
    char buf[256];
    if (src->type != AT_IPv4 || dst->type != AT_IPv4 || src->len != 4 || dst->len != 4)
        return NULL;
    a = src->data;
    b = dst->data;
    snprintf(buf, sizeof buf,
             "((ip.src eq %u.%u.%u.%u and udp.srcport eq %d and ip.dst eq %u.%u.%u.%u and udp.dstport eq %d) or "
             "(ip.src eq %u.%u.%u.%u and udp.srcport eq %d and ip.dst eq %u.%u.%u.%u and udp.dstport eq %d)) and smcdump",
             a[0], a[1], a[2], a[3], src_port, b[0], b[1], b[2], b[3], dst_port,
             b[0], b[1], b[2], b[3], dst_port, a[0], a[1], a[2], a[3], src_port);
    return wmem_strdup(NULL, buf);
}

static char *port_to_display(wmem_allocator_t *allocator, unsigned port)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%u", port);
    return wmem_strdup(allocator, buf);
}

#if SMCDUMP_WS_MAJOR > 4 || (SMCDUMP_WS_MAJOR == 4 && SMCDUMP_WS_MINOR >= 4)
static uint32_t stream_count(void)
{
    return streams_counted ? streams_counted() : 0;
}
#define FOLLOW_EXTRA_ARGS , stream_count, NULL
#else
#define FOLLOW_EXTRA_ARGS
#endif

int smcdump_register_follow(int proto, int64_t (*frame_stream)(uint32_t frame), uint32_t (*stream_count_fn)(void))
{
    int tap = register_tap("smcdump_follow");
    frame_stream_of = frame_stream;
    streams_counted = stream_count_fn;
    register_follow_stream(proto, "smcdump_follow", conv_filter, index_filter, address_filter, port_to_display,
                           follow_tvb_tap_listener FOLLOW_EXTRA_ARGS);
    return tap;
}

/* Statistics (smcdump_register_stats): Rust builds the table's text from the first pass's state; printed here. */
static char *(*conn_table_text)(void);
static void (*conn_table_free)(char *);
/* The listener's identity for register_tap_listener (its address only). */
static int conn_listener;

static tap_packet_status conn_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                     WS_TAP_FLAGS_PARAM)
{
    /* The table is computed in the first pass; the listener only makes tshark dissect every frame. */
    return TAP_PACKET_DONT_REDRAW;
}

static void conn_draw(void *tapdata)
{
    char *text = conn_table_text ? conn_table_text() : NULL;
    if (text) {
        fputs(text, stdout);
        conn_table_free(text);
    }
}

static WS_STAT_TAP_INIT_RET conn_init(const char *opt_arg, void *userdata)
{
    /* No display filter: the table covers the whole capture. */
    GString *error = register_tap_listener("smcdump", &conn_listener, NULL, 0, NULL, conn_packet, conn_draw, NULL);
#if SMCDUMP_WS_MAJOR > 4 || (SMCDUMP_WS_MAJOR == 4 && SMCDUMP_WS_MINOR >= 6)
    /* Only an unknown tap fails, and "smcdump" is registered before this runs; the GString is not freed (no
     * GLib import). */
    return error == NULL;
#else
    (void)error;
#endif
}

static stat_tap_ui conn_ui = {
#if SMCDUMP_WS_MAJOR < 4
    REGISTER_STAT_GROUP_UNSORTED,
#else
    REGISTER_PACKET_STAT_GROUP_UNSORTED,
#endif
    "SMC connections",
    "smcdump,conn",
    conn_init,
    0,
    NULL,
};

/* Conversations and endpoints: a dump frame's addresses and ports are its UDP flow's (the TCP connection's). A
 * conversation row's id is its smcdump.stream, which the Follow Stream… button (4.4 and later) hands to smcdump's
 * follower. Its key type is none: the GUI shows a Stream ID column, and offers "Filter on stream id", only for TCP,
 * UDP and IP rows, and builds that filter as tcp.stream, udp.stream or ip.stream whatever the protocol: wrong
 * frames for a plugin's row. Endpoints are UDP's (their port column). */
#if SMCDUMP_WS_MAJOR < 4
#define SMCDUMP_CONV_UDP ENDPOINT_UDP
#define SMCDUMP_CONV_NONE ENDPOINT_NONE
#else
#define SMCDUMP_CONV_UDP CONVERSATION_UDP
#define SMCDUMP_CONV_NONE CONVERSATION_NONE
#endif

static const char *filter_field(conv_filter_type_e filter)
{
    switch (filter) {
    case CONV_FT_SRC_ADDRESS:
        return "ip.src";
    case CONV_FT_DST_ADDRESS:
        return "ip.dst";
    case CONV_FT_ANY_ADDRESS:
        return "ip.addr";
    case CONV_FT_SRC_PORT:
        return "udp.srcport";
    case CONV_FT_DST_PORT:
        return "udp.dstport";
    case CONV_FT_ANY_PORT:
        return "udp.port";
    }
    return "INVALID"; /* CONV_FILTER_INVALID */
}

static const char *conv_filter_field(struct _conversation_item_t *item, conv_filter_type_e filter)
{
    return filter_field(filter);
}

static struct _ct_dissector_info conv_info = {conv_filter_field};

/* The endpoint dissector info: one callback, as struct _et_dissector_info (3.4: _hostlist_dissector_info) holds;
 * its item parameter is a pointer to a struct our declarations leave opaque. */
struct smcdump_endpoint_info {
    const char *(*get_filter_type)(void *item, conv_filter_type_e filter);
};

static const char *endpoint_filter_field(void *item, conv_filter_type_e filter)
{
    return filter_field(filter);
}

static struct smcdump_endpoint_info endpoint_info = {endpoint_filter_field};

static tap_packet_status conv_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                     WS_TAP_FLAGS_PARAM)
{
    const struct smcdump_tap_data *d = data;
    conv_id_t id = d && d->stream >= 0 && d->stream < 0xFFFFFFFF ? (conv_id_t)d->stream : 0xFFFFFFFFu;
    if (d && d->clc)
        return TAP_PACKET_DONT_REDRAW;
    /* As Wireshark's own callbacks: the table reads whether the packet passed the display filter from here. */
    WS_CONV_HASH_TAKE_FLAGS((conv_hash_t *)tapdata);
    add_conversation_table_data_with_conv_id((conv_hash_t *)tapdata, &pinfo->src, &pinfo->dst, pinfo->srcport,
                                             pinfo->destport, id, 1, d ? (int)d->bytes : 0, &pinfo->rel_ts,
                                             &pinfo->abs_ts, &conv_info, SMCDUMP_CONV_NONE);
    return TAP_PACKET_REDRAW;
}

static tap_packet_status endpoint_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                         WS_TAP_FLAGS_PARAM)
{
    const struct smcdump_tap_data *d = data;
    int bytes = d ? (int)d->bytes : 0;
    if (d && d->clc)
        return TAP_PACKET_DONT_REDRAW;
    WS_CONV_HASH_TAKE_FLAGS((conv_hash_t *)tapdata);
    ws_endpoint_info *info = (ws_endpoint_info *)&endpoint_info;
    WS_ADD_ENDPOINT_TABLE_DATA((conv_hash_t *)tapdata, &pinfo->src, pinfo->srcport, 1, 1, bytes, info,
                               SMCDUMP_CONV_UDP);
    WS_ADD_ENDPOINT_TABLE_DATA((conv_hash_t *)tapdata, &pinfo->dst, pinfo->destport, 0, 1, bytes, info,
                               SMCDUMP_CONV_UDP);
    return TAP_PACKET_REDRAW;
}

/* The connection table (struct smcdump_stat_table): one stat_tap_table, made by the first listener and kept
 * (the GUI makes it again after freeing it), emptied by Wireshark's reset before each retap. */
static struct smcdump_stat_table table_rust;
static stat_tap_table_ui table_ui;

static void table_init(stat_tap_table_ui *ui)
{
    if (ui->tables && ui->tables->len > 0)
        return;
    stat_tap_add_table(ui, stat_tap_init_table(ui->title, (int)ui->nfields, 0, NULL));
}

static tap_packet_status table_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                      WS_TAP_FLAGS_PARAM)
{
    const stat_data_t *sd = tapdata;
    GArray *tables = sd ? sd->stat_tap_data->tables : NULL;
    if (!tables || tables->len == 0 || !table_rust.frame)
        return TAP_PACKET_DONT_REDRAW;
    return table_rust.frame(((stat_tap_table **)(void *)tables->data)[0], pinfo->num);
}

int smcdump_register_stats(int proto, char *(*table_text)(void), void (*free_text)(char *),
                           const struct smcdump_stat_table *table)
{
    int tap = register_tap("smcdump");
    conn_table_text = table_text;
    conn_table_free = free_text;
    register_stat_tap_ui(&conn_ui, NULL);
    register_conversation_table(proto, 0, conv_packet, endpoint_packet);
    if (table) {
        table_rust = *table;
        table_ui.group = conn_ui.group;
        table_ui.title = table->title;
        table_ui.tap_name = "smcdump";
        table_ui.cli_string = table->cli_string;
        table_ui.stat_tap_init_cb = table_init;
        table_ui.packet_func = table_packet;
        table_ui.stat_tap_reset_table_cb = table->reset;
        table_ui.stat_tap_free_table_item_cb = table->free_cell;
        table_ui.nfields = table->ncolumns;
        table_ui.fields = table->columns;
        register_stat_tap_table_ui(&table_ui);
    }
    return tap;
}


/* Analyze › Conversation Filter › SMCDUMP (and Colorize Conversation): the selected frame's smcdump.stream. */
static ws_bool stream_filter_valid(packet_info *pinfo WS_CONV_FILTER_USER_DATA_PARAM)
{
    return frame_stream_of != NULL && frame_stream_of(pinfo->num) >= 0;
}

static char *stream_filter_of(packet_info *pinfo WS_CONV_FILTER_USER_DATA_PARAM)
{
    int64_t s = frame_stream_of ? frame_stream_of(pinfo->num) : -1;
    return s < 0 ? NULL : stream_filter((unsigned)s);
}

/* Decode As for smcdump.port, as TCP offers it for tcp.port: the frame's source port, its destination port, or
 * both. */
static void port_label(const char *which, uint32_t port, char *result)
{
    snprintf(result, MAX_DECODE_AS_PROMPT_LEN, "%s (%u)", which, port);
}

static void source_label(packet_info *pinfo, char *result)
{
    port_label("Source port", pinfo->srcport, result);
}

static void destination_label(packet_info *pinfo, char *result)
{
    port_label("Destination port", pinfo->destport, result);
}

static void *source_port(packet_info *pinfo)
{
    return (void *)(uintptr_t)pinfo->srcport;
}

static void *destination_port(packet_info *pinfo)
{
    return (void *)(uintptr_t)pinfo->destport;
}

static void both_label(packet_info *pinfo, char *result)
{
    snprintf(result, MAX_DECODE_AS_PROMPT_LEN, "Both (%u <-> %u)", pinfo->srcport, pinfo->destport);
}

static build_valid_func source_values[] = {source_port};
static build_valid_func destination_values[] = {destination_port};
static build_valid_func both_values[] = {source_port, destination_port};
/* TCP's three choices, its default too (both ports): on a client's frame the source port is an ephemeral one. */
static decode_as_value_t port_values[] = {
    {source_label, 1, source_values}, {destination_label, 1, destination_values}, {both_label, 2, both_values}};
/* Kept by register_decode_as; its name is the protocol's filter name, which the dialog matches with the selected
 * frame's layers to propose the frame's ports. */
static decode_as_t port_decode_as = {"smcdump", "smcdump.port", 3, 2, port_values, "SMC port", "port(s) as",
                                     decode_as_default_populate_list, decode_as_default_reset,
                                     decode_as_default_change, NULL};

void smcdump_register_gui(int64_t (*frame_stream)(uint32_t frame))
{
    frame_stream_of = frame_stream;
    register_conversation_filter("smcdump", "SMCDUMP", stream_filter_valid, stream_filter_of
                                 WS_CONV_FILTER_USER_DATA_ARG);
    register_decode_as(&port_decode_as);
}
