//! Text output helpers shared by encoders: Go's `text/tabwriter` column
//! alignment and Kubo's `EscNonPrint`.

use rubo_types::go;

/// Escapes a name with non-printable characters as Go's `strconv.Quote` does
/// (without the quotes); printable names are returned as they are.
pub(crate) fn esc_non_print(s: &str) -> String {
    if s.chars().all(go::is_print) {
        return s.to_string();
    }
    let q = go::quote(s.as_bytes());
    q[1..q.len() - 1].to_string()
}

/// Aligns tab-separated cells into columns, as Go's `tabwriter` with flags 0:
/// a cell is text ended by a tab (the last text of a line is not a cell);
/// columns are aligned within blocks of consecutive lines that have them.
pub(crate) struct TabWriter {
    min_width: usize,
    padding: usize,
    lines: Vec<Vec<String>>,
}

impl TabWriter {
    pub(crate) fn new(min_width: usize, padding: usize) -> Self {
        Self { min_width, padding, lines: Vec::new() }
    }

    pub(crate) fn line(&mut self, s: &str) {
        self.lines.push(s.split('\t').map(str::to_string).collect());
    }

    pub(crate) fn finish(self) -> String {
        let n = self.lines.len();
        let mut widths: Vec<Vec<usize>> = self.lines.iter().map(|l| vec![0; l.len().saturating_sub(1)]).collect();
        self.format(0, n, 0, &mut widths);
        let mut out = String::new();
        for (l, w) in self.lines.iter().zip(&widths) {
            for (i, cell) in l.iter().enumerate() {
                out.push_str(cell);
                if i + 1 < l.len() {
                    let pad = w[i].saturating_sub(cell.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        }
        out
    }

    /// Sets the widths of `column` for the blocks of lines in `from..to` that
    /// have a cell there, then recurses into the next column of each block.
    fn format(&self, from: usize, to: usize, column: usize, widths: &mut [Vec<usize>]) {
        let mut i = from;
        while i < to {
            if self.lines[i].len() <= column + 1 {
                i += 1;
                continue;
            }
            let start = i;
            let mut width = self.min_width;
            while i < to && self.lines[i].len() > column + 1 {
                width = width.max(self.lines[i][column].chars().count() + self.padding);
                i += 1;
            }
            for w in &mut widths[start..i] {
                w[column] = width;
            }
            self.format(start, i, column + 1, widths);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_go() {
        let mut tw = TabWriter::new(1, 1);
        tw.line("NumObjects:\t1");
        tw.line("RepoSize:\t12345");
        assert_eq!(tw.finish(), "NumObjects: 1\nRepoSize:   12345\n");
        let mut tw = TabWriter::new(1, 1);
        tw.line("QmA\t12\ta");
        tw.line("QmBBB\t-\tdir/");
        tw.line("x:");
        tw.line("Q\t1\tb");
        assert_eq!(tw.finish(), "QmA   12 a\nQmBBB -  dir/\nx:\nQ 1 b\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(esc_non_print("plain name.txt"), "plain name.txt");
        assert_eq!(esc_non_print("bad\u{7f}name"), "bad\\x7fname");
        assert_eq!(esc_non_print("a\nb\"c"), "a\\nb\\\"c");
    }
}
