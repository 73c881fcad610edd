/*
 * What differs in Wireshark 4.4's epan ABI from the declarations in ../common (written for smcdump).
 */
#ifndef SMCDUMP_WS_ABI_H
#define SMCDUMP_WS_ABI_H

#include <stdbool.h>
#include <stdint.h>

#define SMCDUMP_WS_MAJOR 4
#define SMCDUMP_WS_MINOR 4

/* C99 bool everywhere: the heuristic's result, bool preferences, the enum preference's radio flag. */
typedef bool ws_heur_bool;
typedef bool ws_pref_bool;
/* proto_tree_add_boolean takes the (masked) value as a 64-bit integer. */
typedef uint64_t ws_boolean_value;

/* expert_add_info and expert_add_info_format return the item they were given. */
#define WS_EXPERT_ADD_INFO_RET struct _proto_node *

/* find_or_create_conversation takes a mutable packet_info. */
#define WS_CONV_PINFO_CONST

/* Conversation key types: the enum conversation_type (4.0 replaced endpoint_type with it). */
typedef enum {
    CONVERSATION_NONE = 0,
    CONVERSATION_SCTP = 1,
    CONVERSATION_TCP = 2,
    CONVERSATION_UDP = 3
} conversation_type;
/* The key type find_conversation and conversation_new take. */
typedef conversation_type ws_conversation_type;

/* Column numbers: alphabetical positions in 4.4's column list. */
#define COL_INFO 25
#define COL_PROTOCOL 34

/* gboolean (int) before 4.4, C99 bool since: the other functions' boolean parameters and results. */
typedef bool ws_bool;

/* add_new_data_source returns nothing. */
#define WS_ADD_NEW_DATA_SOURCE_RET void

/* Trying a dissector table's entry for a number. */
#define WS_TRY_UINT dissector_try_uint_new

/* Taps: a packet callback's flags parameter (since 4.0). */
#define WS_TAP_FLAGS_PARAM , unsigned flags

/* Follow: the conversation filter's epan_dissect_t parameter (since 4.0), and
 * register_follow_stream's stream count and sub-stream callbacks (since 4.4). */
#define WS_CONV_FILTER_EDT_PARAM epan_dissect_t *edt,
#define WS_FOLLOW_EXTRA_PARAMS , uint32_t (*stream_count)(void), bool (*sub_stream_id)(unsigned, unsigned, bool, unsigned *)

/* Statistics: the init callback of a stat_tap_ui (returns nothing (bool since 4.6)). */
#define WS_STAT_TAP_INIT_RET void

/* Statistics menu groups: the first members, as 4.0 and later name them. */
typedef enum {
    REGISTER_PACKET_ANALYZE_GROUP_UNSORTED = 0,
    REGISTER_ANALYZE_GROUP_CONVERSATION_FILTER = 1,
    REGISTER_PACKET_STAT_GROUP_UNSORTED = 2
} register_stat_group_t;

/* Endpoint tables (4.0 renamed the "hostlist" tables), each with its dissector info (opaque here). */
typedef struct _et_dissector_info ws_endpoint_info;
#define WS_ADD_ENDPOINT_TABLE_DATA add_endpoint_table_data

/* A conversation or endpoint tap callback stores its tap flags in the table before adding a packet (since 4.0):
 * whether the packet passed the display filter. */
#define WS_CONV_HASH_TAKE_FLAGS(hash) ((hash)->flags = flags)

/* Conversation filters (Analyze › Conversation Filter): their callbacks take a user data pointer since 4.4. */
#define WS_CONV_FILTER_USER_DATA_PARAM , void *user_data
#define WS_CONV_FILTER_USER_DATA_ARG , NULL

/* add_conversation_table_data_with_conv_id returns the row it added (since 4.4). */
#define WS_ADD_CONV_WITH_ID_RET conv_item_t *

#endif
