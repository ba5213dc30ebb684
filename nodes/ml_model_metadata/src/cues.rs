//! Cue matching: word sequences found in free text, case- and punctuation-blind.

/// Words of `text`: lowercase runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A cue: words in sequence; the last is a prefix when the cue ends with `*`, and may
/// otherwise take a plural `s`/`es`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    words: Vec<String>,
    prefix: bool,
}

impl Cue {
    /// Parses the cue syntax of `goals.toml`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let (body, prefix) = match trimmed.strip_suffix('*') {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        let words = words(body);
        if words.is_empty() {
            return Err(format!("cue {text:?} has no words"));
        }
        Ok(Self { words, prefix })
    }

    /// The first match in `text` (its words): the word index and the words matched,
    /// joined by spaces.
    pub fn find(&self, text: &[String]) -> Option<(usize, String)> {
        let n = self.words.len();
        if text.len() < n {
            return None;
        }
        (0..=text.len() - n).find_map(|i| {
            let window = &text[i..i + n];
            let (last_cue, head_cue) = self.words.split_last()?;
            let (last, head) = window.split_last()?;
            let ok = head == head_cue
                && if self.prefix {
                    last.starts_with(last_cue.as_str())
                } else {
                    last == last_cue
                        || last
                            .strip_prefix(last_cue.as_str())
                            .is_some_and(|rest| rest == "s" || rest == "es")
                };
            ok.then(|| (i, window.join(" ")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_plural_and_sequence_rules() {
        // Cue syntax of goals.toml behaves as its header documents.
        let text = words("Draw Bounding-Boxes; classifier for speech-to-text!");
        let find = |c: &str| Cue::parse(c).expect("cue").find(&text).map(|m| m.1);
        assert_eq!(find("bounding box").as_deref(), Some("bounding boxes"));
        assert_eq!(find("classif*").as_deref(), Some("classifier"));
        assert_eq!(find("speech to text").as_deref(), Some("speech to text"));
        assert_eq!(find("class"), None);
        assert_eq!(find("box").as_deref(), Some("boxes"));
        assert_eq!(find("speech text"), None);
        assert!(Cue::parse(" * ").is_err());
    }
}
