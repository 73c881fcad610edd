/*
 * The real Wireshark headers the conformance probes compare our declarations with (tests/conformance.rs).
 * Every name smcdump declares in wireshark-headers/ must be declared by one of these.
 */
#if __has_include(<ws_version.h>)
#include <ws_version.h>
#else
/* Before 3.6 there is no ws_version.h: the installed config.h holds VERSION_MAJOR/MINOR and HAVE_PLUGINS, which
 * guards proto_plugin and proto_register_plugin. A 3.4 plugin includes it first, so the probe does too. */
#include <config.h>
#endif
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/conversation.h>
#include <epan/column-utils.h>
#include <epan/proto.h>
#include <epan/tvbuff.h>
#include <epan/tfs.h>
#include <epan/exceptions.h>
#include <epan/show_exception.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/tap.h>
#include <epan/follow.h>
#include <epan/stat_tap_ui.h>
#include <epan/conversation_table.h>
#include <epan/conversation_filter.h>
#include <epan/decode_as.h>
