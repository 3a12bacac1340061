//! Reading signed edge lists: SNAP CSV `SOURCE,TARGET,RATING,TIME` or whitespace-separated
//! `FROM TO [SIGN]` with `#` comments, plain or gzipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{bail, Context};

/// One edge after mapping: dense node ids, level in -100..=100 (never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignedEdge {
    /// Rater.
    pub from: u32,
    /// Rated.
    pub to: u32,
    /// Level: `clamp(10 r, -100, 100)` for rating `r` (P1 of `shared/data/README.md`: a +1/-1
    /// file gives levels +10/-10, like a vote; nothing is rescaled by the file's statistics).
    pub level: i8,
    /// Time in milliseconds (0 if the file has none).
    pub at_ms: u64,
}

/// Reads a file: drops self-loops and zero ratings, keeps the latest rating per (from, to)
/// (by time, then by position), maps node ids densely in order of first appearance.
/// Returns the node count and the edges in file order.
pub(crate) fn read_edges(path: &Path) -> anyhow::Result<(u32, Vec<SignedEdge>)> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    parse_edges(BufReader::new(reader))
}

/// Parses an edge list (see [`read_edges`]).
pub(super) fn parse_edges(reader: impl BufRead) -> anyhow::Result<(u32, Vec<SignedEdge>)> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut rows: Vec<(u32, u32, f64, f64)> = Vec::new();
    for (no, line) in reader.lines().enumerate() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        let f: Vec<&str> = if line.contains(',') {
            line.split(',').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        if f.len() < 2 {
            bail!("line {}: expected at least 2 fields", no + 1);
        }
        let rating: f64 = match f.get(2) {
            Some(x) => x
                .parse()
                .with_context(|| format!("line {}: rating", no + 1))?,
            None => 1.0,
        };
        let time: f64 = match f.get(3) {
            Some(x) => x
                .parse()
                .with_context(|| format!("line {}: time", no + 1))?,
            None => 0.0,
        };
        let mut id = |s: &str| {
            let n = ids.len() as u32;
            *ids.entry(s.to_string()).or_insert(n)
        };
        let (a, b) = (id(f[0]), id(f[1]));
        if a == b || rating == 0.0 {
            continue;
        }
        rows.push((a, b, rating, time));
    }
    let mut latest: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let e = latest.entry((r.0, r.1)).or_insert(i);
        if rows[*e].3 <= r.3 {
            *e = i;
        }
    }
    let mut keep: Vec<usize> = latest.into_values().collect();
    keep.sort_unstable();
    let edges = keep
        .into_iter()
        .map(|i| {
            let (a, b, rating, time) = rows[i];
            SignedEdge {
                from: a,
                to: b,
                level: level_of(rating),
                at_ms: (time * 1000.0) as u64,
            }
        })
        .collect();
    Ok((ids.len() as u32, edges))
}

/// The attestation level of a rating: `clamp(10 r, -100, 100)`, rounded; a rating that rounds
/// to 0 keeps its sign (level +-1).
pub(super) fn level_of(rating: f64) -> i8 {
    let level = (rating * 10.0).round().clamp(-100.0, 100.0) as i8;
    if level == 0 {
        rating.signum() as i8
    } else {
        level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_tab_formats() {
        let csv = "6,2,4,10.5\n6,5,-10,11\n6,2,-2,12\n3,3,5,13\n";
        let (n, e) = parse_edges(csv.as_bytes()).unwrap();
        assert_eq!(n, 4);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].from, e[0].to, e[0].level), (0, 2, -100));
        assert_eq!((e[1].from, e[1].to, e[1].level), (0, 1, -20));
        // A +1/-1 file gives levels +-10 (like a vote), not +-100: no rescaling by the file.
        let tab = "# c\n1\t2\t-1\n2\t3\t1\n";
        let (_, e) = parse_edges(tab.as_bytes()).unwrap();
        assert_eq!(e.iter().map(|x| x.level).collect::<Vec<_>>(), vec![-10, 10]);
        // Unsigned files (no rating column) are +1 each.
        let (_, e) = parse_edges("1 2\n2 3\n".as_bytes()).unwrap();
        assert_eq!(e.iter().map(|x| x.level).collect::<Vec<_>>(), vec![10, 10]);
        assert_eq!(level_of(25.0), 100);
        assert_eq!(level_of(-0.04), -1);
        assert_eq!(level_of(0.26), 3);
    }
}
