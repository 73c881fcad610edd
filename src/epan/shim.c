/*
 * smcdump's C shim (see shim.h): every call into another dissector happens here, under a catcher of Wireshark's
 * exceptions, so that a longjmp never crosses a Rust frame.
 */
#include <stdio.h>
#include <string.h>

#include "shim.h"

/* What Wireshark's TRY catches: every exception of its own group. */
static const except_id_t catch_wireshark[] = {{XCEPT_GROUP_WIRESHARK, XCEPT_CODE_ANY}};

/* Runs fn(arg) with a catcher pushed on Wireshark's exception stack: what TRY { fn(arg); } CATCH_ALL { ... }
 * ENDTRY does. Returns 0, or the code of the exception fn threw, with its message copied into message. */
static unsigned long guarded(void (*fn)(void *), void *arg, char *message, size_t size)
{
    struct except_stacknode node;
    struct except_catch catcher;
    volatile unsigned long code = 0;

    if (message && size)
        message[0] = '\0';
    except_setup_try(&node, &catcher, catch_wireshark, 1);
    if (setjmp(catcher.except_jmp) == 0) {
        fn(arg);
    } else {
        /* The thrower put the exception into our catcher and left it on top of the stack. */
        code = catcher.except_obj.except_id.except_code;
        if (message && size && catcher.except_obj.except_message)
            snprintf(message, size, "%s", catcher.except_obj.except_message);
    }
    except_free(catcher.except_obj.except_dyndata);
    except_pop();
    return code;
}

/* TCP's order: Decode As (server port, then the other), the port table (same order), then the heuristics. */
static void try_application(void *arg)
{
    struct smcdump_handoff *h = arg;
    uint32_t ports[2] = {h->server_port, h->client_port};
    struct tcpinfo info;
    heur_dtbl_entry_t *entry = NULL;
    int i;

    memset(&info, 0, sizeof info);
    info.seq = h->seq;
    info.nxtseq = h->nxtseq;
    info.lastackseq = 0;
    info.is_reassembled = h->is_reassembled != 0;
    info.flags = 0x018; /* PSH, ACK: a segment that carries data */

    for (i = 0; i < 2 && h->decode_as && !h->taken; i++)
        h->taken = WS_TRY_UINT(h->decode_as, ports[i], h->tvb, h->pinfo, h->tree, 1, &info) != 0;
    for (i = 0; i < 2 && h->tcp_port && !h->taken; i++)
        h->taken = WS_TRY_UINT(h->tcp_port, ports[i], h->tvb, h->pinfo, h->tree, 1, &info) != 0;
    if (!h->taken && h->tcp_heuristics)
        h->taken = dissector_try_heuristic(h->tcp_heuristics, h->tvb, h->pinfo, h->tree, &entry, &info) != 0;
}

static void show(void *arg)
{
    struct smcdump_handoff *h = arg;
    show_exception(h->tvb, h->pinfo, h->tree, h->exception, h->message[0] ? h->message : NULL);
}

void smcdump_handoff(struct smcdump_handoff *h)
{
    packet_info *pinfo = h->pinfo;
    int saved_ptype = pinfo->ptype;
    const char *saved_proto = pinfo->current_proto;
    char ignored[8];

    h->taken = 0;
    h->desegment_offset = 0;
    h->desegment_len = 0;
    /* Application dissectors look at TCP's port type (conversations, direction). */
    pinfo->ptype = PT_TCP;
    /* As TCP: 2 here, decremented as the call passes a layer, so the dissector called sees 1. */
    pinfo->can_desegment = h->may_desegment ? 2 : 0;
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    h->exception = guarded(try_application, h, h->message, sizeof h->message);
    if (!h->exception && h->taken && h->may_desegment) {
        h->desegment_offset = pinfo->desegment_offset;
        h->desegment_len = pinfo->desegment_len;
    }
    pinfo->can_desegment = 0;
    pinfo->desegment_offset = 0;
    pinfo->desegment_len = 0;
    pinfo->ptype = saved_ptype;
    /* As TCP: the exception is shown under the protocol that threw ("[Malformed Packet: LDAP]"). */
    if (h->exception)
        guarded(show, h, ignored, sizeof ignored);
    pinfo->current_proto = saved_proto;
}

struct heuristic_args {
    heur_dtbl_entry_t *entry;
    tvbuff_t *tvb;
    packet_info *pinfo;
    proto_tree *tree;
    void *data;
    int result;
    smcdump_caught_t *caught;
};

static void call_heuristic(void *arg)
{
    struct heuristic_args *a = arg;
    a->result = a->entry->dissector(a->tvb, a->pinfo, a->tree, a->data) ? 1 : 0;
}

static void show_caught(void *arg)
{
    struct heuristic_args *a = arg;
    show_exception(a->tvb, a->pinfo, a->tree, a->caught->code, a->caught->message[0] ? a->caught->message : NULL);
}

int smcdump_call_heuristic(heur_dtbl_entry_t *entry, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
                           smcdump_caught_t *caught)
{
    struct heuristic_args a = {entry, tvb, pinfo, tree, data, 0, caught};
    const char *saved_proto = pinfo->current_proto;
    char ignored[8];

    caught->code = 0;
    caught->message[0] = '\0';
    if (entry == NULL || entry->dissector == NULL || !entry->enabled
        || (entry->protocol != NULL && !proto_is_protocol_enabled(entry->protocol)))
        return 0;
    /* As dissector_try_heuristic: the protocol called is the current one, so what it throws is shown under its
       name ("[Malformed Packet: SMC]"). */
    if (entry->protocol != NULL)
        pinfo->current_proto = proto_get_protocol_short_name(entry->protocol);
    caught->code = guarded(call_heuristic, &a, caught->message, sizeof caught->message);
    if (caught->code)
        guarded(show_caught, &a, ignored, sizeof ignored);
    pinfo->current_proto = saved_proto;
    return caught->code ? -1 : a.result;
}

struct reassembled_args {
    tvbuff_t *parent;
    packet_info *pinfo;
    const uint8_t *data;
    unsigned length;
    tvbuff_free_cb_t free_data;
    const char *name;
    tvbuff_t *result;
};

static void new_reassembled(void *arg)
{
    struct reassembled_args *a = arg;
    tvbuff_t *child = tvb_new_child_real_data(a->parent, a->data, a->length, (int)a->length);
    /* From here on the tvb owns the data. */
    tvb_set_free_cb(child, a->free_data);
    a->result = child;
    add_new_data_source(a->pinfo, child, a->name);
}

tvbuff_t *smcdump_reassembled_tvb(tvbuff_t *parent, packet_info *pinfo, const uint8_t *data, unsigned length,
                                  tvbuff_free_cb_t free_data, const char *name)
{
    struct reassembled_args a = {parent, pinfo, data, length, free_data, name, NULL};
    char ignored[8];
    unsigned long thrown = guarded(new_reassembled, &a, ignored, sizeof ignored);
    /* A throw after the free callback was set leaves the tvb (and so the data) to Wireshark: report it. */
    return thrown && !a.result ? NULL : a.result;
}

struct subset_args {
    tvbuff_t *parent;
    int offset;
    int length;
    tvbuff_t *result;
};

static void new_subset(void *arg)
{
    struct subset_args *a = arg;
    a->result = tvb_new_subset_length(a->parent, a->offset, a->length);
}

tvbuff_t *smcdump_subset_tvb(tvbuff_t *parent, int offset, int length)
{
    struct subset_args a = {parent, offset, length, NULL};
    char ignored[8];
    return guarded(new_subset, &a, ignored, sizeof ignored) ? NULL : a.result;
}

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

struct follow_args {
    int tap;
    tvbuff_t *tvb;
    packet_info *pinfo;
    int offset;
    int length;
};

static void queue_follow(void *arg)
{
    struct follow_args *a = arg;
    tap_queue_packet(a->tap, a->pinfo, tvb_new_subset_length(a->tvb, a->offset, a->length));
}

void smcdump_follow_data(int tap, tvbuff_t *tvb, packet_info *pinfo, int offset, int length)
{
    struct follow_args a = {tap, tvb, pinfo, offset, length};
    char ignored[8];
    /* Nobody follows (the usual case): no subset tvb, no catcher. */
    if (tap >= 0 && have_tap_listener(tap))
        guarded(queue_follow, &a, ignored, sizeof ignored);
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

/* Conversations and endpoints: a dump frame's addresses and ports are its UDP flow's (the TCP connection's). */
#if SMCDUMP_WS_MAJOR < 4
#define SMCDUMP_CONV_UDP ENDPOINT_UDP
#else
#define SMCDUMP_CONV_UDP CONVERSATION_UDP
#endif

/* What the tap carries for one dump frame: the listeners run when the frame's dissection is over, before the
 * next frame is dissected, and a frame holds one dump frame, so one record serves. */
struct smcdump_tap_data {
    unsigned bytes;
    /* A CLC message (on TCP), not a dump frame: for the connection table only. */
    int clc;
};
static struct smcdump_tap_data tap_data;

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
    if (d && d->clc)
        return TAP_PACKET_DONT_REDRAW;
    add_conversation_table_data((conv_hash_t *)tapdata, &pinfo->src, &pinfo->dst, pinfo->srcport, pinfo->destport, 1,
                                d ? (int)d->bytes : 0, &pinfo->rel_ts, &pinfo->abs_ts, &conv_info, SMCDUMP_CONV_UDP);
    return TAP_PACKET_REDRAW;
}

static tap_packet_status endpoint_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                         WS_TAP_FLAGS_PARAM)
{
    const struct smcdump_tap_data *d = data;
    int bytes = d ? (int)d->bytes : 0;
    if (d && d->clc)
        return TAP_PACKET_DONT_REDRAW;
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

struct tap_args {
    int tap;
    packet_info *pinfo;
};

static void queue_frame(void *arg)
{
    struct tap_args *a = arg;
    tap_queue_packet(a->tap, a->pinfo, &tap_data);
}

void smcdump_tap_frame(int tap, packet_info *pinfo, unsigned bytes, int clc)
{
    struct tap_args a = {tap, pinfo};
    char ignored[8];
    tap_data.bytes = bytes;
    tap_data.clc = clc;
    /* No statistic listens (the usual case): no catcher. */
    if (tap >= 0 && have_tap_listener(tap))
        guarded(queue_frame, &a, ignored, sizeof ignored);
}
