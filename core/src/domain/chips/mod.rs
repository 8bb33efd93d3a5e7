//! The chip view of a template: what the composer shows reception staff instead of template
//! syntax. A stored template (the one source of truth, a minijinja string) is parsed into a
//! [`ChipDoc`]: plain text, named placeholder chips («Anrede», «Termin: Datum»), optional
//! segments (`{% if termin.ort %} ({{ termin.ort }}){% endif %}` = "shown only when the
//! chip's value is there", a switch on the chip) and opaque expert chips for everything the
//! chip model cannot represent exactly (loops, filters, else branches, comments, arbitrary
//! expressions, whitespace control). Every node keeps its source, so
//! `serialise(&parse(t)) == t` byte for byte for any string `t`.
//!
//! Edits in the chip view (typing text, inserting and deleting chips, switching a line to
//! "nur wenn vorhanden") work on the flat caret units of [`ChipDoc::units`] and always give a
//! document in normal form: `parse(&serialise(&d)) == d`. Literal text that would read as
//! template syntax (a `{` right before `{`, `%` or `#`) is written as the escape `{{ "{" }}`,
//! which the parser reads back as text exactly where the serialiser writes it.
//!
//! Pure: no labels here (the UI names chips from its catalogue), no rule of what a channel
//! may use (that stays with [`super::render::validate`]).

// Property tests (proptest is a native-only dev-dependency).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use super::placeholders::{lookup, DU};

/// One piece of a chip document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// Literal text (never empty in a normalised document, never two in a row).
    Text(String),
    /// A placeholder of the catalogue, written `src` (`{{ termin.datum }}`).
    Chip { name: String, src: String },
    /// Template source the chip model does not represent; shown as one opaque chip.
    Expert(String),
    /// `open` inner `close`: the inner text is shown only when placeholder `cond` has a
    /// value. `inner` holds no `Optional` and at least one chip of `cond`.
    Optional {
        cond: String,
        open: String,
        close: String,
        inner: Vec<Node>,
    },
}

/// A template as the chip view sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChipDoc {
    pub nodes: Vec<Node>,
}

/// One caret step of a document, flattened: a character, a chip, an expert chip, or the
/// start or end of an optional segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    Char(char),
    Chip { name: String, src: String },
    Expert(String),
    Open { cond: String, src: String },
    Close(String),
}

/// Why a chip-view edit was not done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The position is past the end of the document.
    OutOfRange,
    /// There is no chip at that position.
    NotAChip,
    /// The placeholder is not in the catalogue (or is the `du` flag, which is no text).
    UnknownPlaceholder,
}

/// The escape of a literal `{` that would otherwise open a tag.
pub const ESCAPED_BRACE: &str = "{{ \"{\" }}";

/// The source of a new chip.
pub fn chip_source(name: &str) -> String {
    format!("{{{{ {name} }}}}")
}

/// Whether `name` can be a chip: a catalogue placeholder with a value (not the `du` flag).
pub fn is_chip_name(name: &str) -> bool {
    name != DU && lookup(name).is_some()
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Expr,
    Stmt,
    Comment,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits a source into text and tags. Inside `{{ }}` and `{% %}` quoted strings are
/// skipped, so `{{ "}}" }}` is one tag. An unterminated tag runs to the end.
fn tokenize(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        let kind = match (b[i], b[i + 1]) {
            (b'{', b'{') => Kind::Expr,
            (b'{', b'%') => Kind::Stmt,
            (b'{', b'#') => Kind::Comment,
            _ => {
                i += 1;
                continue;
            }
        };
        if text_start < i {
            toks.push(Tok {
                kind: Kind::Text,
                start: text_start,
                end: i,
            });
        }
        let end = tag_end(b, i, kind);
        toks.push(Tok {
            kind,
            start: i,
            end,
        });
        i = end;
        text_start = end;
    }
    if text_start < b.len() {
        toks.push(Tok {
            kind: Kind::Text,
            start: text_start,
            end: b.len(),
        });
    }
    toks
}

fn tag_end(b: &[u8], start: usize, kind: Kind) -> usize {
    let close = match kind {
        Kind::Expr => b'}',
        Kind::Stmt => b'%',
        _ => b'#',
    };
    let mut j = start + 2;
    let mut quote: Option<u8> = None;
    while j < b.len() {
        let c = b[j];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    j += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if kind != Kind::Comment && (c == b'"' || c == b'\'') {
                    quote = Some(c);
                } else if c == close && b.get(j + 1) == Some(&b'}') {
                    return j + 2;
                }
            }
        }
        j += 1;
    }
    b.len()
}

/// The words of a statement tag without delimiters and whitespace control.
fn stmt_body(tag: &str) -> &str {
    let s = tag.strip_prefix("{%").unwrap_or(tag);
    let s = s.strip_suffix("%}").unwrap_or(s);
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let s = s.strip_suffix(['-', '+']).unwrap_or(s);
    s.trim()
}

fn keyword(tag: &str) -> &str {
    stmt_body(tag).split_whitespace().next().unwrap_or("")
}

/// The placeholder name of a plain `{{ name }}` tag (whitespace allowed, no whitespace
/// control, no filter).
fn plain_expr_name(tag: &str) -> Option<&str> {
    let inner = tag.strip_prefix("{{")?.strip_suffix("}}")?;
    let name = inner.trim();
    if inner.starts_with(['-', '+']) || inner.ends_with(['-', '+']) {
        return None;
    }
    (!name.is_empty() && is_chip_name(name)).then_some(name)
}

/// The closing keyword of a block statement, `None` for a single tag.
fn block_end(tag: &str) -> Option<String> {
    let kw = keyword(tag);
    match kw {
        "if" | "for" | "macro" | "call" | "filter" | "raw" | "with" | "autoescape" | "block" => {
            Some(format!("end{kw}"))
        }
        "set" if !stmt_body(tag).contains('=') => Some("endset".into()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Parse and serialise

/// Parses a stored template into its chip view. Never fails: what the chip model cannot
/// show becomes an expert chip holding its source.
pub fn parse(src: &str) -> ChipDoc {
    let toks = tokenize(src);
    let mut nodes = Vec::new();
    parse_into(src, &toks, true, &mut nodes);
    ChipDoc { nodes }
}

fn push_text(nodes: &mut Vec<Node>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Node::Text(t)) = nodes.last_mut() {
        t.push_str(s);
    } else {
        nodes.push(Node::Text(s.to_string()));
    }
}

fn push_expert(nodes: &mut Vec<Node>, s: &str) {
    nodes.push(Node::Expert(s.to_string()));
}

fn parse_into(src: &str, toks: &[Tok], allow_optional: bool, nodes: &mut Vec<Node>) {
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let text = &src[t.start..t.end];
        match t.kind {
            Kind::Text => push_text(nodes, text),
            Kind::Comment => push_expert(nodes, text),
            Kind::Expr => {
                if text == ESCAPED_BRACE
                    && matches!(src.as_bytes().get(t.end), Some(b'{' | b'%' | b'#'))
                {
                    push_text(nodes, "{");
                } else if let Some(name) = plain_expr_name(text) {
                    nodes.push(Node::Chip {
                        name: name.to_string(),
                        src: text.to_string(),
                    });
                } else {
                    push_expert(nodes, text);
                }
            }
            Kind::Stmt => {
                let Some(end_kw) = block_end(text) else {
                    push_expert(nodes, text);
                    i += 1;
                    continue;
                };
                let Some(j) = matching_end(src, toks, i, &end_kw) else {
                    push_expert(nodes, text);
                    i += 1;
                    continue;
                };
                let whole = &src[t.start..toks[j].end];
                match allow_optional
                    .then(|| optional_block(src, toks, i, j))
                    .flatten()
                {
                    Some(node) => nodes.push(node),
                    None => push_expert(nodes, whole),
                }
                i = j;
            }
        }
        i += 1;
    }
}

/// The index of the tag that closes the block opened at `open`.
fn matching_end(src: &str, toks: &[Tok], open: usize, end_kw: &str) -> Option<usize> {
    let open_tag = &src[toks[open].start..toks[open].end];
    let kw = keyword(open_tag);
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open + 1) {
        if t.kind != Kind::Stmt {
            continue;
        }
        let tag = &src[t.start..t.end];
        let this = keyword(tag);
        if kw == "raw" {
            if this == "endraw" {
                return Some(k);
            }
            continue;
        }
        if this == kw && block_end(tag).is_some() {
            depth += 1;
        } else if this == end_kw {
            if depth == 0 {
                return Some(k);
            }
            depth -= 1;
        }
    }
    None
}

/// `{% if name %}…{% endif %}` without `else`/`elif`, whose inside shows a chip of `name`.
fn optional_block(src: &str, toks: &[Tok], open: usize, close: usize) -> Option<Node> {
    let open_tag = &src[toks[open].start..toks[open].end];
    let mut words = stmt_body(open_tag).split_whitespace();
    if words.next() != Some("if") {
        return None;
    }
    let cond = words.next()?;
    if words.next().is_some() || !is_chip_name(cond) {
        return None;
    }
    let mut depth = 0usize;
    for t in &toks[open + 1..close] {
        if t.kind != Kind::Stmt {
            continue;
        }
        let tag = &src[t.start..t.end];
        match keyword(tag) {
            "if" => depth += 1,
            "endif" => depth = depth.saturating_sub(1),
            "else" | "elif" if depth == 0 => return None,
            _ => {}
        }
    }
    let mut inner = Vec::new();
    // Inside a segment every block is an expert chip: segments do not nest.
    parse_into(src, &toks[open + 1..close], false, &mut inner);
    if !inner
        .iter()
        .any(|n| matches!(n, Node::Chip { name, .. } if name == cond))
    {
        return None;
    }
    Some(Node::Optional {
        cond: cond.to_string(),
        open: open_tag.to_string(),
        close: src[toks[close].start..toks[close].end].to_string(),
        inner,
    })
}

/// Writes a document back as template source.
pub fn serialise(doc: &ChipDoc) -> String {
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    fn collect<'a>(nodes: &'a [Node], pieces: &mut Vec<(bool, &'a str)>) {
        for n in nodes {
            match n {
                Node::Text(t) => pieces.push((true, t)),
                Node::Chip { src, .. } => pieces.push((false, src)),
                Node::Expert(s) => pieces.push((false, s)),
                Node::Optional {
                    open, close, inner, ..
                } => {
                    pieces.push((false, open));
                    collect(inner, pieces);
                    pieces.push((false, close));
                }
            }
        }
    }
    collect(&doc.nodes, &mut pieces);
    let mut out = String::new();
    for (k, (is_text, s)) in pieces.iter().enumerate() {
        if !is_text {
            out.push_str(s);
            continue;
        }
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let next = chars
                .peek()
                .copied()
                .or_else(|| pieces[k + 1..].iter().find_map(|(_, p)| p.chars().next()));
            if c == '{' && matches!(next, Some('{' | '%' | '#')) {
                out.push_str(ESCAPED_BRACE);
            } else {
                out.push(c);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Units and edits

impl ChipDoc {
    /// The caret steps of the document.
    pub fn units(&self) -> Vec<Unit> {
        let mut out = Vec::new();
        fn walk(nodes: &[Node], out: &mut Vec<Unit>) {
            for n in nodes {
                match n {
                    Node::Text(t) => out.extend(t.chars().map(Unit::Char)),
                    Node::Chip { name, src } => out.push(Unit::Chip {
                        name: name.clone(),
                        src: src.clone(),
                    }),
                    Node::Expert(s) => out.push(Unit::Expert(s.clone())),
                    Node::Optional {
                        cond,
                        open,
                        close,
                        inner,
                    } => {
                        out.push(Unit::Open {
                            cond: cond.clone(),
                            src: open.clone(),
                        });
                        walk(inner, out);
                        out.push(Unit::Close(close.clone()));
                    }
                }
            }
        }
        walk(&self.nodes, &mut out);
        out
    }

    /// Builds the normal form of a unit sequence: texts merged, an optional segment kept
    /// only while it is well nested and shows a chip of its placeholder (else its inside
    /// becomes plain), a stray start or end dropped.
    pub fn from_units(units: &[Unit]) -> ChipDoc {
        let mut nodes: Vec<Node> = Vec::new();
        // The open segment: its start and the nodes gathered so far.
        let mut open: Option<(String, String, Vec<Node>)> = None;
        for u in units {
            let target = match &mut open {
                Some((_, _, inner)) => inner,
                None => &mut nodes,
            };
            match u {
                Unit::Char(c) => push_text(target, c.encode_utf8(&mut [0; 4])),
                Unit::Chip { name, src } => target.push(Node::Chip {
                    name: name.clone(),
                    src: src.clone(),
                }),
                Unit::Expert(s) => target.push(Node::Expert(s.clone())),
                Unit::Open { cond, src } => {
                    // A start inside a segment: the outer one ends here without its end tag
                    // (cannot come from `units`; kept total for any sequence).
                    if let Some((_, _, inner)) = open.take() {
                        for n in inner {
                            append(&mut nodes, n);
                        }
                    }
                    open = Some((cond.clone(), src.clone(), Vec::new()));
                }
                Unit::Close(close) => {
                    if let Some((cond, src, inner)) = open.take() {
                        let shows = inner
                            .iter()
                            .any(|n| matches!(n, Node::Chip { name, .. } if *name == cond));
                        if shows {
                            nodes.push(Node::Optional {
                                cond,
                                open: src,
                                close: close.clone(),
                                inner,
                            });
                        } else {
                            for n in inner {
                                append(&mut nodes, n);
                            }
                        }
                    }
                }
            }
        }
        if let Some((_, _, inner)) = open {
            for n in inner {
                append(&mut nodes, n);
            }
        }
        // An expert chip that came out of a dissolved segment reads as the parser reads it
        // at the top (`{% if titel %}{{ titel }}{% endif %}` is a segment of its own there).
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            match n {
                Node::Expert(src) if src.contains("{%") => {
                    for m in parse(&src).nodes {
                        append(&mut out, m);
                    }
                }
                other => append(&mut out, other),
            }
        }
        unescape_braces(&mut out, false);
        ChipDoc { nodes: out }
    }

    /// Inserts literal text before unit `pos`.
    pub fn insert_text(&self, pos: usize, text: &str) -> Result<ChipDoc, EditError> {
        self.splice(pos, 0, text.chars().map(Unit::Char).collect())
    }

    /// Inserts a new chip for placeholder `name` before unit `pos`.
    pub fn insert_chip(&self, pos: usize, name: &str) -> Result<ChipDoc, EditError> {
        if !is_chip_name(name) {
            return Err(EditError::UnknownPlaceholder);
        }
        self.splice(
            pos,
            0,
            vec![Unit::Chip {
                name: name.to_string(),
                src: chip_source(name),
            }],
        )
    }

    /// Inserts an expert chip (template source the chip view keeps as it is) before `pos`.
    pub fn insert_expert(&self, pos: usize, src: &str) -> Result<ChipDoc, EditError> {
        let mut units = self.units();
        if pos > units.len() {
            return Err(EditError::OutOfRange);
        }
        // Parsed, so that what goes in is what reads back (a plain `{{ anrede }}` is a chip).
        let inserted = parse(src).units();
        units.splice(pos..pos, inserted);
        Ok(ChipDoc::from_units(&units))
    }

    /// Deletes the unit at `pos` (a character or a chip, as Backspace or Delete does; the
    /// start or end of a segment takes the other with it and leaves the inside plain).
    pub fn delete(&self, pos: usize) -> Result<ChipDoc, EditError> {
        let mut units = self.units();
        if pos >= units.len() {
            return Err(EditError::OutOfRange);
        }
        match units[pos] {
            Unit::Open { .. } => {
                let close = (pos..units.len())
                    .find(|&k| matches!(units[k], Unit::Close(_)))
                    .unwrap_or(pos);
                units.remove(close);
                units.remove(pos);
            }
            Unit::Close(_) => {
                let open = (0..pos)
                    .rev()
                    .find(|&k| matches!(units[k], Unit::Open { .. }))
                    .unwrap_or(pos);
                units.remove(pos);
                units.remove(open);
            }
            _ => {
                units.remove(pos);
            }
        }
        Ok(ChipDoc::from_units(&units))
    }

    fn splice(&self, pos: usize, remove: usize, insert: Vec<Unit>) -> Result<ChipDoc, EditError> {
        let mut units = self.units();
        if pos + remove > units.len() {
            return Err(EditError::OutOfRange);
        }
        units.splice(pos..pos + remove, insert);
        Ok(ChipDoc::from_units(&units))
    }

    /// The chips that carry a "nur wenn vorhanden" switch, by unit position: every chip
    /// outside a segment (off) and the first chip of a segment's placeholder (on).
    pub fn switches(&self) -> Vec<(usize, String, bool)> {
        let units = self.units();
        let mut out = Vec::new();
        let mut open: Option<(String, bool)> = None;
        for (k, u) in units.iter().enumerate() {
            match u {
                Unit::Open { cond, .. } => open = Some((cond.clone(), false)),
                Unit::Close(_) => open = None,
                Unit::Chip { name, .. } => match &mut open {
                    None => out.push((k, name.clone(), false)),
                    Some((cond, seen)) if cond == name && !*seen => {
                        *seen = true;
                        out.push((k, name.clone(), true));
                    }
                    Some(_) => {}
                },
                _ => {}
            }
        }
        out
    }

    /// Switches the chip at unit `pos` to "nur wenn vorhanden" or back. On: its line (from
    /// the last line break before it, to and with the next one; up to a segment or an expert
    /// statement on the same line) is shown only when the placeholder has a value. Off: the
    /// segment of that placeholder around it becomes plain again.
    pub fn toggle_optional(&self, pos: usize) -> Result<ChipDoc, EditError> {
        let mut units = self.units();
        let Some(Unit::Chip { name, .. }) = units.get(pos).cloned() else {
            return Err(if pos < units.len() {
                EditError::NotAChip
            } else {
                EditError::OutOfRange
            });
        };
        // Inside a segment? Then remove its start and end.
        let mut open_at = None;
        for (k, u) in units.iter().enumerate().take(pos) {
            match u {
                Unit::Open { .. } => open_at = Some(k),
                Unit::Close(_) => open_at = None,
                _ => {}
            }
        }
        if let Some(o) = open_at {
            if let Unit::Open { cond, .. } = &units[o] {
                if *cond != name {
                    // A chip of another placeholder in a segment: no switch of its own.
                    return Err(EditError::NotAChip);
                }
            }
            return self.delete(o);
        }
        let barrier = |u: &Unit| match u {
            Unit::Open { .. } | Unit::Close(_) => true,
            // A statement, or a tag left open (it would swallow the end tag).
            Unit::Expert(s) => s.contains("{%") || !(s.ends_with("}}") || s.ends_with("#}")),
            _ => false,
        };
        let mut start = pos;
        while start > 0 && units[start - 1] != Unit::Char('\n') && !barrier(&units[start - 1]) {
            start -= 1;
        }
        let mut end = pos + 1;
        while end < units.len() && !barrier(&units[end]) {
            end += 1;
            if units[end - 1] == Unit::Char('\n') {
                break;
            }
        }
        // The last line of the text: take the line break before it instead.
        if end == units.len()
            && units.last() != Some(&Unit::Char('\n'))
            && start > 0
            && units[start - 1] == Unit::Char('\n')
        {
            start -= 1;
        }
        units.insert(end, Unit::Close("{% endif %}".into()));
        units.insert(
            start,
            Unit::Open {
                cond: name.clone(),
                src: format!("{{% if {name} %}}"),
            },
        );
        Ok(ChipDoc::from_units(&units))
    }
}

/// An expert chip that is the escape `{{ "{" }}` and now stands before a tag (or a `%` or
/// `#`) reads back as the escaped text `{` it renders: it becomes that text (same output).
/// `tag_follows`: whether a tag follows the list (the end of a segment).
fn unescape_braces(nodes: &mut Vec<Node>, tag_follows: bool) {
    for i in (0..nodes.len()).rev() {
        if let Node::Optional { inner, .. } = &mut nodes[i] {
            unescape_braces(inner, true);
            continue;
        }
        if !matches!(&nodes[i], Node::Expert(s) if s == ESCAPED_BRACE) {
            continue;
        }
        let before_tag = match nodes.get(i + 1) {
            Some(Node::Text(t)) => t.starts_with(['{', '%', '#']),
            Some(_) => true,
            None => tag_follows,
        };
        if before_tag {
            nodes[i] = Node::Text("{".into());
        }
    }
    let all = std::mem::take(nodes);
    for n in all {
        append(nodes, n);
    }
}

fn append(nodes: &mut Vec<Node>, n: Node) {
    match n {
        Node::Text(t) => push_text(nodes, &t),
        other => nodes.push(other),
    }
}

// ---------------------------------------------------------------------------------------
// What an expert chip is

/// What an expert chip holds, for its name in the chip view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpertKind {
    /// `{% if du %}A{% else %}B{% endif %}` with plain texts: the informal and formal form.
    DuChoice { du: String, sie: String },
    /// Anything else.
    Other,
}

/// The source the palette's "Du/Sie" entry inserts.
pub const DU_CHOICE_SOURCE: &str = "{% if du %}{% else %}{% endif %}";

/// Names an expert chip's source.
pub fn expert_kind(src: &str) -> ExpertKind {
    let toks = tokenize(src);
    let tag = |t: &Tok| &src[t.start..t.end];
    let stmt = |t: &Tok, body: &str| t.kind == Kind::Stmt && stmt_body(tag(t)) == body;
    let text_at = |k: usize| -> Option<(String, usize)> {
        match toks.get(k) {
            Some(t) if t.kind == Kind::Text => Some((tag(t).to_string(), k + 1)),
            _ => Some((String::new(), k)),
        }
    };
    let parsed = (|| {
        let first = toks.first()?;
        if !stmt(first, "if du") {
            return None;
        }
        let (du, k) = text_at(1)?;
        if !stmt(toks.get(k)?, "else") {
            return None;
        }
        let (sie, k) = text_at(k + 1)?;
        if !stmt(toks.get(k)?, "endif") || k + 1 != toks.len() {
            return None;
        }
        Some(ExpertKind::DuChoice { du, sie })
    })();
    parsed.unwrap_or(ExpertKind::Other)
}

/// Placeholders whose value a recipient or the practice may lack: their chips offer the
/// switch "nur wenn vorhanden".
pub const MAY_BE_MISSING: &[&str] = &[
    "titel",
    "vorname",
    "termin.ort",
    "termin.ende",
    "termin.behandler",
    "praxis.telefon",
    "praxis.email",
    "praxis.adresse",
    "praxis.webseite",
];

/// Whether a placeholder's chip offers the switch "nur wenn vorhanden".
pub fn may_be_missing(name: &str) -> bool {
    MAY_BE_MISSING.contains(&name)
}
