//! Text analysis: English tokens, stop words removed, Snowball stemming.

use rust_stemmers::{Algorithm, Stemmer};
use std::fmt;

/// Words too common to tell activities apart: English function words and the vocabulary every
/// consultation shares.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "next",
    "year",
    "years",
    "say",
    "tell",
    "views",
    "view",
    "consultation",
    "consultations",
    "consult",
    "consulting",
    "survey",
    "surveys",
    "council",
    "councils",
    "borough",
    "county",
    "district",
    "engagement",
    "proposal",
    "proposals",
    "proposed",
    "residents",
    "people",
    "public",
    "local",
    "want",
    "help",
    "us",
    "ask",
    "asks",
    "asking",
    "way",
    "ways",
    "how",
    "take",
    "part",
];

/// Splits text into stemmed, lower-case terms, without stop words or one-letter tokens.
#[derive(Clone)]
pub struct Analyzer {
    stemmer: std::sync::Arc<Stemmer>,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Analyzer(english)")
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            stemmer: std::sync::Arc::new(Stemmer::create(Algorithm::English)),
        }
    }
}

impl Analyzer {
    /// The terms of `text`, as (stem, surface word) in order.
    ///
    /// ```
    /// let a = consult_core::Analyzer::default();
    /// let terms: Vec<String> = a.terms("Recycling and the recycled bins").into_iter().map(|t| t.0).collect();
    /// assert_eq!(terms, ["recycl", "recycl", "bin"]);
    /// ```
    pub fn terms(&self, text: &str) -> Vec<(String, String)> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 1)
            .map(str::to_lowercase)
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .map(|w| (self.stemmer.stem(&w).into_owned(), w))
            .collect()
    }
}
