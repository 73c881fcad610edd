/*
 * smcdump's declarations of the Wireshark epan API it uses: constants.
 *
 * Written for smcdump from the documented API facts (names and values); not taken from Wireshark's headers.
 * Values that differ between Wireshark releases live in <abi.h> of each release's folder instead.
 * The conformance test (tests/conformance.rs) prints every name declared here, compiled once against these files
 * and once against a release's real headers, and requires equal values.
 */
#ifndef SMCDUMP_WS_CONSTANTS_H
#define SMCDUMP_WS_CONSTANTS_H

/* Field types (enum ftenum): only the members smcdump registers. */
enum ftenum {
    FT_NONE = 0,
    FT_PROTOCOL = 1,
    FT_BOOLEAN = 2,
    FT_UINT8 = 4,
    FT_UINT16 = 5,
    FT_UINT32 = 7,
    FT_UINT64 = 11,
    FT_BYTES = 30,
    FT_FRAMENUM = 35
};

/* Display bases (field_display_e). */
#define BASE_NONE 0
#define BASE_DEC 1
#define BASE_HEX 2
#define BASE_DEC_HEX 4
#define BASE_HEX_DEC 5

/* Encodings passed to proto_tree_add_item. */
#define ENC_BIG_ENDIAN 0x00000000
#define ENC_LITTLE_ENDIAN 0x80000000
#define ENC_NA 0x00000000

/* Expert info severities and groups. */
#define PI_CHAT 0x00200000
#define PI_NOTE 0x00400000
#define PI_WARN 0x00600000
#define PI_ERROR 0x00800000
#define PI_SEQUENCE 0x02000000
#define PI_UNDECODED 0x05000000
#define PI_MALFORMED 0x07000000
#define PI_PROTOCOL 0x09000000

/* field_info flags: the item is computed, not read from the packet (shown in brackets). */
#define FI_GENERATED 0x00000002

/* Whether a heuristic dissector starts enabled. */
typedef enum {
    HEURISTIC_DISABLE = 0,
    HEURISTIC_ENABLE = 1
} heuristic_enable_e;

/* Address types: smcdump builds IPv4 addresses for the conversations it marks. */
typedef enum {
    AT_NONE = 0,
    AT_ETHER = 1,
    AT_IPv4 = 2
} address_type;

/* Filled in by HFILL: whether a field is referenced by a filter. */
typedef enum {
    HF_REF_TYPE_NONE = 0,
    HF_REF_TYPE_INDIRECT = 1,
    HF_REF_TYPE_DIRECT = 2
} hf_ref_type;

/* Port types of packet_info's ptype: the C shim presents application data as TCP's. */
typedef enum {
    PT_NONE = 0,
    PT_SCTP = 1,
    PT_TCP = 2,
    PT_UDP = 3
} port_type;

/* What a dissector asks for in desegment_len when it cannot say how many bytes it needs. */
#define DESEGMENT_ONE_MORE_SEGMENT 0x0fffffff
#define DESEGMENT_UNTIL_FIN 0x0ffffffe

/* Exceptions: the group of every exception Wireshark's dissectors throw, and "any code" for catching. */
#define XCEPT_GROUP_WIRESHARK 1
#define XCEPT_CODE_ANY 0

/* What a tap listener's packet callback answers. */
typedef enum {
    TAP_PACKET_DONT_REDRAW = 0,
    TAP_PACKET_REDRAW = 1,
    TAP_PACKET_FAILED = 2
} tap_packet_status;

/* The type of a cell of a statistics table (stat_tap_table_ui) and of its column. */
typedef enum {
    TABLE_ITEM_NONE = 0,
    TABLE_ITEM_UINT = 1,
    TABLE_ITEM_INT = 2,
    TABLE_ITEM_STRING = 3,
    TABLE_ITEM_FLOAT = 4,
    TABLE_ITEM_ENUM = 5
} stat_tap_table_item_enum;

/* How a statistics table's column is aligned in the GUI. */
typedef enum {
    TAP_ALIGN_LEFT = 0,
    TAP_ALIGN_RIGHT = 1
} tap_alignment_type;

/* What a conversation or endpoint table asks a filter field for. */
typedef enum {
    CONV_FT_SRC_ADDRESS = 0,
    CONV_FT_DST_ADDRESS = 1,
    CONV_FT_ANY_ADDRESS = 2,
    CONV_FT_SRC_PORT = 3,
    CONV_FT_DST_PORT = 4,
    CONV_FT_ANY_PORT = 5
} conv_filter_type_e;

/* The room a Decode As value's label is written into. */
#define MAX_DECODE_AS_PROMPT_LEN 200

#endif
