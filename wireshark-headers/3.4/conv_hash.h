/*
 * Wireshark 3.4's conv_hash_t (written for smcdump): the table a conversation or endpoint tap listener adds packets
 * to. 3.4's has no flags member: its tap callbacks get none.
 * The conformance test compares its size and every offset with the real header.
 */
#ifndef SMCDUMP_WS_CONV_HASH_H
#define SMCDUMP_WS_CONV_HASH_H

struct _conversation_hash_t {
    void *hashtable;
    void *conv_array;
    void *user_data;
};

#endif
