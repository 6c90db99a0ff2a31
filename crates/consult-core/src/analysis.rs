//! Analysis per question (issue 16): counts and shares with 95% Wilson intervals for choices,
//! mean, median and distribution for scales and numbers, average rank and first-choice counts
//! for rankings, mean and distribution per statement for grids, and only how many answered free
//! text and dates.
//!
//! The counting is done by the store (`GROUP BY question, item, number` over the answer rows);
//! [`analyse`] shapes those counts against the questionnaire and computes the statistics. Counts
//! of a question, option or statement the questionnaire does not have are ignored.

use crate::disclosure::{DisclosureKey, NoiseSettings, PublicSet, noise};
use crate::equality::wilson;
use crate::questionnaire::{OTHER, QuestionKind, QuestionType, Questionnaire, Scale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The counts one activity's answers give, as the store counts them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisCounts {
    /// The activity's responses.
    pub respondents: u64,
    /// How many responses answered each question, by question key.
    pub answered: BTreeMap<String, u64>,
    /// The answer rows counted by (question, item, number).
    pub cells: Vec<AnswerCell>,
    /// Free text: the answers coded with at least one theme, by question key.
    pub coded: BTreeMap<String, u64>,
    /// Free text: the answers coded with each theme, by question.
    pub themes: Vec<ThemeCell>,
}

/// How many answers to one free-text question a theme of the codeframe codes: for a theme
/// with nested themes, the answers coded with it or any of them (each answer once).
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeCell {
    /// The question's key.
    pub question: String,
    /// The theme's key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// Its parent, for a nested theme.
    pub parent: Option<String>,
    /// The answers counted.
    pub count: u64,
}

impl AnalysisCounts {
    /// Adds another group's counts to these (groups merged into one).
    pub fn add(&mut self, other: &AnalysisCounts) {
        self.respondents += other.respondents;
        for (q, n) in &other.answered {
            *self.answered.entry(q.clone()).or_default() += n;
        }
        for (q, n) in &other.coded {
            *self.coded.entry(q.clone()).or_default() += n;
        }
        for cell in &other.cells {
            match self
                .cells
                .iter_mut()
                .find(|c| c.question == cell.question && c.item == cell.item && c.number == cell.number)
            {
                Some(c) => c.count += cell.count,
                None => self.cells.push(cell.clone()),
            }
        }
        for theme in &other.themes {
            match self
                .themes
                .iter_mut()
                .find(|t| t.question == theme.question && t.key == theme.key)
            {
                Some(t) => t.count += theme.count,
                None => self.themes.push(theme.clone()),
            }
        }
    }
}

/// How many answer rows have one (question, item, number).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCell {
    /// The question's key.
    pub question: String,
    /// The option (or `other`) of a choice or ranking, the statement of a grid; none otherwise.
    pub item: Option<String>,
    /// A scale point, a number, a rank or a grid point; none for choices, text and dates.
    pub number: Option<f64>,
    /// The rows counted.
    pub count: u64,
}

/// The analysis of one activity's answers.
///
/// Staff see exact counts. The public sees an activity's analysis once its results are
/// published, with every count perturbed and the small ones hidden ([`public_analysis`]): a
/// hidden count is `null`, as is any share, interval, mean or median it would feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analysis {
    /// The activity's responses (whether or not they answered the questionnaire).
    pub respondents: u64,
    /// `true` when the figures are the public ones: perturbed, small counts hidden.
    #[serde(default)]
    pub public: bool,
    /// The monitoring characteristic each question is broken down by, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The groups of the breakdown (the characteristic's categories, "prefer not to say" and
    /// "not answered"), each with its respondents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupCount>>,
    /// Each question of the questionnaire, in its order.
    pub questions: Vec<QuestionAnalysis>,
}

/// A group of a breakdown and its respondents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupCount {
    /// The category's key (`prefer_not_to_say`, `not_answered` for the rest).
    pub group: String,
    /// Its label.
    pub label: String,
    /// Its respondents; `null` when hidden (public figures below the threshold).
    pub respondents: Option<u64>,
}

/// One question's answers within one group of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupAnalysis {
    /// The group's key.
    pub group: String,
    /// How many in the group answered the question (`null`: hidden).
    pub answered: Option<u64>,
    /// Choices: each option's count and share within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<OptionCount>>,
    /// Scales and numbers: the group's mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Scales and numbers: the group's median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// Scales: the group's count of every point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<ValueCount>>,
    /// Rankings: each option's average rank and first choices within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<RankCount>>,
    /// Grids: each statement within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<Vec<StatementAnalysis>>,
}

/// The analysis of one question. Fields that do not apply to its type are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionAnalysis {
    /// The question's key.
    pub key: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// Its text.
    pub text: String,
    /// How many responses answered it (`null`: hidden).
    pub answered: Option<u64>,
    /// Choices: each option (and `other` where offered) with its count among those who answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<OptionCount>>,
    /// Scales and numbers: the mean answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Scales and numbers: the median answer (the mean of the two middle answers for an even
    /// count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// Scales: the count of every point of the scale; numbers: the count of every value given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<ValueCount>>,
    /// Rankings: each option's average rank (1 first) and first-choice count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<RankCount>>,
    /// Grids: each statement's answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<Vec<StatementAnalysis>>,
    /// Free text: the answers coded with at least one theme (coding progress: `coded` of
    /// `answered`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coded: Option<u64>,
    /// Theme counts for free text (empty until free text is coded), most answers first: a
    /// theme with nested themes counts the answers coded with it or any of them, each once.
    #[serde(default)]
    pub themes: Vec<ThemeCount>,
    /// With `by`: the question's answers in each group, in the order of `groups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<GroupAnalysis>>,
}

/// One option's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionCount {
    /// The option's key (`other` for "other, please specify").
    pub key: String,
    /// Its label.
    pub label: String,
    /// The responses that chose it (`null`: hidden).
    pub count: Option<u64>,
    /// `count` over those who answered the question (0 when none did), to 4 places.
    pub share: Option<f64>,
    /// The 95% Wilson interval of the share, to 4 places.
    pub interval: Option<[f64; 2]>,
}

/// How many gave one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueCount {
    /// The value (a scale point or a number).
    pub value: f64,
    /// The answers giving it (`null`: hidden).
    pub count: Option<u64>,
}

/// One option of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankCount {
    /// The option's key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// Its average rank (1 is first), to 4 places; none when nobody ranked it.
    pub mean_rank: Option<f64>,
    /// The responses that ranked it first (`null`: hidden).
    pub first: Option<u64>,
}

/// One statement of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementAnalysis {
    /// The statement's key.
    pub key: String,
    /// Its text.
    pub text: String,
    /// The answers giving it a point (`null`: hidden).
    pub answered: Option<u64>,
    /// The mean point, to 4 places; none when nobody answered.
    pub mean: Option<f64>,
    /// The median point; none when nobody answered.
    pub median: Option<f64>,
    /// The count of every point of the scale.
    pub distribution: Vec<ValueCount>,
}

/// A theme's count among a free-text question's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThemeCount {
    /// The theme's key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// The answers coded with it (for a parent, with it or any theme nested under it).
    pub count: u64,
    /// Its parent, for a nested theme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Mean and median of a distribution given as (value, count), sorted by value.
fn mean_median(values: &[(f64, u64)]) -> (Option<f64>, Option<f64>) {
    let n: u64 = values.iter().map(|(_, c)| c).sum();
    if n == 0 {
        return (None, None);
    }
    let sum: f64 = values.iter().map(|(v, c)| v * *c as f64).sum();
    // The value at 0-based position `i` of the sorted answers.
    let at = |i: u64| {
        let mut seen = 0;
        for (v, c) in values {
            seen += c;
            if i < seen {
                return *v;
            }
        }
        values.last().map_or(0.0, |(v, _)| *v)
    };
    let median = if n % 2 == 1 {
        at(n / 2)
    } else {
        (at(n / 2 - 1) + at(n / 2)) / 2.0
    };
    (Some(round(sum / n as f64)), Some(round(median)))
}

/// The counts of every point of `scale` (zero included) from (point, count) cells.
fn scale_distribution(scale: &Scale, cells: &[(f64, u64)]) -> Vec<(f64, u64)> {
    (scale.min..=scale.max)
        .map(|p| {
            let count = cells.iter().filter(|(v, _)| *v == p as f64).map(|(_, c)| c).sum();
            (p as f64, count)
        })
        .collect()
}

fn to_values(d: &[(f64, u64)]) -> Vec<ValueCount> {
    d.iter()
        .map(|(value, count)| ValueCount {
            value: *value,
            count: Some(*count),
        })
        .collect()
}

/// Shapes the store's counts into the analysis of each question of `questionnaire`.
pub fn analyse(questionnaire: &Questionnaire, counts: &AnalysisCounts) -> Analysis {
    let questions = questionnaire
        .questions()
        .map(|q| {
            let answered = counts.answered.get(&q.key).copied().unwrap_or(0);
            let cells: Vec<&AnswerCell> = counts.cells.iter().filter(|c| c.question == q.key).collect();
            let item_count = |item: &str| -> u64 {
                cells
                    .iter()
                    .filter(|c| c.item.as_deref() == Some(item))
                    .map(|c| c.count)
                    .sum()
            };
            // (number, count) of the cells of one item (or of no item), sorted by number.
            let numbers = |item: Option<&str>| -> Vec<(f64, u64)> {
                let mut v: Vec<(f64, u64)> = Vec::new();
                for c in cells.iter().filter(|c| c.item.as_deref() == item) {
                    let Some(n) = c.number else { continue };
                    match v.iter_mut().find(|(x, _)| *x == n) {
                        Some((_, k)) => *k += c.count,
                        None => v.push((n, c.count)),
                    }
                }
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                v
            };
            let mut out = QuestionAnalysis {
                key: q.key.clone(),
                kind: q.kind.question_type(),
                text: q.text.clone(),
                answered: Some(answered),
                options: None,
                mean: None,
                median: None,
                distribution: None,
                ranking: None,
                statements: None,
                coded: None,
                themes: Vec::new(),
                breakdown: None,
            };
            match &q.kind {
                QuestionKind::SingleChoice { options, other } | QuestionKind::MultipleChoice { options, other, .. } => {
                    let mut keys: Vec<(&str, &str)> =
                        options.iter().map(|o| (o.key.as_str(), o.label.as_str())).collect();
                    if *other {
                        keys.push((OTHER, "Other"));
                    }
                    out.options = Some(
                        keys.into_iter()
                            .map(|(key, label)| {
                                let count = item_count(key);
                                OptionCount {
                                    key: key.to_owned(),
                                    label: label.to_owned(),
                                    count: Some(count),
                                    share: Some(if answered == 0 {
                                        0.0
                                    } else {
                                        round(count as f64 / answered as f64)
                                    }),
                                    interval: Some(wilson(count.min(answered), answered).map(round)),
                                }
                            })
                            .collect(),
                    );
                }
                QuestionKind::Scale(scale) => {
                    let d = scale_distribution(scale, &numbers(None));
                    (out.mean, out.median) = mean_median(&d);
                    out.distribution = Some(to_values(&d));
                }
                QuestionKind::Number { .. } => {
                    let d = numbers(None);
                    (out.mean, out.median) = mean_median(&d);
                    out.distribution = Some(to_values(&d));
                }
                QuestionKind::Ranking { options } => {
                    out.ranking = Some(
                        options
                            .iter()
                            .map(|o| {
                                let ranks = numbers(Some(&o.key));
                                let (n, sum) = ranks
                                    .iter()
                                    .fold((0u64, 0.0), |(n, s), (r, c)| (n + c, s + r * *c as f64));
                                RankCount {
                                    key: o.key.clone(),
                                    label: o.label.clone(),
                                    mean_rank: (n > 0).then(|| round(sum / n as f64)),
                                    first: Some(ranks.iter().filter(|(r, _)| *r == 1.0).map(|(_, c)| c).sum()),
                                }
                            })
                            .collect(),
                    );
                }
                QuestionKind::Grid { statements, scale } => {
                    out.statements = Some(
                        statements
                            .iter()
                            .map(|s| {
                                let d = scale_distribution(scale, &numbers(Some(&s.key)));
                                let (mean, median) = mean_median(&d);
                                StatementAnalysis {
                                    key: s.key.clone(),
                                    text: s.text.clone(),
                                    answered: Some(d.iter().map(|(_, c)| c).sum()),
                                    mean,
                                    median,
                                    distribution: to_values(&d),
                                }
                            })
                            .collect(),
                    );
                }
                QuestionKind::FreeText { .. } => {
                    out.coded = Some(counts.coded.get(&q.key).copied().unwrap_or(0));
                    let mut themes: Vec<ThemeCount> = counts
                        .themes
                        .iter()
                        .filter(|t| t.question == q.key && t.count > 0)
                        .map(|t| ThemeCount {
                            key: t.key.clone(),
                            label: t.label.clone(),
                            count: t.count,
                            parent: t.parent.clone(),
                        })
                        .collect();
                    themes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
                    out.themes = themes;
                }
                QuestionKind::Date => {}
            }
            out
        })
        .collect();
    Analysis {
        respondents: counts.respondents,
        public: false,
        by: None,
        groups: None,
        questions,
    }
}

/// One group of a breakdown with its counts, as the store counts them.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCounts {
    /// The category's key (`prefer_not_to_say`, `not_answered`).
    pub group: String,
    /// Its label.
    pub label: String,
    /// The counts of the group's responses.
    pub counts: AnalysisCounts,
}

/// A question's analysis within one group.
fn group_of(group: &str, q: QuestionAnalysis) -> GroupAnalysis {
    GroupAnalysis {
        group: group.to_owned(),
        answered: q.answered,
        options: q.options,
        mean: q.mean,
        median: q.median,
        distribution: q.distribution,
        ranking: q.ranking,
        statements: q.statements,
    }
}

/// The analysis with each question broken down by the groups of characteristic `by`.
pub fn analyse_by(
    questionnaire: &Questionnaire,
    counts: &AnalysisCounts,
    by: &str,
    groups: &[GroupCounts],
) -> Analysis {
    let whole = analyse(questionnaire, counts);
    let per_group: Vec<Analysis> = groups.iter().map(|g| analyse(questionnaire, &g.counts)).collect();
    combine(whole, by, groups, per_group, |g| Some(g.counts.respondents))
}

/// Puts the groups' analyses into the whole one, question by question.
fn combine(
    mut whole: Analysis,
    by: &str,
    groups: &[GroupCounts],
    per_group: Vec<Analysis>,
    respondents: impl Fn(&GroupCounts) -> Option<u64>,
) -> Analysis {
    let mut per_group: Vec<std::vec::IntoIter<QuestionAnalysis>> =
        per_group.into_iter().map(|a| a.questions.into_iter()).collect();
    for q in &mut whole.questions {
        q.breakdown = Some(
            groups
                .iter()
                .zip(per_group.iter_mut())
                .filter_map(|(g, qs)| qs.next().map(|gq| group_of(&g.group, gq)))
                .collect(),
        );
    }
    whole.by = Some(by.to_owned());
    whole.groups = Some(
        groups
            .iter()
            .map(|g| GroupCount {
                group: g.group.clone(),
                label: g.label.clone(),
                respondents: respondents(g),
            })
            .collect(),
    );
    whole
}

/// The cells the public may see a count of, for one question: every option (and `other`) of a
/// choice, every point of a scale, every (option, rank) of a ranking, every (statement, point)
/// of a grid, zeros included. Numbers, dates and free text publish no cells: a number's or a
/// date's values could single someone out, and free text is never public one by one.
fn public_cells(kind: &QuestionKind) -> Vec<(Option<String>, Option<f64>)> {
    let points = |s: &Scale| (s.min..=s.max).map(|p| p as f64).collect::<Vec<_>>();
    match kind {
        QuestionKind::SingleChoice { options, other } | QuestionKind::MultipleChoice { options, other, .. } => options
            .iter()
            .map(|o| (Some(o.key.clone()), None))
            .chain(other.then(|| (Some(OTHER.to_owned()), None)))
            .collect(),
        QuestionKind::Scale(scale) => points(scale).into_iter().map(|p| (None, Some(p))).collect(),
        QuestionKind::Ranking { options } => options
            .iter()
            .flat_map(|o| (1..=options.len()).map(move |r| (Some(o.key.clone()), Some(r as f64))))
            .collect(),
        QuestionKind::Grid { statements, scale } => statements
            .iter()
            .flat_map(|s| points(scale).into_iter().map(move |p| (Some(s.key.clone()), Some(p))))
            .collect(),
        QuestionKind::Number { .. } | QuestionKind::Date | QuestionKind::FreeText { .. } => Vec::new(),
    }
}

/// The counts with noise added to every public figure of `scope` (`all`, or `by=group`):
/// each question's `answered` and each of its [`public_cells`], zeros included; `respondents`
/// kept (exact for the whole activity, whose count the register shows; perturbed for a group).
fn perturb_counts(
    questionnaire: &Questionnaire,
    counts: &AnalysisCounts,
    scope: &str,
    noisy_respondents: bool,
    set: &PublicSet,
    key: &DisclosureKey,
    settings: &NoiseSettings,
) -> AnalysisCounts {
    let exact_respondents = counts.respondents;
    let add = |figure: &str, part: &str, n: u64| -> u64 {
        let shifted = i64::try_from(n).unwrap_or(i64::MAX).saturating_add(noise(
            key,
            set,
            figure,
            part,
            exact_respondents,
            settings,
        ));
        u64::try_from(shifted).unwrap_or(0)
    };
    let mut out = AnalysisCounts {
        respondents: if noisy_respondents {
            add(&format!("analysis/{scope}"), "respondents", exact_respondents)
        } else {
            exact_respondents
        },
        ..AnalysisCounts::default()
    };
    for q in questionnaire.questions() {
        let figure = format!("analysis/{scope}/{}", q.key);
        let answered = counts.answered.get(&q.key).copied().unwrap_or(0);
        out.answered.insert(q.key.clone(), add(&figure, "answered", answered));
        if matches!(q.kind, QuestionKind::FreeText { .. }) {
            let coded = counts.coded.get(&q.key).copied().unwrap_or(0);
            out.coded.insert(q.key.clone(), add(&figure, "coded", coded));
            for t in counts.themes.iter().filter(|t| t.question == q.key) {
                out.themes.push(ThemeCell {
                    count: add(&figure, &format!("theme/{}", t.key), t.count),
                    ..t.clone()
                });
            }
        }
        for (item, number) in public_cells(&q.kind) {
            let exact: u64 = counts
                .cells
                .iter()
                .filter(|c| c.question == q.key && c.item == item && c.number == number)
                .map(|c| c.count)
                .sum();
            let part = format!(
                "{}/{}",
                item.as_deref().unwrap_or(""),
                number.map(|n| n.to_string()).unwrap_or_default()
            );
            out.cells.push(AnswerCell {
                question: q.key.clone(),
                item,
                number,
                count: add(&figure, &part, exact),
            });
        }
    }
    out
}

/// Where counts add up to a shown total and exactly one is hidden, hides the smallest shown one
/// too, so the hidden one cannot be had by subtraction (as the equality report does).
fn complement(mut counts: Vec<&mut Option<u64>>) {
    if counts.iter().filter(|c| c.is_none()).count() != 1 {
        return;
    }
    if let Some(smallest) = counts
        .iter_mut()
        .filter(|c| c.is_some())
        .min_by_key(|c| c.unwrap_or(u64::MAX))
    {
        **smallest = None;
    }
}

/// Hides what the public may not see in an analysis of perturbed counts: every count below
/// `threshold` (`null`), the share and interval of a hidden option, the mean and median of a
/// distribution with a hidden point, a ranking's mean rank when one of its (option, rank)
/// counts is hidden, everything of a question whose `answered` is hidden, all but `answered`
/// of numbers (their values could single someone out), and the themes of free text raised by
/// fewer than `threshold` answers (not listed).
fn suppress(q: &mut QuestionAnalysis, noisy: &AnalysisCounts, threshold: u64) {
    let hide = |n: Option<u64>| n.filter(|n| *n >= threshold);
    let question_hidden = hide(q.answered).is_none();
    q.answered = hide(q.answered);
    if matches!(q.kind, QuestionType::Number) {
        (q.mean, q.median, q.distribution) = (None, None, None);
    }
    // Free text: coding progress and the themes raised by at least `threshold` answers.
    q.coded = if question_hidden { None } else { hide(q.coded) };
    q.themes.retain(|t| !question_hidden && t.count >= threshold);
    if let Some(options) = &mut q.options {
        for o in options.iter_mut() {
            o.count = if question_hidden { None } else { hide(o.count) };
        }
        // A single choice's counts add up to those who answered.
        if matches!(q.kind, QuestionType::SingleChoice) {
            complement(options.iter_mut().map(|o| &mut o.count).collect());
        }
        for o in options {
            if o.count.is_none() {
                (o.share, o.interval) = (None, None);
            }
            o.share = o.share.map(|s| s.min(1.0));
        }
    }
    if let Some(d) = &mut q.distribution {
        for v in d.iter_mut() {
            v.count = if question_hidden { None } else { hide(v.count) };
        }
        complement(d.iter_mut().map(|v| &mut v.count).collect());
        if d.iter().any(|v| v.count.is_none()) {
            (q.mean, q.median) = (None, None);
        }
    }
    if let Some(ranking) = &mut q.ranking {
        for r in ranking.iter_mut() {
            r.first = if question_hidden { None } else { hide(r.first) };
        }
        // Every answer ranks one option first.
        complement(ranking.iter_mut().map(|r| &mut r.first).collect());
        for r in ranking {
            let any_hidden = noisy
                .cells
                .iter()
                .filter(|c| c.question == q.key && c.item.as_deref() == Some(r.key.as_str()))
                .any(|c| c.count < threshold);
            if question_hidden || any_hidden {
                r.mean_rank = None;
            }
        }
    }
    if let Some(statements) = &mut q.statements {
        for s in statements {
            s.answered = if question_hidden { None } else { hide(s.answered) };
            for v in &mut s.distribution {
                v.count = if s.answered.is_none() { None } else { hide(v.count) };
            }
            complement(s.distribution.iter_mut().map(|v| &mut v.count).collect());
            if s.distribution.iter().any(|v| v.count.is_none()) {
                (s.mean, s.median) = (None, None);
            }
        }
    }
}

/// The public analysis of an activity in `set` (its results published): every count of every
/// question (and of every group with `by`) perturbed by the keyed noise of the disclosure
/// control (`crate::disclosure`), then every count below `threshold` hidden with what it would
/// feed. Shares, intervals, means and ranks are computed from the perturbed
/// counts, never the exact ones. The number of respondents to the whole activity stays exact.
#[allow(clippy::too_many_arguments)]
pub fn public_analysis(
    questionnaire: &Questionnaire,
    counts: &AnalysisCounts,
    by: Option<(&str, &[GroupCounts])>,
    set: &PublicSet,
    key: &DisclosureKey,
    settings: &NoiseSettings,
    threshold: u64,
) -> Analysis {
    let hide_all = |a: &mut Analysis, noisy: &AnalysisCounts| {
        a.public = true;
        for q in &mut a.questions {
            suppress(q, noisy, threshold);
        }
    };
    let noisy = perturb_counts(questionnaire, counts, "all", false, set, key, settings);
    let mut whole = analyse(questionnaire, &noisy);
    hide_all(&mut whole, &noisy);
    let Some((by, groups)) = by else {
        return whole;
    };
    let mut noisy_groups = Vec::with_capacity(groups.len());
    let mut per_group = Vec::with_capacity(groups.len());
    for g in groups {
        let scope = format!("{by}={}", g.group);
        let n = perturb_counts(questionnaire, &g.counts, &scope, true, set, key, settings);
        let mut a = analyse(questionnaire, &n);
        hide_all(&mut a, &n);
        noisy_groups.push(GroupCounts {
            group: g.group.clone(),
            label: g.label.clone(),
            counts: n,
        });
        per_group.push(a);
    }
    let mut out = combine(whole, by, &noisy_groups, per_group, |g| {
        Some(g.counts.respondents).filter(|n| *n >= threshold)
    });
    out.public = true;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::QuestionnaireInput;

    fn questionnaire() -> Questionnaire {
        let input: QuestionnaireInput = serde_json::from_value(serde_json::json!({
            "sections": [{ "title": "All", "questions": [
                { "key": "colour", "type": "single_choice", "text": "Colour?",
                  "options": [{ "key": "red", "label": "Red" }, { "key": "blue", "label": "Blue" }], "other": true },
                { "key": "uses", "type": "multiple_choice", "text": "Uses?",
                  "options": [{ "key": "walk", "label": "Walk" }, { "key": "play", "label": "Play" }] },
                { "key": "happy", "type": "scale", "text": "Happy?", "scale": { "min": 1, "max": 5 } },
                { "key": "age", "type": "number", "text": "Age?" },
                { "key": "order", "type": "ranking", "text": "Order?",
                  "options": [{ "key": "a", "label": "A" }, { "key": "b", "label": "B" }, { "key": "c", "label": "C" }] },
                { "key": "grid", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 3 },
                  "statements": [{ "key": "s1", "text": "One" }, { "key": "s2", "text": "Two" }] },
                { "key": "when", "type": "date", "text": "When?" },
                { "key": "why", "type": "free_text", "text": "Why?" }
            ]}]
        }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    fn cell(q: &str, item: Option<&str>, number: Option<f64>, count: u64) -> AnswerCell {
        AnswerCell {
            question: q.into(),
            item: item.map(Into::into),
            number,
            count,
        }
    }

    fn analysed(answered: &[(&str, u64)], cells: Vec<AnswerCell>) -> Analysis {
        let counts = AnalysisCounts {
            respondents: 5,
            answered: answered.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
            cells,
            ..Default::default()
        };
        analyse(&questionnaire(), &counts)
    }

    fn question<'a>(a: &'a Analysis, key: &str) -> &'a QuestionAnalysis {
        a.questions.iter().find(|q| q.key == key).unwrap()
    }

    #[test]
    fn single_choice_counts_shares_and_intervals() {
        // 4 answered: red 2, blue 1, other 1.
        let a = analysed(
            &[("colour", 4)],
            vec![
                cell("colour", Some("red"), None, 2),
                cell("colour", Some("blue"), None, 1),
                cell("colour", Some("other"), None, 1),
            ],
        );
        let q = question(&a, "colour");
        assert_eq!(a.respondents, 5);
        assert_eq!(q.answered, Some(4));
        let o = q.options.as_ref().unwrap();
        assert_eq!(
            o.iter().map(|o| (o.key.as_str(), o.count)).collect::<Vec<_>>(),
            [("red", Some(2)), ("blue", Some(1)), ("other", Some(1))]
        );
        assert_eq!(o[0].share, Some(0.5));
        assert_eq!(o[1].share, Some(0.25));
        assert_eq!(o[0].interval, Some(wilson(2, 4).map(round)));
        // Wilson 2 of 4: 0.1500..0.8500.
        assert_eq!(o[0].interval, Some([0.15, 0.85]));
        assert!(q.mean.is_none() && q.distribution.is_none() && q.ranking.is_none());
    }

    #[test]
    fn multiple_choice_shares_are_of_those_who_answered() {
        // 3 answered: walk 3, play 2 (shares add up to more than 1).
        let a = analysed(
            &[("uses", 3)],
            vec![cell("uses", Some("walk"), None, 3), cell("uses", Some("play"), None, 2)],
        );
        let o = question(&a, "uses").options.clone().unwrap();
        assert_eq!((o[0].count, o[0].share), (Some(3), Some(1.0)));
        assert_eq!((o[1].count, o[1].share), (Some(2), Some(0.6667)));
        assert_eq!(o.len(), 2, "no other where not offered");
    }

    #[test]
    fn scale_mean_median_and_every_point() {
        // Answers 1, 4, 4, 5: mean 3.5, median (4 + 4) / 2 = 4.
        let a = analysed(
            &[("happy", 4)],
            vec![
                cell("happy", None, Some(1.0), 1),
                cell("happy", None, Some(4.0), 2),
                cell("happy", None, Some(5.0), 1),
            ],
        );
        let q = question(&a, "happy");
        assert_eq!((q.mean, q.median), (Some(3.5), Some(4.0)));
        let d: Vec<(f64, u64)> = q
            .distribution
            .as_ref()
            .unwrap()
            .iter()
            .map(|v| (v.value, v.count.unwrap()))
            .collect();
        assert_eq!(d, [(1.0, 1), (2.0, 0), (3.0, 0), (4.0, 2), (5.0, 1)]);
    }

    #[test]
    fn number_distribution_is_over_observed_values() {
        // Answers 20, 30, 30, 70, 10: mean 32, median 30; even count 20, 30: median 25.
        let a = analysed(
            &[("age", 5)],
            vec![
                cell("age", None, Some(30.0), 2),
                cell("age", None, Some(20.0), 1),
                cell("age", None, Some(70.0), 1),
                cell("age", None, Some(10.0), 1),
            ],
        );
        let q = question(&a, "age");
        assert_eq!((q.mean, q.median), (Some(32.0), Some(30.0)));
        let d: Vec<f64> = q.distribution.as_ref().unwrap().iter().map(|v| v.value).collect();
        assert_eq!(d, [10.0, 20.0, 30.0, 70.0]);
        assert_eq!(mean_median(&[(20.0, 1), (30.0, 1)]), (Some(25.0), Some(25.0)));
        assert_eq!(mean_median(&[]), (None, None));
    }

    #[test]
    fn ranking_average_rank_and_first_choices() {
        // Rankings: a b c, a c b, b a c. a: ranks 1 1 2 = 1.3333, first 2; b: 2 3 1 = 2, first 1;
        // c: 3 2 3 = 2.6667, first 0.
        let a = analysed(
            &[("order", 3)],
            vec![
                cell("order", Some("a"), Some(1.0), 2),
                cell("order", Some("a"), Some(2.0), 1),
                cell("order", Some("b"), Some(1.0), 1),
                cell("order", Some("b"), Some(2.0), 1),
                cell("order", Some("b"), Some(3.0), 1),
                cell("order", Some("c"), Some(2.0), 1),
                cell("order", Some("c"), Some(3.0), 2),
            ],
        );
        let r = question(&a, "order").ranking.clone().unwrap();
        let got: Vec<(&str, Option<f64>, Option<u64>)> =
            r.iter().map(|r| (r.key.as_str(), r.mean_rank, r.first)).collect();
        assert_eq!(
            got,
            [
                ("a", Some(1.3333), Some(2)),
                ("b", Some(2.0), Some(1)),
                ("c", Some(2.6667), Some(0))
            ]
        );
    }

    #[test]
    fn grid_per_statement() {
        // s1: 1, 3, 3 (mean 2.3333, median 3); s2: 2, 2, 3 (mean 2.3333, median 2).
        let a = analysed(
            &[("grid", 3)],
            vec![
                cell("grid", Some("s1"), Some(1.0), 1),
                cell("grid", Some("s1"), Some(3.0), 2),
                cell("grid", Some("s2"), Some(2.0), 2),
                cell("grid", Some("s2"), Some(3.0), 1),
            ],
        );
        let s = question(&a, "grid").statements.clone().unwrap();
        assert_eq!(
            (s[0].answered, s[0].mean, s[0].median),
            (Some(3), Some(2.3333), Some(3.0))
        );
        assert_eq!((s[1].mean, s[1].median), (Some(2.3333), Some(2.0)));
        let d: Vec<u64> = s[0].distribution.iter().map(|v| v.count.unwrap()).collect();
        assert_eq!(d, [1, 0, 2]);
    }

    #[test]
    fn free_text_and_dates_only_count_answers() {
        let a = analysed(
            &[("why", 2), ("when", 1)],
            vec![cell("why", None, None, 2), cell("when", None, None, 1)],
        );
        for (key, n) in [("why", 2), ("when", 1)] {
            let q = question(&a, key);
            assert_eq!(q.answered, Some(n));
            assert!(q.options.is_none() && q.mean.is_none() && q.distribution.is_none());
            assert!(q.themes.is_empty());
        }
        // Unanswered questions are zero, with every scale point present.
        let happy = question(&a, "happy");
        assert_eq!((happy.answered, happy.mean), (Some(0), None));
        assert_eq!(happy.distribution.as_ref().unwrap().len(), 5);
        let json = serde_json::to_value(question(&a, "why")).unwrap();
        assert!(json.get("mean").is_none() && json["themes"] == serde_json::json!([]));
    }

    #[test]
    fn free_text_theme_counts_and_coding_progress() {
        let cell = |question: &str, key: &str, parent: Option<&str>, count| ThemeCell {
            question: question.into(),
            key: key.into(),
            label: key.to_uppercase(),
            parent: parent.map(Into::into),
            count,
        };
        let counts = AnalysisCounts {
            respondents: 5,
            answered: [("why".to_owned(), 4)].into(),
            coded: [("why".to_owned(), 3)].into(),
            themes: vec![
                cell("why", "parking", Some("transport"), 2),
                cell("why", "transport", None, 3),
                cell("why", "hours", None, 1),
                cell("gone", "hours", None, 9),
            ],
            ..Default::default()
        };
        let a = analyse(&questionnaire(), &counts);
        let why = question(&a, "why");
        assert_eq!(why.coded, Some(3));
        let themes: Vec<(&str, u64, Option<&str>)> = why
            .themes
            .iter()
            .map(|t| (t.key.as_str(), t.count, t.parent.as_deref()))
            .collect();
        assert_eq!(
            themes,
            [
                ("transport", 3, None),
                ("parking", 2, Some("transport")),
                ("hours", 1, None)
            ]
        );
        // Other types carry no coding progress.
        assert!(a.questions.iter().filter(|q| q.key != "why").all(|q| q.coded.is_none()));
    }
}
