-- A Lua dissector doing what smcdump does for the common frames (dump header, SMC-R CDC, raw data; heuristic on
-- UDP; Protocol and Info columns), written only as the baseline scripts/bench compares the native plugin with.
-- It runs on Lua 5.2 (Debian 12's Wireshark 4.0). Not a product: smcdump replaces this kind of script.

local p = Proto("smcdumplua", "SMC Dump (Lua baseline)")
local f = p.fields
f.magic = ProtoField.uint32("smcdumplua.magic", "Magic", base.HEX)
f.hdr_ver = ProtoField.uint8("smcdumplua.hdr_ver", "Header version")
f.smc_ver = ProtoField.uint8("smcdumplua.smc_ver", "SMC version")
f.mode = ProtoField.uint8("smcdumplua.mode", "Mode", base.DEC, { [1] = "SMC-R", [2] = "SMC-D" })
f.type = ProtoField.uint8("smcdumplua.type", "Type")
f.len = ProtoField.uint16("smcdumplua.len", "Length")
f.reserved = ProtoField.bytes("smcdumplua.reserved", "Reserved")
f.cdc_type = ProtoField.uint8("smcdumplua.cdc.type", "Type", base.HEX)
f.cdc_len = ProtoField.uint8("smcdumplua.cdc.len", "Length")
f.seqno = ProtoField.uint16("smcdumplua.cdc.seqno", "Sequence number")
f.token = ProtoField.uint32("smcdumplua.cdc.token", "Alert token", base.HEX)
f.prod_wrap = ProtoField.uint16("smcdumplua.cdc.prod.wrap", "Producer wrap")
f.prod_count = ProtoField.uint32("smcdumplua.cdc.prod.count", "Producer count")
f.cons_wrap = ProtoField.uint16("smcdumplua.cdc.cons.wrap", "Consumer wrap")
f.cons_count = ProtoField.uint32("smcdumplua.cdc.cons.count", "Consumer count")
f.prod_flags = ProtoField.uint8("smcdumplua.cdc.prod_flags", "Producer flags", base.HEX)
f.write_blocked = ProtoField.bool("smcdumplua.cdc.prod_flags.write_blocked", "Write blocked", 8, nil, 0x80)
f.urg_pending = ProtoField.bool("smcdumplua.cdc.prod_flags.urg_data_pending", "Urgent data pending", 8, nil, 0x40)
f.urg_present = ProtoField.bool("smcdumplua.cdc.prod_flags.urg_data_present", "Urgent data present", 8, nil, 0x20)
f.curs_upd = ProtoField.bool("smcdumplua.cdc.prod_flags.cons_curs_upd_req", "Cursor update requested", 8, nil, 0x10)
f.failover = ProtoField.bool("smcdumplua.cdc.prod_flags.failover_validation", "Failover validation", 8, nil, 0x08)
f.conn_state = ProtoField.uint8("smcdumplua.cdc.conn_state", "Connection state", base.HEX)
f.done = ProtoField.bool("smcdumplua.cdc.conn_state.peer_done_writing", "Peer done writing", 8, nil, 0x80)
f.closed = ProtoField.bool("smcdumplua.cdc.conn_state.peer_conn_closed", "Peer connection closed", 8, nil, 0x40)
f.abort = ProtoField.bool("smcdumplua.cdc.conn_state.peer_conn_abort", "Peer connection abort", 8, nil, 0x20)
f.credits = ProtoField.uint8("smcdumplua.cdc.credits", "Credits")
f.data = ProtoField.bytes("smcdumplua.data", "Data")

local function heuristic(tvb, pinfo, tree)
    local n = tvb:len()
    if n < 16 or tvb(0, 4):uint() ~= 0xCFD3E7A5 then return false end
    local len = tvb(8, 2):uint()
    if len < 16 or len > tvb:reported_len() then return false end
    local mode = tvb(6, 1):uint()
    pinfo.cols.protocol = (mode == 2) and "SMC-D" or "SMC-R"
    local t = tree:add(p, tvb())
    t:add(f.magic, tvb(0, 4)); t:add(f.hdr_ver, tvb(4, 1)); t:add(f.smc_ver, tvb(5, 1))
    t:add(f.mode, tvb(6, 1)); t:add(f.type, tvb(7, 1)); t:add(f.len, tvb(8, 2)); t:add(f.reserved, tvb(10, 6))
    local ty = tvb(7, 1):uint()
    if ty == 2 and mode == 1 and n >= 16 + 44 then
        local c = tvb(16)
        t:add(f.cdc_type, c(0, 1)); t:add(f.cdc_len, c(1, 1)); t:add(f.seqno, c(2, 2)); t:add(f.token, c(4, 4))
        t:add(f.prod_wrap, c(10, 2)); t:add(f.prod_count, c(12, 4)); t:add(f.cons_wrap, c(18, 2))
        t:add(f.cons_count, c(20, 4))
        local pf = t:add(f.prod_flags, c(24, 1))
        pf:add(f.write_blocked, c(24, 1)); pf:add(f.urg_pending, c(24, 1)); pf:add(f.urg_present, c(24, 1))
        pf:add(f.curs_upd, c(24, 1)); pf:add(f.failover, c(24, 1))
        local cs = t:add(f.conn_state, c(25, 1))
        cs:add(f.done, c(25, 1)); cs:add(f.closed, c(25, 1)); cs:add(f.abort, c(25, 1))
        t:add(f.credits, c(26, 1))
        pinfo.cols.info = string.format("CDC seq=%d prod=%d:%d cons=%d:%d", c(2, 2):uint(), c(10, 2):uint(),
            c(12, 4):uint(), c(18, 2):uint(), c(20, 4):uint())
    elseif ty == 1 then
        t:add(f.data, tvb(16))
        pinfo.cols.info = string.format("Data len=%d", n - 16)
    end
    return true
end

p:register_heuristic("udp", heuristic)
