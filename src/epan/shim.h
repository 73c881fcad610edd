/*
 * smcdump's C shim, in two parts, built with `cc` against our declarations (wireshark-headers/<release>/epan.h);
 * bindgen reads this header too.
 * - catch.c: every call into Wireshark that can throw (other dissectors, tvb constructors, tap queues): Wireshark's
 *   exceptions are longjmp and must never unwind through Rust frames, so each function there catches what it calls
 *   with Wireshark's own exception stack (except_setup_try, setjmp, except_pop: what TRY/CATCH_ALL/ENDTRY expand
 *   to) and reports it.
 * - tables.c: the registrations whose callbacks' signatures differ between releases (follower, taps, statistics,
 *   conversation tables), with the macros of abi.h.
 */
#ifndef SMCDUMP_SHIM_H
#define SMCDUMP_SHIM_H

#include "epan.h"

/* Application data handed to the dissector TCP would choose for it. */
struct smcdump_handoff {
    /* In. */
    tvbuff_t *tvb;
    packet_info *pinfo;
    proto_tree *tree;
    /* Tried in order: our Decode As table (smcdump.port), TCP's port table, TCP's heuristics. */
    dissector_table_t decode_as;
    dissector_table_t tcp_port;
    heur_dissector_list_t tcp_heuristics;
    /* The server's port is tried first, then the other one. */
    uint32_t server_port;
    uint32_t client_port;
    /* TCP's protocol id: named among the frame's layers during the call, as TCP's own call would leave it. */
    int tcp_proto;
    /* Whether the dissector may ask for more data (the first pass), as TCP's can_desegment. */
    int may_desegment;
    /* What TCP would tell it: stream offsets of the data and whether it was reassembled. */
    uint32_t seq;
    uint32_t nxtseq;
    int is_reassembled;

    /* Out. */
    /* A dissector took the data. */
    int taken;
    /* What it asked for: more data from desegment_offset on (desegment_len bytes, or the DESEGMENT_* codes). */
    int desegment_offset;
    uint32_t desegment_len;
    /* An exception it threw (0 for none), and its message; shown in the tree as TCP shows it. */
    unsigned long exception;
    char message[256];
};

/* Hands h->tvb to the first dissector that takes it; never throws. */
void smcdump_handoff(struct smcdump_handoff *h);

/* A tvb over `length` bytes of `data`, shown as the data source `name` ("Reassembled SMC data"), which calls
 * free_data(data) when it is freed with the frame's tvbs; NULL if Wireshark threw (then `data` is the caller's
 * to free). Never throws. */
tvbuff_t *smcdump_reassembled_tvb(tvbuff_t *parent, packet_info *pinfo, const uint8_t *data, unsigned length,
                                  tvbuff_free_cb_t free_data, const char *name);

/* A tvb over `length` bytes of `parent` from `offset` (both within its captured bytes); NULL if Wireshark threw.
 * Never throws. */
tvbuff_t *smcdump_subset_tvb(tvbuff_t *parent, int offset, int length);

/* What a call through the shim caught: the exception's code (0: none) and the start of its message. */
typedef struct {
    unsigned long code;
    char message[128];
} smcdump_caught_t;

/* Calls the heuristic dissector of `entry` directly (so that it sees packet_info as TCP left it), if it and its
 * protocol are enabled: 1 if it took the packet, 0 if not (or disabled), -1 if it threw (then `caught` says what,
 * and the tree shows it as Wireshark's dissectors do). Never throws. */
int smcdump_call_heuristic(heur_dtbl_entry_t *entry, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
                           smcdump_caught_t *caught);

/* Follow SMC Stream: registers the tap "smcdump_follow" and the follower (tshark -z follow,smcdump,...),
 * filtering by smcdump.stream; returns the tap's id. At protocol registration. The follower asks Rust for a
 * frame's stream index (-1 for none) and for the number of streams through the two callbacks. */
int smcdump_register_follow(int proto, int64_t (*frame_stream)(uint32_t frame), uint32_t (*stream_count)(void));

/* Queues `length` bytes of `tvb` at `offset` (within its captured bytes), a data frame's application bytes, on
 * the follow tap `tap`. Never throws. */
void smcdump_follow_data(int tap, tvbuff_t *tvb, packet_info *pinfo, int offset, int length);

/* Queues, on the follow tap `tap`, what TCP's Follow shows for `bytes` bytes the capture does not hold:
 * "[N bytes missing in capture file]" and a NUL, in a tvb freed with `tvb`. Never throws. */
void smcdump_follow_missing(int tap, tvbuff_t *tvb, packet_info *pinfo, uint64_t bytes);

/* Queues on the follow tap `tap` a copy of `length` bytes at `data` (bytes of the stream another frame brought,
 * shown where they belong), in a tvb freed with `tvb`. Never throws. */
void smcdump_follow_bytes(int tap, tvbuff_t *tvb, packet_info *pinfo, const uint8_t *data, unsigned length);

/* The connection table of the GUI's Statistics menu and of tshark -z <cli_string>[,filter] (a stat_tap_table_ui on
 * the tap "smcdump"): its columns, and the Rust callbacks that keep its rows (src/epan/stats_table.rs). */
struct smcdump_stat_table {
    const char *title;
    const char *cli_string;
    stat_tap_table_item *columns;
    size_t ncolumns;
    /* Counts frame `frame` (what the session recorded of it) and writes the rows that changed into `table`. */
    tap_packet_status (*frame)(stat_tap_table *table, uint32_t frame);
    /* Empties `table`: a listener starts again. */
    void (*reset)(stat_tap_table *table);
    /* Frees what a cell holds, when Wireshark frees the table. */
    void (*free_cell)(stat_tap_table *table, unsigned row, unsigned column, stat_tap_table_item_type *cell);
};

/* Statistics: registers the tap "smcdump" (one entry per dump frame, which also makes tshark -q dissect),
 * tshark's -z smcdump,conn, whose draw callback prints the text table_text() returns, then hands it to
 * free_text, protocol `proto`'s conversation and endpoint tables (-z conv,smcdump, -z endpoints,smcdump;
 * Statistics > Conversations and Endpoints) and, when `table` is given, the connection table it describes (copied).
 * At protocol registration; returns the tap's id. */
int smcdump_register_stats(int proto, char *(*table_text)(void), void (*free_text)(char *),
                           const struct smcdump_stat_table *table);

/* What the tap "smcdump" carries for one frame. */
struct smcdump_tap_data {
    /* The dump frame's UDP payload bytes. */
    unsigned bytes;
    /* Its connection's smcdump.stream, or -1. */
    int64_t stream;
    /* A CLC message (on TCP), not a dump frame: for the connection table only. */
    int clc;
};

/* Queues the current frame on the tap `tap` (from smcdump_register_stats): a dump frame of `bytes` bytes (its UDP
 * payload), or (`clc` non-zero) a TCP segment with a CLC message, which only the connection table counts. Never
 * throws. */
void smcdump_tap_frame(int tap, packet_info *pinfo, unsigned bytes, int64_t stream, int clc);

/* The GUI's ways into smcdump's streams and application table: Analyze › Conversation Filter › SMCDUMP (the
 * selected frame's smcdump.stream) and Decode As for the table "smcdump.port" (by the frame's source or destination
 * port). At protocol hand-off, after the table is registered; `frame_stream` as for the follower. */
void smcdump_register_gui(int64_t (*frame_stream)(uint32_t frame));

#endif
