//! Frames and flows for the capture floor's unit tests.

use super::analysis::{Analyzer, FrameAnalysis};
use super::copies::Copies;
use super::handshakes::Handshake;
use crate::wire::cdc::SmcrCdcRepr;
use crate::wire::emit::{data_frame, smcr_cdc_frame, MODE_SMCR};
use crate::wire::{DumpFrame, Endpoint, Flow, Layout};

/// The direction from `src`:`sport` to `dst`:`dport`.
pub fn flow(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Flow {
    Flow::new(Endpoint::new(src, sport), Endpoint::new(dst, dport))
}

/// An SMC-R CDC dump frame under the built-in layout: sequence number `seqno`, alert token `token`, cursors.
pub fn cdc(seqno: u16, token: u32, prod: (u16, u32), cons: (u16, u32)) -> Vec<u8> {
    smcr_cdc_frame(&Layout::default(), 1, &SmcrCdcRepr::new(seqno, token, prod, cons))
}

/// An SMC-R data dump frame of `n` zero bytes under the built-in layout.
pub fn data(n: usize) -> Vec<u8> {
    data_frame(&Layout::default(), 1, MODE_SMCR, &vec![0; n])
}

/// `bytes` parsed under the built-in layout.
pub fn parse(bytes: &[u8]) -> DumpFrame {
    DumpFrame::parse(bytes, bytes.len(), &Layout::default()).expect("a whole header")
}

/// The copies and the analysis of frames, together as the session runs them.
#[derive(Default)]
pub struct AnalysisRun {
    copies: Copies,
    analyzer: Analyzer,
}

impl AnalysisRun {
    /// The analysis of frame `num` travelling in `dir`, whose connection's handshake says `hs`.
    pub fn frame(&mut self, num: u32, dir: Flow, bytes: &[u8], hs: Option<Handshake>) -> FrameAnalysis {
        let f = parse(bytes);
        let p = self.copies.place(num, dir, None, &f, bytes, hs.as_ref());
        self.analyzer.analyze(num, &f, &p.facts, hs)
    }

    /// The analysis kept for frame `num`.
    pub fn get(&self, num: u32) -> Option<FrameAnalysis> {
        self.analyzer.get(num)
    }
}
