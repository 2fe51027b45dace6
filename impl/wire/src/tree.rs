//! A generic decoded-tree model: what `kerbside decode` prints (as an
//! indented tree or JSON) and what the snapshot tests record.

use std::fmt::Write as _;

/// One named node: an optional value and children.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Field or structure name (`req-body`, `padata[0]`, `AS-REQ`).
    pub name: String,
    /// Rendered value (`18 (aes256-cts-hmac-sha1-96)`, hex for bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Sub-fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

/// Values longer than this are shortened in the text rendering (JSON keeps
/// them whole).
const TEXT_VALUE_LIMIT: usize = 100;

impl Node {
    /// A node with neither value nor children yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
            children: Vec::new(),
        }
    }

    /// A leaf with a value.
    pub fn leaf(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
            children: Vec::new(),
        }
    }

    /// A leaf showing bytes as hex with their length.
    pub fn bytes(name: impl Into<String>, bytes: &[u8]) -> Self {
        Self::leaf(name, hex_value(bytes))
    }

    /// Sets the value.
    #[must_use]
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Adds a child.
    pub fn push(&mut self, child: Node) -> &mut Self {
        self.children.push(child);
        self
    }

    /// Adds a child (builder style).
    #[must_use]
    pub fn child(mut self, child: Node) -> Self {
        self.children.push(child);
        self
    }

    /// Adds a child if present.
    #[must_use]
    pub fn opt(mut self, child: Option<Node>) -> Self {
        if let Some(c) = child {
            self.children.push(c);
        }
        self
    }

    /// Finds a direct child by name.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Follows a dotted path of child names (`req-body.cname`).
    pub fn path(&self, path: &str) -> Option<&Node> {
        path.split('.').try_fold(self, |n, part| n.get(part))
    }

    /// Indented text, two spaces per level; long values shortened.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        out
    }

    fn render_into(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        match &self.value {
            Some(v) => {
                let shown = shorten(v);
                let _ = writeln!(out, "{indent}{}: {shown}", self.name);
            }
            None => {
                let _ = writeln!(out, "{indent}{}", self.name);
            }
        }
        for c in &self.children {
            c.render_into(out, depth + 1);
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `N bytes: <hex>` (or `0 bytes`).
pub fn hex_value(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "0 bytes".to_string()
    } else {
        format!("{} bytes: {}", bytes.len(), hex::encode(bytes))
    }
}

fn shorten(v: &str) -> String {
    if v.chars().count() <= TEXT_VALUE_LIMIT {
        v.to_string()
    } else {
        let head: String = v.chars().take(TEXT_VALUE_LIMIT - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_indented_text_and_json() {
        let n = Node::new("AS-REQ")
            .child(Node::leaf("pvno", "5"))
            .child(Node::new("req-body").child(Node::leaf("realm", "LAB.TEST")));
        assert_eq!(
            n.render_text(),
            "AS-REQ\n  pvno: 5\n  req-body\n    realm: LAB.TEST\n"
        );
        assert_eq!(
            n.path("req-body.realm").unwrap().value.as_deref(),
            Some("LAB.TEST")
        );
        let j: serde_json::Value = serde_json::from_str(&n.to_json()).unwrap();
        assert_eq!(j["children"][1]["children"][0]["value"], "LAB.TEST");
        assert!(j.get("value").is_none());
    }

    #[test]
    fn long_values_are_shortened_in_text_only() {
        let n = Node::bytes("cipher", &[0xab; 100]);
        let text = n.render_text();
        assert!(
            text.ends_with("…\n") && text.chars().count() < 120,
            "{text}"
        );
        assert!(n.to_json().contains(&"ab".repeat(100)));
    }
}
