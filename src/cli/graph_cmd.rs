//! The engine on plain edge lists, and the benchmark graph generator: no
//! database involved.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

use countersign::graph::condensed::Condensed;
use countersign::graph::edge_list::EdgeList;
use countersign::graph::generate;
use countersign::graph::rank::reach_all;

/// One line `name,reached` per source, in input order: counted on the
/// graph's condensation ([`Condensed`]).
pub fn blast_edges(edges: &Path, sources: &Path) -> Result<()> {
    let el = EdgeList::read(edges)?;
    let ids = el.read_sources(sources)?;
    let mut condensed = Condensed::new(&el.graph);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for id in ids {
        let n = condensed.count(id);
        writeln!(out, "{},{n}", el.names[id as usize])?;
    }
    out.flush()?;
    Ok(())
}

/// The `top` nodes reaching the most others, as `name,reached`.
pub fn rank_edges(edges: &Path, top: usize) -> Result<()> {
    let el = EdgeList::read(edges)?;
    let ones = vec![1u32; el.names.len()];
    let reach = reach_all(&el.graph, &ones, &ones);
    let mut order: Vec<usize> = (0..reach.len()).collect();
    order.sort_by(|&a, &b| {
        reach[b]
            .count
            .cmp(&reach[a].count)
            .then(el.names[a].cmp(&el.names[b]))
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for &i in order.iter().take(top) {
        writeln!(out, "{},{}", el.names[i], reach[i].count)?;
    }
    out.flush()?;
    Ok(())
}

pub fn generate(g: generate::Generated, sources: usize, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let edges_path = out.join("edges.csv");
    let mut file = countersign::store::guard::create(&edges_path)
        .with_context(|| format!("cannot create {}", edges_path.display()))?;
    g.write_edges(&mut file)?;
    let sources_path = out.join("sources.txt");
    let names: Vec<String> = g
        .sample_identities(sources)
        .into_iter()
        .map(|i| g.name(i))
        .collect();
    countersign::store::guard::write(&sources_path, names.join("\n") + "\n")
        .with_context(|| format!("cannot write {}", sources_path.display()))?;
    eprintln!(
        "wrote {} ({} nodes, {} edges) and {} ({} sources)",
        edges_path.display(),
        g.node_count(),
        g.edges.len(),
        sources_path.display(),
        names.len()
    );
    Ok(())
}
