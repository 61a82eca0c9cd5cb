//! `import-graph SRC RULES`: checks the module graph of `SRC` (a crate's
//! `src/` directory) against `RULES`; prints every violation and fails if
//! there is one.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src), Some(rules)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: import-graph SRC-DIR RULES-FILE");
        return ExitCode::from(2);
    };
    let run = || -> Result<Vec<String>, String> {
        let text = std::fs::read_to_string(rules).map_err(|e| format!("{rules}: {e}"))?;
        let rules = import_graph::Rules::parse(&text)?;
        let graph = import_graph::load(std::path::Path::new(src))?;
        let mut problems = import_graph::cycles(&graph);
        problems.extend(import_graph::forbidden(&graph, &rules));
        println!(
            "import-graph: {} modules, {} edges",
            graph.modules.len(),
            graph.edges.len()
        );
        Ok(problems)
    };
    match run() {
        Ok(problems) if problems.is_empty() => ExitCode::SUCCESS,
        Ok(problems) => {
            for p in problems {
                println!("import-graph: {p}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("import-graph: {e}");
            ExitCode::from(2)
        }
    }
}
