/*
 * Wireshark 3.4's struct tcpinfo (written for smcdump): what TCP hands its application dissectors as their data,
 * and the C shim hands them for SMC data too, since some read it (sequence numbers, whether the data was
 * reassembled). The conformance test compares every offset with the real header.
 */
#ifndef SMCDUMP_WS_TCPINFO_H
#define SMCDUMP_WS_TCPINFO_H

#include <stdint.h>

struct tcpinfo {
    uint32_t seq;
    uint32_t nxtseq;
    uint32_t lastackseq;
    int is_reassembled;
    uint16_t flags;
    uint16_t urgent_pointer;
};

#endif
