/*
 * Calls another Wireshark dissector on smcdump's behalf and catches what it throws.
 *
 * Wireshark throws exceptions with longjmp. A longjmp must never cross a Rust frame, so Rust never calls a
 * dissector of Wireshark's directly: it calls smcdump_call_heuristic, which runs the call inside Wireshark's own
 * TRY/CATCH (the except_* functions its macros expand to, written out here over smcdump's declarations in
 * wireshark-headers/common/shim.h), shows a caught exception in the tree as Wireshark's dissectors do, and returns
 * what it caught instead of rethrowing it.
 */
#include "epan.h"
#include "../common/shim.h"

#include <string.h>

/* What smcdump_call_heuristic caught: the exception's code (0: none) and the start of its message. */
typedef struct {
    unsigned long code;
    char message[128];
} smcdump_caught_t;

/* The codes show_exception shows without throwing (it asserts on any other). */
static int exc_shown(unsigned long code)
{
    switch (code) {
    case BoundsError:
    case ContainedBoundsError:
    case ReportedBoundsError:
    case FragmentBoundsError:
    case DissectorError:
    case ScsiBoundsError:
    case ReassemblyError:
        return 1;
    default:
        return 0;
    }
}

/* The entry of the heuristic dissector registered as `short_name` ("smc_tcp"), or NULL. */
heur_dtbl_entry_t *smcdump_find_heuristic(const char *short_name)
{
    return find_heur_dissector_by_unique_short_name(short_name);
}

/*
 * Calls the heuristic dissector of `entry` on the packet, if it and its protocol are enabled: 1 if it took the
 * packet, 0 if it did not (or is disabled), -1 if it threw (then `caught` says what, and the tree shows it).
 * The heuristic function is called directly, like call_heur_dissector_direct does, so that the dissector sees the
 * packet_info (can_desegment included) exactly as smcdump got it from TCP.
 */
int smcdump_call_heuristic(heur_dtbl_entry_t *entry, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                           void *data, smcdump_caught_t *caught)
{
    static const except_id_t catch_all[] = { { XCEPT_GROUP_ANY, XCEPT_CODE_ANY } };
    volatile int result = 0;
    const char *volatile saved_proto;

    caught->code = 0;
    caught->message[0] = '\0';
    if (entry == NULL || entry->dissector == NULL || !entry->enabled
        || (entry->protocol != NULL && !proto_is_protocol_enabled(entry->protocol)))
        return 0;
    saved_proto = pinfo->current_proto;
    {
        /* TRY { ... } CATCH_ALL { ... } ENDTRY, without the rethrow. */
        struct except_stacknode node;
        struct except_catch katch;
        except_t *volatile exc;

        except_setup_try(&node, &katch, catch_all, 1);
        if (setjmp(katch.except_jmp))
            exc = &katch.except_obj;
        else
            exc = NULL;
        if (exc == NULL) {
            result = entry->dissector(tvb, pinfo, tree, data) ? 1 : 0;
        } else {
            unsigned long code = exc->except_id.except_code;
            const char *message = exc->except_message;
            caught->code = code ? code : (unsigned long)-1;
            if (message != NULL) {
                strncpy(caught->message, message, sizeof caught->message - 1);
                caught->message[sizeof caught->message - 1] = '\0';
            }
            pinfo->current_proto = saved_proto;
            result = -1;
        }
        except_free(katch.except_obj.except_dyndata);
        except_pop();
    }
    /* Outside the try block: show_exception may itself throw for codes it does not know, so only the known
     * non-fatal ones are shown (as tcp_dissect_pdus does). */
    if (result == -1 && exc_shown(caught->code))
        show_exception(tvb, pinfo, tree, caught->code, caught->message[0] ? caught->message : NULL);
    return result;
}
