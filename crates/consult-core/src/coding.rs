//! Coding free-text answers (issue 16): an activity's codeframe of themes (nested one level),
//! the themes an analyst gives one answer, and theme suggestions for the answers not yet coded,
//! drawn from their text alone.
//!
//! **The codeframe.** A theme has a stable `key` (the questionnaire's key rule: lowercase letters,
//! digits, `_` and `-`, starting with a letter, at most 40), a `label`, an optional `description`
//! and an optional `parent`. Themes nest ONE level: a parent cannot itself have a parent, and a
//! theme that has children cannot be given a parent.
//!
//! **Codes.** One response's answer to one free-text question carries one or more themes and an
//! optional analyst note ([`Coding::parse`]); an empty list of themes removes the coding.
//!
//! **Suggestions** ([`suggest_themes`]): each uncoded answer is split into stemmed terms (the
//! overlap engine's [`Analyzer`]: English stop words removed, Snowball stemming) and the bigrams
//! of neighbouring terms. Terms are weighted by inverse document frequency; seeds are picked
//! greedily, each time the term with the highest `uncovered answers x ln(1 + N / df)` (a bigram
//! counting 1.25 times), until no term reaches the minimum support or twelve are chosen. Every
//! answer holding a seed then joins the seed it weighs most (idf, bigrams first; ties to the seed
//! picked first). The work is linear in the text (one pass to index, one pass per seed over the
//! seed candidates' postings), so 20,000 answers take well under a second, where comparing every
//! answer with every other would take 200 million comparisons. Everything is ordered by keys,
//! never by hash order: the same answers always give the same suggestions.

use crate::error::ValidationErrors;
use crate::lifecycle::Actor;
use crate::overlap::Analyzer;
use crate::questionnaire::{QuestionKind, Questionnaire, key_problem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// At most this many themes in an activity's codeframe.
pub const MAX_THEMES: usize = 500;
/// At most this many themes on one answer.
pub const MAX_THEMES_PER_ANSWER: usize = 20;
/// At most this many suggestions at a time.
pub const MAX_SUGGESTIONS: usize = 12;
/// Example response ids shown with a suggestion.
pub const SUGGESTION_EXAMPLES: usize = 3;

/// A theme as sent (`POST /consultations/{id}/themes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThemeInput {
    /// The stable key (`[a-z][a-z0-9_-]{0,39}`), unique in the activity's codeframe.
    pub key: Option<String>,
    /// The label analysts and readers see.
    pub label: Option<String>,
    /// What the theme covers.
    pub description: Option<String>,
    /// The key of its parent theme (which has no parent itself).
    pub parent: Option<String>,
}

fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A change to a theme (`PATCH /consultations/{id}/themes/{key}`, a merge patch): absent fields
/// stay, `"parent": null` and `"description": null` remove them. The key never changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThemePatch {
    /// A new label.
    #[serde(default, deserialize_with = "some")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub label: Option<Option<String>>,
    /// A new description (null removes it).
    #[serde(default, deserialize_with = "some")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// A new parent (null: a top-level theme).
    #[serde(default, deserialize_with = "some")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub parent: Option<Option<String>>,
}

/// One theme of an activity's codeframe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Theme {
    /// Its stable key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// What it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its parent's key, for a nested theme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who last changed it.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// The parent rule: `parent` names a theme of `codeframe` other than `key`, which has no parent
/// itself; and `key` must not have children of its own (which would then be two levels down).
fn check_parent(e: &mut ValidationErrors, key: &str, parent: Option<&str>, codeframe: &[Theme]) {
    let Some(parent) = parent else { return };
    if parent == key {
        e.push("parent", "a theme cannot be its own parent");
        return;
    }
    match codeframe.iter().find(|t| t.key == parent) {
        None => e.push("parent", format!("no theme `{parent}` in this activity's codeframe")),
        Some(p) if p.parent.is_some() => e.push(
            "parent",
            format!(
                "`{parent}` is itself nested under `{}`: themes nest one level only",
                p.parent.as_deref().unwrap_or_default()
            ),
        ),
        Some(_) => {}
    }
    let children: Vec<&str> = codeframe
        .iter()
        .filter(|t| t.parent.as_deref() == Some(key))
        .map(|t| t.key.as_str())
        .collect();
    if !children.is_empty() {
        e.push(
            "parent",
            format!(
                "`{key}` has nested themes ({}): themes nest one level only",
                children.join(", ")
            ),
        );
    }
}

fn parse_theme_key(e: &mut ValidationErrors, field: &str, key: Option<&str>) -> Option<String> {
    let key = key.map(str::trim).unwrap_or("");
    match key_problem(key) {
        Some(p) => {
            e.push(field, p);
            None
        }
        None => Some(key.to_owned()),
    }
}

impl Theme {
    /// A new theme for `codeframe` (the activity's current themes): every invalid field named
    /// (`key`, `label`, `description`, `parent`).
    pub fn create(
        input: &ThemeInput,
        codeframe: &[Theme],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Theme, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let key = parse_theme_key(&mut e, "key", input.key.as_deref());
        if let Some(k) = &key {
            if codeframe.iter().any(|t| &t.key == k) {
                e.push(
                    "key",
                    format!("a theme `{k}` already exists in this activity's codeframe"),
                );
            }
        }
        if codeframe.len() >= MAX_THEMES {
            e.push("key", format!("a codeframe has at most {MAX_THEMES} themes"));
        }
        let label = crate::text::required_line(&mut e, "label", input.label.as_deref(), 200);
        let description = crate::text::optional_text(&mut e, "description", input.description.as_deref(), 2000);
        let parent = input.parent.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if let Some(k) = &key {
            check_parent(&mut e, k, parent, codeframe);
        }
        let theme = Theme {
            key: key.unwrap_or_default(),
            label: label.unwrap_or_default(),
            description,
            parent: parent.map(str::to_owned),
            created_by: actor.name.clone(),
            created_at: now,
            updated_by: actor.name.clone(),
            updated_at: now,
        };
        e.into_result(theme)
    }

    /// This theme changed by `patch`, checked against `codeframe` (which holds it).
    pub fn patched(
        &self,
        patch: &ThemePatch,
        codeframe: &[Theme],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Theme, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut t = self.clone();
        if let Some(label) = &patch.label {
            if let Some(l) = crate::text::required_line(&mut e, "label", label.as_deref(), 200) {
                t.label = l;
            }
        }
        if let Some(d) = &patch.description {
            t.description = crate::text::optional_text(&mut e, "description", d.as_deref(), 2000);
        }
        if let Some(p) = &patch.parent {
            t.parent = p.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
            check_parent(&mut e, &self.key, t.parent.as_deref(), codeframe);
        }
        t.updated_by = actor.name.clone();
        t.updated_at = now;
        e.into_result(t)
    }
}

/// Why a theme cannot be deleted as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRefusal {
    /// The theme has nested themes: delete or move them first.
    HasChildren(Vec<String>),
    /// Answers are coded with it and no `move_to` was given.
    InUse(u64),
    /// `move_to` is not a theme of the codeframe (or is the theme itself).
    BadTarget(String),
}

impl std::fmt::Display for DeleteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HasChildren(c) => write!(
                f,
                "the theme has nested themes ({}): delete them or give them another parent first",
                c.join(", ")
            ),
            Self::InUse(n) => write!(
                f,
                "{n} coded answer(s) use this theme: pass `move_to` to recode them with another theme first"
            ),
            Self::BadTarget(m) => f.write_str(m),
        }
    }
}

/// Decides deleting theme `key` used by `coded` answers: refused while it has nested themes;
/// refused while answers are coded with it unless `move_to` names another theme of the
/// codeframe (then those answers are recoded with that theme). Returns the theme to recode to.
pub fn plan_theme_delete<'a>(
    key: &str,
    coded: u64,
    move_to: Option<&'a str>,
    codeframe: &[Theme],
) -> Result<Option<&'a str>, DeleteRefusal> {
    let children: Vec<String> = codeframe
        .iter()
        .filter(|t| t.parent.as_deref() == Some(key))
        .map(|t| t.key.clone())
        .collect();
    if !children.is_empty() {
        return Err(DeleteRefusal::HasChildren(children));
    }
    match move_to {
        Some(m) if m == key => Err(DeleteRefusal::BadTarget(
            "`move_to` must name another theme than the one deleted".into(),
        )),
        Some(m) if !codeframe.iter().any(|t| t.key == m) => Err(DeleteRefusal::BadTarget(format!(
            "`move_to`: no theme `{m}` in this activity's codeframe"
        ))),
        Some(m) => Ok(Some(m)),
        None if coded > 0 => Err(DeleteRefusal::InUse(coded)),
        None => Ok(None),
    }
}

/// The themes an analyst gives one answer (`PUT .../responses/{response_id}/codes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// The free-text question answered.
    pub question: Option<String>,
    /// The themes' keys (an empty list removes the coding).
    #[serde(default)]
    pub themes: Vec<String>,
    /// The analyst's note.
    pub note: Option<String>,
}

/// A valid coding of one answer: its question, its themes (none: remove it) and note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coding {
    /// The question.
    pub question: String,
    /// The themes, in the order given, without repeats.
    pub themes: Vec<String>,
    /// The note.
    pub note: Option<String>,
}

impl Coding {
    /// Checks a coding against the activity's questionnaire, the questions the response
    /// answered, and the codeframe: `question` must be a free-text question the response
    /// answered, every theme (`themes[i]`) a theme of the codeframe.
    pub fn parse(
        input: &CodeInput,
        questionnaire: Option<&Questionnaire>,
        answered: &BTreeSet<String>,
        codeframe: &[Theme],
    ) -> Result<Coding, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let question = match input.question.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            None => {
                e.push("question", "is required");
                None
            }
            Some(q) => match questionnaire.and_then(|qn| qn.question(q)) {
                None => {
                    e.push(
                        "question",
                        format!("no question `{q}` in this activity's questionnaire"),
                    );
                    None
                }
                Some(found) if !matches!(found.kind, QuestionKind::FreeText { .. }) => {
                    e.push(
                        "question",
                        format!(
                            "`{q}` is a `{}` question: only free-text answers are coded",
                            found.kind.question_type().as_str()
                        ),
                    );
                    None
                }
                Some(_) if !answered.contains(q) => {
                    e.push("question", format!("this response did not answer `{q}`"));
                    None
                }
                Some(_) => Some(q.to_owned()),
            },
        };
        if input.themes.len() > MAX_THEMES_PER_ANSWER {
            e.push("themes", format!("at most {MAX_THEMES_PER_ANSWER} themes per answer"));
        }
        let mut themes: Vec<String> = Vec::with_capacity(input.themes.len());
        for (i, t) in input.themes.iter().enumerate() {
            let t = t.trim();
            if !codeframe.iter().any(|c| c.key == t) {
                e.push(
                    format!("themes[{i}]"),
                    format!("no theme `{t}` in this activity's codeframe"),
                );
            } else if !themes.iter().any(|x| x == t) {
                themes.push(t.to_owned());
            }
        }
        let note = crate::text::optional_text(&mut e, "note", input.note.as_deref(), 2000);
        let coding = Coding {
            question: question.unwrap_or_default(),
            themes,
            note,
        };
        e.into_result(coding)
    }
}

/// One answer's coding as stored and read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerCode {
    /// The free-text question.
    pub question: String,
    /// The themes' keys.
    pub themes: Vec<String>,
    /// The analyst's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who coded it.
    pub coded_by: String,
    /// When.
    pub coded_at: DateTime<Utc>,
}

/// Coding progress of one free-text question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodingProgress {
    /// The question's key.
    pub question: String,
    /// Answers coded with at least one theme.
    pub coded: u64,
    /// Answers given.
    pub total: u64,
}

/// A theme suggested for some uncoded answers of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThemeSuggestion {
    /// Its id: the stems of its seed term (`park`, `open_hour`), stable while the answers it
    /// was drawn from are; what accept and reject name.
    pub id: String,
    /// The key proposed for the theme (not already in the codeframe).
    pub key: String,
    /// The label proposed, from the words as people wrote them.
    pub label: String,
    /// The words it was drawn from (most telling first, as written).
    pub terms: Vec<String>,
    /// The answers it would code.
    pub count: u64,
    /// A few of them (response ids), to read before accepting.
    pub examples: Vec<Uuid>,
    /// Every response it would code.
    pub responses: Vec<Uuid>,
}

/// An analyst's decision on a suggestion (`POST .../themes/suggestions/accept` and `/reject`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SuggestionDecision {
    /// The free-text question the suggestion was made for.
    pub question: Option<String>,
    /// The suggestion's id.
    pub suggestion: Option<String>,
    /// Accept only: the theme's key instead of the one proposed (an existing theme's key adds
    /// the answers to that theme).
    pub key: Option<String>,
    /// Accept only: the theme's label instead of the one proposed.
    pub label: Option<String>,
}

/// Extra words too common in free-text answers to make a theme of.
const ANSWER_STOP_WORDS: &[&str] = &[
    "think", "need", "needs", "like", "good", "get", "make", "please", "much", "many", "really", "lot", "lots", "use",
    "thing", "things", "better", "well", "even", "still", "one", "also", "every", "more", "less", "keep", "know",
    "feel", "see", "go", "going", "don", "doesn", "isn", "im", "it's", "should", "could", "great", "bad", "time",
    "times", "area", "place", "need", "yes", "nothing", "none", "na", "n/a",
];

/// A term of an answer: a stem, or two neighbouring stems.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Term {
    stems: String,
    bigram: bool,
}

/// Suggests themes for `answers` (response id and text of the uncoded answers of one free-text
/// question), leaving out suggestions whose id is in `rejected`, with keys not in
/// `taken_keys`. Deterministic: the same input gives the same output whatever its order.
pub fn suggest_themes(
    answers: &[(Uuid, &str)],
    rejected: &BTreeSet<String>,
    taken_keys: &BTreeSet<String>,
) -> Vec<ThemeSuggestion> {
    let analyzer = Analyzer::default();
    // Sort by id so the outcome does not depend on the order given.
    let mut answers: Vec<(Uuid, &str)> = answers.to_vec();
    answers.sort_by_key(|a| a.0);
    answers.dedup_by_key(|a| a.0);
    let n = answers.len();
    if n == 0 {
        return Vec::new();
    }
    // Term ids, postings (sorted answer indexes), and the surface forms of each stem.
    let mut term_ids: HashMap<Term, usize> = HashMap::new();
    let mut terms: Vec<Term> = Vec::new();
    let mut postings: Vec<Vec<u32>> = Vec::new();
    let mut surfaces: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
    let mut doc_terms: Vec<Vec<usize>> = Vec::with_capacity(n);
    for (i, (_, text)) in answers.iter().enumerate() {
        let words: Vec<(String, String)> = analyzer
            .terms(text)
            .into_iter()
            .filter(|(_, w)| !ANSWER_STOP_WORDS.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let mut own: Vec<usize> = Vec::new();
        let mut add = |t: Term, own: &mut Vec<usize>| {
            let next = terms.len();
            let id = *term_ids.entry(t.clone()).or_insert_with(|| {
                terms.push(t);
                postings.push(Vec::new());
                next
            });
            if postings[id].last() != Some(&(i as u32)) {
                postings[id].push(i as u32);
                own.push(id);
            }
        };
        for (stem, word) in &words {
            *surfaces
                .entry(stem.clone())
                .or_default()
                .entry(word.clone())
                .or_default() += 1;
            add(
                Term {
                    stems: stem.clone(),
                    bigram: false,
                },
                &mut own,
            );
        }
        for pair in words.windows(2) {
            if pair[0].0 != pair[1].0 {
                add(
                    Term {
                        stems: format!("{}_{}", pair[0].0, pair[1].0),
                        bigram: true,
                    },
                    &mut own,
                );
            }
        }
        doc_terms.push(own);
    }
    let min_support = (n as f64 * 0.01).ceil().max(2.0) as usize;
    let idf = |df: usize| (1.0 + n as f64 / df as f64).ln();
    // Candidates: frequent enough, not rejected; in a fixed order (by term).
    let mut candidates: Vec<usize> = (0..terms.len())
        .filter(|&t| postings[t].len() >= min_support && !rejected.contains(&terms[t].stems))
        .collect();
    candidates.sort_by(|a, b| terms[*a].cmp(&terms[*b]));
    let mut covered = vec![false; n];
    let mut seeds: Vec<usize> = Vec::new();
    while seeds.len() < MAX_SUGGESTIONS {
        let mut best: Option<(f64, usize)> = None;
        for &t in &candidates {
            if seeds.contains(&t) {
                continue;
            }
            let uncovered = postings[t].iter().filter(|&&d| !covered[d as usize]).count();
            if uncovered < min_support {
                continue;
            }
            let weight = if terms[t].bigram { 1.25 } else { 1.0 };
            let score = uncovered as f64 * idf(postings[t].len()) * weight;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, t));
            }
        }
        let Some((_, t)) = best else { break };
        for &d in &postings[t] {
            covered[d as usize] = true;
        }
        seeds.push(t);
    }
    // Each answer holding a seed joins the seed it weighs most.
    let seed_rank: HashMap<usize, usize> = seeds.iter().enumerate().map(|(r, &t)| (t, r)).collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); seeds.len()];
    for (d, own) in doc_terms.iter().enumerate() {
        let mut best: Option<(f64, usize)> = None;
        for t in own {
            if let Some(&r) = seed_rank.get(t) {
                let w = idf(postings[*t].len()) * if terms[*t].bigram { 1.25 } else { 1.0 };
                let better = match best {
                    None => true,
                    Some((bw, br)) => w > bw || (w == bw && r < br),
                };
                if better {
                    best = Some((w, r));
                }
            }
        }
        if let Some((_, r)) = best {
            members[r].push(d);
        }
    }
    let surface = |stem: &str| -> String {
        surfaces
            .get(stem)
            .and_then(|m| {
                // The most used spelling; ties to the first alphabetically.
                m.iter()
                    .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(w, _)| w.clone())
            })
            .unwrap_or_else(|| stem.to_owned())
    };
    let mut taken = taken_keys.clone();
    let mut out = Vec::new();
    for (r, &t) in seeds.iter().enumerate() {
        let docs = &members[r];
        if docs.len() < min_support {
            continue;
        }
        let words: Vec<String> = terms[t].stems.split('_').map(surface).collect();
        // The next most telling word of the cluster, when most of its answers share it.
        let mut co: BTreeMap<usize, usize> = BTreeMap::new();
        for &d in docs {
            for &u in &doc_terms[d] {
                if u != t && !terms[u].bigram {
                    *co.entry(u).or_default() += 1;
                }
            }
        }
        let seed_stems: Vec<&str> = terms[t].stems.split('_').collect();
        let mut extra: Vec<(usize, usize)> = co
            .into_iter()
            .filter(|(u, c)| *c * 2 > docs.len() && !seed_stems.contains(&terms[*u].stems.as_str()))
            .collect();
        extra.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| terms[a.0].cmp(&terms[b.0])));
        let mut all_words = words.clone();
        all_words.extend(extra.iter().take(2).map(|(u, _)| surface(&terms[*u].stems)));
        let label = capitalise(&words.join(" "));
        let mut key = slug(&words.join("-"));
        if taken.contains(&key) {
            let base = key.clone();
            let mut i = 2;
            while taken.contains(&key) {
                key = format!("{}-{i}", base.chars().take(36).collect::<String>());
                i += 1;
            }
        }
        taken.insert(key.clone());
        let responses: Vec<Uuid> = docs.iter().map(|&d| answers[d].0).collect();
        out.push(ThemeSuggestion {
            id: terms[t].stems.clone(),
            key,
            label,
            terms: all_words,
            count: responses.len() as u64,
            examples: responses.iter().take(SUGGESTION_EXAMPLES).copied().collect(),
            responses,
        });
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A valid theme key from words: ASCII lowercase letters and digits, `-` between words, starting
/// with a letter (`t-` before anything else), at most 40 characters.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    let out = if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("t-{out}")
    };
    let mut cut: String = out.chars().take(40).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    if cut == "t" { "theme".into() } else { cut }
}

/// How many responses raised a theme, as the public sees it in published feedback: the count
/// plus the disclosure noise of its activity's figures (`consult_core::noise`, the same
/// treatment as a public equality count), hidden (none) when that is below 5.
pub fn public_theme_count(
    key: &crate::disclosure::DisclosureKey,
    activity: crate::consultation::ConsultationId,
    theme: &str,
    respondents: u64,
    exact: u64,
) -> Option<u64> {
    let set = crate::disclosure::PublicSet::Activity(activity);
    let noise = crate::disclosure::noise(
        key,
        &set,
        "theme",
        theme,
        respondents,
        &crate::disclosure::NoiseSettings::default(),
    );
    let shown = (exact as i64 + noise).max(0) as u64;
    (shown >= 5).then_some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Role;
    use proptest::prelude::*;

    fn actor() -> Actor {
        Actor {
            name: "Ana Analyst".into(),
            role: Role::Coordinator,
            organisation: None,
            staff: None,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
    }

    fn theme(key: &str, parent: Option<&str>) -> Theme {
        Theme::create(
            &ThemeInput {
                key: Some(key.into()),
                label: Some(key.to_uppercase()),
                description: None,
                parent: None,
            },
            &[],
            &actor(),
            now(),
        )
        .map(|mut t| {
            t.parent = parent.map(Into::into);
            t
        })
        .unwrap()
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.into_errors().into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn themes_nest_one_level_only() {
        let frame = vec![theme("transport", None), theme("parking", Some("transport"))];
        let input = |key: &str, parent: &str| ThemeInput {
            key: Some(key.into()),
            label: Some("A label".into()),
            description: None,
            parent: Some(parent.into()),
        };
        assert!(Theme::create(&input("buses", "transport"), &frame, &actor(), now()).is_ok());
        let e = Theme::create(&input("charges", "parking"), &frame, &actor(), now()).unwrap_err();
        assert_eq!(fields(e), ["parent"]);
        let e = Theme::create(&input("x", "nowhere"), &frame, &actor(), now()).unwrap_err();
        assert_eq!(fields(e), ["parent"]);
        // A parent with children cannot be given a parent.
        let frame = vec![
            theme("transport", None),
            theme("parking", Some("transport")),
            theme("money", None),
        ];
        let patch = ThemePatch {
            parent: Some(Some("money".into())),
            ..Default::default()
        };
        assert_eq!(
            fields(frame[0].patched(&patch, &frame, &actor(), now()).unwrap_err()),
            ["parent"]
        );
        // A leaf can move under another top-level theme, and back to the top.
        let moved = frame[1].patched(&patch, &frame, &actor(), now()).unwrap();
        assert_eq!(moved.parent.as_deref(), Some("money"));
        let top = ThemePatch {
            parent: Some(None),
            ..Default::default()
        };
        assert_eq!(frame[1].patched(&top, &frame, &actor(), now()).unwrap().parent, None);
    }

    #[test]
    fn theme_fields_are_named() {
        let e = Theme::create(
            &ThemeInput {
                key: Some("Bad Key".into()),
                label: Some(" ".into()),
                ..Default::default()
            },
            &[],
            &actor(),
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["key", "label"]);
        let frame = vec![theme("parking", None)];
        let e = Theme::create(
            &ThemeInput {
                key: Some("parking".into()),
                label: Some("Parking".into()),
                ..Default::default()
            },
            &frame,
            &actor(),
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["key"]);
    }

    #[test]
    fn delete_rules() {
        let frame = vec![
            theme("transport", None),
            theme("parking", Some("transport")),
            theme("hours", None),
        ];
        assert!(matches!(
            plan_theme_delete("transport", 0, None, &frame),
            Err(DeleteRefusal::HasChildren(_))
        ));
        assert_eq!(
            plan_theme_delete("hours", 3, None, &frame),
            Err(DeleteRefusal::InUse(3))
        );
        assert_eq!(
            plan_theme_delete("hours", 3, Some("parking"), &frame),
            Ok(Some("parking"))
        );
        assert!(matches!(
            plan_theme_delete("hours", 3, Some("hours"), &frame),
            Err(DeleteRefusal::BadTarget(_))
        ));
        assert_eq!(plan_theme_delete("hours", 0, None, &frame), Ok(None));
    }

    fn questionnaire() -> Questionnaire {
        let input: crate::questionnaire::QuestionnaireInput = serde_json::from_value(serde_json::json!({
            "sections": [ { "title": "S", "questions": [
                { "key": "visit", "type": "single_choice", "text": "Visit?",
                  "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ] },
                { "key": "ideas", "type": "free_text", "text": "Ideas?" },
                { "key": "more", "type": "free_text", "text": "Else?" }
            ] } ]
        }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    #[test]
    fn codings_name_the_field_at_fault() {
        let q = questionnaire();
        let frame = vec![theme("parking", None)];
        let answered: BTreeSet<String> = ["visit".to_owned(), "ideas".to_owned()].into();
        let code = |question: &str, themes: &[&str]| CodeInput {
            question: Some(question.into()),
            themes: themes.iter().map(|t| (*t).to_owned()).collect(),
            note: None,
        };
        let ok = Coding::parse(&code("ideas", &["parking", "parking"]), Some(&q), &answered, &frame).unwrap();
        assert_eq!(ok.themes, ["parking"]);
        for (input, field) in [
            (code("visit", &["parking"]), "question"),
            (code("more", &["parking"]), "question"),
            (code("nope", &["parking"]), "question"),
            (code("ideas", &["nope"]), "themes[0]"),
        ] {
            assert_eq!(
                fields(Coding::parse(&input, Some(&q), &answered, &frame).unwrap_err()),
                [field]
            );
        }
        assert_eq!(
            fields(Coding::parse(&code("ideas", &[]), None, &answered, &frame).unwrap_err()),
            ["question"]
        );
    }

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|i| Uuid::from_u128(i as u128 + 1)).collect()
    }

    #[test]
    fn suggestions_group_answers_that_share_a_subject() {
        let texts = [
            "Not enough parking near the library",
            "The car park is always full",
            "Parking charges are far too high",
            "More parking spaces please",
            "Open the library later in the evening",
            "Opening hours are too short on Saturdays",
            "Longer opening hours at weekends",
            "The opening hours do not suit people who work",
            "Lovely staff",
        ];
        let id = ids(texts.len());
        let answers: Vec<(Uuid, &str)> = id.iter().copied().zip(texts.iter().copied()).collect();
        let s = suggest_themes(&answers, &BTreeSet::new(), &BTreeSet::new());
        let parking = s.iter().find(|s| s.id == "park").expect("a parking suggestion");
        assert_eq!(parking.responses, id[0..4]);
        assert_eq!(parking.key, "parking");
        assert_eq!(parking.label, "Parking");
        let hours = s
            .iter()
            .find(|s| s.responses.contains(&id[5]))
            .expect("an hours suggestion");
        assert!(hours.responses.contains(&id[6]) && hours.responses.contains(&id[7]));
        assert!(!hours.responses.contains(&id[0]));
        assert!(s.iter().all(|x| !x.responses.contains(&id[8])));
        // Rejected, it is not offered again; a taken key gets another.
        let rejected: BTreeSet<String> = ["park".to_owned()].into();
        let again = suggest_themes(&answers, &rejected, &BTreeSet::new());
        assert!(again.iter().all(|x| x.id != "park"));
        let taken: BTreeSet<String> = ["parking".to_owned()].into();
        let renamed = suggest_themes(&answers, &BTreeSet::new(), &taken);
        assert_eq!(renamed.iter().find(|s| s.id == "park").unwrap().key, "parking-2");
    }

    #[test]
    fn slugs_are_valid_keys() {
        for s in ["Car park", "2024 budget", "éclair", "", "a--b", &"x".repeat(80)] {
            let k = slug(s);
            assert_eq!(key_problem(&k), None, "{s:?} -> {k:?}");
        }
    }

    #[test]
    fn twenty_thousand_answers_are_quick() {
        let subjects = [
            "parking car park spaces charges",
            "opening hours evenings weekends",
            "toilets cleaning hygiene",
            "dog fouling bins litter",
            "play equipment swings children",
            "lighting safety dark paths",
        ];
        let filler = ["please", "really", "the", "council", "should", "improve", "more", "fix"];
        let texts: Vec<String> = (0..20_000usize)
            .map(|i| {
                let s: Vec<&str> = subjects[i % subjects.len()].split(' ').collect();
                format!(
                    "{} {} {} {} number{}",
                    filler[i % filler.len()],
                    s[i % s.len()],
                    s[(i / 7) % s.len()],
                    filler[(i / 3) % filler.len()],
                    i % 50
                )
            })
            .collect();
        let id = ids(texts.len());
        let answers: Vec<(Uuid, &str)> = id.iter().copied().zip(texts.iter().map(String::as_str)).collect();
        let started = std::time::Instant::now();
        let s = suggest_themes(&answers, &BTreeSet::new(), &BTreeSet::new());
        let took = started.elapsed();
        assert!(!s.is_empty());
        // Unoptimised test builds are several times slower than release; the release bench is
        // the measure (docs/BENCHMARKS.md).
        assert!(took.as_secs_f64() < 5.0, "{took:?}");
    }

    proptest! {
        #[test]
        fn suggestions_are_deterministic_and_cover_only_uncoded_answers(
            picks in proptest::collection::vec((0usize..8, 0usize..8, 0usize..8), 0..60),
            rejected_pick in 0usize..4,
        ) {
            let words = ["parking", "car park", "opening hours", "library", "toilets", "cleaner", "dogs", "benches"];
            let texts: Vec<String> = picks.iter().map(|(a, b, c)| format!("{} {} {}", words[*a], words[*b], words[*c])).collect();
            let id = ids(texts.len());
            let answers: Vec<(Uuid, &str)> = id.iter().copied().zip(texts.iter().map(String::as_str)).collect();
            let rejected: BTreeSet<String> = ["park", "open_hour", "librari", "dog"].iter().take(rejected_pick).map(|s| (*s).to_owned()).collect();
            let a = suggest_themes(&answers, &rejected, &BTreeSet::new());
            let mut reversed = answers.clone();
            reversed.reverse();
            let b = suggest_themes(&reversed, &rejected, &BTreeSet::new());
            prop_assert_eq!(&a, &b);
            let mut seen = BTreeSet::new();
            for s in &a {
                prop_assert!(!rejected.contains(&s.id));
                prop_assert_eq!(s.count as usize, s.responses.len());
                prop_assert!(key_problem(&s.key).is_none());
                prop_assert!(s.examples.iter().all(|e| s.responses.contains(e)));
                for r in &s.responses {
                    prop_assert!(id.contains(r));
                    prop_assert!(seen.insert(*r), "an answer in two suggestions");
                }
            }
        }

        #[test]
        fn no_theme_is_ever_two_levels_down(ops in proptest::collection::vec((0usize..6, proptest::option::of(0usize..6)), 0..30)) {
            let keys = ["a", "b", "c", "d", "e", "f"];
            let mut frame: Vec<Theme> = Vec::new();
            for (k, p) in ops {
                let input = ThemeInput { key: Some(keys[k].into()), label: Some("L".into()), description: None, parent: p.map(|p| keys[p].to_owned()) };
                if let Ok(t) = Theme::create(&input, &frame, &actor(), now()) {
                    frame.push(t);
                } else if let Some(existing) = frame.iter().position(|t| t.key == keys[k]) {
                    let patch = ThemePatch { parent: Some(p.map(|p| keys[p].to_owned())), ..Default::default() };
                    if let Ok(t) = frame[existing].patched(&patch, &frame, &actor(), now()) {
                        frame[existing] = t;
                    }
                }
                for t in &frame {
                    if let Some(p) = &t.parent {
                        let parent = frame.iter().find(|x| &x.key == p);
                        prop_assert!(parent.is_some_and(|x| x.parent.is_none()));
                    }
                }
            }
        }
    }
}
