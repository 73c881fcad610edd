//! The Wireshark releases smcdump supports, as `wireshark-headers/releases.tsv` lists them (build.rs writes this
//! table from it). The tests read it to know which releases to run on; nothing at run time depends on it.

/// One supported Wireshark release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    /// major.minor: the plugin's ABI and the name of its plugin folder.
    pub release: &'static str,
    /// The Debian suite whose Wireshark is this release.
    pub suite: &'static str,
    /// The folder of `wireshark-headers/` that declares its API.
    pub headers: &'static str,
    /// The suite's libwireshark shared-library package (`libwireshark16` for 4.0), which the .deb of
    /// scripts/package depends on.
    pub libwireshark: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/releases.rs"));

/// The release `major.minor`, if supported.
pub fn find(release: &str) -> Option<&'static Release> {
    RELEASES.iter().find(|r| r.release == release)
}
