/*
 * Wireshark 4.4's conv_hash_t (written for smcdump): the table a conversation or endpoint tap listener adds packets
 * to. Its tap callbacks get the packet's tap flags (whether it passed the display filter) and, as Wireshark's own
 * conversation and endpoint callbacks do, store them in `flags` before adding the packet: the table reads them there.
 * The conformance test compares its size and every offset with the real header.
 */
#ifndef SMCDUMP_WS_CONV_HASH_H
#define SMCDUMP_WS_CONV_HASH_H

struct _conversation_hash_t {
    void *hashtable;
    void *conv_array;
    void *user_data;
    unsigned flags;
};

#endif
