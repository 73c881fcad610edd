/*
 * smcdump's declarations of the Wireshark epan API it uses: structures the plugin fills in or reads.
 *
 * Written for smcdump from the documented API facts. The conformance test compares sizeof and every member's
 * offsetof here with a release's real headers. One member per line: the test reads members from this file.
 */
#ifndef SMCDUMP_WS_STRUCTS_H
#define SMCDUMP_WS_STRUCTS_H

/* A field's registration record; the part after `blurb` is what HFILL fills in. */
struct _header_field_info {
    const char *name;
    const char *abbrev;
    enum ftenum type;
    int display;
    const void *strings;
    uint64_t bitmask;
    const char *blurb;
    int id;
    int parent;
    hf_ref_type ref_type;
    int same_name_prev_id;
    header_field_info *same_name_next;
};

struct hf_register_info {
    int *p_id;
    header_field_info hfinfo;
};

/* An expert item id pair, both -1 until registration. */
struct expert_field {
    int ei;
    int hf;
};

/* An expert item's registration record; the part after `summary` is what EXPFILL fills in. */
struct expert_field_info {
    const char *name;
    int group;
    int severity;
    const char *summary;
    int id;
    const char *protocol;
    int orig_severity;
    hf_register_info hf_info;
};

struct ei_register_info {
    expert_field *ids;
    expert_field_info eiinfo;
};

struct _value_string {
    uint32_t value;
    const char *strptr;
};

struct true_false_string {
    const char *true_string;
    const char *false_string;
};

/* One choice of an enum preference; the array ends with an all-NULL entry. */
typedef struct {
    const char *name;
    const char *description;
    int value;
} enum_val_t;

/* A network address; `data` points at `len` bytes the caller keeps alive while Wireshark uses them. */
struct _address {
    int type;
    int len;
    const void *data;
    void *priv;
};

/* What a plugin hands to proto_register_plugin. */
typedef struct {
    void (*register_protoinfo)(void);
    void (*register_handoff)(void);
} proto_plugin;

/* A heuristic dissector's entry, which the C shim calls directly (Wireshark's smc dissector, by its short name).
 * 4.4 and later add `bool enabled_by_default` after `enabled`, inside the padding; the shim does not read it. */
struct heur_dtbl_entry {
    heur_dissector_t dissector;
    protocol_t *protocol;
    char *list_name;
    const char *display_name;
    char *short_name;
    ws_heur_bool enabled;
};

/* Wireshark's exceptions (setjmp/longjmp), as the C shim catches them around calls into other dissectors: what
 * except_setup_try() pushes, and what a throw fills in before it jumps back. */
#include <setjmp.h>
#include <stddef.h>

typedef struct {
    unsigned long except_group;
    unsigned long except_code;
} except_id_t;

typedef struct {
    except_id_t except_id;
    const char *except_message;
    void *except_dyndata;
} except_t;

struct except_catch {
    const except_id_t *except_id;
    size_t except_size;
    except_t except_obj;
    jmp_buf except_jmp;
};

enum except_stacktype {
    XCEPT_CLEANUP,
    XCEPT_CATCHER
};

/* The real `except_info` is a union of two pointers; only its size matters here. */
struct except_stacknode {
    struct except_stacknode *except_down;
    enum except_stacktype except_type;
    void *except_info;
};

/* A statistic reachable with tshark -z (cli_string is the start of the -z argument) and in the GUI's menu. */
typedef struct _stat_tap_ui {
    register_stat_group_t group;
    const char *title;
    const char *cli_string;
    stat_tap_init_cb tap_init_cb;
    size_t nparams;
    tap_param *params;
} stat_tap_ui;

/* GLib's array: a statistics UI keeps its tables in one (pointers to stat_tap_table). */
struct _GArray {
    char *data;
    unsigned len;
};

/* One cell of a statistics table. The real `value` and `user_data` are unions (unsigned, int, const char *,
 * double, int; user_data also a pointer), 8 bytes wide and aligned: declared here as their pointer member, the
 * unsigned member being the first 4 bytes of it (src/epan/stats_table.rs writes it so). */
struct _stat_tap_table_item_type {
    stat_tap_table_item_enum type;
    const char *value;
    void *user_data;
};

/* A column of a statistics table: its type, alignment, name and printf format (tshark prints cells with it). */
typedef struct _stat_tap_table_item {
    stat_tap_table_item_enum type;
    tap_alignment_type align;
    const char *column_name;
    const char *field_format;
} stat_tap_table_item;

/* A statistics table: rows (elements) of num_fields cells each, grown by stat_tap_init_table_row. */
struct _stat_tap_table {
    const char *title;
    const char *filter_string;
    unsigned num_fields;
    unsigned num_elements;
    stat_tap_table_item_type **elements;
};

/* A statistic with a table UI: tshark -z cli_string[,filter] prints it, the GUI lists it in a menu of `group`. */
struct _stat_tap_table_ui {
    register_stat_group_t group;
    const char *title;
    const char *tap_name;
    const char *cli_string;
    void (*stat_tap_init_cb)(stat_tap_table_ui *new_stat);
    tap_packet_cb packet_func;
    void (*stat_tap_reset_table_cb)(stat_tap_table *table);
    void (*stat_tap_free_table_item_cb)(stat_tap_table *table, unsigned row, unsigned column, stat_tap_table_item_type *field_data);
    void (*stat_filter_check_cb)(const char *opt_arg, const char **filter, char **err);
    size_t nfields;
    stat_tap_table_item *fields;
    size_t nparams;
    tap_param *params;
    GArray *tables;
    unsigned refcount;
};

/* What a statistics table's listener gets as its tapdata: the UI, and the GUI's or tshark's own data. */
typedef struct _stat_data_t {
    stat_tap_table_ui *stat_tap_data;
    void *user_data;
} stat_data_t;

/* A conversation table's dissector info: the filter field of each part of a row. */
struct _ct_dissector_info {
    conv_get_filter_type get_filter_type;
};

/* Decode As: one value of an entry (its label and how to read it from the packet) and the entry itself, kept by
 * register_decode_as. */
struct decode_as_value_s {
    build_label_func label_func;
    unsigned num_values;
    build_valid_func *build_values;
};

struct decode_as_s {
    const char *name;
    const char *table_name;
    unsigned num_items;
    unsigned default_index_value;
    decode_as_value_t *values;
    const char *pre_value_str;
    const char *post_value_str;
    decode_as_populate_list_func populate_list;
    decode_as_reset_func reset_value;
    decode_as_change_func change_value;
    decode_as_free_func free_func;
};

#endif
