/*
 * smcdump's declarations of the Wireshark epan API it uses: functions.
 *
 * Written for smcdump from the documented API facts. The conformance test includes this file after a release's
 * real headers: C rejects a redeclaration with a different signature, so each prototype here is checked.
 * Prototypes whose types differ between releases use the ws_* aliases from <abi.h>.
 */
#ifndef SMCDUMP_WS_FUNCTIONS_H
#define SMCDUMP_WS_FUNCTIONS_H

/* Registration. */
void proto_register_plugin(const proto_plugin *plugin);
int proto_register_protocol(const char *name, const char *short_name, const char *filter_name);
void proto_register_field_array(const int parent, hf_register_info *hf, const int num_records);
void proto_register_subtree_array(int *const *indices, const int num_indices);
expert_module_t *expert_register_protocol(int id);
void expert_register_field_array(expert_module_t *module, ei_register_info *ei, const int num_records);

/* Called before a capture file is read (init) and after it is closed (cleanup). */
void register_init_routine(void (*func)(void));
void register_cleanup_routine(void (*func)(void));

/* Dissector tables, heuristics, Decode As, conversations. */
dissector_handle_t register_dissector(const char *name, dissector_t dissector, const int proto);
dissector_handle_t create_dissector_handle(dissector_t dissector, const int proto);
/* A postdissector sees every frame, after all its layers were dissected. */
void register_postdissector(dissector_handle_t handle);
void heur_dissector_add(const char *name, heur_dissector_t dissector, const char *display_name,
                        const char *internal_name, const int proto, heuristic_enable_e enable);
void dissector_add_for_decode_as_with_preference(const char *name, dissector_handle_t handle);
conversation_t *find_or_create_conversation(WS_CONV_PINFO_CONST packet_info *pinfo);
conversation_t *find_conversation(const uint32_t frame_num, const address *addr_a, const address *addr_b,
                                  const ws_conversation_type ctype, const uint32_t port_a, const uint32_t port_b,
                                  const unsigned options);
conversation_t *conversation_new(const uint32_t setup_frame, const address *addr1, const address *addr2,
                                 const ws_conversation_type ctype, const uint32_t port1, const uint32_t port2,
                                 const unsigned options);
void conversation_set_dissector(conversation_t *conversation, const dissector_handle_t handle);
void register_conversation_filter(const char *proto_name, const char *display_name, is_filter_valid_func is_filter_valid,
                                  build_filter_string_func build_filter_string WS_CONV_FILTER_USER_DATA_PARAM);
void register_decode_as(decode_as_t *reg);
void decode_as_default_populate_list(const char *table_name, decode_as_add_to_list_func add_to_list, void *ui_element);
ws_bool decode_as_default_reset(const char *name, const void *pattern);
ws_bool decode_as_default_change(const char *name, const void *pattern, const void *handle, const char *list_name);

/* Handing application data on (from the C shim only: these can throw), as TCP does: Decode As and port tables,
 * heuristics, reassembled buffers shown as data sources, exceptions shown as TCP shows them. */
dissector_table_t find_dissector_table(const char *name);
heur_dissector_list_t find_heur_dissector_list(const char *name);
dissector_table_t register_dissector_table(const char *name, const char *ui_name, const int proto,
                                           const enum ftenum type, const int param);
void dissector_table_allow_decode_as(dissector_table_t dissector_table);
void dissector_add_for_decode_as(const char *name, dissector_handle_t handle);
void dissector_table_foreach_handle(const char *table_name, DATFunc_handle func, void *user_data);
int WS_TRY_UINT(dissector_table_t sub_dissectors, const uint32_t uint_val, tvbuff_t *tvb, packet_info *pinfo,
                proto_tree *tree, const ws_bool add_proto_name, void *data);
ws_bool dissector_try_heuristic(heur_dissector_list_t sub_dissectors, tvbuff_t *tvb, packet_info *pinfo,
                                proto_tree *tree, heur_dtbl_entry_t **hdtbl_entry, void *data);
tvbuff_t *tvb_new_subset_length(tvbuff_t *backing, const int backing_offset, const int reported_length);
tvbuff_t *tvb_new_child_real_data(tvbuff_t *parent, const uint8_t *data, const unsigned length,
                                  const int reported_length);
void tvb_set_free_cb(tvbuff_t *tvb, const tvbuff_free_cb_t func);
WS_ADD_NEW_DATA_SOURCE_RET add_new_data_source(packet_info *pinfo, tvbuff_t *tvb, const char *name);
void show_exception(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, unsigned long exception,
                    const char *exception_message);

/* Calling one heuristic dissector by its short name ("smc_tcp"), when it and its protocol are enabled. */
heur_dtbl_entry_t *find_heur_dissector_by_unique_short_name(const char *short_name);
ws_heur_bool proto_is_protocol_enabled(const protocol_t *protocol);
const char *proto_get_protocol_short_name(const protocol_t *protocol);

/* Catching exceptions (the C shim's TRY): push a catcher, pop it, free a thrown message. */
void except_setup_try(struct except_stacknode *node, struct except_catch *catcher, const except_id_t id[], size_t size);
struct except_stacknode *except_pop(void);
void except_free(void *data);

/* Taps and Follow: smcdump's follower hands each data frame's bytes to Wireshark's own stream follower. */
int register_tap(const char *name);
ws_bool have_tap_listener(int tap_id);
void tap_queue_packet(int tap_id, packet_info *pinfo, const void *tap_specific_data);
void register_follow_stream(const int proto_id, const char *tap_listener, follow_conv_filter_func conv_filter,
                            follow_index_filter_func index_filter, follow_address_filter_func address_filter,
                            follow_port_to_display_func port_to_display, tap_packet_cb tap_handler
                            WS_FOLLOW_EXTRA_PARAMS);
GString *register_tap_listener(const char *tapname, void *tapdata, const char *fstring, unsigned flags,
                               tap_reset_cb tap_reset, tap_packet_cb tap_packet, tap_draw_cb tap_draw,
                               tap_finish_cb tap_finish);
void register_stat_tap_ui(stat_tap_ui *ui, void *userdata);
void register_conversation_table(const int proto_id, ws_bool hide_ports, tap_packet_cb conv_packet_func,
                                 tap_packet_cb endpoint_packet_func);
void add_conversation_table_data(conv_hash_t *ch, const address *src, const address *dst, uint32_t src_port,
                                 uint32_t dst_port, int num_frames, int num_bytes, nstime_t *ts, nstime_t *abs_ts,
                                 ct_dissector_info_t *ct_info, ws_conversation_type ctype);
WS_ADD_CONV_WITH_ID_RET add_conversation_table_data_with_conv_id(conv_hash_t *ch, const address *src, const address *dst,
                                              uint32_t src_port, uint32_t dst_port, conv_id_t conv_id, int num_frames,
                                              int num_bytes, nstime_t *ts, nstime_t *abs_ts,
                                              ct_dissector_info_t *ct_info, ws_conversation_type ctype);
void WS_ADD_ENDPOINT_TABLE_DATA(conv_hash_t *ch, const address *addr, uint32_t port, ws_bool sender, int num_frames,
                                int num_bytes, ws_endpoint_info *et_info, ws_conversation_type etype);
tap_packet_status follow_tvb_tap_listener(void *tapdata, packet_info *pinfo, epan_dissect_t *edt, const void *data
                                          WS_TAP_FLAGS_PARAM);
char *wmem_strdup(wmem_allocator_t *allocator, const char *src);
void wmem_free(wmem_allocator_t *allocator, void *ptr);
/* The frame's protocol layers (packet_info's layers), which dissectors ask whether a protocol carries the frame. */
int proto_get_id_by_filter_name(const char *filter_name);
void wmem_list_prepend(wmem_list_t *list, void *data);
wmem_list_frame_t *wmem_list_head(const wmem_list_t *list);
void wmem_list_remove_frame(wmem_list_t *list, wmem_list_frame_t *frame);

/* TCP's streams (tcp.stream): how many it has numbered so far. */
uint32_t get_tcp_stream_count(void);
void register_stat_tap_table_ui(stat_tap_table_ui *ui);
stat_tap_table *stat_tap_init_table(const char *name, int num_fields, int num_elements, const char *filter_string);
void stat_tap_add_table(stat_tap_table_ui *new_stat, stat_tap_table *table);
void stat_tap_init_table_row(stat_tap_table *stat_table, unsigned table_index, unsigned num_fields,
                             const stat_tap_table_item_type *fields);
stat_tap_table_item_type *stat_tap_get_field_data(const stat_tap_table *stat_table, unsigned table_index,
                                                  unsigned field_index);
void stat_tap_set_field_data(stat_tap_table *stat_table, unsigned table_index, unsigned field_index,
                             stat_tap_table_item_type *field_data);

/* Preferences. */
module_t *prefs_register_protocol(int id, void (*apply_cb)(void));
void prefs_register_uint_preference(module_t *module, const char *name, const char *title,
                                    const char *description, unsigned base, unsigned *var);
void prefs_register_enum_preference(module_t *module, const char *name, const char *title,
                                    const char *description, int *var, const enum_val_t *enumvals,
                                    ws_pref_bool radio_buttons);
void prefs_register_bool_preference(module_t *module, const char *name, const char *title,
                                    const char *description, ws_pref_bool *var);

/* Columns. */
void col_set_str(column_info *cinfo, const int col, const char *str);
void col_add_str(column_info *cinfo, const int col, const char *str);
void col_clear(column_info *cinfo, const int col);
void col_append_str(column_info *cinfo, const int col, const char *str);
void col_prepend_fence_fstr(column_info *cinfo, const int col, const char *format, ...);

/* Packet data. Every range passed in is checked against tvb_captured_length first: these throw otherwise. */
unsigned tvb_captured_length(const tvbuff_t *tvb);
unsigned tvb_reported_length(const tvbuff_t *tvb);
const uint8_t *tvb_get_ptr(tvbuff_t *tvb, const int offset, const int length);

/* Protocol tree and expert info. */
proto_item *proto_tree_add_item(proto_tree *tree, int hfindex, tvbuff_t *tvb, const int start, int length,
                                const unsigned encoding);
proto_item *proto_tree_add_uint(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start, int length,
                                uint32_t value);
proto_item *proto_tree_add_uint64(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start, int length,
                                  uint64_t value);
proto_item *proto_tree_add_boolean(proto_tree *tree, int hfindex, tvbuff_t *tvb, int start, int length,
                                   ws_boolean_value value);
proto_tree *proto_item_add_subtree(proto_item *pi, const int idx);
void proto_item_append_text(proto_item *pi, const char *format, ...);
proto_item *proto_tree_add_expert_format(proto_tree *tree, packet_info *pinfo, expert_field *expindex,
                                         tvbuff_t *tvb, int start, int length, const char *format, ...);
WS_EXPERT_ADD_INFO_RET expert_add_info(packet_info *pinfo, proto_item *pi, expert_field *expindex);
WS_EXPERT_ADD_INFO_RET expert_add_info_format(packet_info *pinfo, proto_item *pi, expert_field *expindex, const char *format, ...);

#endif
