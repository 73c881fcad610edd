/*
 * The real Wireshark headers the conformance probes compare our declarations with (tests/conformance.rs).
 * Every name smcdump declares in wireshark-headers/ must be declared by one of these.
 */
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/conversation.h>
#include <epan/column-utils.h>
#include <epan/proto.h>
#include <epan/tvbuff.h>
#include <epan/tfs.h>
#include <ws_version.h>
