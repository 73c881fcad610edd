/*
 * smcdump's declarations of the Wireshark epan API its C shim (csrc/call_dissector.c) uses: exceptions and
 * heuristic dissector entries. Written for smcdump from the documented API facts.
 *
 * Only the shim includes this file (bindgen does not: Rust never touches these types). The conformance test checks
 * the layouts and constants below against each release's real headers, and includes the functions after the real
 * headers with SMCDUMP_SHIM_FUNCTIONS_ONLY defined, so a differing prototype fails to compile.
 */
#ifndef SMCDUMP_WS_SHIM_H
#define SMCDUMP_WS_SHIM_H

#include <setjmp.h>
#include <stddef.h>

#ifndef SMCDUMP_SHIM_FUNCTIONS_ONLY

/* Any exception group, any code (epan/except.h). */
#define XCEPT_GROUP_ANY 0
#define XCEPT_CODE_ANY 0
/* The codes show_exception knows how to show (epan/exceptions.h). */
#define BoundsError 1
#define ContainedBoundsError 2
#define ReportedBoundsError 3
#define FragmentBoundsError 4
#define TypeError 5
#define DissectorError 6
#define ScsiBoundsError 7
#define OutOfMemoryError 8
#define ReassemblyError 9

typedef struct {
    unsigned long except_group;
    unsigned long except_code;
} except_id_t;

typedef struct {
    except_id_t volatile except_id;
    const char *volatile except_message;
    void *volatile except_dyndata;
} except_t;

struct except_catch {
    const except_id_t *except_id;
    size_t except_size;
    except_t except_obj;
    jmp_buf except_jmp;
};

/* The real member except_info is a union of two pointers (catcher, cleanup); the shim never reads it. */
struct except_stacknode {
    struct except_stacknode *except_down;
    int except_type;
    void *except_info;
};

typedef struct _protocol protocol_t;

/* A heuristic dissector's entry; 4.4 and later add `bool enabled_by_default` after `enabled`, inside the padding
 * (the size is the same), which the shim does not read. */
typedef struct heur_dtbl_entry {
    heur_dissector_t dissector;
    protocol_t *protocol;
    char *list_name;
    const char *display_name;
    char *short_name;
    ws_heur_bool enabled;
} heur_dtbl_entry_t;

#endif

/* TRY/CATCH (epan/exceptions.h) are macros over these. */
void except_setup_try(struct except_stacknode *, struct except_catch *, const except_id_t[], size_t);
struct except_stacknode *except_pop(void);
void except_free(void *);
/* Shows a caught exception in the tree as Wireshark's own dissectors do ([Malformed Packet] and its expert item). */
void show_exception(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, unsigned long exception,
                    const char *exception_message);
heur_dtbl_entry_t *find_heur_dissector_by_unique_short_name(const char *short_name);
/* gboolean before 4.4, bool since: the same widths as a heuristic's result. */
ws_heur_bool proto_is_protocol_enabled(const protocol_t *protocol);

#endif
