/*
 * smcdump's C shim, part one (see shim.h): every call into Wireshark that can throw is made here, under a catcher of
 * Wireshark's exceptions, so that a longjmp never crosses a Rust frame: the application and CLC dissectors, the tvbs
 * smcdump makes for them, and the packets it queues on its taps.
 */
#include <stdio.h>
#include <stdlib.h>
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

    /* As TCP: a conversation of TCP's type for the packet's addresses and ports, which dissectors look up
     * (find_conversation_pinfo) without checking that one exists (iPerf3's "NULL conversation"). */
    find_or_create_conversation(h->pinfo);
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
    wmem_list_frame_t *tcp_layer = NULL;
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
    /* Dissectors ask whether TCP carries the frame (TLS's JA4 fingerprint starts with 't' then, else 'q'): it
     * does, in substance. TCP is one of the layers during the call only, so frame.protocols still names smcdump;
     * and at the head of the list, which nobody walks back to: Wireshark drops a refusing dissector's layer from
     * the tail and then looks the new tail up among the layers it counted itself (ours is not). */
    if (h->tcp_proto > 0 && pinfo->layers) {
        wmem_list_prepend(pinfo->layers, (void *)(intptr_t)h->tcp_proto);
        tcp_layer = wmem_list_head(pinfo->layers);
    }
    h->exception = guarded(try_application, h, h->message, sizeof h->message);
    if (tcp_layer)
        wmem_list_remove_frame(pinfo->layers, tcp_layer);
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

struct copy_args {
    int tap;
    tvbuff_t *tvb;
    packet_info *pinfo;
    uint8_t *data;
    unsigned length;
};

static void queue_copy(void *arg)
{
    struct copy_args *a = arg;
    tvbuff_t *child = tvb_new_child_real_data(a->tvb, a->data, a->length, (int)a->length);
    /* From here on the tvb owns the copy. */
    tvb_set_free_cb(child, free);
    a->data = NULL;
    tap_queue_packet(a->tap, a->pinfo, child);
}

/* Queues a copy of `length` bytes at `data` on the follow tap, in a child tvb of `tvb` that frees it. */
static void queue_copy_of(int tap, tvbuff_t *tvb, packet_info *pinfo, const uint8_t *data, unsigned length)
{
    struct copy_args a = {tap, tvb, pinfo, NULL, length};
    char ignored[8];

    if (length == 0 || length > INT32_MAX)
        return;
    a.data = malloc(length);
    if (!a.data)
        return;
    memcpy(a.data, data, length);
    guarded(queue_copy, &a, ignored, sizeof ignored);
    /* NULL once the tvb took it; a throw before that leaves it ours. */
    free(a.data);
}

void smcdump_follow_missing(int tap, tvbuff_t *tvb, packet_info *pinfo, uint64_t bytes)
{
    char text[64];
    int n;

    if (tap < 0 || !have_tap_listener(tap))
        return;
    /* TCP's Follow text for bytes the capture does not hold, its terminating NUL included. */
    n = snprintf(text, sizeof text, "[%llu bytes missing in capture file]", (unsigned long long)bytes);
    if (n <= 0 || (size_t)n >= sizeof text)
        return;
    queue_copy_of(tap, tvb, pinfo, (const uint8_t *)text, (unsigned)n + 1);
}

void smcdump_follow_bytes(int tap, tvbuff_t *tvb, packet_info *pinfo, const uint8_t *data, unsigned length)
{
    if (tap >= 0 && have_tap_listener(tap))
        queue_copy_of(tap, tvb, pinfo, data, length);
}

/* What the tap "smcdump" carries for the frame being dissected: its listeners run when the frame's dissection is
 * over, before the next frame is dissected, and a frame holds one dump frame, so one record serves. */
static struct smcdump_tap_data tap_data;

struct tap_args {
    int tap;
    packet_info *pinfo;
};

static void queue_frame(void *arg)
{
    struct tap_args *a = arg;
    tap_queue_packet(a->tap, a->pinfo, &tap_data);
}

void smcdump_tap_frame(int tap, packet_info *pinfo, unsigned bytes, int64_t stream, int clc)
{
    struct tap_args a = {tap, pinfo};
    char ignored[8];
    tap_data.bytes = bytes;
    tap_data.stream = stream;
    tap_data.clc = clc;
    /* No statistic listens (the usual case): no catcher. */
    if (tap >= 0 && have_tap_listener(tap))
        guarded(queue_frame, &a, ignored, sizeof ignored);
}
