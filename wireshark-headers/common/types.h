/*
 * smcdump's declarations of the Wireshark epan API it uses: type names.
 *
 * Written for smcdump from the documented API facts. The conformance test includes this file after a release's
 * real headers: C accepts a repeated typedef only when it names the same type, so any difference fails to compile.
 * Opaque types are only ever handled through pointers.
 */
#ifndef SMCDUMP_WS_TYPES_H
#define SMCDUMP_WS_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tvbuff tvbuff_t;
typedef struct _proto_node proto_node;
typedef proto_node proto_tree;
typedef proto_node proto_item;
typedef struct field_info field_info;
typedef struct _packet_info packet_info;
typedef struct epan_column_info column_info;
typedef struct _header_field_info header_field_info;
typedef struct hf_register_info hf_register_info;
typedef struct expert_field expert_field;
typedef struct expert_field_info expert_field_info;
typedef struct ei_register_info ei_register_info;
typedef struct expert_module expert_module_t;
typedef struct pref_module module_t;
typedef struct conversation conversation_t;
typedef struct _address address;
typedef struct dissector_handle *dissector_handle_t;
typedef struct _value_string value_string;
typedef struct dissector_table *dissector_table_t;
typedef struct heur_dissector_list *heur_dissector_list_t;
typedef struct heur_dtbl_entry heur_dtbl_entry_t;
typedef struct _protocol protocol_t;
typedef struct true_false_string true_false_string;

/* A dissector: returns the number of bytes it took, 0 for "not mine". */
typedef int (*dissector_t)(tvbuff_t *, packet_info *, proto_tree *, void *);

/* A heuristic dissector: its result type is gboolean before 4.4, bool since (ws_heur_bool, from <abi.h>). */
typedef ws_heur_bool (*heur_dissector_t)(tvbuff_t *, packet_info *, proto_tree *, void *);

typedef struct epan_dissect epan_dissect_t;
typedef struct _wmem_allocator_t wmem_allocator_t;
/* A wmem list (packet_info's layers) and one of its elements. */
typedef struct _wmem_list_t wmem_list_t;
typedef struct _wmem_list_frame_t wmem_list_frame_t;

/* A tap listener's packet callback (a flags parameter since 4.0: WS_TAP_FLAGS_PARAM, from <abi.h>). */
typedef tap_packet_status (*tap_packet_cb)(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                           WS_TAP_FLAGS_PARAM);

/* A follower's callbacks: the filters they return are freed with g_free (wmem_strdup(NULL, ...) allocates so). */
typedef char *(*follow_conv_filter_func)(WS_CONV_FILTER_EDT_PARAM packet_info *pinfo, unsigned *stream,
                                         unsigned *sub_stream);
typedef char *(*follow_index_filter_func)(unsigned stream, unsigned sub_stream);
typedef char *(*follow_address_filter_func)(address *src_addr, address *dst_addr, int src_port, int dst_port);
typedef char *(*follow_port_to_display_func)(wmem_allocator_t *allocator, unsigned port);

/* A tap listener's other callbacks. */
typedef void (*tap_reset_cb)(void *tapdata);
typedef void (*tap_draw_cb)(void *tapdata);
typedef void (*tap_finish_cb)(void *tapdata);

/* GLib's string, which register_tap_listener returns on an error (opaque). */
typedef struct _GString GString;

/* A statistic's parameter descriptions (opaque: smcdump's statistics take none). */
typedef struct _tap_param tap_param;

/* A statistic's init callback, called with the whole -z argument (WS_STAT_TAP_INIT_RET, from <abi.h>). */
typedef WS_STAT_TAP_INIT_RET (*stat_tap_init_cb)(const char *, void *);

/* Statistics tables (tshark -z and the GUI's Statistics menu): the table, one cell, the UI description and
 * GLib's array of tables it holds. */
typedef struct _stat_tap_table stat_tap_table;
typedef struct _stat_tap_table_item_type stat_tap_table_item_type;
typedef struct _stat_tap_table_ui stat_tap_table_ui;
typedef struct _GArray GArray;

/* Conversation tables: the table a conversation packet callback fills (its tapdata; opaque), and the dissector
 * info that names the filter fields of a row. */
typedef struct _conversation_hash_t conv_hash_t;
typedef struct _conversation_item_t conv_item_t;
typedef const char *(*conv_get_filter_type)(struct _conversation_item_t *item, conv_filter_type_e filter);
typedef struct _ct_dissector_info ct_dissector_info_t;

/* What a tvb calls on its data when it is freed. */
typedef void (*tvbuff_free_cb_t)(void *);

/* What dissector_table_foreach_handle calls for each handle of a table. */
typedef void (*DATFunc_handle)(const char *table_name, void *value, void *user_data);

/* A conversation table row's conversation id (a stream index; CONV_ID_UNSET when none). */
typedef uint32_t conv_id_t;

/* Conversation filters: whether the packet belongs to a conversation of the protocol, and its filter. */
typedef ws_bool (*is_filter_valid_func)(packet_info *pinfo WS_CONV_FILTER_USER_DATA_PARAM);
typedef char *(*build_filter_string_func)(packet_info *pinfo WS_CONV_FILTER_USER_DATA_PARAM);

/* Decode As: a value's label for the dialog and the value itself, read from the packet; the list, reset and
 * change functions of an entry (the library's defaults serve integer tables). */
typedef void (*build_label_func)(packet_info *pinfo, char *result);
typedef void *(*build_valid_func)(packet_info *pinfo);
typedef void (*decode_as_add_to_list_func)(const char *table_name, const char *proto_name, void *value,
                                           void *user_data);
typedef void (*decode_as_populate_list_func)(const char *table_name, decode_as_add_to_list_func add_to_list,
                                             void *ui_element);
typedef void (*decode_as_free_func)(void *value);
typedef ws_bool (*decode_as_reset_func)(const char *name, const void *pattern);
typedef ws_bool (*decode_as_change_func)(const char *name, const void *pattern, const void *handle,
                                         const char *list_name);
typedef struct decode_as_value_s decode_as_value_t;
typedef struct decode_as_s decode_as_t;

#endif
