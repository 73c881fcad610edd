//! The plugin loads in every Wireshark release under test and registers what it promises.

mod support;

use smcdump::dissect::fields::{FieldKind, EXPERTS, FIELDS};

#[test]
fn plugin_is_listed_with_version_and_type() {
    for t in support::targets() {
        let run = t.tshark(&["-G", "plugins"]);
        let line =
            run.stdout.lines().find(|l| l.starts_with("smcdump.so")).unwrap_or_else(|| {
                panic!("Wireshark {}: smcdump.so not in `tshark -G plugins`:\n{}", t.abi, run.stdout)
            });
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        assert_eq!(cols.get(1), Some(&env!("CARGO_PKG_VERSION")), "{}: {line}", t.abi);
        assert_eq!(cols.get(2), Some(&"dissector"), "{}: {line}", t.abi);
    }
}

#[test]
fn protocol_and_heuristic_are_registered() {
    for t in support::targets() {
        let protocols = t.tshark(&["-G", "protocols"]).stdout;
        assert!(protocols.lines().any(|l| l.starts_with("SMC Dump\tSMCDUMP\tsmcdump")), "{}: protocol missing", t.abi);
        let heur = t.tshark(&["-G", "heuristic-decodes"]).stdout;
        let line = heur.lines().find(|l| l.starts_with("udp\tsmcdump\t")).unwrap_or_else(|| {
            panic!("{}: no udp smcdump heuristic in:\n{heur}", t.abi);
        });
        // 3.4 and 4.0 print table, protocol and enabled flag only; 4.4 and later add the heuristic's short name.
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.get(2), Some(&"T"), "{}: heuristic not enabled by default: {line}", t.abi);
        if !t.older_than("4.4") {
            assert_eq!(cols.get(4), Some(&"smcdump_udp"), "{}: {line}", t.abi);
        }
    }
}

/// Wireshark's name of the type a field is registered with.
fn ft_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Label => "FT_NONE",
        FieldKind::Bytes => "FT_BYTES",
        FieldKind::FrameNum => "FT_FRAMENUM",
        FieldKind::Flag { .. } => "FT_BOOLEAN",
        FieldKind::Uint { bytes: 1, .. } => "FT_UINT8",
        FieldKind::Uint { bytes: 2, .. } => "FT_UINT16",
        FieldKind::Uint { bytes: 8, .. } => "FT_UINT64",
        FieldKind::Uint { .. } => "FT_UINT32",
    }
}

#[test]
fn every_field_is_registered_with_label_type_and_mask() {
    for t in support::targets() {
        let fields = t.tshark(&["-G", "fields"]).stdout;
        let ours: Vec<Vec<&str>> = fields
            .lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| c.first() == Some(&"F") && c.get(4) == Some(&"smcdump"))
            .collect();
        // Expert items are registered as fields of the protocol too; the rest must be exactly our table.
        let experts: Vec<&str> = EXPERTS.iter().map(|e| e.name.to_str().unwrap()).collect();
        let plain = ours.iter().filter(|c| !c.get(2).is_some_and(|a| experts.contains(a))).count();
        assert_eq!(plain, FIELDS.len(), "{}: field count", t.abi);
        assert_eq!(ours.len() - plain, EXPERTS.len(), "{}: expert count", t.abi);
        for def in FIELDS {
            let abbrev = def.abbrev.to_str().unwrap();
            let row = ours
                .iter()
                .find(|c| c.get(2) == Some(&abbrev))
                .unwrap_or_else(|| panic!("{}: {abbrev} missing from -G fields", t.abi));
            assert_eq!(row.get(1).copied(), def.name.to_str().ok(), "{}: label of {abbrev}", t.abi);
            assert_eq!(row.get(3).copied(), Some(ft_name(def.kind)), "{}: type of {abbrev}", t.abi);
            assert_eq!(row.get(7).copied(), def.blurb.to_str().ok(), "{}: blurb of {abbrev}", t.abi);
            let base = match def.kind {
                FieldKind::Flag { .. } => "8",
                FieldKind::Uint { hex: true, .. } => "BASE_HEX",
                FieldKind::Uint { hex: false, .. } => "BASE_DEC",
                FieldKind::Label | FieldKind::Bytes | FieldKind::FrameNum => "",
            };
            assert_eq!(row.get(5).copied(), Some(base), "{}: display of {abbrev}", t.abi);
            if let FieldKind::Flag { mask } = def.kind {
                assert_eq!(row.get(6).copied(), Some(format!("0x{mask:x}").as_str()), "{}: mask of {abbrev}", t.abi);
            }
        }
    }
}
