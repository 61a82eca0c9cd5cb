//! The module graph of a crate's `src/` and the two rules `make lint` keeps on
//! it: no import cycle other than between a module and its own descendants,
//! and no edge that the rules file forbids.
//!
//! A module is a file (`os/deploy.rs` is `os::deploy`, `transaction/mod.rs` is
//! `transaction`) or an inline `mod x { ... }`. An edge goes from the module a
//! `use` or a path appears in to the longest known module its target names
//! (`crate::`, `super::`, `self::` and child-module paths; other crates are
//! ignored). Items under `#[cfg(test)]` are left out: test code may reach
//! across layers. Cycles are looked for among the children of every module,
//! each child standing for its whole subtree, so `kinds -> worker -> kinds`
//! counts even when the edges start in `kinds::deploy`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use syn::visit::Visit;

/// A module path from the crate root (`[]` is the root).
pub type Module = Vec<String>;

/// Modules and the edges between them, each edge with where it was seen.
#[derive(Debug, Default)]
pub struct Graph {
    pub modules: BTreeSet<Module>,
    /// (from, to) -> a file that makes the edge.
    pub edges: BTreeMap<(Module, Module), String>,
}

fn show(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// The module a source file defines, `None` for other crate roots (`main.rs`, `bin/`).
fn file_module(rel: &str) -> Option<Module> {
    let rel = rel.strip_suffix(".rs")?;
    if rel == "main" || rel.starts_with("bin/") {
        return None;
    }
    let mut parts: Vec<String> = rel.split('/').map(String::from).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    Some(parts)
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

/// Inline modules of a file (not under `#[cfg(test)]`), and the file
/// modules it declares under `#[cfg(test)]`.
struct InlineMods {
    stack: Module,
    found: Vec<Module>,
    test_only: Vec<Module>,
}

impl<'ast> Visit<'ast> for InlineMods {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_cfg_test(item_attrs(item)) {
            if let syn::Item::Mod(m) = item {
                let mut p = self.stack.clone();
                p.push(m.ident.to_string());
                self.test_only.push(p);
            }
            return;
        }
        syn::visit::visit_item(self, item);
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            self.stack.push(m.ident.to_string());
            self.found.push(self.stack.clone());
            syn::visit::visit_item_mod(self, m);
            self.stack.pop();
        }
    }
}

/// Records the edges of one file.
struct Refs<'a> {
    known: &'a BTreeSet<Module>,
    stack: Module,
    file: &'a str,
    edges: &'a mut BTreeMap<(Module, Module), String>,
}

impl Refs<'_> {
    /// Resolves a path written in the current module; records the edge.
    fn reference(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let (mut abs, rest): (Module, &[String]) = match first.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (self.stack.clone(), &segments[1..]),
            "super" => {
                let mut m = self.stack.clone();
                let mut i = 0;
                while segments.get(i).is_some_and(|s| s == "super") {
                    m.pop();
                    i += 1;
                }
                (m, &segments[i..])
            }
            name => {
                let mut child = self.stack.clone();
                child.push(name.to_string());
                if !self.known.contains(&child) {
                    return;
                }
                (child, &segments[1..])
            }
        };
        for s in rest {
            abs.push(s.clone());
            if !self.known.contains(&abs) {
                abs.pop();
                break;
            }
        }
        if abs != self.stack {
            self.edges
                .entry((self.stack.clone(), abs))
                .or_insert_with(|| self.file.to_string());
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.reference(&full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.reference(&full);
            }
            syn::UseTree::Glob(_) => {
                let p = prefix.clone();
                self.reference(&p);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_cfg_test(item_attrs(item)) {
            return;
        }
        syn::visit::visit_item(self, item);
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            self.stack.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.stack.pop();
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.reference(&segments);
        syn::visit::visit_path(self, p);
    }
}

/// Builds the graph from `(path relative to src/, contents)` pairs.
pub fn from_sources(files: &[(String, String)]) -> Result<Graph, String> {
    let mut parsed = Vec::new();
    let mut inline_mods = Vec::new();
    let mut test_only = Vec::new();
    for (rel, text) in files {
        let Some(module) = file_module(rel) else {
            continue;
        };
        let ast = syn::parse_file(text).map_err(|e| format!("{rel}: {e}"))?;
        let mut inline = InlineMods {
            stack: module.clone(),
            found: Vec::new(),
            test_only: Vec::new(),
        };
        inline.visit_file(&ast);
        inline_mods.extend(inline.found);
        test_only.extend(inline.test_only);
        parsed.push((rel.clone(), module, ast));
    }
    // Test-only file modules (`#[cfg(test)] mod x;`) are left out whole.
    parsed.retain(|(_, m, _)| !test_only.iter().any(|t| m.starts_with(t)));
    let mut modules: BTreeSet<Module> = inline_mods.into_iter().collect();
    for (_, module, _) in &parsed {
        // Every ancestor of a file module is a module too.
        for n in 0..=module.len() {
            modules.insert(module[..n].to_vec());
        }
    }
    let mut edges = BTreeMap::new();
    for (rel, module, ast) in &parsed {
        let mut refs = Refs {
            known: &modules,
            stack: module.clone(),
            file: rel,
            edges: &mut edges,
        };
        refs.visit_file(ast);
    }
    Ok(Graph { modules, edges })
}

/// Reads every `.rs` file under `src`.
pub fn load(src: &Path) -> Result<Graph, String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, base, out)?;
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p
                    .strip_prefix(base)
                    .map_err(|e| e.to_string())?
                    .to_string_lossy()
                    .into_owned();
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                out.push((rel, text));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(src, src, &mut files)?;
    from_sources(&files)
}

/// Edges between the children of one module, each with an original edge.
type LevelEdges = BTreeMap<(Module, Module), (Module, Module)>;

/// Import cycles among the children of any module (a child stands for its
/// subtree), each as a readable line.
pub fn cycles(g: &Graph) -> Vec<String> {
    // parent -> (child -> child) -> an original edge that makes it.
    let mut levels: BTreeMap<Module, LevelEdges> = BTreeMap::new();
    for (from, to) in g.edges.keys() {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == to.len() {
            continue; // ancestor and descendant
        }
        let parent = from[..common].to_vec();
        let a = from[..=common].to_vec();
        let b = to[..=common].to_vec();
        levels
            .entry(parent)
            .or_default()
            .entry((a, b))
            .or_insert_with(|| (from.clone(), to.clone()));
    }
    let mut out = Vec::new();
    for (_, edges) in levels {
        for scc in strongly_connected(&edges) {
            let members: BTreeSet<&Module> = scc.iter().collect();
            let via: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|(_, (f, t))| {
                    let file = g
                        .edges
                        .get(&(f.clone(), t.clone()))
                        .cloned()
                        .unwrap_or_default();
                    format!("{} -> {} ({file})", show(f), show(t))
                })
                .collect();
            let names: Vec<String> = scc.iter().map(|m| show(m)).collect();
            out.push(format!(
                "import cycle between {}: {}",
                names.join(", "),
                via.join("; ")
            ));
        }
    }
    out
}

/// Strongly connected components with more than one member (Tarjan).
fn strongly_connected(edges: &LevelEdges) -> Vec<Vec<Module>> {
    let mut adj: BTreeMap<&Module, Vec<&Module>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        adj.entry(a).or_default().push(b);
        adj.entry(b).or_default();
    }
    struct State<'a> {
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        next: usize,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(v: &'a Module, adj: &BTreeMap<&'a Module, Vec<&'a Module>>, s: &mut State<'a>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in &adj[v] {
            if !s.index.contains_key(w) {
                visit(w, adj, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in adj.keys() {
        if !s.index.contains_key(v) {
            visit(v, &adj, &mut s);
        }
    }
    s.out
}

/// What each top-level module may import.
///
/// Lines: `group NAME = a b c` defines a group; `allow a b -> x @NAME !y *`
/// says modules `a` and `b` may import `x`, the group's members, everything
/// (`*`) but `y`. `#` starts a comment. A module always may import itself.
#[derive(Debug, Default)]
pub struct Rules {
    allowed: BTreeMap<String, (BTreeSet<String>, bool, BTreeSet<String>)>,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut rules = Rules::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |what: &str| format!("rules line {}: {what}: {line}", n + 1);
            if let Some(rest) = line.strip_prefix("group ") {
                let (name, members) = rest.split_once('=').ok_or_else(|| err("no '='"))?;
                groups.insert(
                    name.trim().to_string(),
                    members.split_whitespace().map(String::from).collect(),
                );
            } else if let Some(rest) = line.strip_prefix("allow ") {
                let (who, what) = rest.split_once("->").ok_or_else(|| err("no '->'"))?;
                let mut allow = BTreeSet::new();
                let mut deny = BTreeSet::new();
                let mut any = false;
                for tok in what.split_whitespace() {
                    if tok == "*" {
                        any = true;
                    } else if let Some(g) = tok.strip_prefix('@') {
                        let members = groups.get(g).ok_or_else(|| err("unknown group"))?;
                        allow.extend(members.iter().cloned());
                    } else if let Some(x) = tok.strip_prefix('!') {
                        deny.insert(x.to_string());
                    } else {
                        allow.insert(tok.to_string());
                    }
                }
                let mut whos = Vec::new();
                for w in who.split_whitespace() {
                    match w.strip_prefix('@') {
                        Some(g) => {
                            whos.extend(groups.get(g).ok_or_else(|| err("unknown group"))?.clone())
                        }
                        None => whos.push(w.to_string()),
                    }
                }
                for w in whos {
                    rules.allowed.insert(w, (allow.clone(), any, deny.clone()));
                }
            } else {
                return Err(err("expected 'group' or 'allow'"));
            }
        }
        Ok(rules)
    }

    fn permits(&self, from: &str, to: &str) -> Option<bool> {
        let (allow, any, deny) = self.allowed.get(from)?;
        Some(from == to || (!deny.contains(to) && (*any || allow.contains(to))))
    }
}

/// Edges between top-level modules that the rules do not allow, and
/// top-level modules without a rule.
pub fn forbidden(g: &Graph, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    for m in g.modules.iter().filter(|m| m.len() == 1) {
        if rules.permits(&m[0], &m[0]).is_none() {
            out.push(format!("module {} has no rule", m[0]));
        }
    }
    for ((from, to), file) in &g.edges {
        let (Some(a), Some(b)) = (from.first(), to.first()) else {
            continue; // the crate root is the whole crate's parent
        };
        if rules.permits(a, b) == Some(false) {
            out.push(format!(
                "forbidden import {} -> {} ({file})",
                show(from),
                show(to)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
