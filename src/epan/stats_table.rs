//! The connection table of the GUI's Statistics menu (Statistics › SMC Connections) and of
//! `tshark -z smcdump,connections[,filter]`: a statistics table (`stat_tap_table_ui`, registered by
//! src/epan/tables.c) on the tap "smcdump". Its listener counts the frames it is given — its display filter
//! applies — in a [`FilteredTable`], whose changed rows are written into Wireshark's table here.
//!
//! The cells' texts are Rust `CString`s, freed when a cell is written again, when the table is emptied (reset)
//! and when Wireshark frees the table (the free callback). Rows are allocated by Wireshark
//! (`stat_tap_init_table_row`, GLib's allocator) and freed with `wmem_free(NULL, ...)`, which is GLib's free.

use core::ffi::{c_char, c_uint};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use once_cell::sync::Lazy;

use super::state::session;
use super::sys;
use crate::capture::table::{Cell, ColumnKind, FilteredTable, COLUMNS};
use crate::capture::Tapped;

/// The listener's rows, and the table they were written into (its address: only compared).
struct Listener {
    rows: FilteredTable,
    table: usize,
}

static LISTENER: Lazy<Mutex<Listener>> =
    Lazy::new(|| Mutex::new(Listener { rows: FilteredTable::default(), table: 0 }));

fn listener() -> std::sync::MutexGuard<'static, Listener> {
    LISTENER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The table's description for the shim: columns from [`COLUMNS`], made once and kept for the process.
pub fn description() -> sys::smcdump_stat_table {
    let columns: Vec<sys::stat_tap_table_item> = COLUMNS
        .iter()
        .map(|c| {
            let (kind, align, format) = match c.kind {
                ColumnKind::Count => (sys::TABLE_ITEM_UINT, sys::TAP_ALIGN_RIGHT, c"%u"),
                ColumnKind::NumberText => (sys::TABLE_ITEM_STRING, sys::TAP_ALIGN_RIGHT, c"%s"),
                ColumnKind::Text => (sys::TABLE_ITEM_STRING, sys::TAP_ALIGN_LEFT, c"%s"),
            };
            let name = CString::new(c.name).unwrap_or_default();
            sys::stat_tap_table_item {
                type_: kind,
                align,
                column_name: Box::leak(name.into_boxed_c_str()).as_ptr(),
                field_format: format.as_ptr(),
            }
        })
        .collect();
    let columns = Box::leak(columns.into_boxed_slice());
    sys::smcdump_stat_table {
        title: c"SMC Connections".as_ptr(),
        cli_string: c"smcdump,connections".as_ptr(),
        columns: columns.as_mut_ptr(),
        ncolumns: columns.len(),
        frame: Some(frame),
        reset: Some(reset),
        free_cell: Some(free_cell),
    }
}

/// Counts frame `num` from what the session recorded of it while it was dissected, and writes the rows that
/// changed into `table`.
unsafe extern "C" fn frame(table: *mut sys::stat_tap_table, num: u32) -> sys::tap_packet_status {
    if table.is_null() {
        return sys::TAP_PACKET_DONT_REDRAW;
    }
    catch_unwind(AssertUnwindSafe(|| {
        let tapped = session().tapped(num);
        let mut l = listener();
        // SAFETY: Wireshark's table of this UI, alive while its listener runs.
        let elements = unsafe { (*table).num_elements } as usize;
        if l.table != table as usize {
            // A table made since (the GUI frees it with its dialog): a new listener.
            l.rows.clear();
            l.table = table as usize;
        }
        if l.rows.shown_rows() != elements {
            l.rows.forget_shown();
        }
        match tapped {
            Some(Tapped::Frame(f)) => l.rows.frame(num, &f),
            Some(Tapped::Clc { flow, msg }) => l.rows.clc(num, flow, &msg),
            None => {}
        }
        let (changed, rows) = l.rows.changes();
        // SAFETY: as above; rows are written in order, each below the row count or the next one.
        unsafe {
            for (i, cells) in &changed {
                write_row(table, *i, cells);
            }
            truncate(table, rows);
        }
        if changed.is_empty() {
            sys::TAP_PACKET_DONT_REDRAW
        } else {
            sys::TAP_PACKET_REDRAW
        }
    }))
    .unwrap_or(sys::TAP_PACKET_DONT_REDRAW)
}

/// Empties `table` (Wireshark's reset before a retap): a listener starts again.
unsafe extern "C" fn reset(table: *mut sys::stat_tap_table) {
    if table.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let mut l = listener();
        l.rows.clear();
        l.table = table as usize;
        // SAFETY: Wireshark's table, during its reset.
        unsafe { truncate(table, 0) };
    }));
}

/// Frees what a cell holds (Wireshark frees the rows themselves).
unsafe extern "C" fn free_cell(
    _table: *mut sys::stat_tap_table,
    _row: c_uint,
    _column: c_uint,
    cell: *mut sys::stat_tap_table_item_type,
) {
    let _ = catch_unwind(|| {
        // SAFETY: a cell of our table, which Wireshark is freeing.
        unsafe { free_text(cell) };
    });
}

/// The cell Wireshark keeps for `cell` in a column of `kind`: a count as an unsigned number (0 for none), text
/// as a string this module frees.
fn table_cell(cell: &Cell, kind: ColumnKind) -> sys::stat_tap_table_item_type {
    match kind {
        ColumnKind::Count => {
            let n = match cell {
                Cell::Count(n) => u32::try_from(*n).unwrap_or(u32::MAX),
                _ => 0,
            };
            // The cell's value is a C union whose unsigned member is its first 4 bytes; the rest stays zero.
            let mut value = [0u8; core::mem::size_of::<*const c_char>()];
            value[..4].copy_from_slice(&n.to_ne_bytes());
            sys::stat_tap_table_item_type {
                type_: sys::TABLE_ITEM_UINT,
                value: usize::from_ne_bytes(value) as *const c_char,
                user_data: core::ptr::null_mut(),
            }
        }
        ColumnKind::Text | ColumnKind::NumberText => {
            let text = CString::new(cell.to_string()).unwrap_or_default();
            sys::stat_tap_table_item_type {
                type_: sys::TABLE_ITEM_STRING,
                value: text.into_raw(),
                user_data: core::ptr::null_mut(),
            }
        }
    }
}

/// Frees the text of a cell this module wrote, and forgets it.
///
/// # Safety
/// `cell` is null or a cell of our table.
unsafe fn free_text(cell: *mut sys::stat_tap_table_item_type) {
    if let Some(cell) = cell.as_mut() {
        if cell.type_ == sys::TABLE_ITEM_STRING && !cell.value.is_null() {
            // SAFETY: every text cell of the table holds a CString::into_raw of table_cell.
            drop(CString::from_raw(cell.value.cast_mut()));
        }
        cell.type_ = sys::TABLE_ITEM_NONE;
        cell.value = core::ptr::null();
    }
}

/// Writes row `i` of `table`: a new row when `i` is the row count, else over the old one.
///
/// # Safety
/// `table` is our table, `i` at most its row count.
unsafe fn write_row(table: *mut sys::stat_tap_table, i: usize, cells: &[Cell]) {
    let (Ok(row), Ok(n)) = (c_uint::try_from(i), c_uint::try_from(COLUMNS.len())) else {
        return;
    };
    let mut fresh: Vec<sys::stat_tap_table_item_type> =
        cells.iter().zip(COLUMNS.iter()).map(|(c, col)| table_cell(c, col.kind)).collect();
    if row >= (*table).num_elements {
        // Copies the cells, which the table now owns.
        sys::stat_tap_init_table_row(table, row, n, fresh.as_ptr());
        return;
    }
    for (col, cell) in (0..n).zip(fresh.iter_mut()) {
        free_text(sys::stat_tap_get_field_data(table, row, col));
        sys::stat_tap_set_field_data(table, row, col, cell);
    }
}

/// Frees the rows of `table` from `rows` on.
///
/// # Safety
/// `table` is our table.
unsafe fn truncate(table: *mut sys::stat_tap_table, rows: usize) {
    let t = &mut *table;
    let rows = c_uint::try_from(rows).unwrap_or(c_uint::MAX);
    while t.num_elements > rows {
        let last = t.num_elements - 1;
        for col in 0..t.num_fields {
            free_text(sys::stat_tap_get_field_data(t, last, col));
        }
        sys::wmem_free(core::ptr::null_mut(), (*t.elements.add(last as usize)).cast());
        t.num_elements = last;
    }
    if t.num_elements == 0 && !t.elements.is_null() {
        sys::wmem_free(core::ptr::null_mut(), t.elements.cast());
        t.elements = core::ptr::null_mut();
    }
}
