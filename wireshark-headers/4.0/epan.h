/* The bindgen entry for the Wireshark 4.0 ABI: this folder's differences, then the common declarations. */
#include "abi.h"
#include "../common/constants.h"
#include "../common/types.h"
#include "../common/structs.h"
#include "packet_info.h"
#include "proto_node.h"
#include "tcpinfo.h"
#include "../common/functions.h"
