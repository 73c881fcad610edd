/*
 * What differs in Wireshark 4.0's epan ABI from the declarations in ../common (written for smcdump).
 */
#ifndef SMCDUMP_WS_ABI_H
#define SMCDUMP_WS_ABI_H

#include <stdint.h>

#define SMCDUMP_WS_MAJOR 4
#define SMCDUMP_WS_MINOR 0

/* gboolean everywhere: the heuristic's result, bool preferences, the enum preference's radio flag. */
typedef int ws_heur_bool;
typedef int ws_pref_bool;
/* proto_tree_add_boolean takes the (masked) value as a 32-bit integer. */
typedef uint32_t ws_boolean_value;

/* expert_add_info and expert_add_info_format return nothing. */
#define WS_EXPERT_ADD_INFO_RET void

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

/* Column numbers: alphabetical positions in 4.0's column list. */
#define COL_INFO 28
#define COL_PROTOCOL 37

/* gboolean (int) before 4.4, C99 bool since: the other functions' boolean parameters and results. */
typedef int ws_bool;

/* add_new_data_source returns nothing. */
#define WS_ADD_NEW_DATA_SOURCE_RET void

/* Trying a dissector table's entry for a number. */
#define WS_TRY_UINT dissector_try_uint_new

/* Taps: a packet callback's flags parameter (since 4.0). */
#define WS_TAP_FLAGS_PARAM , unsigned flags

/* Follow: the conversation filter's epan_dissect_t parameter (since 4.0), and
 * register_follow_stream's stream count and sub-stream callbacks (none before 4.4). */
#define WS_CONV_FILTER_EDT_PARAM epan_dissect_t *edt,
#define WS_FOLLOW_EXTRA_PARAMS 

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
#define WS_CONV_FILTER_USER_DATA_PARAM 
#define WS_CONV_FILTER_USER_DATA_ARG 

/* add_conversation_table_data_with_conv_id returns nothing. */
#define WS_ADD_CONV_WITH_ID_RET void

#endif
